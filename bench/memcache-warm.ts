/**
 * bench/memcache-warm: where the warm 140 KB memcached cycle's time goes (issue #16). One session
 * holding bench/payloads' bigSession() (written by PHP), bench/cycles' readOneSetOneCycle (start,
 * read one key, set one key, write_close; locking on), first WARM cycles to warm up (JIT), then
 * N cycles measured: CPU per cycle of each thread of this process (/proc/self/task: the main
 * thread against V8's compiler and GC threads), of the memcached server, minor page faults, and
 * wall time per cycle.
 *
 *   node --conditions=php-session-engine-source --import tsx bench/memcache-warm.ts
 *   WARM=5000 N=5000; SLICES=1 prints the warm-up in slices of 200 cycles (CPU/wall µs per
 *   cycle); PROFILE=file.cpuprofile samples the measured cycles (inspector, 100 µs);
 *   PAUSE=ms waits (printing the pid) before the measured cycles, to attach strace -c or perf.
 * Linux only (/proc). Loaded machine: compare runs side by side, not with other days' numbers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionEngine, php_serialize, type SerializerContext } from 'php-session-engine';
import { closeAllConnections } from '../handlers/shared/memcache/client.ts';
import { startMemcached } from '../spec/support/memcached-server.ts';
import { readOneSetOneCycle } from './cycles.ts';
import { bigSession } from './payloads.ts';

const ID = 'cyclebench0000000000000000001';
const WARM = Number(process.env['WARM'] ?? 5000);
const N = Number(process.env['N'] ?? 5000);
const dir = mkdtempSync(join(tmpdir(), 'pse-memcache-warm-'));
const ctx: SerializerContext = { diagnostic: (l, m) => { throw new Error(`${l}: ${m}`); }, maxDepth: 4096 };
const rootFile = join(dir, 'big.ser');
writeFileSync(rootFile, php_serialize.encode(bigSession(), ctx)!);
const srv = await startMemcached();

/** utime + stime (clock ticks, 10 ms) from a /proc stat line. */
function ticks(statPath: string): number {
  const st = readFileSync(statPath, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
function threadTicks(): Map<string, number> {
  return new Map(readdirSync('/proc/self/task').map((t) => [`${t} ${readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim()}`, ticks(`/proc/self/task/${t}/stat`)]));
}
function minorFaults(): number {
  const st = readFileSync('/proc/self/stat', 'utf8');
  return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[7]);
}

try {
  const ini: Record<string, string> = { 'session.save_handler': 'memcached', 'session.save_path': srv.address };
  const ext = ['igbinary', 'msgpack', 'memcached'].flatMap((e) => ['-d', `extension=${e}`]);
  const iniArgs = Object.entries({ ...ini, 'session.use_cookies': '0' }).flatMap(([k, v]) => ['-d', `${k}=${v}`]);
  execFileSync('php', ['-n', ...ext, ...iniArgs, '-r', `session_id('${ID}'); session_start(); $_SESSION = unserialize(file_get_contents('${rootFile}')); session_write_close();`]);
  const engine = new SessionEngine({ ini: { ...ini, 'session.cache_limiter': '' } });
  console.log(`node ${process.version}; 2 cores, shared with other work; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const slices: string[] = [];
  for (let done = 0; done < WARM; ) {
    const n = Math.min(200, WARM - done);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await readOneSetOneCycle(engine, ID);
    const c = process.cpuUsage(c0);
    slices.push(`${((c.user + c.system) / n).toFixed(0)}/${(((performance.now() - t0) * 1000) / n).toFixed(0)}`);
    done += n;
  }
  if (process.env['SLICES']) console.log(`warm-up, CPU/wall µs per cycle per 200 cycles: ${slices.join(' ')}`);

  if (process.env['PAUSE']) {
    console.log(`pid ${process.pid}`);
    await new Promise((r) => setTimeout(r, Number(process.env['PAUSE'])));
  }
  const profile = process.env['PROFILE'];
  const inspector = new Session();
  if (profile) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 100 });
    await inspector.post('Profiler.start');
  }
  const mc0 = ticks(`/proc/${srv.child.pid}/stat`);
  const f0 = minorFaults();
  const th0 = threadTicks();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await readOneSetOneCycle(engine, ID);
  const c = process.cpuUsage(c0);
  const wall = ((performance.now() - t0) * 1000) / N;
  const th1 = threadTicks();
  const perCycle = (t: number): string => `${((t * 10_000) / N).toFixed(0)} µs`;
  console.log(`${N} warm cycles: process ${((c.user + c.system) / N).toFixed(0)} µs CPU per cycle (user ${(c.user / N).toFixed(0)}, sys ${(c.system / N).toFixed(0)}), wall ${wall.toFixed(0)} µs (${(1e6 / wall).toFixed(0)}/s)`);
  for (const [k, v] of th1) if (v - (th0.get(k) ?? 0) > 0) console.log(`  thread ${k}: ${perCycle(v - (th0.get(k) ?? 0))}`);
  console.log(`  memcached server: ${perCycle(ticks(`/proc/${srv.child.pid}/stat`) - mc0)}; minor page faults ${((minorFaults() - f0) / N).toFixed(1)} per cycle`);
  if (profile) {
    const { profile: p } = await inspector.post('Profiler.stop');
    writeFileSync(profile, JSON.stringify(p));
  }
} finally {
  closeAllConnections();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
}
