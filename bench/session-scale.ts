/**
 * bench/session-scale: how session decode and encode scale with the number of keys, against PHP's
 * own session_decode()/session_encode() on the same bytes, side by side in one run.
 *
 *   npm run bench:session-scale                                                        (dist/, the shipped JS)
 *   node --conditions=php-session-engine-source --import tsx bench/session-scale.ts    (the TS sources)
 *   BENCH_SIZES=1000,1000000 BENCH_ROUNDS=7 BENCH_HANDLERS=php npm run bench:session-scale
 *   BENCH_LAZY=1 npm run bench:session-scale          (the lazy decode the engine uses by default)
 *   BENCH_ORDER=scattered npm run bench:session-scale (the same keys, not in counting order)
 *
 * The payload is a session of N small keys, `k000000|i:0;k000001|i:1;…` for the `php` handler
 * (16.9 MB at N = 1M), the same keys and values under `php_binary` and `php_serialize`. Node builds
 * the session and encodes it; PHP builds the same array and encodes it with session_encode(); the
 * two payloads must be identical before anything is timed.
 *
 * Key order matters: PHP's string hash (DJB "times 33") puts keys that differ only in their last
 * characters into neighbouring buckets, so keys inserted in counting order (k000000, k000001, …)
 * hit the cache and PHP decodes them ~2× faster than the same keys in another order. The engine's
 * key index (lib/key-index.ts) uses the same hash and chaining, so the same holds for it.
 * BENCH_ORDER=scattered stores entry i under key (i × 7919) mod N instead of i: the same keys,
 * bytes and values count, with no neighbours inserted one after the other.
 *
 * Times are wall-clock (process.hrtime in Node, hrtime() in PHP), since the point is how long one
 * call holds the event loop; each side's garbage collection during the call counts. Process CPU
 * time is printed next to it (process.cpuUsage(), all threads, in Node; getrusage() in PHP): on a
 * loaded host it says more about the work done than wall time does. One `php -n`
 * process with an active session (files handler in a temp dir, never written) lives for the whole
 * run and measures one case per line it reads on stdin; Node waits meanwhile, and PHP waits while
 * Node measures. There are BENCH_ROUNDS rounds (default 5); in each, every size × handler is
 * measured by both sides, decode then encode, after one unmeasured warm-up call of each in round 1.
 * A measurement repeats the call enough times to cover ~200k keys (1 call at 1M keys, 200 at 1k)
 * and reports the mean per key; the table shows the best round (host interference only ever slows
 * a call down) and the median of the per-round engine/PHP ratios.
 *
 * decode = session_decode() into an empty $_SESSION (PHP: `$_SESSION = []` outside the timing;
 * Node: the serializer's decode() into a new PhpArray). encode = session_encode() of that session.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { positiveInt } from './env.ts';
import { startPhpWorker } from './php-worker.ts';
import { PhpArray, php, php_binary, php_serialize, type SerializerContext, type SessionSerializer } from 'php-session-engine';

const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
const SIZES = list('BENCH_SIZES', '1000,10000,100000,1000000').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0 || n > 1e7) throw new Error(`BENCH_SIZES: bad size ${JSON.stringify(s)}`);
  return n;
});
const SERIALIZERS: Record<string, SessionSerializer> = { php, php_binary, php_serialize };
const HANDLERS = list('BENCH_HANDLERS', 'php,php_binary,php_serialize').map((h) => {
  if (!(h in SERIALIZERS)) throw new Error(`BENCH_HANDLERS: unknown handler ${JSON.stringify(h)}`);
  return h;
});
/** Keys covered by one measurement (calls = ceil(KEYS_PER_MEASUREMENT / N)). */
const KEYS_PER_MEASUREMENT = 200_000;

function list(name: string, fallback: string): string[] {
  return (process.env[name] || fallback).split(',').map((s) => s.trim()).filter((s) => s !== '');
}

