/**
 * bench/serializers: unserialize() and serialize() speed of this library against the npm package
 * `php-serialize` and PHP's own C implementation (timed inside `php -n`), on the same payloads:
 * one ~140 KB realistic session array and a set of 500 small sessions. A fourth column, "V8 JSON",
 * times JSON.parse()/JSON.stringify() (V8's native C++ codec) on the same data converted once to
 * JSON: it is a reference for what V8's own native code achieves on this data, not a competitor
 * (JSON is a different, smaller format; its byte sizes are printed next to the PHP payload sizes).
 * A fifth column, "bare JS", is a floor reference (bench/bare-codec.ts): the same format parsed and
 * written by JS that trusts its input and skips all of PHP's semantics and the value model.
 *
 *   npm run bench:serializers                                                       (dist/, the shipped JS)
 *   node --conditions=php-session-engine-source --import tsx bench/serializers.ts   (the TS sources, via tsx)
 *   BENCH_ROUNDS=9 BENCH_MS=600 npm run bench:serializers                          (more, longer rounds)
 *
 * The first line of output says which build of the library was measured. All implementations get
 * the same payloads: Buffers for this library and PHP, the same bytes decoded to JS strings for
 * php-serialize (which only takes strings; that decoding is done once, outside the timing).
 *
 * The host's CPU speed varies from second to second, so the measurements are interleaved: there
 * are BENCH_ROUNDS rounds (default 5), and in each round every implementation measures every
 * operation for BENCH_MS milliseconds of CPU time (default 400), after a 200 ms warm-up in the
 * first round only. PHP runs as one long-lived child process that loads the payloads once and runs
 * one round of its four measurements per line it reads on stdin, answering with one JSON line;
 * Node waits for that answer without doing anything, and PHP waits while Node measures, so the two
 * never compete for CPU. The order of the implementations rotates from round to round.
 *
 * Each cell of the table is the best (highest) rate of the rounds: interference from the host only
 * ever slows a run down, so the fastest round is the closest to the undisturbed speed. Rates are
 * operations per CPU-second (process.cpuUsage() in Node, getrusage() in PHP). The second table
 * shows how stable the ratios are: each round's ratio is computed from that same round's
 * measurements, and the median and min–max over the rounds are printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as phpSerialize from 'php-serialize';
import { bareSerialize, bareUnserialize } from './bare-codec.ts';
import { positiveInt } from './env.ts';
import { startPhpWorker } from './php-worker.ts';
import { bigSession, smallSession } from './payloads.ts';
import { serialize, toJs, unserialize, type PhpValue } from 'php-session-engine';

const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
const BENCH_MS = positiveInt('BENCH_MS', 400);
const WARMUP_MS = 200;

const big = serialize(bigSession());
const smalls = Array.from({ length: 500 }, (_, i) => serialize(smallSession(i)));
const smallBytes = smalls.reduce((a, b) => a + b.length, 0);

// Time is process CPU time (user + system), not wall time: the machine may be shared, and CPU
// time is what each implementation actually spends. PHP is measured the same way (getrusage).
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Runs fn for warmMs of CPU time unmeasured, then for BENCH_MS measured; returns calls per CPU-second. */
function measure(fn: () => void, warmMs: number): number {
  const warm = cpuSeconds() + warmMs / 1000;
  while (cpuSeconds() < warm) fn();
  let n = 0;
  const start = cpuSeconds();
  const end = start + BENCH_MS / 1000;
  let now = start;
  while (now < end) {
    fn();
    n++;
    now = cpuSeconds();
  }
  return n / (now - start);
}

// php-serialize takes strings (it works on UTF-8 text) and plain JS values.
const bigStr = big.toString('utf8');
const smallStrs = smalls.map((b) => b.toString('utf8'));
const psOpts = { strict: false };
const bigPlain = phpSerialize.unserialize(bigStr, {}, psOpts);
const smallPlain = smallStrs.map((s) => phpSerialize.unserialize(s, {}, psOpts));
const bigValue: PhpValue = unserialize(big);
const smallValues = smalls.map((b) => unserialize(b));

// Sanity: every implementation reads the payloads the same way.
if (!serialize(bigValue).equals(big)) throw new Error('round trip mismatch');
smallValues.forEach((v, i) => {
  if (!serialize(v).equals(smalls[i]!)) throw new Error(`round trip mismatch (small session ${i})`);
});

