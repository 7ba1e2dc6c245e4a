/**
 * bench/paired: one engine build against another in the same process, in alternating rounds, with
 * per-round ratios (new/base) and their median: the before/after measurement of a refactor.
 *
 *   files       start + modify + write_close cycles with the files handler (bench/files' payload
 *               made by PHP), sequential on one id and concurrent over 100 ids;
 *   memory      the same cycle with a synchronous in-memory module: the engine's own cost, no I/O;
 *   big         the 140 KB cycle of bench/session-cycle (bench/payloads' bigSession(), `php`
 *               serializer: start, read `user_id`, set `n`, write_close) on bench/floors' in-memory
 *               module (each read one event-loop turn late, each write copied), one id (run it
 *               with `node --import tsx`: the payload comes from payloads.ts).
 *
 * `cpu` counts cycles per CPU-second of this process (steadier than wall time on a shared
 * machine); `wall` counts cycles per second.
 *
 * Build the baseline from a commit, then run:
 *   git archive <commit> | (mkdir -p /tmp/base && tar -x -C /tmp/base) && ln -s "$PWD/node_modules" /tmp/base/
 *   (cd /tmp/base && npx tsc -p tsconfig.build.json --outDir "$OLDPWD/dist-base") && npx tsc -p tsconfig.build.json --outDir dist-new
 *   node bench/paired.mjs "$PWD/dist-base" "$PWD/dist-new" [seconds-per-round=1] [rounds=11] [cpu|wall] [files|memory|big]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [baseDir, newDir, secs = '1', rounds = '11', mode = 'cpu', which = 'files'] = process.argv.slice(2);
if (baseDir === undefined || newDir === undefined) throw new Error('usage: node bench/paired.mjs <base dist> <new dist> [s] [rounds] [cpu|wall] [files|memory]');
const CPU = mode === 'cpu';
const A = await import(join(baseDir, 'lib/index.js'));
const B = await import(join(newDir, 'lib/index.js'));
const dir = mkdtempSync(join(tmpdir(), 'pse-paired-'));
const ids = Array.from({ length: 100 }, (_, i) => `bench${i.toString(16).padStart(27, '0')}`);

let make;
if (which === 'files') {
  execFileSync('php', ['-n', '-d', `session.save_path=${dir}`, '-d', 'session.use_cookies=0', '-d', 'session.cache_limiter=', '-r',
    `foreach (${JSON.stringify(ids)} as $id) { session_id($id); session_start(); $_SESSION['user'] = ['id' => 42, 'name' => 'alice', 'roles' => ['admin', 'editor']];
     $_SESSION['cart'] = []; for ($j = 0; $j < 10; $j++) $_SESSION['cart'][] = ['sku' => "SKU-$j", 'qty' => $j + 1, 'price' => 9.99 + $j];
     $_SESSION['n'] = 0; session_write_close(); }`]);
  make = (M) => new M.SessionEngine({ ini: { 'session.save_path': dir, 'session.cache_limiter': '' } });
} else {
  const store = new Map();
  if (which === 'big') {
    const { bigSession } = await import('./payloads.ts');
    const P = await import('php-session-engine');
    const bytes = P.php.encode(bigSession(), { diagnostic: (l, m) => { throw new Error(`${l}: ${m}`); }, maxDepth: 4096 });
    store.set(ids[0], Buffer.from(bytes));
  }
  // big: as bench/floors' "engine, no I/O" module, each read one event-loop turn late, each write copied.
  const read = which === 'big'
    ? async (id) => { await new Promise((r) => setImmediate(r)); return store.get(id) ?? new Uint8Array(0); }
    : (id) => store.get(id) ?? new Uint8Array(0);
  const memory = { name: 'mem', create: () => ({ name: 'mem', open: () => true, close: () => true,
    read, write: (id, d) => { store.set(id, Buffer.from(d)); return true; },
    destroy: (id) => store.delete(id), gc: () => 0 }) };
  make = (M) => new M.SessionEngine({ modules: [memory], ini: { 'session.save_handler': 'mem', 'session.cache_limiter': '' } });
}
const engines = { base: make(A), new: make(B) };

async function cycle(engine, id) {
  const req = engine.request({ cookies: { PHPSESSID: id } });
  if (!(await req.start())) throw new Error(`session_start failed: ${JSON.stringify(req.diagnostics)}`);
  if (which === 'big' && typeof req.session.get('user_id') !== 'number') throw new Error('user_id missing');
  const n = req.session.get('n');
  req.session.set('n', (typeof n === 'number' ? n : 0) + 1);
  if (!(await req.writeClose())) throw new Error('session_write_close failed');
  await req.end();
}

function rate(n, c0, t0) {
  const c = process.cpuUsage(c0);
  return CPU ? n / ((c.user + c.system) / 1e6) : n / ((performance.now() - t0) / 1000);
}

async function sequential(engine) {
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  do {
    for (let k = 0; k < 50; k++) await cycle(engine, ids[0]);
    n += 50;
  } while (performance.now() < t0 + Number(secs) * 1000);
  return rate(n, c0, t0);
}

async function concurrent(engine) {
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(ids.map(async (id) => {
    while (performance.now() < t0 + Number(secs) * 1000) {
      await cycle(engine, id);
      n++;
    }
  }));
  return rate(n, c0, t0);
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const [label, run] of which === 'big' ? [['sequential', sequential]] : [['sequential', sequential], ['concurrent', concurrent]]) {
  await run(engines.base);
  await run(engines.new);
  const base = [];
  const next = [];
  const ratios = [];
  for (let r = 0; r < Number(rounds); r++) {
    const order = r % 2 === 0 ? ['base', 'new'] : ['new', 'base'];
    const res = {};
    for (const k of order) res[k] = await run(engines[k]);
    base.push(res.base);
    next.push(res.new);
    ratios.push(res.new / res.base);
  }
  console.log(`${which} ${label} (${CPU ? 'cycles per CPU-second' : 'cycles per second'}): base ${median(base).toFixed(0)}, new ${median(next).toFixed(0)}, paired new/base median ${median(ratios).toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)})`);
}
rmSync(dir, { recursive: true, force: true });