const SCATTERED = (() => {
  const order = process.env['BENCH_ORDER'] || 'counting';
  if (order !== 'counting' && order !== 'scattered') throw new Error(`BENCH_ORDER: counting or scattered, got ${JSON.stringify(order)}`);
  return order === 'scattered';
})();
/** BENCH_ORDER=scattered: entry i gets key number (i × STRIDE) mod n, a permutation (7919 is a prime other than 2 and 5). */
const STRIDE = 7919;

/** The key of entry i of a session of n keys (zero-padded to at least six digits, as PHP's %06d). */
const keyOf = (i: number, n: number): string => `k${String(SCATTERED ? (i * STRIDE) % n : i).padStart(6, '0')}`;

const ctx: SerializerContext = {
  diagnostic(level, message) {
    throw new Error(`unexpected diagnostic ${level}: ${message}`);
  },
  maxDepth: 4096,
  // BENCH_LAZY=1: decode as the engine does by default (php, php_binary: validate, build nothing;
  // encode then copies the untouched entries). Default: the eager decode that builds every value.
  lazy: process.env['BENCH_LAZY'] === '1',
};

// PHP: builds each session once, answers "<handler> <n> <calls>" with one JSON line of timings.
const PHP_CODE = String.raw`
ini_set('session.save_path', $argv[1]);
ini_set('session.use_cookies', '0');
ini_set('session.use_only_cookies', '0');
ini_set('session.cache_limiter', '');
/** Process CPU time in ms (getrusage: user + system). */
function cpu() { $r = getrusage(); return ($r['ru_utime.tv_sec'] + $r['ru_stime.tv_sec']) * 1e3 + ($r['ru_utime.tv_usec'] + $r['ru_stime.tv_usec']) / 1e3; }
function session_of($n, $stride) { $s = []; for ($i = 0; $i < $n; $i++) $s[sprintf('k%06d', ($i * $stride) % $n)] = $i; return $s; }
$sessions = [];
$payloads = [];
fwrite(STDOUT, "ready\n"); // not echo: output would count as headers sent, and ini_set() refuse
while (($line = fgets(STDIN)) !== false) {
  [$handler, $n, $calls] = explode(' ', trim($line));
  $n = (int)$n; $calls = (int)$calls;
  $sessions[$n] ??= session_of($n, (int)$argv[2]);
  ini_set('session.serialize_handler', $handler);
  session_id('benchscale');
  if (!session_start()) { fwrite(STDERR, "session_start failed\n"); exit(1); }
  $_SESSION = $sessions[$n];
  $enc = 0; $dec = 0; $encCpu = 0; $decCpu = 0;
  for ($c = 0; $c < $calls; $c++) {
    $u = cpu(); $t = hrtime(true); $data = session_encode(); $enc += hrtime(true) - $t; $encCpu += cpu() - $u;
  }
  for ($c = 0; $c < $calls; $c++) {
    $_SESSION = [];
    $u = cpu(); $t = hrtime(true); $ok = session_decode($data); $dec += hrtime(true) - $t; $decCpu += cpu() - $u;
    if (!$ok || count($_SESSION) !== $n) { fwrite(STDERR, "session_decode failed\n"); exit(1); }
  }
  $_SESSION = [];
  session_abort();
  fwrite(STDOUT, json_encode(['decode' => $dec / $calls / 1e6, 'encode' => $enc / $calls / 1e6, 'decodeCpu' => $decCpu / $calls, 'encodeCpu' => $encCpu / $calls,
    'bytes' => strlen($data), 'sha1' => sha1($data)]) . "\n");
}
`;

interface Times {
  /** ms per call, wall time */
  decode: number;
  encode: number;
  /** ms per call, process CPU time */
  decodeCpu: number;
  encodeCpu: number;
}

