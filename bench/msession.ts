/**
 * bench/msession: `find` over N file sessions (default 100,000; flat save path, php serializer,
 * 1 in 100 sessions has user = 42), msession against a PHP script doing the same scan
 * (scandir + file_get_contents + session_decode + compare, php -n), alternating ROUNDS times
 * (default 3) after one unmeasured PHP pass. Reports each round, the medians, that both found the
 * same ids, and the heap growth of msession's scan sampled through its progress callback (flat:
 * the scan streams).
 *
 * Run: node --expose-gc --conditions=php-session-engine-source --import tsx bench/msession.ts [N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionEngine } from '../lib/index.ts';

const N = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'pse-bench-msession-'));

const PHP_SCAN = `
$dir = $argv[1]; $found = [];
foreach (scandir($dir) as $f) {
  if (strncmp($f, 'sess_', 5) !== 0) continue;
  $_SESSION = [];
  if (!session_decode(file_get_contents("$dir/$f"))) continue;
  if (isset($_SESSION['user']) && $_SESSION['user'] == 42) $found[] = substr($f, 5);
}
echo count($found), "\\n", md5(implode(',', (function ($a) { sort($a, SORT_STRING); return $a; })($found)));
`;

try {
  let t = performance.now();
  for (let i = 0; i < N; i++) {
    const id = i.toString(16).padStart(32, '0');
    const user = i % 100 === 0 ? 42 : i;
    writeFileSync(`${dir}/sess_${id}`, `user|i:${user};tenant|s:4:"acme";cart|a:2:{i:0;s:3:"abc";i:1;d:9.5;}last|i:${1700000000 + i};`);
  }
  console.log(`created ${N.toLocaleString('en-US')} sessions in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // PHP's scan (session_decode needs an active session: session_start first).
  const phpScan = (): { ms: number; count: string; hash: string } => {
    const t0 = performance.now();
    const php = spawnSync('php', ['-n', '-d', 'session.use_cookies=0', '-d', 'session.save_path=/tmp', '-d', 'memory_limit=-1', '-r', `session_start(); ${PHP_SCAN}`, dir], { encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (php.status !== 0) throw new Error(`php failed: ${php.stderr}`);
    const [count, hash] = php.stdout.trim().split('\n');
    return { ms, count: count!, hash: hash! };
  };
  const { createHash } = await import('node:crypto');
  const ourScan = async (): Promise<{ ms: number; count: string; hash: string; heap: number }> => {
    const ms = new SessionEngine({ ini: { 'session.save_path': dir } }).msession();
    globalThis.gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const t0 = performance.now();
    const found: string[] = [];
    for await (const id of ms.find('user', 42, { onProgress: () => void (peak = Math.max(peak, process.memoryUsage().heapUsed)) })) found.push(id);
    const took = performance.now() - t0;
    await ms.disconnect();
    return { ms: took, count: String(found.length), hash: createHash('md5').update(found.sort().join(',')).digest('hex'), heap: peak - base };
  };

  // One unmeasured PHP pass first: the first read after a write updates each file's atime
  // (relatime), a cost whichever side ran first would pay. Then PHP and msession alternate.
  const first = phpScan();
  console.log(`warm-up PHP pass: ${(first.ms / 1000).toFixed(2)} s (${first.count} found)`);
  const ROUNDS = Number(process.env.ROUNDS ?? 3);
  const php: number[] = [];
  const ours: number[] = [];
  let heap = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const a = phpScan();
    const b = await ourScan();
    if (a.hash !== first.hash || b.hash !== first.hash || b.count !== first.count) {
      console.log(`round ${r + 1}: DIFFERENT ids (PHP ${a.count}, msession ${b.count})`);
      process.exitCode = 1;
    }
    php.push(a.ms);
    ours.push(b.ms);
    heap = Math.max(heap, b.heap);
    console.log(`round ${r + 1}: PHP ${(a.ms / 1000).toFixed(2)} s, msession ${(b.ms / 1000).toFixed(2)} s, ratio ${(a.ms / b.ms).toFixed(2)}x`);
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  console.log(`PHP scandir + session_decode: median ${(median(php) / 1000).toFixed(2)} s (${first.count} found)`);
  console.log(`msession find:                median ${(median(ours) / 1000).toFixed(2)} s (same ids as PHP in every round: ${process.exitCode === 1 ? 'NO' : 'yes'})`);
  console.log(`ratio (PHP / msession, medians): ${(median(php) / median(ours)).toFixed(2)}x; heap growth during a scan: ${(heap / 1e6).toFixed(1)} MB${globalThis.gc ? '' : ' (run with --expose-gc for a clean baseline)'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