// The V8 JSON reference: the decoded values converted once with toJs() and stringified once,
// outside the timing. JSON.stringify is timed on JSON.parse()'s output, which holds the same data
// as ordinary objects: toJs() builds null-prototype objects, which Node 20's V8 (11.3) stringifies
// on its slow path (about half the speed), and the reference should show V8 at its best.
function toJson(v: PhpValue): string {
  return JSON.stringify(toJs(v), (_k, x: unknown) => {
    if (x instanceof Uint8Array) throw new Error('payload holds raw bytes, which JSON cannot carry');
    return x;
  });
}
const bigJson = toJson(bigValue);
const smallJsons = smallValues.map(toJson);
const bigJs: unknown = JSON.parse(bigJson);
const smallJs: unknown[] = smallJsons.map((s) => JSON.parse(s) as unknown);
if (JSON.stringify(bigJs) !== bigJson || smallJs.some((v, i) => JSON.stringify(v) !== smallJsons[i])) {
  throw new Error('JSON round trip mismatch');
}
const jsonBytes = (s: string): number => Buffer.byteLength(s, 'utf8');

// The bare-codec floor reference (bench/bare-codec.ts): decoded once outside the timing for its
// serialize rows; its output must have the payloads' lengths (it cannot tell d:3; from i:3;).
const bigBare = bareUnserialize(big);
const smallBare = smalls.map((b) => bareUnserialize(b));
if (bareSerialize(bigBare).length !== big.length || smallBare.some((v, i) => bareSerialize(v).length !== smalls[i]!.length)) {
  throw new Error('bare codec round trip mismatch');
}
const smallJsonBytes = smallJsons.reduce((a, s) => a + jsonBytes(s), 0);

const OPS = ['unserialize big', 'serialize big', 'unserialize small×500', 'serialize small×500'] as const;
type Op = (typeof OPS)[number];
type Rates = Record<Op, number>;
const IMPLS = ['ours', 'php-serialize', 'PHP (C)', 'V8 JSON', 'bare JS'] as const;
type Impl = (typeof IMPLS)[number];

const nodeOps: Record<Exclude<Impl, 'PHP (C)'>, Record<Op, () => void>> = {
  ours: {
    'unserialize big': () => unserialize(big),
    'serialize big': () => serialize(bigValue),
    'unserialize small×500': () => {
      for (const s of smalls) unserialize(s);
    },
    'serialize small×500': () => {
      for (const v of smallValues) serialize(v);
    },
  },
  'php-serialize': {
    'unserialize big': () => phpSerialize.unserialize(bigStr, {}, psOpts),
    'serialize big': () => phpSerialize.serialize(bigPlain),
    'unserialize small×500': () => {
      for (const s of smallStrs) phpSerialize.unserialize(s, {}, psOpts);
    },
    'serialize small×500': () => {
      for (const v of smallPlain) phpSerialize.serialize(v);
    },
  },
  'V8 JSON': {
    'unserialize big': () => JSON.parse(bigJson),
    'serialize big': () => JSON.stringify(bigJs),
    'unserialize small×500': () => {
      for (const s of smallJsons) JSON.parse(s);
    },
    'serialize small×500': () => {
      for (const v of smallJs) JSON.stringify(v);
    },
  },
  'bare JS': {
    'unserialize big': () => bareUnserialize(big),
    'serialize big': () => bareSerialize(bigBare),
    'unserialize small×500': () => {
      for (const s of smalls) bareUnserialize(s);
    },
    'serialize small×500': () => {
      for (const v of smallBare) bareSerialize(v);
    },
  },
};

// PHP's C implementation, in one php -n process for the whole run. It loads the payloads, checks
// its own round trip, prints "ready", then answers each "<warm-up ms> <ms>" line with one round.
const PHP_CODE = String.raw`
$big = file_get_contents($argv[1] . '/big.bin');
$smalls = array_map('base64_decode', json_decode(file_get_contents($argv[1] . '/small.json'), true));
$bigV = unserialize($big);
$smallV = array_map('unserialize', $smalls);
if (serialize($bigV) !== $big) { fwrite(STDERR, "php round trip mismatch\n"); exit(1); }
foreach ($smallV as $i => $v) { if (serialize($v) !== $smalls[$i]) { fwrite(STDERR, "php round trip mismatch (small session $i)\n"); exit(1); } }
function cpu() { $r = getrusage(); return $r['ru_utime.tv_sec'] + $r['ru_utime.tv_usec'] / 1e6 + $r['ru_stime.tv_sec'] + $r['ru_stime.tv_usec'] / 1e6; }
function bench($f, $warmMs, $ms) {
  $w = cpu() + $warmMs / 1000; while (cpu() < $w) $f();
  $n = 0; $s = cpu(); $e = $s + $ms / 1000; $now = $s;
  while ($now < $e) { $f(); $n++; $now = cpu(); }
  return $n / ($now - $s);
}
echo "ready\n";
while (($line = fgets(STDIN)) !== false) {
  [$warmMs, $ms] = array_map('intval', explode(' ', trim($line)));
  echo json_encode([
    'unserialize big' => bench(function () use ($big) { unserialize($big); }, $warmMs, $ms),
    'serialize big' => bench(function () use ($bigV) { serialize($bigV); }, $warmMs, $ms),
    'unserialize small×500' => bench(function () use ($smalls) { foreach ($smalls as $s) unserialize($s); }, $warmMs, $ms),
    'serialize small×500' => bench(function () use ($smallV) { foreach ($smallV as $v) serialize($v); }, $warmMs, $ms),
  ], JSON_UNESCAPED_UNICODE), "\n";
}
`;