/** Process CPU time in ms (user + system, all threads: V8's GC helpers included). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const payloads = new Map<string, Buffer>();
function payload(handler: string, n: number): Buffer {
  const id = `${handler} ${n}`;
  let data = payloads.get(id);
  if (data === undefined) {
    const s = new PhpArray();
    for (let i = 0; i < n; i++) s.set(keyOf(i, n), i);
    data = Buffer.from(SERIALIZERS[handler]!.encode(s, ctx)!);
    payloads.set(id, data);
  }
  return data;
}

function measureNode(handler: string, n: number, calls: number): Times {
  const ser = SERIALIZERS[handler]!;
  const data = payload(handler, n);
  let decoded: PhpArray | null = null;
  let u = cpuMs();
  let t = process.hrtime.bigint();
  for (let c = 0; c < calls; c++) {
    const r = ser.decode(data, new PhpArray(), ctx);
    if (!r.ok || !(r.session instanceof PhpArray)) throw new Error(`${handler}: decode failed`);
    decoded = r.session;
  }
  const decode = Number(process.hrtime.bigint() - t) / 1e6 / calls;
  const decodeCpu = (cpuMs() - u) / calls;
  if (decoded!.size !== n) throw new Error(`${handler}: decoded ${decoded!.size} keys, expected ${n}`);
  let out: Uint8Array | null = null;
  u = cpuMs();
  t = process.hrtime.bigint();
  for (let c = 0; c < calls; c++) out = ser.encode(decoded!, ctx);
  const encode = Number(process.hrtime.bigint() - t) / 1e6 / calls;
  const encodeCpu = (cpuMs() - u) / calls;
  if (out === null || !Buffer.from(out).equals(data)) throw new Error(`${handler}: re-encoded session differs from the payload`);
  return { decode, encode, decodeCpu, encodeCpu };
}

const cases: [string, number][] = [];
for (const n of SIZES) for (const h of HANDLERS) cases.push([h, n]);
const callsFor = (n: number): number => Math.ceil(KEYS_PER_MEASUREMENT / n);
const node: Record<string, Times[]> = {};
const phpT: Record<string, Times[]> = {};
const loadBefore = loadavg();
const started = Date.now();

const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
try {
  const php = await startPhpWorker(['-n', '-d', 'memory_limit=-1', '-r', PHP_CODE, '--', dir, String(SCATTERED ? STRIDE : 1)]);
  const askPhp = async (handler: string, n: number, calls: number): Promise<Times & { bytes: number; sha1: string }> =>
    JSON.parse(await php.ask(`${handler} ${n} ${calls}`)) as Times & { bytes: number; sha1: string };
  try {
    // Warm-up, and the check that both sides encode the same bytes.
    for (const [h, n] of cases) {
      const p = await askPhp(h, n, 1);
      const data = payload(h, n);
      const sha1 = createHash('sha1').update(data).digest('hex');
      if (p.bytes !== data.length || p.sha1 !== sha1) throw new Error(`${h} ${n}: PHP's session_encode() differs from ours`);
      measureNode(h, n, 1);
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const [h, n] of cases) {
        const id = `${h} ${n}`;
        const calls = callsFor(n);
        // Alternate which side goes first.
        if (r % 2 === 0) {
          (node[id] ??= []).push(measureNode(h, n, calls));
          (phpT[id] ??= []).push(await askPhp(h, n, calls));
        } else {
          (phpT[id] ??= []).push(await askPhp(h, n, calls));
          (node[id] ??= []).push(measureNode(h, n, calls));
        }
      }
      process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
    }
    await php.finish();
  } finally {
    php.kill();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const min = (xs: number[]): number => Math.min(...xs);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const us = (ms: number, n: number): string => ((ms * 1000) / n).toFixed(3);
const mb = (b: number): string => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} KB`);

const built = import.meta.resolve('php-session-engine').includes('/dist/');
const phpVersion = await new Promise<string>((resolve) => {
  const p = spawn('php', ['-n', '-r', 'echo PHP_VERSION;']);
  let out = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  p.on('close', () => resolve(out.trim()));
  p.on('error', () => resolve('?'));
});
const cpuList = cpus();
console.log(`library: ${built ? 'dist/ (tsc build, as shipped)' : 'TypeScript sources via tsx'}; node ${process.version}; PHP ${phpVersion} (php -n)`);
console.log(`keys inserted in ${SCATTERED ? 'scattered' : 'counting'} order (BENCH_ORDER); ${ctx.lazy ? 'lazy' : 'eager'} decode (BENCH_LAZY)`);
console.log(
  `machine: ${cpuList.length} cores (${cpuList[0]?.model ?? '?'}), shared; load average ${loadBefore.map((x) => x.toFixed(1)).join(' ')} at start, ` +
    `${loadavg().map((x) => x.toFixed(1)).join(' ')} at end; ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
console.log(`${ROUNDS} interleaved rounds; µs per key, best round; ratio = engine/PHP of the best rounds (median of the per-round ratios)`);
console.log('wall = hrtime around the call (what the event loop waits, GC included); CPU = process CPU time (Node: all threads, GC helpers included)\n');

type Op = 'decode' | 'encode' | 'decodeCpu' | 'encodeCpu';
const best = (t: Times[], op: Op): number => min(t.map((x) => x[op]));
const ratio = (e: Times[], p: Times[], op: Op): string =>
  `${(best(e, op) / best(p, op)).toFixed(2)}× (${median(e.map((t, i) => t[op] / p[i]![op])).toFixed(2)}×)`;
for (const op of ['decode', 'encode'] as const) {
  const cpuOp = op === 'decode' ? 'decodeCpu' : 'encodeCpu';
  console.log(`${op}:`);
  console.log(['handler', 'keys', 'payload', 'engine wall', 'PHP wall', 'ratio wall', 'engine CPU', 'PHP CPU', 'ratio CPU'].join(' | '));
  for (const [h, n] of cases) {
    const id = `${h} ${n}`;
    const e = node[id]!;
    const p = phpT[id]!;
    console.log(
      [h, n.toLocaleString('en'), mb(payload(h, n).length), us(best(e, op), n), us(best(p, op), n), ratio(e, p, op),
        us(best(e, cpuOp), n), us(best(p, cpuOp), n), ratio(e, p, cpuOp)].join(' | '),
    );
  }
  console.log('');
}
const largest = SIZES[SIZES.length - 1]!;
const smallest = SIZES[0]!;
if (largest !== smallest) {
  console.log(`per-key time at ${largest.toLocaleString('en')} keys ÷ at ${smallest.toLocaleString('en')} keys, best rounds, wall / CPU (1.00 = flat):`);
  const growth = (t: Record<string, Times[]>, h: string, op: Op): string =>
    (best(t[`${h} ${largest}`]!, op) / largest / (best(t[`${h} ${smallest}`]!, op) / smallest)).toFixed(2);
  for (const h of HANDLERS) {
    console.log(
      `  ${h}: decode engine ${growth(node, h, 'decode')} / ${growth(node, h, 'decodeCpu')}, PHP ${growth(phpT, h, 'decode')} / ${growth(phpT, h, 'decodeCpu')}; ` +
        `encode engine ${growth(node, h, 'encode')} / ${growth(node, h, 'encodeCpu')}, PHP ${growth(phpT, h, 'encode')} / ${growth(phpT, h, 'encodeCpu')}`,
    );
  }
  console.log(`\nat ${largest.toLocaleString('en')} keys, ms per call (best round), engine / PHP, wall (CPU):`);
  for (const h of HANDLERS) {
    const id = `${h} ${largest}`;
    const b = (op: 'decode' | 'encode'): string => {
      const c = op === 'decode' ? 'decodeCpu' : 'encodeCpu';
      return `${best(node[id]!, op).toFixed(0)} / ${best(phpT[id]!, op).toFixed(0)} ms (${best(node[id]!, c).toFixed(0)} / ${best(phpT[id]!, c).toFixed(0)} ms)`;
    };
    console.log(`  ${h}: decode ${b('decode')}; encode ${b('encode')}`);
  }
}
