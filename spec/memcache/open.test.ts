/**
 * @module spec/memcache/open
 * Bad or unusual session.save_path values: session_start()'s result and every warning, compared
 * with PHP running the same path.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeAllConnections } from '../../handlers/shared/memcache/client.ts';
import { startMemcached, startMemcachedSocket, type MemcachedProcess } from '../support/memcached-server.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWith } from '../support/tools.ts';
import { engineFor, php, type ModuleName } from './support.ts';

let server: MemcachedProcess;

function warnings(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^(Warning|Notice|Deprecated):\s+(.*) in Command line code on line \d+$/.exec(line.trim());
    if (m) out.push(`${m[1]}: ${m[2]}`);
  }
  return out;
}

const LEVEL: Record<string, string> = { E_WARNING: 'Warning', E_NOTICE: 'Notice', E_DEPRECATED: 'Deprecated' };

async function same(module: ModuleName, path: string): Promise<void> {
  const r = await php(
    `ini_set('session.save_path', base64_decode('${Buffer.from(path).toString('base64')}')); session_id('openprobe1'); var_dump(session_start()); session_write_close();`,
    { 'session.save_handler': module },
  );
  const req = engineFor({ 'session.save_handler': module, 'session.save_path': path }).request({ cookies: { PHPSESSID: 'openprobe1' } });
  const started = await req.start();
  await req.writeClose();
  await req.end();
  expect(`bool(${started})`).toBe(r.stdout.toString().trim());
  expect(req.diagnostics.map((d) => `${LEVEL[d.level]}: ${d.message}`)).toEqual(warnings(r.stderr));
}

describeWith(['memcached', 'php', 'php-ext:memcached', 'php-ext:memcache'], 'memcache modules: save_path handling compared with PHP', () => {
  beforeAll(async () => {
    server = await startMemcached();
  });
  afterAll(async () => {
    closeAllConnections();
    await server?.stop();
  });

  it('memcached: PERSISTENT= is refused with 3.x\'s warning', () => same('memcached', `PERSISTENT=pool ${server.address}`));
  it('memcached: an empty path', () => same('memcached', ''));
  it('memcached: "host:port weight" list with a space after the comma', () => same('memcached', `${server.address} 2, ${server.address}`));
  it('memcache: weight=0 fails open silently', () => same('memcache', `tcp://${server.address}?weight=0`));
  it('memcache: timeout=0 fails open silently', () => same('memcache', `tcp://${server.address}?timeout=0`));
  it('memcache: an unparsable URL', () => same('memcache', `tcp://${server.address}, tcp://127.0.0.1:999999`));
  it('memcache: a bare host:port with query parameters is not a host (PHP\'s URL parser)', () =>
    same('memcache', `${server.address}?persistent=1&retry_interval=5`));
  it('memcache: a bare host:port', () => same('memcache', `${server.address}`));
  it('memcache: memcache.session_save_path wins over session.save_path', async () => {
    const r = await php(`session_id('openprobe2'); var_dump(session_start()); $_SESSION['a'] = 1; session_write_close();`, {
      'session.save_handler': 'memcache',
      'session.save_path': 'tcp://127.0.0.1:1',
      'memcache.session_save_path': `tcp://${server.address}`,
    });
    expect(r.stdout.toString().trim()).toBe('bool(true)');
    const req = engineFor({
      'session.save_handler': 'memcache',
      'session.save_path': 'tcp://127.0.0.1:1',
      'memcache.session_save_path': `tcp://${server.address}`,
    }).request({ cookies: { PHPSESSID: 'openprobe2' } });
    expect(await req.start()).toBe(true);
    expect(req.session.get('a')).toBe(1);
    await req.writeClose();
    await req.end();
    expect(req.diagnostics).toEqual([]);
  });

  it('unix sockets: PHP writes over the socket, the engine reads it, both modules', async () => {
    const sock = await startMemcachedSocket(join(tmpdir(), `pse-mc-${process.pid}.sock`));
    try {
      for (const [module, path] of [
        ['memcached', sock.path],
        ['memcache', `unix://${sock.path}`],
      ] as const) {
        await php(`session_id('unixprobe1'); if (!session_start()) exit(3); $_SESSION['via'] = 'php'; session_write_close();`, {
          'session.save_handler': module,
          'session.save_path': path,
        });
        const req = engineFor({ 'session.save_handler': module, 'session.save_path': path }).request({ cookies: { PHPSESSID: 'unixprobe1' } });
        expect(await req.start()).toBe(true);
        expect(req.session.get('via')).toBe('php');
        await req.writeClose();
        await req.end();
        expect(req.diagnostics).toEqual([]);
      }
    } finally {
      closeAllConnections();
      await sock.stop();
    }
  });

  for (const module of ['memcached', 'memcache'] as const) {
    it(`${module}: a session too large for the server gives PHP's warnings on write`, async () => {
      const path = module === 'memcached' ? server.address : `tcp://${server.address}`;
      const r = await php(
        `session_id('bigprobe1'); session_start(); $_SESSION['x'] = bin2hex(random_bytes(1500000)); var_dump(session_write_close());`,
        { 'session.save_handler': module, 'session.save_path': path },
      );
      const req = engineFor({ 'session.save_handler': module, 'session.save_path': path }).request({ cookies: { PHPSESSID: 'bigprobe1' } });
      expect(await req.start()).toBe(true);
      req.session.set('x', randomBytes(1500000).toString('hex'));
      expect(`bool(${await req.writeClose()})`).toBe(r.stdout.toString().trim());
      await req.end();
      expect(req.diagnostics.map((d) => `${LEVEL[d.level]}: ${d.message}`)).toEqual(warnings(r.stderr));
    });
  }
});
