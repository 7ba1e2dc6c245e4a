/**
 * bench/msession: `find` over N file sessions (default 100,000; flat save path, php serializer,
 * 1 in 100 sessions has user = 42), msession against a PHP script doing the same scan
 * (scandir + file_get_contents + session_decode + compare, php -n), alternating ROUNDS times
 * (default 5) after one unmeasured PHP pass: PHP, then msession's find with its files reads on two
 * reader threads and on one, both warm (one Msession each for the whole run, as a server keeps one:
 * its threads stay up between scans, one unmeasured scan each first), on one new thread (cold: a
 * new Msession, no spare thread), then with every read on the main thread (`readThreads: 0`; what
 * engine.msession() picks when no core is idle). Each side times its own scan (PHP with hrtime, so
 * its process start is not counted) and its CPU time (getrusage / process.cpuUsage, all threads),
 * msession's also per thread (Linux /proc schedstat: the main thread, the reader threads, and V8's
 * helper threads). Reports each round, the medians, that all found the same ids, and the heap
 * growth of one more scan of each kind after a forced GC, sampled through its progress callback
 * (flat: the scan streams; the timed rounds force no GC, which would cost their scan CPU).
 *
 * Run: node --expose-gc --conditions=php-session-engine-source --import tsx bench/msession.ts [N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReaderPool } from '../msession/stores/files-reader.ts';
import { filesEngine, threadsCpu } from './msession-files.ts';

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
  /** msession (Linux /proc schedstat): the main thread's share of cpu, each reader thread's, and the rest (V8's helper threads). */
  mainCpu?: number;
  readers?: number[];
  helpers?: number;
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
  // warm: one Msession per thread count for the whole run, as a server keeps one (its reader
  // threads stay up between scans: threadIdleMs 10 s); cold: a new Msession and new threads.
  const warm = new Map([2, 1].map((n) => [n, filesEngine(dir, n, 10_000).msession()]));
  // heap: a full GC first for a clean baseline, and the heap sampled every 1,000 sessions. Not in
  // the timed rounds: the scan that follows a forced GC paid 50-90 ms more CPU on V8's helper
  // threads than one that does not (measured; cause not traced).
  const ourScan = async (readThreads: number, cold: boolean, heap = false): Promise<Run & { heap: number }> => {
    if (cold) await FileReaderPool.endSpare();
    const ms = cold ? filesEngine(dir, readThreads).msession() : warm.get(readThreads)!;
    if (heap) globalThis.gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const onProgress = heap ? () => void (peak = Math.max(peak, process.memoryUsage().heapUsed)) : () => undefined;
    const c0 = process.cpuUsage();
    const t0cpu = threadsCpu();
    const t0 = performance.now();
    const found: string[] = [];
    for await (const id of ms.find('user', 42, { onProgress })) found.push(id);
    const took = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const t1cpu = threadsCpu();
    if (cold) await ms.disconnect();
    // The main thread; the other threads' CPU, largest first: the reader threads' are the largest
    // (~0.2 s each), then V8's helpers (compiling, GC: tens of ms).
    const others = [...t1cpu].filter(([tid]) => tid !== process.pid).map(([tid, ms]) => ms - (t0cpu.get(tid) ?? 0)).sort((x, y) => y - x);
    const mainCpu = (t1cpu.get(process.pid) ?? Number.NaN) - (t0cpu.get(process.pid) ?? Number.NaN);
    const readers = others.slice(0, readThreads);
    const helpers = others.slice(readThreads).reduce((x, y) => x + y, 0);
    return { ms: took, cpu: (c.user + c.system) / 1000, mainCpu, readers, helpers, count: String(found.length), hash: createHash('md5').update(found.sort().join(',')).digest('hex'), heap: peak - base };
  };

  // One unmeasured PHP pass first: the first read after a write updates each file's atime
  // (relatime), a cost whichever side ran first would pay. One unmeasured scan per warm Msession
  // (its threads start). Then PHP and msession alternate.
  const first = phpScan();
  console.log(`warm-up PHP pass: ${(first.ms / 1000).toFixed(2)} s (${first.count} found)`);
  for (const n of warm.keys()) await ourScan(n, false);
  const ROUNDS = Number(process.env.ROUNDS ?? 5);
  const kinds = [
    ['two', 2, false, 'msession 2 threads (warm)'],
    ['ours', 1, false, 'msession 1 thread (warm) '],
    ['cold', 1, true, 'msession 1 thread (cold) '],
    ['sync', 0, true, 'msession main thread only'],
  ] as const;
  type Kind = (typeof kinds)[number][0];
  const runs: Record<'php' | Kind, Run[]> = { php: [], two: [], ours: [], cold: [], sync: [] };
  let heap = 0;
  const s = (x: number): string => (x / 1000).toFixed(2);
  const f = (r: Run): string =>
    `${s(r.ms)} s (cpu ${s(r.cpu)}${r.mainCpu === undefined ? '' : `: main ${s(r.mainCpu)}${r.readers!.map((x) => ` + reader ${s(x)}`).join('')} + V8 ${s(r.helpers!)}`})`;
  for (let r = 0; r < ROUNDS; r++) {
    const a = phpScan();
    runs.php.push(a);
    const parts = [`PHP ${f(a)}`];
    for (const [k, n, cold, label] of kinds) {
      const x = await ourScan(n, cold);
      if (x.hash !== first.hash || x.count !== first.count) {
        console.log(`round ${r + 1}: DIFFERENT ids (PHP ${first.count}, ${label} ${x.count})`);
        process.exitCode = 1;
      }
      runs[k].push(x);
      parts.push(`${label.trim()} ${f(x)} ${(a.ms / x.ms).toFixed(2)}x`);
    }
    console.log(`round ${r + 1} (load ${loadavg()[0]!.toFixed(1)}):\n  ${parts.join('\n  ')}`);
  }
  for (const [, n, cold] of kinds) heap = Math.max(heap, (await ourScan(n, cold, true)).heap);
  for (const ms of warm.values()) await ms.disconnect();
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const m = (k: keyof typeof runs, w: 'ms' | 'cpu'): number => median(runs[k].map((x) => x[w]));
  console.log(`PHP scandir + session_decode: median ${s(m('php', 'ms'))} s, cpu ${s(m('php', 'cpu'))} s (${first.count} found)`);
  for (const [k, n, , label] of kinds) {
    const readers = Array.from({ length: n }, (_, i) => ` + reader ${s(median(runs[k].map((x) => x.readers![i]!)))}`).join('');
    console.log(
      `${label}: median ${s(m(k, 'ms'))} s, cpu ${s(m(k, 'cpu'))} s (main ${s(median(runs[k].map((x) => x.mainCpu!)))}${readers} + V8 ${s(median(runs[k].map((x) => x.helpers!)))}); PHP / msession: ${(m('php', 'ms') / m(k, 'ms')).toFixed(2)}x wall, ${(m('php', 'cpu') / m(k, 'cpu')).toFixed(2)}x cpu`,
    );
  }
  console.log(`same ids as PHP in every round: ${process.exitCode === 1 ? 'NO' : 'yes'}; heap growth during a scan (one more of each, after a GC): ${(heap / 1e6).toFixed(1)} MB${globalThis.gc ? '' : ' (run with --expose-gc for a clean baseline)'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
