/**
 * @module spec/redis/failures
 * What PHP (phpredis 5.3.7) says when the server is down, unreachable or stopped mid-request,
 * and for save paths it cannot use: the engine's return values and diagnostics, word for word.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startRedis, redisCommand, type RedisProcess } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { engineFor, php, phpDiagnostics, TOOLS } from './support.ts';
import { testSessionId } from '../handlers/suite.ts';
import { closeRedisConnections } from '../../handlers/redis.ts';
import { redisConnection } from '../../handlers/redis/client.ts';
import { parseRedisSavePath } from '../../handlers/redis/save-path.ts';
import { spawn } from 'node:child_process';
import { which } from '../support/tools.ts';
import { PHP_EXTENSIONS } from './support.ts';

const SCRIPT = `var_dump(session_start()); $_SESSION['a'] = 1; var_dump(session_write_close());`;

/** Runs SCRIPT in PHP and the same steps in the engine; returns both transcripts. */
async function both(ini: Record<string, string>, id: string) {
  const r = await php(`session_id('${id}'); ${SCRIPT}`, ini);
  const req = engineFor(ini).request({ cookies: { PHPSESSID: id } });
  const results = [await req.start()];
  if (results[0]) req.session.set('a', 1);
  results.push(await req.writeClose());
  await req.end();
  const phpResults = r.stdout
    .toString()
    .trim()
    .split('\n')
    .map((l) => l === 'bool(true)');
  return { php: { results: phpResults, diagnostics: phpDiagnostics(r.stderr) }, engine: { results, diagnostics: req.diagnostics } };
}

