/**
 * @module spec/memcache/concurrency
 * Locking shared with PHP, and failure behaviour:
 * - K PHP processes and K concurrent engine requests each increment one session counter M times;
 *   the final count is exactly 2*K*M (each side retries a session_start that PHP refuses);
 * - a lock left by a killed PHP process blocks the engine until it expires, as in PHP;
 * - with memcached down, the engine raises PHP's warnings and return values (compared with PHP);
 * - memcached stopped mid-run: no exception, no hang, every request ends.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllConnections } from '../../handlers/shared/memcache/client.ts';
import { getItem, startMemcached, type MemcachedProcess } from '../support/memcached-server.ts';
import { describeWith, which } from '../support/tools.ts';
import { engineFor, php, PHP_EXTENSIONS, savePathFor, type ModuleName } from './support.ts';

const K = 4;
const M = 25;
let server: MemcachedProcess;

/** Fast lock retries for php-memcached so contention resolves quickly on both sides. */
const LOCK_INI: Record<ModuleName, Record<string, string>> = {
  memcached: { 'memcached.sess_lock_wait_min': '5', 'memcached.sess_lock_wait_max': '20', 'memcached.sess_lock_retries': '200' },
  memcache: {},
};

function baseIni(module: ModuleName, address: string): Record<string, string> {
  return { 'session.save_handler': module, 'session.save_path': savePathFor(module, [address]), ...LOCK_INI[module] };
}

/** Starts `php -n` on a script in the background; resolves with its stdout/stderr. */
function phpBackground(code: string, ini: Record<string, string>): { done: Promise<{ code: number | null; stderr: string }>; kill: () => void } {
  const args = ['-n'];
  for (const e of PHP_EXTENSIONS) args.push('-d', `extension=${e}`);
  for (const [k, v] of Object.entries(ini)) args.push('-d', `${k}=${v}`);
  args.push('-r', code);
  const child = spawn(which('php')!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (c) => resolve({ code: c, stderr })));
  return { done, kill: () => child.kill('SIGKILL') };
}

