/**
 * bench/paired-cycle: bench/files' sequential cycle (start, read n, set n, write_close on the
 * 816-byte session PHP writes) through two builds of this library, in one process, interleaved:
 * whether a change made the everyday small-session cycle slower. Build the old commit elsewhere
 * (git archive <commit> | tar -x -C DIR; npx tsc -p tsconfig.build.json there), `npm run build`
 * here, then
 *
 *   node bench/paired-cycle.mjs DIR/dist/lib/index.js "$PWD/dist/lib/index.js"
 *
 * Each of ROUNDS rounds (default 9) runs the cycle for MS ms (default 500) with each build, the
 * order alternating; it prints the median and min–max of the per-round ratios new/old of cycles
 * per second and of CPU per cycle. Each build has its own session file in its own directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [oldPath, newPath] = process.argv.slice(2);
const builds = { old: await import(oldPath), new: await import(newPath) };
const ROUNDS = Number(process.env.ROUNDS ?? 9), MS = Number(process.env.MS ?? 500);
const ID = 'pairedcycle000000000000000001';
const root = mkdtempSync(join(tmpdir(), 'pse-paired-cycle-'));
const PAYLOAD_PHP = `$_SESSION['user'] = ['id' => 42, 'name' => 'alice', 'roles' => ['admin', 'editor']];
$_SESSION['cart'] = []; for ($j = 0; $j < 10; $j++) $_SESSION['cart'][] = ['sku' => "SKU-$j", 'qty' => $j + 1, 'price' => 9.99 + $j];
$_SESSION['n'] = 0;`;

const engines = {};
for (const [name, M] of Object.entries(builds)) {
  const dir = join(root, name);
  mkdirSync(dir);
  execFileSync('php', ['-n', '-d', `session.save_path=${dir}`, '-d', 'session.use_cookies=0', '-d', 'session.cache_limiter=', '-r', `session_id('${ID}'); session_start(); ${PAYLOAD_PHP} session_write_close();`]);
  engines[name] = new M.SessionEngine({ ini: { 'session.save_path': dir, 'session.cache_limiter': '' } });
}

async function cycle(engine) {
  const req = engine.request({ cookies: { PHPSESSID: ID } });
  if (!(await req.start())) throw new Error('session_start failed');
  const n = req.session.get('n');
  req.session.set('n', (typeof n === 'number' ? n : 0) + 1);
  if (!(await req.writeClose())) throw new Error('write_close failed');
  await req.end();
}

async function measure(engine) {
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < MS) {
    for (let k = 0; k < 20; k++) await cycle(engine);
    n += 20;
  }
  const c = process.cpuUsage(c0);
  return { rate: n / ((performance.now() - t0) / 1000), cpu: (c.user + c.system) / n };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  await measure(engines.old);
  await measure(engines.new);
  const rate = [], cpu = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ['old', 'new'] : ['new', 'old'];
    const res = {};
    for (const b of order) res[b] = await measure(engines[b]);
    rate.push(res.new.rate / res.old.rate);
    cpu.push(res.new.cpu / res.old.cpu);
  }
  const f = (xs) => `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
  console.log(`${ROUNDS} rounds of ${MS} ms per build, alternating; new/old per round, median (min–max)`);
  console.log(`  cycles/s:  ${f(rate)}   (> 1 = new faster)`);
  console.log(`  CPU/cycle: ${f(cpu)}   (< 1 = new cheaper)`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