describeWith(TOOLS, 'redis module: failures compared with PHP', () => {
  const id = testSessionId();

  for (const [name, savePath] of [
    ['nothing listening on the port', 'tcp://127.0.0.1:1'],
    ['a bare host:port with nothing listening', '127.0.0.1:1'],
    ['a unix socket that does not exist', 'unix:///nonexistent/redis.sock'],
    ['an unknown host', 'tcp://nonexistent.invalid:6379'],
    ['a port PHP cannot parse', 'tcp://127.0.0.1:99999'],
    ['a second URL PHP cannot parse', 'tcp://127.0.0.1:1, http://:80'],
    ['weight=0', 'tcp://127.0.0.1:1?weight=0'],
    ['timeout=0', 'tcp://127.0.0.1:1?timeout=0'],
    ['auth with three elements', 'tcp://127.0.0.1:1?auth[]=a&auth[]=b&auth[]=c'],
    ['an empty path', ''],
    ['only separators', ' , ,'],
  ] as const) {
    it(`${name} (${JSON.stringify(savePath)}): the same results and warnings as PHP`, async () => {
      const ini = { 'session.save_handler': 'redis', 'session.save_path': savePath };
      const { php: p, engine: e } = await both(ini, id);
      expect(e).toEqual(p);
      expect(p.diagnostics.length).toBeGreaterThan(0);
    });
  }

  it('auth: right password, wrong password, none (NOAUTH): the same results, warnings and RedisException as PHP', async () => {
    const server = await startRedis({ password: 's3cret' });
    try {
      for (const q of ['?auth=s3cret', '?auth[]=default&auth[]=s3cret', '?auth=wrong', '']) {
        const ini = { 'session.save_handler': 'redis', 'session.save_path': `tcp://${server.address}${q}` };
        const sid = testSessionId();
        const r = await php(`session_id('${sid}'); try { ${SCRIPT} } catch (Throwable $e) { echo get_class($e), ': ', $e->getMessage(), "\\n"; }`, ini);
        const req = engineFor(ini).request({ cookies: { PHPSESSID: sid } });
        const out: string[] = [];
        try {
          out.push(`bool(${await req.start()})`);
          req.session.set('a', 1);
          out.push(`bool(${await req.writeClose()})`);
        } catch (e) {
          out.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
        await req.end().catch(() => undefined);
        expect({ q, out, diagnostics: req.diagnostics }).toEqual({ q, out: r.stdout.toString().trim().split('\n'), diagnostics: phpDiagnostics(r.stderr) });
      }
    } finally {
      closeRedisConnections();
      await server.stop();
    }
  });

  it('with locking on and the server down: the same results and warnings as PHP', async () => {
    const ini = { 'session.save_handler': 'redis', 'session.save_path': 'tcp://127.0.0.1:1', 'redis.session.locking_enabled': '1' };
    const { php: p, engine: e } = await both(ini, id);
    expect(e).toEqual(p);
  });

  it('a new session with the server down: create_sid falls back as PHP does', async () => {
    const ini = { 'session.save_handler': 'redis', 'session.save_path': 'tcp://127.0.0.1:1', 'redis.session.locking_enabled': '1' };
    const r = await php(SCRIPT, ini);
    const req = engineFor(ini).request({});
    const results = [await req.start()];
    results.push(await req.writeClose());
    await req.end();
    expect(results).toEqual(r.stdout.toString().trim().split('\n').map((l) => l === 'bool(true)'));
    expect(req.diagnostics).toEqual(phpDiagnostics(r.stderr));
  });

  /** PHP holds a session until `flag` exists; resolves once its session_start() returned. */
  async function phpHolding(ini: Record<string, string>, sid: string, flag: string) {
    const args = ['-n'];
    for (const e of PHP_EXTENSIONS) args.push('-d', `extension=${e}`);
    for (const [k, v] of Object.entries({ display_errors: 'stderr', error_reporting: '-1', ...ini })) args.push('-d', /^[\w.:/-]*$/.test(v) ? `${k}=${v}` : `${k}="${v}"`);
    args.push('-r', `session_id('${sid}'); var_dump(session_start()); echo "started\\n"; while (!file_exists('${flag}')) usleep(10000); $_SESSION['a'] = 1; var_dump(session_write_close());`);
    const child = spawn(which('php')!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const started = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('started')) resolve();
      }),
    );
    const done = new Promise<{ out: string; err: string }>((resolve) => child.on('close', () => resolve({ out, err })));
    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    await Promise.race([started, done]);
    return { done, kill };
  }

  /**
   * PHP holds session `sid` on a fresh server; the server is stopped (and, with `restart`,
   * started again on its port) before PHP writes. PHP's output and results, and the restarted
   * server. Servers go to `started`; PHP's kill to `onKill`.
   */
  async function phpAcrossStop(dir: string, started: RedisProcess[], ini: (s: RedisProcess) => Record<string, string>, sid: string, restart: boolean, onKill: (kill: () => void) => void) {
    const server = await startRedis();
    started.push(server);
    await redisCommand(server.port, 'SET', `PHPREDIS_SESSION:${sid}`, 'a|i:0;');
    const flag = join(dir, 'go');
    const phpDone = await phpHolding(ini(server), sid, flag);
    onKill(phpDone.kill);
    await server.stop();
    writeFileSync(flag, '');
    const again = restart ? await startRedis({ port: server.port }) : undefined;
    if (again !== undefined) started.push(again);
    const p = await phpDone.done;
    const results = p.out.split('\n').filter((l) => l.startsWith('bool(')).map((l) => l === 'bool(true)');
    return { p, results, again };
  }

  /** The engine's side: a session started on a fresh server holding `sid`, then the server stopped. */
  async function engineAcrossStop(started: RedisProcess[], ini: (s: RedisProcess) => Record<string, string>, sid: string) {
    const server = await startRedis();
    started.push(server);
    await redisCommand(server.port, 'SET', `PHPREDIS_SESSION:${sid}`, 'a|i:0;');
    const req = engineFor(ini(server)).request({ cookies: { PHPSESSID: sid } });
    const results = [await req.start()];
    await server.stop();
    return { server, req, results };
  }

  /** Runs `body` with a temp dir and a list of servers, stopping PHP and every server afterwards. */
  async function withServers(body: (dir: string, started: RedisProcess[], onKill: (kill: () => void) => void) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'pse-redis-flag-'));
    const started: RedisProcess[] = [];
    let phpKill: (() => void) | undefined;
    try {
      await body(dir, started, (k) => (phpKill = k));
    } finally {
      phpKill?.();
      closeRedisConnections();
      await Promise.all(started.map((x) => x.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('the server restarted while the write reconnects (retry_interval=1000000): PHP and the engine retry, and the write lands', async () => {
    // redis_check_eof finds the socket closed and reopens it up to 10 times, retry_interval
    // (microseconds in 5.3.7) apart: a server back within that window takes the write.
    await withServers(async (dir, started, onKill) => {
      const ini = (s: RedisProcess) => ({ 'session.save_handler': 'redis', 'session.save_path': `tcp://${s.address}?retry_interval=1000000` });
      const sid = testSessionId();
      const { p, results: phpResults, again } = await phpAcrossStop(dir, started, ini, sid, true, onKill);
      expect({ results: phpResults, diagnostics: phpDiagnostics(p.err) }).toEqual({ results: [true, true], diagnostics: [] });
      expect(String(await redisCommand(again!.port, 'GET', `PHPREDIS_SESSION:${sid}`))).toBe('a|i:1;');

      // The engine, the same steps.
      const { server, req, results } = await engineAcrossStop(started, ini, sid);
      // PHP finds the socket closed when it peeks before writing (redis_check_eof); Node learns of
      // the peer's close only when its event is processed: wait for that, then write.
      const parsed = parseRedisSavePath(ini(server)['session.save_path']!);
      if (!parsed.ok) throw new Error('save_path');
      const conn = redisConnection(parsed.members[0]!.endpoint);
      for (let i = 0; i < 2000 && conn.connected; i++) await new Promise((r) => setTimeout(r, 5));
      expect(conn.connected).toBe(false);
      req.session.set('a', 1);
      const writing = req.writeClose();
      const back = await startRedis({ port: server.port });
      started.push(back);
      results.push(await writing);
      await req.end();
      expect({ results, diagnostics: req.diagnostics }).toEqual({ results: [true, true], diagnostics: [] });
      expect(String(await redisCommand(back.port, 'GET', `PHPREDIS_SESSION:${sid}`))).toBe('a|i:1;');
    });
  }, 60_000);

  for (const [label, lockIni] of [
    ['no locking', {}],
    ['locking, lock_expire=5', { 'redis.session.locking_enabled': '1', 'redis.session.lock_expire': '5' }],
  ] as const) {
    it(`the server stopped between session_start and write (${label}): PHP's results, warnings and RedisException`, async () => {
      await withServers(async (dir, started, onKill) => {
        const ini = (s: RedisProcess) => ({ 'session.save_handler': 'redis', 'session.save_path': `tcp://${s.address}`, ...lockIni });
        const sid = testSessionId();
        const { p, results: phpResults } = await phpAcrossStop(dir, started, ini, sid, false, onKill);
        const phpThrew = /Uncaught (\w+): (.*) in /.exec(p.err);

        // The engine, the same steps.
        const { req, results } = await engineAcrossStop(started, ini, sid);
        req.session.set('a', 1);
        let thrown: unknown;
        try {
          results.push(await req.writeClose());
        } catch (e) {
          thrown = e;
        }
        await req.end().catch(() => undefined);
        expect({ results, diagnostics: req.diagnostics }).toEqual({ results: phpResults, diagnostics: phpDiagnostics(p.err) });
        expect(phpThrew).not.toBeNull();
        expect(thrown === undefined ? null : `${(thrown as Error).name}: ${(thrown as Error).message}`).toBe(`${phpThrew![1]}: ${phpThrew![2]}`);
      });
    }, 60_000);
  }
});
