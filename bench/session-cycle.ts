/**
 * bench/session-cycle: the lazy $_SESSION target (issue #16). One session holding bench/payloads'
 * ~140 KB bigSession() (written by PHP, `php` serializer); each cycle starts it, reads one key
 * (`user_id`), sets one key (`n`) and calls write_close. PHP 8.2 (`php -n`, one process, one loop)
 * against the engine with lazy decoding (the default) and with `lazyDecode: false` (eager, as PHP
 * decodes), on the files handler, memcached and redis (servers started here on free ports).
 *
 *   npm run build && node --import tsx bench/session-cycle.ts [seconds-per-round] [rounds]
 *   BENCH_STORES=files,memcached,redis (default all three)
 *
 * Before timing, one cycle from the same stored bytes is run by PHP, the lazy and the eager engine
 * and the three stored results must be byte-identical. The three sides then run in rounds of
 * SECONDS each, one side at a time, the order rotating from round to round (a load spike hits all
 * alike); the table shows medians of cycles per wall-second and of process CPU µs per cycle
 * (getrusage in PHP, process.cpuUsage in Node: all of the process's threads, GC helpers included).
 *
 * Each engine runs in a process of its own (a child of this one, driven round by round over IPC).
 * Until 2026-12-04 both engines ran in this process, in turns: the eager engine's rounds build the
 * whole 140 KB session as objects each cycle, and their old-generation garbage, its mark-compacts
 * and the deopts of code both engines share landed in the lazy rounds (the lazy engine's CPU per
 * cycle on redis was ~640 µs there against ~110–150 µs alone). Each side also warms up until its
 * rate settles, not for a fixed round: rounds of half a second, at least WARMUP_MIN_S seconds,
 * until the CPU per cycle of the last three is within ±10% of their median (at most WARMUP_MAX_S
 * seconds; each line says how long its side took, or that it did not settle). A fresh engine
 * process runs its first seconds at ~400–900 µs CPU a cycle against ~100–250 µs later (bursts of
 * deopts: 54 in the first two seconds of a memcached run, then none for rounds), and that early
 * plateau can be steady enough to pass the ±10% test: hence the minimum. Each engine line also
 * gives the median of its rounds' mark-compacts per 3000 cycles (issue #16: fresh ArrayBuffers
 * a cycle are external memory, whose pressure brings scavenges and mark-compacts).
 *
 * The engines are the built package (dist/, as `npm pack` ships it), not the TypeScript source:
 * until 2026-12-04 this bench ran with `--conditions=php-session-engine-source` through tsx, whose
 * esbuild output wraps every function created at run time in a `__name()` call (2-4 µs a cycle on
 * the memcached module's per-request closures), a cost the package does not have.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SessionEngine, php_serialize, type SerializerContext } from 'php-session-engine';
import { closeRedisConnections } from 'php-session-engine/handlers/redis';
import { closeAllConnections } from '../handlers/shared/memcache/client.ts';
import { startMemcached, type MemcachedProcess } from '../spec/support/memcached-server.ts';
import { startRedis, type RedisProcess } from '../spec/support/redis-server.ts';
import { countCycles, readOneSetOneCycle } from './cycles.ts';
import { bigSession } from './payloads.ts';

const SECONDS = Number(process.argv[2] ?? 1);
const ROUNDS = Number(process.argv[3] ?? 5);
const STORES = (process.env['BENCH_STORES'] || 'files,memcached,redis').split(',');
const ID = 'cyclebench0000000000000000001';
/** Warm-up: rounds of WARMUP_ROUND_S, at least WARMUP_MIN_S, until the last SETTLE_ROUNDS agree within SETTLE_SPREAD. */
const WARMUP_ROUND_S = 0.5;
const WARMUP_MIN_S = 5;
const WARMUP_MAX_S = 15;
const SETTLE_ROUNDS = 3;
const SETTLE_SPREAD = 0.1;
/** Set in the engine processes this bench forks: which engine, on which ini. */
const ROLE = process.env['SESSION_CYCLE_ROLE'];