const dir = mkdtempSync(join(tmpdir(), 'bench-ser-'));
const rounds: Record<Impl, Rates>[] = [];
try {
  writeFileSync(join(dir, 'big.bin'), big);
  writeFileSync(join(dir, 'small.json'), JSON.stringify(smalls.map((b) => b.toString('base64'))));
  // Node starts measuring once PHP has loaded its payloads (its `ready` line).
  const php = await startPhpWorker(['-n', '-d', 'memory_limit=512M', '-r', PHP_CODE, '--', dir]);
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const warmMs = r === 0 ? WARMUP_MS : 0;
      const round = {} as Record<Impl, Rates>;
      // Rotate the order so that no implementation always runs first, or right after another.
      const order = IMPLS.map((_, i) => IMPLS[(i + r) % IMPLS.length]!);
      for (const impl of order) {
        if (impl === 'PHP (C)') {
          round[impl] = JSON.parse(await php.ask(`${warmMs} ${BENCH_MS}`)) as Rates;
        } else {
          const rates = {} as Rates;
          for (const op of OPS) rates[op] = measure(nodeOps[impl][op], warmMs);
          round[impl] = rates;
        }
      }
      rounds.push(round);
      process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
    }
    await php.finish();
  } finally {
    php.kill();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const best = (impl: Impl, op: Op): number => Math.max(...rounds.map((r) => r[impl][op]));
const spread = (op: Op, a: Impl, b: Impl): string => {
  const ratios = rounds.map((r) => r[a][op] / r[b][op]).sort((x, y) => x - y);
  const mid = ratios.length >> 1;
  const median = ratios.length % 2 === 1 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
  return `${median.toFixed(2)}x (${ratios[0]!.toFixed(2)}x–${ratios[ratios.length - 1]!.toFixed(2)}x)`;
};
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

const built = import.meta.resolve('php-session-engine').includes('/dist/');
console.log(`library: ${built ? 'dist/ (tsc build, as shipped)' : 'TypeScript sources via tsx'}`);
console.log(`payloads: big session ${kb(big.length)}; ${smalls.length} small sessions, ${kb(smallBytes)} total`);
console.log(`  as JSON (V8 JSON column): big session ${kb(jsonBytes(bigJson))}; ${smallJsons.length} small sessions, ${kb(smallJsonBytes)} total`);
console.log(`node ${process.version}; ${ROUNDS} interleaved rounds of ${BENCH_MS} ms CPU time per measurement (${WARMUP_MS} ms warm-up in round 1)`);
console.log(`each cell is the best of the ${ROUNDS} rounds, in operations per CPU-second (higher is better)`);
console.log('V8 JSON = JSON.parse (unserialize rows) / JSON.stringify (serialize rows) on the same data as JSON:');
console.log('  a reference for what V8\'s native C++ code achieves on this data, not a competitor (different, smaller format)');
console.log('bare JS = bench/bare-codec.ts: the same wire format with no checks, no PHP semantics and no value model;');
console.log('  a floor reference for any JS implementation of the format, not a competitor\n');
console.log(['operation', ...IMPLS, 'ours/php-serialize', 'ours/PHP', 'V8 JSON/PHP', 'bare JS/PHP', 'ours/bare JS'].join(' | '));
for (const op of OPS) {
  const [o, p, c, j, f] = IMPLS.map((impl) => best(impl, op)) as [number, number, number, number, number];
  const x = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
  console.log([op, o.toFixed(1), p.toFixed(1), c.toFixed(1), j.toFixed(1), f.toFixed(1), x(o, p), x(o, c), x(j, c), x(f, c), x(o, f)].join(' | '));
}
console.log(`\nper-round ratios over the ${ROUNDS} rounds: median (min–max); each round's ratio from that round's own measurements`);
console.log(['operation', 'ours/php-serialize', 'ours/PHP', 'bare JS/PHP'].join(' | '));
for (const op of OPS) console.log([op, spread(op, 'ours', 'php-serialize'), spread(op, 'ours', 'PHP (C)'), spread(op, 'bare JS', 'PHP (C)')].join(' | '));
