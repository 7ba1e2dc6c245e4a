/**
 * bench/msession: `find` over N file sessions (default 100,000; flat save path, php serializer,
 * 1 in 100 sessions has user = 42), msession against a PHP script doing the same scan in one run
 * (scandir + file_get_contents + session_decode + compare, php -n). Reports both times, that both
 * found the same ids, and the heap growth of msession's scan sampled through its progress
 * callback (flat: the scan streams).
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

  // PHP: one run of the same scan (session_decode needs an active session: session_start first).
  t = performance.now();
  const php = spawnSync('php', ['-n', '-d', 'session.use_cookies=0', '-d', 'session.save_path=/tmp', '-d', 'memory_limit=-1', '-r', `session_start(); ${PHP_SCAN}`, dir], { encoding: 'utf8' });
  const phpMs = performance.now() - t;
  if (php.status !== 0) throw new Error(`php failed: ${php.stderr}`);
  const [phpCount, phpHash] = php.stdout.trim().split('\n');

  const ms = new SessionEngine({ ini: { 'session.save_path': dir } }).msession();
  globalThis.gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  t = performance.now();
  const found: string[] = [];
  for await (const id of ms.find('user', 42, { onProgress: () => void (peak = Math.max(peak, process.memoryUsage().heapUsed)) })) found.push(id);
  const ourMs = performance.now() - t;
  await ms.disconnect();
  const { createHash } = await import('node:crypto');
  const ourHash = createHash('md5').update(found.sort().join(',')).digest('hex');

  console.log(`PHP scandir + session_decode: ${(phpMs / 1000).toFixed(2)} s (${phpCount} found)`);
  console.log(`msession find:                ${(ourMs / 1000).toFixed(2)} s (${found.length} found, ${ourHash === phpHash ? 'same ids as PHP' : 'DIFFERENT ids from PHP'})`);
  console.log(`ratio (PHP / msession): ${(phpMs / ourMs).toFixed(2)}x; heap growth during the scan: ${((peak - base) / 1e6).toFixed(1)} MB${globalThis.gc ? '' : ' (run with --expose-gc for a clean baseline)'}`);
  if (ourHash !== phpHash || String(found.length) !== phpCount) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
