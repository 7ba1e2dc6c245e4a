/**
 * @module spec/redis/concurrency
 * Locking shared with PHP (phpredis 5.3.7, redis.session.locking_enabled=1 on both sides):
 * - K PHP processes and K concurrent engine requests each increment one counter M times: 2·K·M;
 * - same-id requests in one process queue in-process: only the queue's head polls Redis (one
 *   SET NX per request), and under PHP's default budget nothing is lost silently;
 * - a lock left by a killed PHP process: the same notice and refused write as PHP while it lives,
 *   and the lock is taken once it expires.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { redisCommand, type RedisProcess } from '../support/redis-server.ts';
import { describeWith, which } from '../support/tools.ts';
import { engineFor, php, phpDiagnostics, PHP_EXTENSIONS, TOOLS, useRedisServers } from './support.ts';

const K = 4;
const M = 25;
const servers: RedisProcess[] = [];

function baseIni(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'session.save_handler': 'redis',
    'session.save_path': `tcp://${servers[0]!.address}`,
    'redis.session.locking_enabled': '1',
    'redis.session.lock_expire': '10',
    ...extra,
  };
}

/** `php -n` on a script in the background; resolves with its exit code and stderr. */
function phpBackground(code: string, ini: Record<string, string>): { done: Promise<{ code: number | null; stderr: string }>; kill: () => void } {
  const args = ['-n'];
  for (const e of PHP_EXTENSIONS) args.push('-d', `extension=${e}`);
  for (const [k, v] of Object.entries({ display_errors: 'stderr', error_reporting: '-1', ...ini })) args.push('-d', `${k}=${v}`);
  args.push('-r', code);
  const child = spawn(which('php')!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (c) => resolve({ code: c, stderr })));
  return { done, kill: () => child.kill('SIGKILL') };
}

const str = (r: unknown): string | null => (Buffer.isBuffer(r) ? r.toString('latin1') : r === null ? null : String(r));

async function commandCalls(port: number, cmd: string): Promise<number> {
  const info = str(await redisCommand(port, 'INFO', 'commandstats')) ?? '';
  const m = new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info);
  return m ? Number(m[1]) : 0;
}

