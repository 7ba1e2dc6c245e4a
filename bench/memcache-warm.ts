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
 * Each run also counts the measured cycles' garbage collections by kind (mark-compacts: V8's
 * external-memory pressure from fresh ArrayBuffer backing stores, issue #16) and the growth of
 * process.memoryUsage().arrayBuffers between them; ALLOCS=1 also counts the Buffers of 4 KB and more
 * (outside Buffer's shared pool: each a backing store of its own) allocated through Buffer.allocUnsafe,
 * allocUnsafeSlow, alloc, from and concat, by the calling line.
 * Linux only (/proc). Loaded machine: compare runs side by side, not with other days' numbers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
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
/** ALLOCS=1: bytes and count of the Buffers of at least POOL_MAX bytes allocated, by calling line. */
const POOL_MAX = 4096;
const allocs = new Map<string, { n: number; bytes: number }>();
let counting = false;
if (process.env['ALLOCS']) {
  const B = Buffer as unknown as Record<string, (...a: unknown[]) => Buffer>;
  for (const name of ['allocUnsafe', 'allocUnsafeSlow', 'alloc', 'from', 'concat']) {
    const orig = B[name]!;
    B[name] = function (this: unknown, ...a: unknown[]): Buffer {
      const b = orig.apply(this, a);
      if (counting && b.length >= POOL_MAX && b.byteOffset === 0 && b.buffer.byteLength >= POOL_MAX) {
        const where = `Buffer.${name} ${(new Error().stack ?? '').split('\n')[2]?.trim() ?? '?'}`;
        const e = allocs.get(where) ?? { n: 0, bytes: 0 };
        e.n++;
        e.bytes += b.buffer.byteLength;
        allocs.set(where, e);
      }
      return b;
    };
  }
}

/** Garbage collections of the measured cycles by kind, and arrayBuffers grown between them. */
const gcKinds = new Map<number, number>();
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
    gcKinds.set(kind, (gcKinds.get(kind) ?? 0) + 1);
  }
});
const GC_NAMES: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};

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
  gcObserver.observe({ entryTypes: ['gc'] });
  counting = true;
  let abGrown = 0;
  let abLast = process.memoryUsage().arrayBuffers;
  const mc0 = ticks(`/proc/${srv.child.pid}/stat`);
  const f0 = minorFaults();
  const th0 = threadTicks();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    await readOneSetOneCycle(engine, ID);
    if (i % 16 === 15) {
      // Sampled (memoryUsage walks the heap spaces): growth summed, drops (a GC freed them) skipped.
      const ab = process.memoryUsage().arrayBuffers;
      if (ab > abLast) abGrown += ab - abLast;
      abLast = ab;
    }
  }
  const c = process.cpuUsage(c0);
  const wall = ((performance.now() - t0) * 1000) / N;
  counting = false;
  const th1 = threadTicks();
  // The observer is told asynchronously: let the last entries arrive.
  await new Promise((r) => setTimeout(r, 50));
  gcObserver.disconnect();
  const perCycle = (t: number): string => `${((t * 10_000) / N).toFixed(0)} µs`;
  console.log(`${N} warm cycles: process ${((c.user + c.system) / N).toFixed(0)} µs CPU per cycle (user ${(c.user / N).toFixed(0)}, sys ${(c.system / N).toFixed(0)}), wall ${wall.toFixed(0)} µs (${(1e6 / wall).toFixed(0)}/s)`);
  for (const [k, v] of th1) if (v - (th0.get(k) ?? 0) > 0) console.log(`  thread ${k}: ${perCycle(v - (th0.get(k) ?? 0))}`);
  console.log(`  memcached server: ${perCycle(ticks(`/proc/${srv.child.pid}/stat`) - mc0)}; minor page faults ${((minorFaults() - f0) / N).toFixed(1)} per cycle`);
  const gcs = [...gcKinds].map(([k, n]) => `${GC_NAMES[k] ?? k} ${n} (${((n * 3000) / N).toFixed(1)} per 3000 cycles)`).join(', ');
  console.log(`  GCs: ${gcs || 'none'}; arrayBuffers grew ${(abGrown / N / 1024).toFixed(1)} KB per cycle (sampled every 16 cycles)`);
  if (allocs.size > 0) {
    let total = 0;
    for (const [where, e] of [...allocs].sort((a, b) => b[1].bytes - a[1].bytes)) {
      total += e.bytes;
      console.log(`  ${(e.n / N).toFixed(2)} x ${(e.bytes / e.n / 1024).toFixed(1)} KB per cycle: ${where}`);
    }
    console.log(`  Buffers >= ${POOL_MAX} B counted: ${(total / N / 1024).toFixed(1)} KB per cycle`);
  }
  if (profile) {
    const { profile: p } = await inspector.post('Profiler.stop');
    writeFileSync(profile, JSON.stringify(p));
  }
} finally {
  closeAllConnections();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
}
