/**
 * bench/request-alloc: JS heap bytes one plain session cycle allocates (engine.request →
 * start → get/set → writeClose → id → end, the id read as the adapters read it), bench/files' 816-byte session on a synchronous
 * in-memory module, per build given (one or more built dist/ directories):
 *
 *   node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 bench/request-alloc.mjs "$PWD/dist" [OTHER/dist ...]
 *
 * Each round runs a full GC, then N cycles (default 400) with the young generation large enough
 * that no GC runs in between (checked: a round in which a GC ran is done again), and takes the
 * growth of V8's used heap divided by N: every byte the cycles allocated, garbage included
 * (Buffers' backing stores are outside the heap and not counted; the growth of
 * process.memoryUsage().arrayBuffers, their bytes, is shown apart as `external`).
 * Builds alternate; median of ROUNDS (default 7) rounds. Also `BENCH_SESSION=big` for the 140 KB
 * session of bench/payloads (then run with `--import tsx`).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
const dirs = process.argv.slice(2);
if (dirs.length === 0) throw new Error('usage: node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 bench/request-alloc.mjs <dist> [<dist> ...]');
const N = Number(process.env.N ?? 400), ROUNDS = Number(process.env.ROUNDS ?? 7);
const ID = 'requestalloc00000000000000001';
// bench/files' session as PHP writes it (user, a cart of 10 lines, n).
let SESSION = Buffer.from('user|a:3:{s:2:"id";i:42;s:4:"name";s:5:"alice";s:5:"roles";a:2:{i:0;s:5:"admin";i:1;s:6:"editor";}}cart|a:10:{'
  + Array.from({ length: 10 }, (_, j) => `i:${j};a:3:{s:3:"sku";s:5:"SKU-${j}";s:3:"qty";i:${j + 1};s:5:"price";d:${(9.99 + j).toPrecision(17).replace(/0+$/, '')};}`).join('')
  + '}n|i:0;', 'latin1');
if (process.env.BENCH_SESSION === 'big') {
  const { bigSession } = await import('./payloads.ts');
  const P = await import('php-session-engine');
  SESSION = Buffer.from(P.php.encode(bigSession(), { diagnostic: (l, m) => { throw new Error(`${l}: ${m}`); }, maxDepth: 4096 }));
}

let gcs = 0;
new PerformanceObserver((list) => { gcs += list.getEntries().length; }).observe({ entryTypes: ['gc'] });

const engines = await Promise.all(dirs.map(async (dir) => {
  const M = await import(`${dir}/lib/index.js`);
  let stored = SESSION;
  const memory = { name: 'mem', create: () => ({ name: 'mem', open: () => true, close: () => true, read: () => stored,
    write: (_id, d) => { stored = Buffer.from(d); return true; }, destroy: () => true, gc: () => 0 }) };
  return new M.SessionEngine({ modules: [memory], ini: { 'session.save_handler': 'mem', 'session.cache_limiter': '' } });
}));

async function cycle(engine) {
  const req = engine.request({ cookies: { PHPSESSID: ID } });
  if (!(await req.start())) throw new Error(`session_start failed: ${JSON.stringify(req.diagnostics)}`);
  const n = req.session.get('n');
  req.session.set('n', (typeof n === 'number' ? n : 0) + 1);
  if (!(await req.writeClose())) throw new Error('session_write_close failed');
  if (req.id() !== ID) throw new Error('session_id'); // the adapters read it for the response
  await req.end();
  if (req.diagnostics.length > 0) throw new Error(JSON.stringify(req.diagnostics));
}

async function round(engine) {
  for (let tries = 0; tries < 20; tries++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 5)); // the observer reports that GC first
    const before = gcs;
    const h0 = v8.getHeapStatistics();
    const a0 = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < N; i++) await cycle(engine);
    const h1 = v8.getHeapStatistics();
    const a1 = process.memoryUsage().arrayBuffers;
    await new Promise((r) => setTimeout(r, 5)); // let the observer report a GC of this round
    if (gcs === before) return { heap: (h1.used_heap_size - h0.used_heap_size) / N, external: (a1 - a0) / N };
  }
  throw new Error('a GC ran in every try: raise --max-semi-space-size or lower N');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const e of engines) for (let i = 0; i < 200; i++) await cycle(e);
const res = engines.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  const order = engines.map((_, i) => i);
  if (r % 2 === 1) order.reverse();
  for (const i of order) res[i].push(await round(engines[i]));
}
console.log(`${process.env.BENCH_SESSION === 'big' ? '140 KB' : '816-byte'} session (${SESSION.length} bytes), ${N} cycles per round, ${ROUNDS} rounds; median bytes per cycle`);
dirs.forEach((d, i) => console.log(`  ${d}: heap ${median(res[i].map((x) => x.heap)).toFixed(0)} B (rounds ${Math.min(...res[i].map((x) => x.heap)).toFixed(0)}–${Math.max(...res[i].map((x) => x.heap)).toFixed(0)}), external ${median(res[i].map((x) => x.external)).toFixed(0)} B`));