interface Rate {
  rate: number;
  cpu: number;
  /** Engine processes: mark-compacts per 3000 cycles of the round (V8's gc entries). */
  mcs?: number;
}

/** A side of the comparison: one timed round, and its warm-up. */
interface Side {
  round(seconds: number): Promise<Rate>;
}

interface Warmed {
  seconds: number;
  settled: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Runs warm-up rounds for at least WARMUP_MIN_S, then until the CPU per cycle of the last
 * SETTLE_ROUNDS is within SETTLE_SPREAD of their median (a fresh engine process can sit on a
 * plateau at 2–4× its later CPU per cycle for its first seconds, steady enough to look settled).
 */
async function warmUp(round: (seconds: number) => Promise<Rate>): Promise<Warmed> {
  const cpus: number[] = [];
  const t0 = performance.now();
  for (;;) {
    cpus.push((await round(WARMUP_ROUND_S)).cpu);
    const seconds = (performance.now() - t0) / 1000;
    const last = cpus.slice(-SETTLE_ROUNDS);
    const m = median(last);
    const settled = seconds >= WARMUP_MIN_S && last.length === SETTLE_ROUNDS && last.every((c) => Math.abs(c - m) <= SETTLE_SPREAD * m);
    if (settled || seconds >= WARMUP_MAX_S) return { seconds, settled };
  }
}

/** Mark-compacts seen in this process so far (engine processes only). */
let markCompacts = 0;

/**
 * Cycles of `engine` for `seconds` (bench/cycles' countCycles): cycles per wall-second, this
 * process's CPU µs per cycle and its mark-compacts per 3000 cycles.
 */
async function engineRound(engine: SessionEngine, seconds: number): Promise<Rate> {
  let n = 0;
  const mc0 = markCompacts;
  const r = await countCycles((id) => (n++, readOneSetOneCycle(engine, id)), [ID], 1, seconds);
  // The observer is told after the fact: let the round's last entries arrive.
  await new Promise((res) => setTimeout(res, 20));
  return { rate: r.wall, cpu: 1e6 / r.cpu, mcs: ((markCompacts - mc0) * 3000) / n };
}

type ToChild = { warm: true } | { round: number } | { exit: true };
type FromChild = { ready: true } | { warmed: Warmed } | { rate: Rate } | { error: string };

/** An engine process: its own heap, JIT and store connections; answers the parent's messages in turn. */
async function engineProcess(role: string): Promise<void> {
  const ini = JSON.parse(process.env['SESSION_CYCLE_INI']!) as Record<string, string>;
  const engine = new SessionEngine({ ini: { ...ini, 'session.cache_limiter': '' }, lazyDecode: role === 'lazy' });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) markCompacts++;
  }).observe({ entryTypes: ['gc'] });
  const send = (m: FromChild): void => void process.send!(m);
  process.on('message', (m: ToChild) => {
    const answer = async (): Promise<void> => {
      if ('warm' in m) send({ warmed: await warmUp((s) => engineRound(engine, s)) });
      else if ('round' in m) send({ rate: await engineRound(engine, m.round) });
      else {
        await engine.shutdown();
        process.disconnect();
      }
    };
    answer().catch((e: unknown) => send({ error: String((e as Error)?.stack ?? e) }));
  });
  send({ ready: true });
}

/** Forks this bench as an engine process for `role` on `ini`. */
async function forkEngine(role: 'lazy' | 'eager', ini: Record<string, string>): Promise<Side & { warm(): Promise<Warmed>; close(): void }> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, SESSION_CYCLE_ROLE: role, SESSION_CYCLE_INI: JSON.stringify(ini) },
    execArgv: process.execArgv,
  });
  const ask = (m: ToChild | null): Promise<FromChild> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`${role} engine process exited (${code})`));
      child.once('exit', onExit);
      child.once('message', (a: FromChild) => {
        child.off('exit', onExit);
        if ('error' in a) reject(new Error(`${role} engine process: ${a.error}`));
        else resolve(a);
      });
      if (m !== null) child.send(m);
    });
  await ask(null); // ready
  return {
    warm: async () => ((await ask({ warm: true })) as { warmed: Warmed }).warmed,
    round: async (seconds) => ((await ask({ round: seconds })) as { rate: Rate }).rate,
    close: () => child.send({ exit: true } satisfies ToChild),
  };
}

