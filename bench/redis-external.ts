/**
 * bench/redis-external (issue #16): the 140 KB redis cycle's external memory (ArrayBuffer backing
 * stores) and the garbage collections it brings, per cycle and load-independent.
 *
 *   node --conditions=php-session-engine-source --import tsx bench/redis-external.ts [pairs]
 *   BENCH_MODES=engine,eager,hand (default engine,hand)   BENCH_CYCLES=3000   BENCH_WARMUP=1500
 *
 * One session holding bench/payloads' bigSession() (~140 KB, written by PHP with phpredis) on a
 * redis-server started here. Each mode runs in a fresh child process of its own (so one mode's
 * garbage never lands in another's counts), `pairs` times, the modes alternating:
 * - `engine`: the lazy engine's cycle on the redis module with phpredis' defaults (start, read
 *   `user_id`, set `n`, write_close: GET then SETEX); `eager`: the same with `lazyDecode: false`;
 * - `hand`: GET then SETEX of the bytes read, through the module's client (handlers/redis/client)
 *   with no session engine: what the client alone allocates.
 * A child warms up for BENCH_WARMUP cycles, then counts the mark-compacts (and scavenges) of the
 * next BENCH_CYCLES cycles (a PerformanceObserver on `gc` entries: counts, not times, so the load
 * does not change them), and then, for 200 more cycles, where the external bytes come from:
 * Buffer.alloc/allocUnsafe/allocUnsafeSlow/concat/from calls of 1 KB or more by calling file, and
 * the socket's reads Node allocates itself (a `data` chunk whose ArrayBuffer no counted call made).
 * `arrayBuffers/cycle` is the median growth of process.memoryUsage().arrayBuffers over one cycle
 * (cycles with a collection in them shrink it, the median skips them): the total to check the
 * attribution against.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ID = 'extbench000000000000000000001';
const KEY = `PHPREDIS_SESSION:${ID}`;

interface Result {
  mode: string;
  cycles: number;
  markCompacts: number;
  scavenges: number;
  cpuUsPerCycle: number;
  wallUsPerCycle: number;
  arrayBuffersPerCycle: number;
  sites: Record<string, { calls: number; bytes: number }>;
}

/** BENCH_BALLAST_MB: long-lived JS objects held by the child, as an application's own heap would be. */
const ballast: unknown[] = [];

async function child(mode: string, port: number): Promise<Result> {
  const mb = Number(process.env.BENCH_BALLAST_MB ?? 0);
  for (let i = 0; i < mb * 1024; i++) ballast.push(Array.from({ length: 100 }, (_, j) => ({ j })));
  const { SessionEngine } = await import('php-session-engine');
  const { closeRedisConnections } = await import('php-session-engine/handlers/redis');
  const { redisConnection } = await import('../handlers/redis/client.ts');
  const { readOneSetOneCycle } = await import('./cycles.ts');
  let cycle: () => Promise<void>;
  if (mode === 'engine' || mode === 'eager') {
    const engine = new SessionEngine({ ini: { 'session.save_handler': 'redis', 'session.save_path': `tcp://127.0.0.1:${port}`, 'session.cache_limiter': '' }, ...(mode === 'eager' ? { lazyDecode: false } : {}) });
    cycle = () => readOneSetOneCycle(engine, ID);
  } else {
    const conn = redisConnection({ scheme: 'tcp', host: '127.0.0.1', port, database: -1, connectTimeoutMs: 5000, readTimeoutMs: 60_000 });
    await conn.open();
    cycle = async () => {
      const v = await conn.call('GET', KEY);
      if (!Buffer.isBuffer(v) || v.length < 100_000) throw new Error('GET: no session');
      if ((await conn.call('SETEX', KEY, 1440, v)) === null) throw new Error('SETEX failed');
    };
  }
  const warmup = Number(process.env.BENCH_WARMUP ?? 1500);
  const cycles = Number(process.env.BENCH_CYCLES ?? 3000);
  for (let i = 0; i < warmup; i++) await cycle();

  let markCompacts = 0;
  let scavenges = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) markCompacts++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < cycles; i++) await cycle();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();

  // Where the external bytes come from.
  const sites: Record<string, { calls: number; bytes: number }> = {};
  const made = new WeakSet<ArrayBufferLike>();
  const seen = new WeakSet<ArrayBufferLike>();
  const root = fileURLToPath(new URL('..', import.meta.url));
  const count = (site: string, bytes: number): void => {
    const s = (sites[site] ??= { calls: 0, bytes: 0 });
    s.calls++;
    s.bytes += bytes;
  };
  const caller = (): string => {
    const lines = (new Error().stack ?? '').split('\n').slice(3);
    for (const l of lines) {
      if (l.includes('redis-external') || l.includes('node:buffer') || l.includes('(node:')) continue;
      const m = /\(?((?:file:\/\/)?[^()\s]+):\d+:\d+\)?$/.exec(l.trim());
      if (m === null) continue;
      let f = m[1]!.replace('file://', '');
      if (f.startsWith(root)) f = f.slice(root.length);
      const nm = f.lastIndexOf(`node_modules${sep}`);
      if (nm >= 0) f = f.slice(nm + 13);
      return f;
    }
    return '?';
  };
  let depth = 0;
  const wrap = <K extends 'alloc' | 'allocUnsafe' | 'allocUnsafeSlow' | 'concat' | 'from'>(name: K): (() => void) => {
    const orig = Buffer[name] as (...a: unknown[]) => Buffer;
    (Buffer as unknown as Record<string, unknown>)[name] = function (this: unknown, ...a: unknown[]): Buffer {
      // Buffer.concat allocates through Buffer.allocUnsafe: counted once, as the outer call.
      depth++;
      let b: Buffer;
      try {
        b = orig.apply(this, a);
      } finally {
        depth--;
      }
      // Buffer.from(arrayBuffer, ...) is a view: nothing allocated.
      const view = a[0] instanceof ArrayBuffer || a[0] instanceof SharedArrayBuffer;
      if (depth === 0 && !view && b.length >= 1024) {
        made.add(b.buffer);
        count(`Buffer.${name} ${caller()}`, b.length);
      }
      return b;
    };
    return () => {
      (Buffer as unknown as Record<string, unknown>)[name] = orig;
    };
  };
  const unwrap = (['alloc', 'allocUnsafe', 'allocUnsafeSlow', 'concat', 'from'] as const).map(wrap);
  const emit = Socket.prototype.emit;
  Socket.prototype.emit = function (this: Socket, ev: string | symbol, ...a: unknown[]): boolean {
    if (ev === 'data' && Buffer.isBuffer(a[0])) {
      const ab = a[0].buffer;
      if (!made.has(ab) && !seen.has(ab)) {
        seen.add(ab);
        count('socket data in buffers no counted call made (Node\'s own reads, or copies under 1 KB)', ab.byteLength);
      }
      count('socket data events', 0);
    }
    return (emit as (this: Socket, ...x: unknown[]) => boolean).call(this, ev, ...a);
  } as typeof emit;
  const SAMPLE = 200;
  const deltas: number[] = [];
  for (let i = 0; i < SAMPLE; i++) {
    const a0 = process.memoryUsage().arrayBuffers;
    await cycle();
    deltas.push(process.memoryUsage().arrayBuffers - a0);
  }
  for (const u of unwrap) u();
  Socket.prototype.emit = emit;
  for (const s of Object.values(sites)) {
    s.bytes = Math.round(s.bytes / SAMPLE);
    s.calls = Math.round((s.calls / SAMPLE) * 100) / 100;
  }
  deltas.sort((x, y) => x - y);
  closeRedisConnections();
  return {
    mode,
    cycles,
    markCompacts,
    scavenges,
    cpuUsPerCycle: (cpu.user + cpu.system) / cycles,
    wallUsPerCycle: (wall * 1000) / cycles,
    arrayBuffersPerCycle: deltas[deltas.length >> 1]!,
    sites,
  };
}