/** Waits until PHP's lock record exists (the holder really holds the lock). */
async function waitForKey(port: number, key: string): Promise<void> {
  const until = Date.now() + 20_000;
  while ((await getItem(port, key))?.value.toString() !== '1') {
    if (Date.now() > until) throw new Error(`lock ${key} never appeared`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** PHP's warnings from display_errors=stderr output, without the file/line suffix. */
function phpWarnings(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^(?:PHP )?(Warning|Notice|Deprecated):\s+(.*) in Command line code on line \d+$/.exec(line.trim());
    if (m) out.push(`${m[1]}: ${m[2]}`);
  }
  return out;
}

const LEVEL: Record<string, string> = { E_WARNING: 'Warning', E_NOTICE: 'Notice', E_DEPRECATED: 'Deprecated' };
const normalise = (s: string): string => s.replace(/\(0x[0-9a-f]+\)/g, '(0x…)');

describeWith(['memcached', 'php', 'php-ext:memcached', 'php-ext:memcache'], 'memcache modules: locking and failures with PHP', () => {
  beforeAll(async () => {
    server = await startMemcached();
  });
  afterAll(async () => {
    closeAllConnections();
    await server?.stop();
  });

  for (const module of ['memcached', 'memcache'] as const) {
    describe(module, () => {
      it(`${K} PHP processes and ${K} engine requests, ${M} increments each: the counter ends at ${2 * K * M}`, async () => {
        const id = `counter${module}${process.pid}`;
        const ini = baseIni(module, server.address);
        await php(`session_id('${id}'); session_start(); $_SESSION['n'] = 0; session_write_close();`, ini);
        const phpLoop = `session_id('${id}'); for ($j = 0; $j < ${M};) { if (@session_start()) { $_SESSION['n']++; session_write_close(); $j++; } }`;
        const phps = Array.from({ length: K }, () => phpBackground(phpLoop, ini));
        const engine = engineFor(ini);
        const nodeLoop = async (): Promise<void> => {
          for (let j = 0; j < M; ) {
            const req = engine.request({ cookies: { PHPSESSID: id } });
            if (await req.start()) {
              req.session.set('n', (req.session.get('n') as number) + 1);
              await req.writeClose();
              j++;
            }
            await req.end();
          }
        };
        await Promise.all([...phps.map((p) => p.done), ...Array.from({ length: K }, nodeLoop)]);
        for (const p of phps) expect((await p.done).code).toBe(0);
        const r = await php(`session_id('${id}'); session_start(); echo $_SESSION['n']; session_write_close();`, ini);
        expect(Number(r.stdout.toString())).toBe(2 * K * M);
      }, 60_000);
    });
  }

  it('memcached: a lock left by a killed PHP process blocks the engine until sess_lock_expire', async () => {
    const id = `killed${process.pid}`;
    const ini = { ...baseIni('memcached', server.address), 'memcached.sess_lock_expire': '3', 'memcached.sess_lock_retries': '5' };
    await php(`session_id('${id}'); session_start(); $_SESSION['v'] = 'kept'; session_write_close();`, ini);
    const holder = phpBackground(`session_id('${id}'); session_start(); sleep(30);`, ini);
    await waitForKey(server.port, `memc.sess.key.lock.${id}`);
    holder.kill();
    await holder.done;
    const engine = engineFor(ini);
    const blocked = engine.request({ cookies: { PHPSESSID: id } });
    expect(await blocked.start()).toBe(false);
    await blocked.end();
    expect(blocked.diagnostics.map((d) => d.message)).toEqual([
      'session_start(): Unable to clear session lock record',
      `session_start(): Failed to read session data: memcached (path: ${server.address})`,
    ]);
    await new Promise((r) => setTimeout(r, 3600));
    const later = engine.request({ cookies: { PHPSESSID: id } });
    expect(await later.start()).toBe(true);
    expect(later.session.get('v')).toBe('kept');
    await later.writeClose();
    await later.end();
  }, 30_000);

  it('memcache: a lock left by a killed PHP process holds the engine until lock_timeout, then the data is read', async () => {
    const id = `killedpecl${process.pid}`;
    const ini = { ...baseIni('memcache', server.address), 'memcache.lock_timeout': '2' };
    await php(`session_id('${id}'); session_start(); $_SESSION['v'] = 'kept'; session_write_close();`, ini);
    // The lock is set after this instant, whenever PHP gets there: memcached expires on whole
    // seconds (its clock ticks once a second), so a 2 s lock goes 1-2 s after it was set, and the
    // engine's start can only succeed more than 1 s after `spawned`. Measured from the kill
    // instead, the lower bound would include however long waitForKey and the kill took (under
    // load, 640 ms of a 1 s lock was already gone once).
    const spawned = Date.now();
    const holder = phpBackground(`session_id('${id}'); session_start(); sleep(30);`, ini);
    await waitForKey(server.port, `${id}.lock`);
    const killed = Date.now();
    holder.kill();
    await holder.done;
    const req = engineFor(ini).request({ cookies: { PHPSESSID: id } });
    expect(await req.start()).toBe(true);
    const now = Date.now();
    expect(now - spawned).toBeGreaterThan(900);
    expect(now - killed).toBeLessThan(6000);
    expect(req.session.get('v')).toBe('kept');
    await req.writeClose();
    await req.end();
  }, 30_000);

  for (const module of ['memcached', 'memcache'] as const) {
    it(`${module}: memcached down gives PHP's warnings and return values`, async () => {
      const dead = await startMemcached();
      const address = dead.address;
      await dead.stop();
      const ini = { ...baseIni(module, address), 'memcached.sess_lock_retries': '5' };
      const code = `session_id('deadserver1'); var_dump(session_start()); $_SESSION['x'] = 1; var_dump(session_write_close());`;
      const r = await php(code, ini);
      const phpOut = r.stdout.toString().replace(/\s+/g, ' ').trim();
      const req = engineFor(ini).request({ cookies: { PHPSESSID: 'deadserver1' } });
      const started = await req.start();
      if (started) req.session.set('x', 1);
      const closed = await req.writeClose();
      await req.end();
      expect(`bool(${started}) bool(${closed})`).toBe(phpOut);
      expect(req.diagnostics.map((d) => normalise(`${LEVEL[d.level]}: ${d.message}`))).toEqual(phpWarnings(r.stderr).map(normalise));
    }, 30_000);
  }

  it('memcached stopped mid-run: every request ends, none throws, none hangs', async () => {
    let victim = await startMemcached();
    try {
      for (const module of ['memcached', 'memcache'] as const) {
        const engine = engineFor({ ...baseIni(module, victim.address), 'memcached.sess_lock_retries': '2' });
        let ended = 0;
        let clean = 0;
        let warned = 0;
        const loop = (async () => {
          for (let i = 0; i < 80; i++) {
            const req = engine.request({ cookies: { PHPSESSID: `midrun${module}${i % 7}` } });
            if (await req.start()) req.session.set('i', i);
            await req.writeClose();
            await req.end();
            ended++;
            if (req.diagnostics.length === 0) clean++;
            else warned++;
            await new Promise((r) => setTimeout(r, 5));
          }
        })();
        await new Promise((r) => setTimeout(r, 150));
        await victim.stop();
        await loop;
        expect(ended).toBe(80);
        expect(clean).toBeGreaterThan(0);
        expect(warned).toBeGreaterThan(0);
        victim = await startMemcached(victim.port);
      }
    } finally {
      await victim.stop();
    }
  }, 60_000);
});
