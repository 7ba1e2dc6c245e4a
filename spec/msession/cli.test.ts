/**
 * @module spec/msession/cli.test
 * The `php-session` CLI against sessions PHP 8.2 wrote: --json output compared with what PHP says
 * (json_encode / var_dump of $_SESSION), changes read back by PHP, exit codes, decode/encode
 * against PHP's own bytes for the three serializers and serialize(). Most commands run in-process
 * (runCli); a few run the real executable (msession/bin.ts through tsx).
 */
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { EXIT, runCli } from '../../msession/cli.ts';
import { testSessionId } from '../handlers/suite.ts';
import { describeWith } from '../support/tools.ts';
import { MEMCACHE_EXTENSIONS, php, phpReads, phpWrites, useFilesBackend, useMemcacheBackend, useRedisBackend, type Backend } from './support.ts';
import { TOOLS as REDIS_TOOLS } from '../redis/support.ts';

const ROOT = resolve(import.meta.dirname, '../..');

async function cli(b: Backend, args: string[], stdin: string | Buffer = ''): Promise<{ code: number; out: Buffer; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  let err = '';
  stdout.on('data', (d: Buffer) => chunks.push(d));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const flags = Object.entries(b.ini).flatMap(([k, v]) => ['-d', `${k}=${v}`]);
  const code = await runCli([...flags, ...args], { stdout, stderr, stdin: PassThrough.from([Buffer.from(stdin)]) });
  return { code, out: Buffer.concat(chunks), err };
}

async function cliJson(b: Backend, args: string[]): Promise<unknown> {
  const r = await cli(b, [...args, '--json']);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out.toString());
}

const SESSION_PHP = `['user' => 42, 'name' => "Zo\\u{e9}", 'f' => 0.5, 'ok' => true, 'none' => null, 'cart' => ['a' => 1, 'b' => [1, 2]]]`;

function cliSuite(b: Backend): void {
  const [x, y, z] = [testSessionId(), testSessionId(), testSessionId()];

  it(`${b.name}: ls, count, show, find, listvar answer as PHP's sessions say`, async () => {
    await php(b, `foreach (['${x}' => ${SESSION_PHP}, '${y}' => ['user' => 7], '${z}' => ['user' => 42, 'tenant' => 't1']] as $id => $d) { session_id($id); session_start(); $_SESSION = $d; session_write_close(); }`);
    expect(((await cliJson(b, ['ls'])) as string[]).sort()).toEqual([x, y, z].sort());
    expect(await cliJson(b, ['count'])).toEqual({ count: 3 });
    const phpView = await php(b, `session_id('${x}'); session_start(['read_and_close' => true]); echo json_encode($_SESSION), "\\n"; var_dump($_SESSION);`);
    const [phpJson, ...dump] = phpView.split('\n');
    expect(await cliJson(b, ['show', x])).toEqual(JSON.parse(phpJson!));
    const shown = await cli(b, ['show', x]);
    expect(shown.out.toString()).toBe(dump.join('\n'));
    expect(((await cliJson(b, ['find', 'user', '42'])) as string[]).sort()).toEqual([x, z].sort());
    expect(await cliJson(b, ['find', 'tenant', 't1'])).toEqual([z]);
    expect(await cliJson(b, ['listvar', 'user'])).toEqual({ [x]: 42, [y]: 7, [z]: 42 });
    expect(await cliJson(b, ['get', x, 'cart'])).toEqual({ a: 1, b: [1, 2] });
  });

  it(`${b.name}: set, inc, timeout, rm change what PHP reads`, async () => {
    expect(await cliJson(b, ['set', y, 'flags', '{"a":[1,"two"]}'])).toEqual({ ok: true });
    expect((await cli(b, ['set', y, 'greeting', 'hello world'])).code).toBe(0); // not JSON: a string
    expect(await cliJson(b, ['inc', y, 'user', '5'])).toEqual({ value: 12 });
    const t = (await cliJson(b, ['timeout', y, '600'])) as { timeout: number };
    expect(t.timeout).toBeGreaterThan(590);
    expect(t.timeout).toBeLessThanOrEqual(600);
    expect(await cliJson(b, ['rm', z])).toEqual({ destroyed: z });
    expect(await cliJson(b, ['count'])).toEqual({ count: 2 });
    const back = await phpReads(b, [y]);
    expect(back[y]).toEqual({ user: 12, flags: { a: [1, 'two'] }, greeting: 'hello world' });
    expect((await cli(b, ['show', z])).code).toBe(EXIT.NOT_FOUND);
  });

  it(`${b.name}: lock tells who holds PHP's lock; stats counts sizes and unreadable sessions`, async () => {
    expect(await cliJson(b, ['lock', x])).toMatchObject({ locked: false });
    const ms = b.engine().msession();
    const key = await ms.lock(x);
    try {
      const info = (await cliJson(b, ['lock', x])) as { locked: boolean; pids?: number[]; expiresIn?: number };
      expect(info.locked).toBe(true);
      if (b.ini['session.save_handler'] === 'files') expect(info.pids).toEqual([process.pid]);
      else expect(info.expiresIn).toBeLessThanOrEqual(30);
    } finally {
      await ms.unlock(x, key);
      await ms.disconnect();
    }
    const bad = testSessionId();
    await b.plant(bad, 'user|i:1;oops');
    const stats = (await cliJson(b, ['stats'])) as { count: number; corrupt: number; corruptIds: string[]; totalBytes: number; largest: { id: string } };
    expect(stats).toMatchObject({ count: 2, corrupt: 1, corruptIds: [bad], largest: { id: x } });
    expect(stats.totalBytes).toBeGreaterThan(100);
    const shown = await cli(b, ['show', bad]);
    expect(shown.code).toBe(EXIT.CORRUPT);
    expect(shown.err).toContain(bad);
    await cli(b, ['rm', bad]);
  });

  it(`${b.name}: exit codes`, async () => {
    expect((await cli(b, ['get', x, 'no-such-var'])).code).toBe(EXIT.NOT_FOUND);
    expect((await cli(b, ['show', testSessionId()])).code).toBe(EXIT.NOT_FOUND);
    expect((await cli(b, ['show', '../../etc/passwd'])).code).toBe(EXIT.USAGE);
    expect((await cli(b, ['no-such-command'])).code).toBe(EXIT.USAGE);
    expect((await cli(b, ['inc', x, 'user', 'lots'])).code).toBe(EXIT.USAGE);
    expect((await cli(b, ['-d', 'novalue', 'count'])).code).toBe(EXIT.USAGE);
    expect((await cli(b, ['inc', x, 'name'])).code).toBe(EXIT.USAGE); // "Zoé" is not a number
  });
}

