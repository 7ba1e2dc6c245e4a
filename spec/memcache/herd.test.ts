/**
 * @module spec/memcache/herd
 * Many concurrent requests on one session inside one Node process (issue #10, item 1).
 *
 * Requests for the same session queue inside the process (handlers/shared/lock-queue.ts), so only the head of the
 * queue takes the server lock; the others never poll the server. What is checked, with a real
 * memcached started here:
 * - N = 50 and N = 200 concurrent engine requests, each adding 1 to a counter: every
 *   writeClose() that returned true is in the counter (no silent loss), every request that did not
 *   get true said so with a warning, and the server saw exactly one lock attempt per request
 *   that got through (nobody polled behind the head);
 * - K PHP processes and K concurrent engine loops, M increments each: exactly 2*K*M;
 * - a queued request that outlives PHP's lock budget fails as PHP does (warning + false);
 * - a request that never closes holds the session only as long as its server lock lives.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { textCommand, type MemcachedProcess } from '../support/memcached-server.ts';
import { describeWith, which } from '../support/tools.ts';
import { engineFor, php, PHP_EXTENSIONS, savePathFor, spawnPhp, useMemcachedServers, type ModuleName } from './support.ts';
import type { SessionEngine } from '../../lib/engine.ts';

/** The server's counters (`stats`). */
async function stats(port: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await textCommand(port, 'stats')).toString('latin1').split('\r\n')) {
    const m = /^STAT (\S+) (\d+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/**
 * Lock attempts the server has seen: php-memcached adds `lock.<id>` (one storage command per
 * attempt; a successful attempt's write adds one more); pecl memcache sends incr + add + get per
 * attempt (one incr each).
 */
function lockAttempts(module: ModuleName, before: Map<string, number>, after: Map<string, number>, writes: number): number {
  const d = (k: string): number => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  return module === 'memcached' ? d('cmd_set') - writes : d('incr_hits') + d('incr_misses');
}

const LOCK_INI: Record<ModuleName, Record<string, string>> = {
  // php-memcached's defaults (5 retries, 150 ms): a PHP process gives up after 750 ms of waiting.
  memcached: {},
  // The setting: a PHP process waits up to 6 s, then reads the session unlocked.
  memcache: { 'memcache.lock_timeout': '3' },
};

function iniFor(module: ModuleName, address: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'session.save_handler': module, 'session.save_path': savePathFor(module, [address]), ...LOCK_INI[module], ...extra };
}

async function seed(engine: SessionEngine, id: string, n: number): Promise<void> {
  const req = engine.request({ cookies: { PHPSESSID: id } });
  expect(await req.start()).toBe(true);
  req.session.set('n', n);
  expect(await req.writeClose()).toBe(true);
  await req.end();
}

/** The counter as PHP reads it. */
async function phpCounter(ini: Record<string, string>, id: string): Promise<number> {
  const r = await php(`session_id('${id}'); session_start(); echo json_encode($_SESSION['n'] ?? null); session_write_close();`, ini);
  return JSON.parse(r.stdout.toString()) as number;
}

describeWith(['memcached', 'php', 'php-ext:memcached', 'php-ext:memcache'], 'memcache modules: many requests on one session in one process', () => {
  const servers: MemcachedProcess[] = [];
  useMemcachedServers(servers, 1);

  for (const module of ['memcache', 'memcached'] as const) {
    describe(module, () => {
      for (const N of [50, 200]) {
        it(`${N} concurrent requests, +1 each: every true write is counted, every other request warned, one lock attempt each`, async () => {
          const server = servers[0]!;
          const ini = iniFor(module, server.address);
          const engine = engineFor(ini);
          const id = `herd${module}${N}x${process.pid}`;
          await seed(engine, id, 0);
          const before = await stats(server.port);
          let written = 0;
          let started = 0;
          const silent: string[] = [];
          await Promise.all(
            Array.from({ length: N }, async () => {
              const req = engine.request({ cookies: { PHPSESSID: id } });
              if (await req.start()) {
                started++;
                req.session.set('n', ((req.session.get('n') as number | undefined) ?? 0) + 1);
              }
              const ok = await req.writeClose();
              await req.end();
              if (ok) written++;
              else if (!req.diagnostics.some((d) => d.level === 'E_WARNING')) silent.push('writeClose() false without a warning');
            }),
          );
          const after = await stats(server.port);
          expect(silent).toEqual([]);
          expect(await phpCounter(ini, id)).toBe(written);
          expect(written).toBe(started);
          expect(written).toBeGreaterThan(0);
          expect(lockAttempts(module, before, after, written)).toBe(written);
        }, 120_000);
      }

      it('K PHP processes and K engine loops, M increments each: exactly 2*K*M', async () => {
        const K = 6;
        const M = 10;
        const server = servers[0]!;
        const ini = iniFor(module, server.address);
        const id = `mixed${module}${process.pid}`;
        const engine = engineFor(ini);
        await seed(engine, id, 0);
        // Each side counts only its own successful writes and retries a refused session_start
        // (php-memcached refuses after its retries; that is loud, so a retry is fair).
        const phpLoop = `session_id('${id}'); for ($j = 0; $j < ${M};) { if (@session_start()) { $_SESSION['n']++; if (session_write_close()) $j++; } }`;
        const phps = Array.from({ length: K }, () => phpProcess(phpLoop, ini));
        const nodeLoop = async (): Promise<void> => {
          for (let j = 0; j < M; ) {
            const req = engine.request({ cookies: { PHPSESSID: id } });
            if (await req.start()) {
              req.session.set('n', ((req.session.get('n') as number | undefined) ?? 0) + 1);
              if (await req.writeClose()) j++;
            }
            await req.end();
          }
        };
        await Promise.all([...phps, ...Array.from({ length: K }, nodeLoop)]);
        expect(await phpCounter(ini, id)).toBe(2 * K * M);
      }, 120_000);
    });
  }

  it('memcached: a request queued behind one that holds the lock gives up after PHP\'s retries, with PHP\'s warnings', async () => {
    const server = servers[0]!;
    const ini = iniFor('memcached', server.address, { 'memcached.sess_lock_retries': '2', 'memcached.sess_lock_wait_min': '20', 'memcached.sess_lock_wait_max': '20' });
    const id = `queuedfail${process.pid}`;
    const engine = engineFor(ini);
    await seed(engine, id, 7);
    const holder = engine.request({ cookies: { PHPSESSID: id } });
    expect(await holder.start()).toBe(true);
    // PHP against the same held lock, for the expected warnings.
    const p = await php(`session_id('${id}'); var_dump(@session_start() === false); echo json_encode(error_get_last()['message']);`, ini);
    const queued = engine.request({ cookies: { PHPSESSID: id } });
    expect(await queued.start()).toBe(false);
    await queued.end();
    expect(queued.diagnostics.map((d) => d.message)).toEqual([
      'session_start(): Unable to clear session lock record',
      `session_start(): Failed to read session data: memcached (path: ${server.address})`,
    ]);
    expect(p.stdout.toString()).toContain('bool(true)');
    expect(p.stdout.toString()).toContain(`Failed to read session data: memcached (path: ${server.address})`);
    holder.session.set('n', 8);
    expect(await holder.writeClose()).toBe(true);
    await holder.end();
    expect(await phpCounter(ini, id)).toBe(8);
  }, 60_000);

  it('memcache: against a lock held elsewhere, the head of the queue reads unlocked after 2*lock_timeout as PHP does, and the request queued behind it fails loudly', async () => {
    const server = servers[0]!;
    const ini = iniFor('memcache', server.address, { 'memcache.lock_timeout': '1' });
    const id = `fallback${process.pid}`;
    const engine = engineFor(ini);
    // The lock record write() leaves lives lock_timeout; incr takes the lock without changing that,
    // so seed with the holder's 10 s too.
    await seed(engineFor({ ...ini, 'memcache.lock_timeout': '10' }), id, 5);
    // A PHP process whose lock lives 10 s holds the session.
    const holder = spawnPhp(`session_id('${id}'); session_start(); echo "locked\\n"; flush(); sleep(60);`, { ...ini, 'memcache.lock_timeout': '10' });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        void holder.done.then((r) => reject(new Error(`holder exited: ${r.stderr}`)));
      });
      // What a PHP process with lock_timeout=1 does meanwhile: session_start() true, empty session.
      const p = await php(`session_id('${id}'); var_dump(session_start(), $_SESSION); session_abort();`, ini);
      const head = engine.request({ cookies: { PHPSESSID: id } });
      const queued = engine.request({ cookies: { PHPSESSID: id } });
      const [headStarted, queuedStarted] = await Promise.all([head.start(), queued.start()]);
      expect(p.stdout.toString().replace(/\s+/g, ' ').trim()).toBe('bool(true) array(0) { }');
      expect([headStarted, head.session.size, head.diagnostics]).toEqual([true, 0, []]);
      expect(queuedStarted).toBe(false);
      expect(queued.diagnostics.map((d) => d.message)).toEqual([`session_start(): Failed to read session data: memcache (path: tcp://${server.address})`]);
      await head.abort();
      await head.end();
      await queued.end();
    } finally {
      holder.kill();
      await holder.done;
    }
  }, 60_000);

  for (const module of ['memcache', 'memcached'] as const) {
    it(`${module}: a request that never closes holds the session in this process only as long as its server lock lives`, async () => {
      const server = servers[0]!;
      const ini = iniFor(
        module,
        server.address,
        module === 'memcache'
          ? { 'memcache.lock_timeout': '1' }
          : { 'memcached.sess_lock_expire': '1', 'memcached.sess_lock_retries': '30', 'memcached.sess_lock_wait_min': '100', 'memcached.sess_lock_wait_max': '100' },
      );
      const id = `abandoned${module}${process.pid}`;
      const engine = engineFor(ini);
      await seed(engine, id, 1);
      const abandoned = engine.request({ cookies: { PHPSESSID: id } });
      expect(await abandoned.start()).toBe(true);
      // Never closed, never ended (a handler that threw, a forgotten request). The next request
      // gets the session once the lock would have expired on the server, as a PHP process would.
      const next = engine.request({ cookies: { PHPSESSID: id } });
      expect(await next.start()).toBe(true);
      expect(next.session.get('n')).toBe(1);
      next.session.set('n', 2);
      expect(await next.writeClose()).toBe(true);
      await next.end();
      expect(await phpCounter(ini, id)).toBe(2);
    }, 60_000);
  }
});

/** `php -n` on a script; resolves when it exits 0, rejects with its stderr otherwise. */
function phpProcess(code: string, ini: Record<string, string>): Promise<void> {
  const args = ['-n', ...PHP_EXTENSIONS.flatMap((e) => ['-d', `extension=${e}`])];
  for (const [k, v] of Object.entries(ini)) args.push('-d', `${k}=${v}`);
  args.push('-r', code);
  const child = spawn(which('php')!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`php exited ${c}: ${stderr}`)))),
  );
}