if (process.env.REDIS_EXTERNAL_CHILD !== undefined) {
  const r = await child(process.env.REDIS_EXTERNAL_CHILD, Number(process.env.REDIS_EXTERNAL_PORT));
  process.send!(r);
  process.disconnect();
} else {
  const { php_serialize } = await import('php-session-engine');
  const { startRedis } = await import('../spec/support/redis-server.ts');
  const { bigSession } = await import('./payloads.ts');
  const pairs = Number(process.argv[2] ?? 1);
  const modes = (process.env.BENCH_MODES ?? 'engine,hand').split(',');
  const dir = mkdtempSync(join(tmpdir(), 'pse-redis-external-'));
  const server = await startRedis();
  try {
    const rootFile = join(dir, 'big.ser');
    const ctx = { diagnostic: (l: string, m: string): never => { throw new Error(`${l}: ${m}`); }, maxDepth: 4096 };
    writeFileSync(rootFile, php_serialize.encode(bigSession(), ctx)!);
    execFileSync('php', ['-n', '-d', 'extension=igbinary', '-d', 'extension=redis', '-d', 'session.save_handler=redis', '-d', `session.save_path=tcp://${server.address}`, '-d', 'session.use_cookies=0', '-r', `session_id('${ID}'); session_start(); $_SESSION = unserialize(file_get_contents('${rootFile}')); session_write_close();`]);
    console.log(`# bench/redis-external: ${modes.join(', ')} × ${pairs}, ${process.env.BENCH_CYCLES ?? 3000} cycles after ${process.env.BENCH_WARMUP ?? 1500} warm-up; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (let p = 0; p < pairs; p++) {
      for (const mode of modes) {
        const proc = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, REDIS_EXTERNAL_CHILD: mode, REDIS_EXTERNAL_PORT: String(server.port) }, execArgv: process.execArgv });
        const r = await new Promise<Result>((resolve, reject) => {
          proc.once('message', (m) => resolve(m as Result));
          proc.once('exit', (code) => reject(new Error(`${mode} child exited ${code}`)));
        });
        await new Promise((r2) => proc.once('exit', r2));
        console.log(`${r.mode}: ${r.markCompacts} mark-compacts, ${r.scavenges} scavenges in ${r.cycles} cycles; ${r.cpuUsPerCycle.toFixed(0)} µs CPU, ${r.wallUsPerCycle.toFixed(0)} µs wall a cycle; arrayBuffers +${(r.arrayBuffersPerCycle / 1024).toFixed(1)} KB a cycle (median)`);
        for (const [site, s] of Object.entries(r.sites).sort((a, b) => b[1].bytes - a[1].bytes)) {
          console.log(`    ${(s.bytes / 1024).toFixed(1).padStart(7)} KB/cycle  ${String(s.calls).padStart(5)} calls/cycle  ${site}`);
        }
      }
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