describeWith(['php'], 'php-session CLI ⇄ PHP 8.2: files (1 level)', () => cliSuite(useFilesBackend(1)));
describeWith(['php', 'memcached', ...MEMCACHE_EXTENSIONS.map((e) => `php-ext:${e}`)], 'php-session CLI ⇄ PHP 8.2: memcached', () => cliSuite(useMemcacheBackend('memcached')));

describeWith(REDIS_TOOLS, 'php-session CLI ⇄ PHP 8.2: redis (locking on)', () => cliSuite(useRedisBackend()));
describeWith(['php'], 'php-session decode / encode ⇄ PHP 8.2', () => {
  const b = useFilesBackend(0);
  it('decodes what PHP encodes and encodes it back to PHP’s bytes, for every format', async () => {
    for (const format of ['php', 'php_binary', 'php_serialize', 'serialize']) {
      const code =
        format === 'serialize'
          ? `$v = ${SESSION_PHP}; echo base64_encode(serialize($v)), "\\n", json_encode($v);`
          : `ini_set('session.serialize_handler', '${format}'); session_id('dec1'); session_start(); $_SESSION = ${SESSION_PHP}; echo base64_encode(session_encode()), "\\n", json_encode($_SESSION); session_abort();`;
      const [b64, phpJson] = (await php(b, code)).split('\n');
      const bytes = Buffer.from(b64!, 'base64');
      const dec = await cli(b, ['decode', '-f', format, '--json'], bytes);
      expect(dec.code, dec.err).toBe(0);
      expect(JSON.parse(dec.out.toString()), format).toEqual(JSON.parse(phpJson!));
      const enc = await cli(b, ['encode', '-f', format], dec.out);
      expect(enc.code, enc.err).toBe(0);
      expect(enc.out.toString('latin1'), format).toBe(bytes.toString('latin1'));
    }
    expect((await cli(b, ['decode', '-f', 'php'], 'garbage')).code).toBe(EXIT.CORRUPT);
    expect((await cli(b, ['encode', '-f', 'php'], 'not json')).code).toBe(EXIT.USAGE);
  });

  it('the php-session executable runs (tsx) with exit codes and --json', async () => {
    const id = testSessionId();
    await phpWrites(b, { [id]: { n: 1 } });
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((done) => {
        const child = spawn(process.execPath, ['--conditions=php-session-engine-source', '--import', 'tsx', 'msession/bin.ts', '--save-path', b.ini['session.save_path']!, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (c) => done({ code: c, out }));
      });
    expect(await run(['get', id, 'n', '--json'])).toEqual({ code: 0, out: '1\n' });
    expect((await run(['get', id, 'missing'])).code).toBe(EXIT.NOT_FOUND);
  }, 60_000);
});
