/**
 * bench/msession-heap: the heap of `find` over a growing files save path (flat, php serializer,
 * 1 in 100 sessions has user = 42): sessions are added up to each size (default 100,000, 300,000
 * and 1,000,000), then one find runs with the heap sampled every 1,000 sessions through its
 * progress callback. Reports the peak heap growth over the post-GC baseline, the time, and the
 * matches (flat growth = the scan streams). Needs about 4 KB of disk per session (4 GB at 1M):
 * check `df -h /tmp`; the directory is removed at the end.
 *
 * Run: npm run bench:msession-heap -- [size ...]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionEngine } from '../lib/index.ts';

const sizes = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['100000', '300000', '1000000']).map(Number);
const dir = mkdtempSync(join(tmpdir(), 'pse-bench-msession-heap-'));

try {
  let have = 0;
  for (const size of sizes) {
    const t0 = performance.now();
    for (; have < size; have++) {
      writeFileSync(`${dir}/sess_${have.toString(16).padStart(32, '0')}`, `user|i:${have % 100 === 0 ? 42 : have};tenant|s:4:"acme";cart|a:2:{i:0;s:3:"abc";i:1;d:9.5;}last|i:${1700000000 + have};`);
    }
    const created = performance.now() - t0;
    const ms = new SessionEngine({ ini: { 'session.save_path': dir } }).msession();
    globalThis.gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    let found = 0;
    const t1 = performance.now();
    for await (const _ of ms.find('user', 42, { onProgress: () => void (peak = Math.max(peak, process.memoryUsage().heapUsed)) })) found++;
    const took = performance.now() - t1;
    // Every hundredth session, and session 42 (user = its number).
    const expected = Math.ceil(size / 100) + (size > 42 ? 1 : 0);
    await ms.disconnect();
    console.log(
      `${size.toLocaleString('en-US')} sessions (added in ${(created / 1000).toFixed(1)} s): find ${(took / 1000).toFixed(2)} s, ${found.toLocaleString('en-US')} found` +
        ` (${found === expected ? 'right' : 'WRONG'}), heap growth during the scan ${((peak - base) / 1e6).toFixed(1)} MB, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
    );
    if (found !== expected) process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
