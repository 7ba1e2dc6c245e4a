/**
 * bench/serializers: unserialize() and serialize() speed of this library against the npm package
 * `php-serialize` and PHP's own C implementation (timed inside `php -n`), on the same payloads:
 * one ~150 KB realistic session array and a set of 500 small sessions.
 *
 *   node --conditions=php-session-engine-source --import tsx bench/serializers.ts   (the TS sources, via tsx)
 *   npm run build && node --import tsx bench/serializers.ts                         (dist/, the shipped JS)
 *
 * The first line of output says which of the two was measured. All three implementations get the
 * same payloads: Buffers for this library and PHP, the same bytes decoded to JS strings for
 * php-serialize (which only takes strings; that decoding is done once, outside the timing).
 *
 * Each measurement runs for about BENCH_MS milliseconds of CPU time (default 1500) after a
 * warm-up; results are operations per CPU-second and the ratios the README quotes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as phpSerialize from 'php-serialize';
import { PhpArray, PhpFloat, PhpObject, serialize, unserialize, type PhpValue } from 'php-session-engine';

const BENCH_MS = Number(process.env['BENCH_MS'] ?? 1500);

// A deterministic PRNG so every run benches the same payloads.
let state = 0x2545f491;
function rand(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'Zürich', 'São Paulo', 'naïve', 'product', 'checkout', 'token', 'widget'];
const word = (): string => `${pick(WORDS)}-${Math.floor(rand() * 100000)}`;

function product(i: number): PhpArray {
  return PhpArray.from({
    id: 1000 + i,
    sku: `SKU-${(i * 7919) % 100000}`,
    name: `${word()} ${word()}`,
    price: Math.round(rand() * 100000) / 100 + 0.01,
    qty: 1 + Math.floor(rand() * 5),
    tags: [word(), word(), word()],
    attributes: { color: pick(['red', 'green', 'blue']), size: pick(['S', 'M', 'L', 'XL']), weight: new PhpFloat(Math.floor(rand() * 10)) },
    in_stock: rand() > 0.2,
    discount: rand() > 0.7 ? 0.15 : null,
  });
}

/** A ~150 KB session: auth, user profile, cart, recently viewed, flash messages, form state, an object. */
function bigSession(): PhpArray {
  const s = new PhpArray();
  s.set('_token', 'f'.repeat(40));
  s.set('user_id', 982341);
  s.set('auth', PhpArray.from({ logged_in: true, roles: ['customer', 'newsletter'], login_at: 1732190000, ip: '203.0.113.7' }));
  const profile = new PhpObject('stdClass');
  profile.set('first_name', 'Zoë');
  profile.set('last_name', 'Müller');
  profile.set('email', 'zoe@example.com');
  profile.set('preferences', PhpArray.from({ lang: 'de_CH', currency: 'CHF', theme: 'dark', notifications: { email: true, sms: false } }));
  s.set('profile', profile);
  s.set('cart', PhpArray.from(Array.from({ length: 360 }, (_, i) => product(i))));
  s.set('recently_viewed', PhpArray.from(Array.from({ length: 300 }, (_, i) => 5000 + i * 3)));
  s.set('flash', PhpArray.from({ success: ['Saved.', 'Item added to cart.'], errors: [] }));
  s.set('form_state', PhpArray.from(Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`field_${i}`, word().repeat(3)]))));
  s.set('search_history', PhpArray.from(Array.from({ length: 150 }, () => `${word()} ${word()}`)));
  return s;
}

function smallSession(i: number): PhpArray {
  return PhpArray.from({
    user_id: i,
    csrf: `${i.toString(16).padStart(8, '0')}deadbeefcafe`,
    last_seen: 1732190000 + i,
    flash: i % 3 === 0 ? ['Welcome back!'] : [],
    cart_count: i % 7,
    ratio: (i % 10) / 8 + 0.1,
    locale: pick(['en_US', 'fr_FR', 'ja_JP']),
  });
}

const big = serialize(bigSession());
const smalls = Array.from({ length: 500 }, (_, i) => serialize(smallSession(i)));
const smallBytes = smalls.reduce((a, b) => a + b.length, 0);