describeWith(TOOLS, 'redis module: locking with PHP', () => {
  useRedisServers(servers, 1);

  it(`${K} PHP processes and ${K} engine requests, ${M} increments each: the counter ends at ${2 * K * M}`, async () => {
    const id = `counter${process.pid}`;
    // Wait for the lock as long as it takes, 1 ms apart, on both sides.
    const ini = baseIni({ 'redis.session.lock_retries': '-1', 'redis.session.lock_wait_time': '1000' });
    await php(`session_id('${id}'); session_start(); $_SESSION['n'] = 0; session_write_close();`, ini);
    const phpLoop = `session_id('${id}'); for ($j = 0; $j < ${M}; $j++) { session_start(); $_SESSION['n']++; session_write_close(); }`;
    const phps = Array.from({ length: K }, () => phpBackground(phpLoop, ini));
    const engine = engineFor(ini);
    const diagnostics: string[] = [];
    const nodeLoop = async (): Promise<void> => {
      for (let j = 0; j < M; j++) {
        const req = engine.request({ cookies: { PHPSESSID: id } });
        expect(await req.start()).toBe(true);
        req.session.set('n', (req.session.get('n') as number) + 1);
        await req.writeClose();
        await req.end();
        diagnostics.push(...req.diagnostics.map((d) => d.message));
      }
    };
    await Promise.all([...phps.map((p) => p.done), ...Array.from({ length: K }, nodeLoop)]);
    for (const p of phps) expect(await p.done).toEqual({ code: 0, stderr: '' });
    expect(diagnostics).toEqual([]);
    const r = await php(`session_id('${id}'); session_start(); echo $_SESSION['n']; session_write_close();`, ini);
    expect(Number(r.stdout.toString())).toBe(2 * K * M);
  }, 60_000);

  describe('many same-id requests in one process', () => {
    it('queue in-process: 50 requests waiting for the lock make 50 SET NX calls in all, and count 50', async () => {
      const id = `herd${process.pid}`;
      const ini = baseIni({ 'redis.session.lock_retries': '-1' });
      const engine = engineFor(ini);
      const port = servers[0]!.port;
      await redisCommand(port, 'CONFIG', 'RESETSTAT');
      const one = async (): Promise<string[]> => {
        const req = engine.request({ cookies: { PHPSESSID: id } });
        expect(await req.start()).toBe(true);
        req.session.set('n', ((req.session.get('n') as number | undefined) ?? 0) + 1);
        await req.writeClose();
        await req.end();
        return req.diagnostics.map((d) => d.message);
      };
      const diags = (await Promise.all(Array.from({ length: 50 }, one))).flat();
      expect(diags).toEqual([]);
      // Without the queue every waiter polls every 2 ms: hundreds of SETs.
      expect(await commandCalls(port, 'set')).toBe(50);
      const req = engine.request({ cookies: { PHPSESSID: id } });
      await req.start();
      expect(req.session.get('n')).toBe(50);
      await req.end();
    });

    it("with phpredis' default budget (10 × 2 ms): whoever misses the lock gets PHP's notice and a refused write; nothing is lost silently", async () => {
      const id = `budget${process.pid}`;
      const engine = engineFor(baseIni());
      const one = async (): Promise<boolean> => {
        const req = engine.request({ cookies: { PHPSESSID: id } });
        expect(await req.start()).toBe(true);
        req.session.set('n', ((req.session.get('n') as number | undefined) ?? 0) + 1);
        // Some work while holding the session.
        await new Promise((r) => setTimeout(r, 5));
        await req.writeClose();
        await req.end();
        const msgs = req.diagnostics.map((d) => d.message);
        if (msgs.length === 0) return true;
        expect(msgs).toEqual([
          'session_start(): Acquire of session lock was not successful',
          `session_write_close(): Failed to write session data (redis). Please verify that the current setting of session.save_path is correct (tcp://${servers[0]!.address})`,
        ]);
        return false;
      };
      const results = await Promise.all(Array.from({ length: 100 }, one));
      const written = results.filter(Boolean).length;
      expect(written).toBeGreaterThan(0);
      const req = engine.request({ cookies: { PHPSESSID: id } });
      await req.start();
      expect(req.session.get('n')).toBe(written);
      await req.end();
    });
  });

  it('a lock left by a killed PHP process: PHP\'s notice and refused write while it lives, then it expires and is taken', async () => {
    const id = `killed${process.pid}`;
    const port = servers[0]!.port;
    const lockKey = `PHPREDIS_SESSION:${id}_LOCK`;
    const ini = baseIni({ 'redis.session.lock_expire': '2' });
    await php(`session_id('${id}'); session_start(); $_SESSION['v'] = 'kept'; session_write_close();`, ini);
    const holder = phpBackground(`session_id('${id}'); session_start(); sleep(30);`, ini);
    for (let i = 0; (await redisCommand(port, 'EXISTS', lockKey)) !== 1; i++) {
      if (i > 800) throw new Error('PHP never took the lock');
      await new Promise((r) => setTimeout(r, 25));
    }
    const phpSecret = str(await redisCommand(port, 'GET', lockKey));
    holder.kill();
    await holder.done;

    // While the dead holder's lock lives: PHP and the engine answer the same way.
    const script = `session_id('${id}'); session_start(); $_SESSION['v'] = 'lost'; session_write_close();`;
    const phpRun = await php(script, ini);
    const engine = engineFor(ini);
    const blocked = engine.request({ cookies: { PHPSESSID: id } });
    expect(await blocked.start()).toBe(true);
    expect(blocked.session.get('v')).toBe('kept');
    blocked.session.set('v', 'lost');
    await blocked.writeClose();
    await blocked.end();
    expect(str(await redisCommand(port, 'GET', lockKey))).toBe(phpSecret);
    expect(blocked.diagnostics).toEqual(phpDiagnostics(phpRun.stderr));
    expect(blocked.diagnostics.map((d) => d.message)[0]).toBe('session_start(): Acquire of session lock was not successful');

    // Waiting without limit: the request gets the lock only once the dead one has expired.
    const waiting = engineFor({ ...ini, 'redis.session.lock_retries': '-1' }).request({ cookies: { PHPSESSID: id } });
    let started = false;
    const start = waiting.start().then((r) => {
      started = true;
      return r;
    });
    while (str(await redisCommand(port, 'GET', lockKey)) === phpSecret) {
      expect(started).toBe(false);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await start).toBe(true);
    expect(waiting.session.get('v')).toBe('kept');
    waiting.session.set('v', 'after');
    await waiting.writeClose();
    await waiting.end();
    expect(waiting.diagnostics).toEqual([]);
    const r = await php(`session_id('${id}'); session_start(); echo $_SESSION['v'];`, ini);
    expect(r.stdout.toString()).toBe('after');
  }, 30_000);

  it('a Node process killed (-9) while holding locks: its locks expire (30 s without lock_expire, as under php-fpm), then are taken', async () => {
    const port = servers[0]!.port;
    const engineEntry = fileURLToPath(new URL('../../lib/engine.ts', import.meta.url));
    const children: ChildProcess[] = [];
    const holder = (id: string, expire: string) => {
      const code = `import { SessionEngine } from ${JSON.stringify(engineEntry)};
        const e = new SessionEngine({ ini: { 'session.save_handler': 'redis', 'session.save_path': 'tcp://127.0.0.1:${port}', 'redis.session.locking_enabled': '1', 'redis.session.lock_expire': '${expire}' } });
        const r = e.request({ cookies: { PHPSESSID: '${id}' } });
        await r.start(); process.stdout.write('locked\\n'); setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ['--conditions=php-session-engine-source', '--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      return new Promise<() => Promise<void>>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('locked'))
            resolve(() => new Promise<void>((done) => {
              child.once('exit', () => done());
              child.kill('SIGKILL');
            }));
        });
      });
    };
    const a = `nodekill${process.pid}a`;
    const b = `nodekill${process.pid}b`;
    try {
      const [killA, killB] = await Promise.all([holder(a, '0'), holder(b, '1')]);
      await killA();
      await killB();
    } finally {
      // Whatever happened above, no holder outlives the test.
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    const pttl = (await redisCommand(port, 'PTTL', `PHPREDIS_SESSION:${a}_LOCK`)) as number;
    expect(pttl).toBeGreaterThan(20_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
    await redisCommand(port, 'DEL', `PHPREDIS_SESSION:${a}_LOCK`);
    const req = engineFor(baseIni({ 'redis.session.lock_retries': '-1' })).request({ cookies: { PHPSESSID: b } });
    expect(await req.start()).toBe(true);
    await req.writeClose();
    await req.end();
    expect(req.diagnostics).toEqual([]);
  }, 30_000);
});
