/**
 * bench/msession: `find` over N file sessions (default 100,000; flat save path, php serializer,
 * 1 in 100 sessions has user = 42), msession against a PHP script doing the same scan
 * (scandir + file_get_contents + session_decode + compare, php -n), alternating ROUNDS times
 * (default 5) after one unmeasured PHP pass: PHP, then msession with its files reads on two reader
 * threads (`readThreads: 2`), on one (`readThreads: 1`), then with every read on the main thread
 * (`readThreads: 0`; what engine.msession() picks when no core is idle). Each side times its own scan (PHP with hrtime, so its process start is not
 * counted) and its CPU time (getrusage / process.cpuUsage, all threads). Reports each round, the
 * medians, that all found the same ids, and the heap growth of msession's scan sampled through its
 * progress callback (flat: the scan streams).
 *
 * Run: node --expose-gc --conditions=php-session-engine-source --import tsx bench/msession.ts [N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesEngine, threadCpu } from './msession-files.ts';

const N = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'pse-bench-msession-'));

const PHP_SCAN = `
$ru0 = getrusage(); $t0 = hrtime(true);
$dir = $argv[1]; $found = [];
foreach (scandir($dir) as $f) {
  if (strncmp($f, 'sess_', 5) !== 0) continue;
  $_SESSION = [];
  if (!session_decode(file_get_contents("$dir/$f"))) continue;
  if (isset($_SESSION['user']) && $_SESSION['user'] == 42) $found[] = substr($f, 5);
}
$wall = (hrtime(true) - $t0) / 1e6; $ru = getrusage();
$cpu = ($ru['ru_utime.tv_sec'] + $ru['ru_stime.tv_sec'] - $ru0['ru_utime.tv_sec'] - $ru0['ru_stime.tv_sec']) * 1e3
  + ($ru['ru_utime.tv_usec'] + $ru['ru_stime.tv_usec'] - $ru0['ru_utime.tv_usec'] - $ru0['ru_stime.tv_usec']) / 1e3;
echo count($found), "\\n", md5(implode(',', (function ($a) { sort($a, SORT_STRING); return $a; })($found))), "\\n", $wall, "\\n", $cpu;
`;

/** The files module with msession's store tuned (readThreads), under its own name. */
interface Run {
  ms: number;
  cpu: number;
  /** msession: the main thread's share of cpu (Linux /proc, 10 ms ticks); the rest is the reader thread's and V8's. */
  mainCpu?: number;
  count: string;
  hash: string;
}

try {
  let t = performance.now();
  for (let i = 0; i < N; i++) {
    const id = i.toString(16).padStart(32, '0');
    const user = i % 100 === 0 ? 42 : i;
    writeFileSync(`${dir}/sess_${id}`, `user|i:${user};tenant|s:4:"acme";cart|a:2:{i:0;s:3:"abc";i:1;d:9.5;}last|i:${1700000000 + i};`);
  }
  console.log(`created ${N.toLocaleString('en-US')} sessions in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // PHP's scan (session_decode needs an active session: session_start first).
  const phpScan = (): Run => {
    const php = spawnSync('php', ['-n', '-d', 'session.use_cookies=0', '-d', 'session.save_path=/tmp', '-d', 'memory_limit=-1', '-r', `session_start(); ${PHP_SCAN}`, dir], { encoding: 'utf8' });
    if (php.status !== 0) throw new Error(`php failed: ${php.stderr}`);
    const [count, hash, wall, cpu] = php.stdout.trim().split('\n');
    return { ms: Number(wall), cpu: Number(cpu), count: count!, hash: hash! };
  };
  const { createHash } = await import('node:crypto');
  const ourScan = async (readThreads: number): Promise<Run & { heap: number }> => {
    const ms = filesEngine(dir, readThreads).msession();
    globalThis.gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const c0 = process.cpuUsage();
    const main0 = threadCpu();
    const t0 = performance.now();
    const found: string[] = [];
    for await (const id of ms.find('user', 42, { onProgress: () => void (peak = Math.max(peak, process.memoryUsage().heapUsed)) })) found.push(id);
    const took = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const mainCpu = threadCpu() - main0;
    await ms.disconnect();
    return { ms: took, cpu: (c.user + c.system) / 1000, mainCpu, count: String(found.length), hash: createHash('md5').update(found.sort().join(',')).digest('hex'), heap: peak - base };
  };

  // One unmeasured PHP pass first: the first read after a write updates each file's atime
  // (relatime), a cost whichever side ran first would pay. Then PHP and msession alternate.
  const first = phpScan();
  console.log(`warm-up PHP pass: ${(first.ms / 1000).toFixed(2)} s (${first.count} found)`);
  const ROUNDS = Number(process.env.ROUNDS ?? 5);
  const runs: Record<'php' | 'two' | 'ours' | 'sync', Run[]> = { php: [], two: [], ours: [], sync: [] };
  let heap = 0;
  const f = (r: Run): string => `${(r.ms / 1000).toFixed(2)} s (cpu ${(r.cpu / 1000).toFixed(2)} s${r.mainCpu === undefined ? '' : `, main thread ${(r.mainCpu / 1000).toFixed(2)} s`})`;
  for (let r = 0; r < ROUNDS; r++) {
    const a = phpScan();
    const d = await ourScan(2);
    const b = await ourScan(1);
    const c = await ourScan(0);
    for (const x of [a, d, b, c]) {
      if (x.hash !== first.hash || x.count !== first.count) {
        console.log(`round ${r + 1}: DIFFERENT ids (PHP ${first.count}, this run ${x.count})`);
        process.exitCode = 1;
      }
    }
    runs.php.push(a);
    runs.two.push(d);
    runs.ours.push(b);
    runs.sync.push(c);
    heap = Math.max(heap, d.heap, b.heap, c.heap);
    console.log(`round ${r + 1}: PHP ${f(a)}, msession 2 threads ${f(d)} ${(a.ms / d.ms).toFixed(2)}x, 1 thread ${f(b)} ${(a.ms / b.ms).toFixed(2)}x, main thread only ${f(c)} ${(a.ms / c.ms).toFixed(2)}x  (load ${loadavg()[0]!.toFixed(1)})`);
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const m = (k: keyof typeof runs, w: 'ms' | 'cpu'): number => median(runs[k].map((x) => x[w]));
  console.log(`PHP scandir + session_decode: median ${(m('php', 'ms') / 1000).toFixed(2)} s, cpu ${(m('php', 'cpu') / 1000).toFixed(2)} s (${first.count} found)`);
  for (const [k, label] of [['two', 'msession find (2 reader threads)'], ['ours', 'msession find (1 reader thread) '], ['sync', 'msession find (main thread)     ']] as const) {
    console.log(`${label}: median ${(m(k, 'ms') / 1000).toFixed(2)} s, cpu ${(m(k, 'cpu') / 1000).toFixed(2)} s (main thread ${(median(runs[k].map((x) => x.mainCpu!)) / 1000).toFixed(2)} s); PHP / msession: ${(m('php', 'ms') / m(k, 'ms')).toFixed(2)}x wall, ${(m('php', 'cpu') / m(k, 'cpu')).toFixed(2)}x cpu`);
  }
  console.log(`same ids as PHP in every round: ${process.exitCode === 1 ? 'NO' : 'yes'}; heap growth during a scan: ${(heap / 1e6).toFixed(1)} MB${globalThis.gc ? '' : ' (run with --expose-gc for a clean baseline)'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