// Time is process CPU time (user + system), not wall time: the machine may be shared, and CPU
// time is what each implementation actually spends. PHP is measured the same way (getrusage).
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function bench(fn: () => void): number {
  const warm = cpuSeconds() + 0.2;
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

const results: Record<string, Record<string, number>> = { ours: {}, 'php-serialize': {}, php: {} };
results['ours']!['unserialize big'] = bench(() => unserialize(big));
results['ours']!['serialize big'] = bench(() => serialize(bigValue));
results['ours']!['unserialize small×500'] = bench(() => {
  for (const s of smalls) unserialize(s);
});
results['ours']!['serialize small×500'] = bench(() => {
  for (const v of smallValues) serialize(v);
});
results['php-serialize']!['unserialize big'] = bench(() => phpSerialize.unserialize(bigStr, {}, psOpts));
results['php-serialize']!['serialize big'] = bench(() => phpSerialize.serialize(bigPlain));
results['php-serialize']!['unserialize small×500'] = bench(() => {
  for (const s of smallStrs) phpSerialize.unserialize(s, {}, psOpts);
});
results['php-serialize']!['serialize small×500'] = bench(() => {
  for (const v of smallPlain) phpSerialize.serialize(v);
});

// PHP's C implementation, timed inside php -n on the same bytes.
const dir = mkdtempSync(join(tmpdir(), 'bench-ser-'));
try {
  writeFileSync(join(dir, 'big.bin'), big);
  writeFileSync(join(dir, 'small.json'), JSON.stringify(smalls.map((b) => b.toString('base64'))));
  const code = String.raw`
$ms = (int) $argv[2];
$big = file_get_contents($argv[1] . '/big.bin');
$smalls = array_map('base64_decode', json_decode(file_get_contents($argv[1] . '/small.json'), true));
$bigV = unserialize($big);
$smallV = array_map('unserialize', $smalls);
if (serialize($bigV) !== $big) { fwrite(STDERR, "php round trip mismatch\n"); exit(1); }
function cpu() { $r = getrusage(); return $r['ru_utime.tv_sec'] + $r['ru_utime.tv_usec'] / 1e6 + $r['ru_stime.tv_sec'] + $r['ru_stime.tv_usec'] / 1e6; }
function bench($f, $ms) {
  $w = cpu() + 0.2; while (cpu() < $w) $f();
  $n = 0; $s = cpu(); $e = $s + $ms / 1000; $now = $s;
  while ($now < $e) { $f(); $n++; $now = cpu(); }
  return $n / ($now - $s);
}
echo json_encode([
  'unserialize big' => bench(function () use ($big) { unserialize($big); }, $ms),
  'serialize big' => bench(function () use ($bigV) { serialize($bigV); }, $ms),
  'unserialize small×500' => bench(function () use ($smalls) { foreach ($smalls as $s) unserialize($s); }, $ms),
  'serialize small×500' => bench(function () use ($smallV) { foreach ($smallV as $v) serialize($v); }, $ms),
], JSON_UNESCAPED_UNICODE);
`;
  const r = spawnSync('php', ['-n', '-d', 'memory_limit=512M', '-r', code, '--', dir, String(BENCH_MS)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`php failed: ${r.stderr}`);
  results['php'] = JSON.parse(r.stdout) as Record<string, number>;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const built = import.meta.resolve('php-session-engine').includes('/dist/');
console.log(`library: ${built ? 'dist/ (tsc build, as shipped)' : 'TypeScript sources via tsx'}`);
console.log(`payloads: big session ${(big.length / 1024).toFixed(1)} KB; ${smalls.length} small sessions, ${(smallBytes / 1024).toFixed(1)} KB total`);
console.log(`node ${process.version}; ${BENCH_MS} ms per measurement; operations per CPU-second (higher is better)\n`);
const rows = Object.keys(results['ours']!);
console.log(['operation', 'ours', 'php-serialize', 'PHP (C)', 'ours/php-serialize', 'ours/PHP'].join(' | '));
for (const op of rows) {
  const o = results['ours']![op]!;
  const p = results['php-serialize']![op]!;
  const c = results['php']![op]!;
  console.log([op, o.toFixed(1), p.toFixed(1), c.toFixed(1), `${(o / p).toFixed(2)}x`, `${(o / c).toFixed(2)}x`].join(' | '));
}