interface Store {
  name: string;
  ini: Record<string, string>;
  ext: string[];
  /** The stored session bytes (for the equality check). */
  stored(): string;
}

/** The stored bytes, read by PHP's own client (as Latin-1 text). */
function phpRead(ext: string[], code: string): string {
  return execFileSync('php', ['-n', ...ext, '-r', code], { encoding: 'latin1' });
}

async function benchStore(store: Store, rootFile: string): Promise<void> {
  const iniArgs = Object.entries({ ...store.ini, 'session.use_cookies': '0', 'session.cache_limiter': '' }).flatMap(([k, v]) => ['-d', `${k}=${v}`]);
  const php = (code: string): string => execFileSync('php', ['-n', ...store.ext, ...iniArgs, '-r', code], { encoding: 'utf8' });
  const seed = (): void => {
    php(`session_id('${ID}'); session_start(); $_SESSION = unserialize(file_get_contents('${rootFile}')); session_write_close();`);
  };
  const CYCLE_PHP = `session_id('${ID}'); session_start(); $u = $_SESSION['user_id']; $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1; session_write_close();`;

  // The same cycle from the same bytes: PHP's, the lazy and the eager engine's results must agree.
  // (This process's engines only check; the timed engines run in processes of their own.)
  const check = {
    lazy: new SessionEngine({ ini: { ...store.ini, 'session.cache_limiter': '' }, lazyDecode: true }),
    eager: new SessionEngine({ ini: { ...store.ini, 'session.cache_limiter': '' }, lazyDecode: false }),
  };
  const results: string[] = [];
  for (const side of ['php', 'lazy', 'eager'] as const) {
    seed();
    if (side === 'php') php(CYCLE_PHP);
    else await readOneSetOneCycle(check[side], ID);
    await readOneSetOneCycle(side === 'php' ? check.eager : check[side], ID); // a second cycle on the engine's own output
    results.push(store.stored());
  }
  if (results[0] !== results[1] || results[0] !== results[2]) throw new Error(`${store.name}: PHP, lazy and eager stored different bytes`);
  const size = results[0]!.length;
  seed();

  const phpSide: Side = {
    round: async (seconds) => {
      const [rate, cpu] = php(`$n = 0; $r0 = getrusage(); $t0 = hrtime(true); $end = $t0 + ${seconds} * 1e9;
        do { for ($k = 0; $k < 20; $k++) { ${CYCLE_PHP} $n++; } } while (hrtime(true) < $end);
        $r1 = getrusage(); $us = fn($r) => $r['ru_utime.tv_sec'] * 1e6 + $r['ru_utime.tv_usec'] + $r['ru_stime.tv_sec'] * 1e6 + $r['ru_stime.tv_usec'];
        echo $n / ((hrtime(true) - $t0) / 1e9), ' ', ($us($r1) - $us($r0)) / $n;`)
        .split(' ')
        .map(Number);
      return { rate: rate!, cpu: cpu! };
    },
  };
  const lazy = await forkEngine('lazy', store.ini);
  const eager = await forkEngine('eager', store.ini);
  try {
    const warmed = { php: await warmUp(phpSide.round), lazy: await lazy.warm(), eager: await eager.warm() };
    const sides = { php: phpSide, lazy, eager };
    const names = ['php', 'lazy', 'eager'] as const;
    const runs: Record<(typeof names)[number], Rate[]> = { php: [], lazy: [], eager: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(r + k) % names.length]!;
        runs[name].push(await sides[name].round(SECONDS));
      }
    }
    const m = (xs: Rate[]): Rate => ({ rate: median(xs.map((x) => x.rate)), cpu: median(xs.map((x) => x.cpu)), mcs: median(xs.map((x) => x.mcs ?? NaN)) });
    const p = m(runs.php);
    const f = (x: Rate): string => `${x.rate.toFixed(0).padStart(6)}/s ${x.cpu.toFixed(0).padStart(5)} µs CPU/cycle`;
    const w = (x: Warmed): string => `warm-up ${x.seconds.toFixed(1)} s${x.settled ? '' : ', not settled'}`;
    console.log(`${store.name} (session ${(size / 1024).toFixed(0)} KB stored)`);
    console.log(`  PHP 8.2, 1 process:  ${f(p)}   (${w(warmed.php)})`);
    for (const side of ['lazy', 'eager'] as const) {
      const x = m(runs[side]);
      const perRound = runs[side].map((v, i) => v.rate / runs.php[i]!.rate);
      console.log(
        `  engine, ${side.padEnd(5)}:       ${f(x)}   rate ${(x.rate / p.rate).toFixed(2)}x PHP (rounds ${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}), CPU/cycle ${(x.cpu / p.cpu).toFixed(2)}x PHP, mark-compacts ${x.mcs!.toFixed(1)} per 3000 cycles   (${w(warmed[side])})`,
      );
    }
  } finally {
    lazy.close();
    eager.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pse-bench-cycle-'));
  const ctx: SerializerContext = { diagnostic: (l, m) => { throw new Error(`${l}: ${m}`); }, maxDepth: 4096 };
  const rootFile = join(dir, 'big.ser');
  writeFileSync(rootFile, php_serialize.encode(bigSession(), ctx)!);
  let memcached: MemcachedProcess | undefined;
  let redis: RedisProcess | undefined;
  console.log(`node ${process.version}; 2 cores, shared with other work; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start`);
  console.log(`${ROUNDS} rounds of ${SECONDS} s per side, one side at a time, order rotating; medians. Each engine in its own process.`);
  console.log('Cycle: start, read user_id, set n, write_close.\n');
  try {
    for (const name of STORES) {
      if (name === 'files') {
        const saveDir = join(dir, 'files');
        execFileSync('mkdir', ['-p', saveDir]);
        await benchStore({ name, ini: { 'session.save_path': saveDir }, ext: [], stored: () => readFileSync(join(saveDir, `sess_${ID}`), 'latin1') }, rootFile);
      } else if (name === 'memcached') {
        memcached = await startMemcached();
        const address = memcached.address;
        const ext = ['igbinary', 'msgpack', 'memcached'].flatMap((e) => ['-d', `extension=${e}`]);
        const [host, port] = address.split(':');
        await benchStore({
          name,
          ini: { 'session.save_handler': 'memcached', 'session.save_path': address },
          ext,
          stored: () => phpRead(ext, `$m = new Memcached(); $m->addServer('${host}', ${port}); echo $m->get('memc.sess.key.${ID}');`),
        }, rootFile);
      } else if (name === 'redis') {
        redis = await startRedis();
        const address = redis.address;
        const ext = ['igbinary', 'redis'].flatMap((e) => ['-d', `extension=${e}`]);
        const [host, port] = address.split(':');
        await benchStore({
          name,
          ini: { 'session.save_handler': 'redis', 'session.save_path': `tcp://${address}` },
          ext,
          stored: () => phpRead(ext, `$r = new Redis(); $r->connect('${host}', ${port}); echo $r->get('PHPREDIS_SESSION:${ID}');`),
        }, rootFile);
      } else {
        throw new Error(`BENCH_STORES: unknown store ${name}`);
      }
    }
  } finally {
    closeAllConnections();
    closeRedisConnections();
    await memcached?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (ROLE === 'lazy' || ROLE === 'eager') await engineProcess(ROLE);
else await main();
