/**
 * bench/files: start + modify + write_close cycles per second with the files handler, this library
 * (SessionEngine) against PHP's own loop (`php -n`, files handler, the same payload), in one run:
 *  - sequential: one session id, one cycle after another;
 *  - concurrent: 100 session ids; Node runs 100 request loops at once in one process, PHP runs its
 *    single-process loop over the same 100 ids (PHP has no concurrency inside one process).
 *
 * The machine may be shared, so the two sides run in alternating short rounds and the medians
 * are compared (a load spike then hits both sides alike).
 *
 * A third, sequential-only measurement is a floor reference, not a competitor: the system calls of
 * PHP's cycle (open, fstat, flock, fstat, pread, ftruncate, pwrite, close) issued straight through
 * node:fs and the flock binding (fs-ext-extra-prebuilt) on one session file, with no engine, no
 * parsing and no encoding. It shows what PHP's order of calls costs from Node on this file system.
 * The engine writes this payload's counter in place (handlers/files/in-place.ts: no ftruncate, one
 * small pwrite), so it runs above this floor.
 *
 * Run: node --conditions=php-session-engine-source --import tsx bench/files.ts [seconds-per-round] [rounds]
 */
import { execFileSync } from 'node:child_process';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionEngine } from 'php-session-engine';

const SECONDS = Number(process.argv[2] ?? 1);
const ROUNDS = Number(process.argv[3] ?? 5);
const IDS = 100;
const dir = mkdtempSync(join(tmpdir(), 'pse-bench-files-'));
const ids = Array.from({ length: IDS }, (_, i) => `bench${i.toString(16).padStart(27, '0')}`);

/** The payload: a small cart and a counter, made by PHP so both sides start from PHP's bytes. */
const PAYLOAD_PHP = `$_SESSION['user'] = ['id' => 42, 'name' => 'alice', 'roles' => ['admin', 'editor']];
$_SESSION['cart'] = []; for ($j = 0; $j < 10; $j++) $_SESSION['cart'][] = ['sku' => "SKU-$j", 'qty' => $j + 1, 'price' => 9.99 + $j];
$_SESSION['n'] = 0;`;

function php(code: string): string {
  return execFileSync('php', ['-n', '-d', `session.save_path=${dir}`, '-d', 'session.use_cookies=0', '-d', 'session.cache_limiter=', '-r', code], {
    encoding: 'utf8',
  });
}

php(`foreach (${JSON.stringify(ids)} as $id) { session_id($id); session_start(); ${PAYLOAD_PHP} session_write_close(); }`);

/** PHP's loop; returns cycles per second. */
function phpRate(idCount: number): number {
  const out = php(`$ids = array_slice(${JSON.stringify(ids)}, 0, ${idCount}); $n = 0; $t0 = hrtime(true); $end = $t0 + ${SECONDS} * 1e9;
    do { for ($k = 0; $k < 50; $k++) { session_id($ids[$n % count($ids)]); session_start(); $_SESSION['n']++; session_write_close(); $n++; } } while (hrtime(true) < $end);
    echo $n / ((hrtime(true) - $t0) / 1e9);`);
  return Number(out);
}

const engine = new SessionEngine({ ini: { 'session.save_path': dir, 'session.cache_limiter': '' } });

async function cycle(id: string): Promise<void> {
  const req = engine.request({ cookies: { PHPSESSID: id } });
  if (!(await req.start())) throw new Error(`session_start failed: ${JSON.stringify(req.diagnostics)}`);
  const n = req.session.get('n');
  req.session.set('n', (typeof n === 'number' ? n : 0) + 1);
  if (!(await req.writeClose())) throw new Error('write_close failed');
  await req.end();
}

const fsExt = createRequire(import.meta.url)('fs-ext-extra-prebuilt') as { flockSync(fd: number, flags: 'exnb'): void };
const floorFile = join(dir, `sess_${ids[0]!.replace('bench', 'floor')}`);
const floorPayload = fs.readFileSync(join(dir, `sess_${ids[0]}`));
const floorBuf = Buffer.alloc(64 * 1024);

/** The floor reference: PHP's system calls for one cycle through node:fs, nothing else; cycles per second. */
function floorRate(): number {
  const { O_RDWR, O_CREAT, O_NOFOLLOW } = fs.constants;
  let n = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  do {
    for (let k = 0; k < 50; k++) {
      const fd = fs.openSync(floorFile, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600);
      fs.fstatSync(fd);
      fsExt.flockSync(fd, 'exnb');
      const st = fs.fstatSync(fd);
      fs.readSync(fd, floorBuf, 0, st.size, 0);
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, floorPayload, 0, floorPayload.length, 0);
      fs.closeSync(fd);
      n++;
    }
  } while (performance.now() < end);
  return n / ((performance.now() - t0) / 1000);
}

/** `loops` concurrent request loops over ids[0..loops); returns cycles per second. */
async function nodeRate(loops: number): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: loops }, async (_, i) => {
      while (performance.now() < end) {
        await cycle(ids[i]!);
        n++;
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();

try {
  for (let i = 0; i < 200; i++) await cycle(ids[i % IDS]!); // warm-up
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const seq = { php: [] as number[], node: [] as number[], floor: [] as number[] };
  const conc = { php: [] as number[], node: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    seq.php.push(phpRate(1));
    seq.node.push(await nodeRate(1));
    seq.floor.push(floorRate());
    conc.php.push(phpRate(IDS));
    conc.node.push(await nodeRate(IDS));
  }
  const r = (x: number) => Math.round(x).toLocaleString('en-US');
  const phpSeq = median(seq.php);
  const nodeSeq = median(seq.node);
  const phpMulti = median(conc.php);
  const nodeConc = median(conc.node);
  console.log(`files handler, ${ROUNDS} alternating rounds of ${SECONDS}s, medians; payload: user + 10-item cart + counter`);
  console.log(`sequential, 1 id:  php ${r(phpSeq)}/s   node ${r(nodeSeq)}/s   ratio ${(nodeSeq / phpSeq).toFixed(2)}x`);
  const floorSeq = median(seq.floor);
  console.log(
    `  floor reference: PHP's syscalls (ftruncate + pwrite) via node:fs, no engine  ${r(floorSeq)}/s = ${(floorSeq / phpSeq).toFixed(2)}x php (engine = ${(nodeSeq / floorSeq).toFixed(2)}x of this floor)`,
  );
  console.log(`100 ids:           php (1 process) ${r(phpMulti)}/s   node (100 concurrent) ${r(nodeConc)}/s   ratio ${(nodeConc / phpMulti).toFixed(2)}x`);
  console.log(`rounds: seq php [${seq.php.map(r)}] node [${seq.node.map(r)}] floor [${seq.floor.map(r)}]; 100 ids php [${conc.php.map(r)}] node [${conc.node.map(r)}]`);
  // Sanity: no increment was lost (every cycle above added one to some counter).
  const total = Number(php(`$t = 0; foreach (${JSON.stringify(ids)} as $id) { session_id($id); session_start(); $t += $_SESSION['n']; session_write_close(); } echo $t;`));
  console.log(`load average before ${loadBefore}, after ${load()} (2 cores; the machine may be shared)`);
  console.log(`counters total ${total.toLocaleString('en-US')} (all cycles of both sides)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
