/**
 * bench/paired-builds: the same serializer payloads through two builds of this library, in one
 * process, interleaved, to show whether a change made the codec slower. Used for the var.ts split
 * (issue #11): build the old commit elsewhere (git archive <commit> | tar -x -C DIR; npx tsc -p
 * tsconfig.build.json there), `npm run build` here, then
 *
 *   node bench/paired-builds.mjs DIR/dist/lib/index.js "$PWD/dist/lib/index.js"
 *
 * Each of ROUNDS rounds (default 7) measures every operation for MS ms of CPU time (default 300)
 * with each build, the order alternating; it prints the median and min–max of the per-round
 * ratios new/old (> 1 = faster). Running it with the same build twice shows the noise (±5% here).
 */

const [oldPath, newPath] = process.argv.slice(2);
const A = await import(oldPath), B = await import(newPath);
const ROUNDS = Number(process.env.ROUNDS ?? 7), MS = Number(process.env.MS ?? 300);
let st = 0x2545f491; const rand = () => { st ^= st << 13; st ^= st >>> 17; st ^= st << 5; return (st >>> 0) / 4294967296; };
const pick = (a) => a[Math.floor(rand() * a.length)];
const W = ['alpha', 'bravo', 'Zürich', 'São Paulo', 'naïve', 'product', 'checkout', 'token', 'widget'];
const word = () => `${pick(W)}-${Math.floor(rand() * 100000)}`;
const L = B; // build payloads with the new build
const product = (i) => L.PhpArray.from({ id: 1000 + i, sku: `SKU-${(i * 7919) % 100000}`, name: `${word()} ${word()}`, price: Math.round(rand() * 100000) / 100 + 0.01, qty: 1 + Math.floor(rand() * 5), tags: [word(), word(), word()], attributes: { color: pick(['red', 'green']), size: pick(['S', 'M', 'L']), weight: new L.PhpFloat(Math.floor(rand() * 10)) }, in_stock: rand() > 0.2, discount: rand() > 0.7 ? 0.15 : null });
const big = L.serialize(L.PhpArray.from({ _token: 'f'.repeat(40), user_id: 982341, cart: Array.from({ length: 360 }, (_, i) => product(i)), recently_viewed: Array.from({ length: 300 }, (_, i) => 5000 + i * 3), form_state: Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`field_${i}`, word().repeat(3)])) }));
const smalls = Array.from({ length: 500 }, (_, i) => L.serialize(L.PhpArray.from({ user_id: i, csrf: `${i.toString(16).padStart(8, '0')}deadbeefcafe`, last_seen: 1732190000 + i, flash: i % 3 === 0 ? ['Welcome back!'] : [], ratio: (i % 10) / 8 + 0.1, locale: pick(['en_US', 'fr_FR']) })));
const ctx = { diagnostic() {}, maxDepth: 4096 };
const setup = (M) => {
  const bigV = M.unserialize(big), smallV = smalls.map((s) => M.unserialize(s));
  const sess = M.php.encode(bigV, ctx); // big session array as php session data
  const sessV = M.php.decode(sess, new M.PhpArray(), ctx).session;
  if (!M.serialize(bigV).equals(big)) throw new Error('round trip');
  return {
    'unserialize big': () => M.unserialize(big),
    'serialize big': () => M.serialize(bigV),
    'unserialize small×500': () => { for (const s of smalls) M.unserialize(s); },
    'serialize small×500': () => { for (const v of smallV) M.serialize(v); },
    'session decode (php)': () => M.php.decode(sess, new M.PhpArray(), ctx),
    'session encode (php)': () => M.php.encode(sessV, ctx),
  };
};
const ops = { old: setup(A), new: setup(B) };
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const measure = (f) => { let n = 0; const s = cpu(), e = s + MS / 1000; let now = s; while (now < e) { f(); n++; now = cpu(); } return n / (now - s); };
for (const k of Object.keys(ops.old)) { measure(ops.old[k]); measure(ops.new[k]); }
const ratios = {};
for (let r = 0; r < ROUNDS; r++) for (const k of Object.keys(ops.old)) {
  let o, n;
  if (r % 2) { o = measure(ops.old[k]); n = measure(ops.new[k]); } else { n = measure(ops.new[k]); o = measure(ops.old[k]); }
  (ratios[k] ??= []).push(n / o);
}
console.log(`paired before/after, ${ROUNDS} rounds × ${MS} ms CPU per measurement, order alternating; ratio = new ops/s ÷ old ops/s (>1 = faster)`);
console.log(`old: ${oldPath}\nnew: ${newPath}\nbig ${(big.length / 1024).toFixed(1)} KB, 500 small sessions`);
for (const [k, v] of Object.entries(ratios)) { const s = [...v].sort((a, b) => a - b); console.log(`${k.padEnd(24)} median ${s[s.length >> 1].toFixed(3)}  (min ${s[0].toFixed(3)}, max ${s[s.length - 1].toFixed(3)})`); }
