/**
 * bench/msession-heap: the heap of `find` over a growing files save path (flat, php serializer,
 * 1 in 100 sessions has user = 42): sessions are added up to each size (default 100,000, 300,000
 * and 1,000,000), then find runs three times (its files reads on two reader threads,
 * `readThreads: 2`, on one, then on the main thread, `readThreads: 0`) with the heap and rss sampled every 1,000 sessions
 * through its progress callback. Reports the peak heap growth over the post-GC baseline, the heap
 * left after a GC at the end (a leak would stay), the peak rss (the reader thread's heap
 * included), the time, and the matches (flat growth = the scan streams). Needs about 4 KB of disk per session (4 GB at 1M):
 * check `df -h /tmp`; the directory is removed at the end.
 *
 * Run: npm run bench:msession-heap -- [size ...]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesEngine } from './msession-files.ts';

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
    // Every hundredth session, and session 42 (user = its number).
    const expected = Math.ceil(size / 100) + (size > 42 ? 1 : 0);
    for (const [label, readThreads] of [['2 reader threads', 2], ['1 reader thread', 1], ['main thread only', 0]] as const) {
      const ms = filesEngine(dir, readThreads).msession();
      globalThis.gc?.();
      const base = process.memoryUsage().heapUsed;
      let peak = base;
      let rss = 0;
      let found = 0;
      const sample = (): void => {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.heapUsed);
        rss = Math.max(rss, m.rss);
      };
      const t1 = performance.now();
      for await (const _ of ms.find('user', 42, { onProgress: sample })) found++;
      const took = performance.now() - t1;
      // What the scan left behind (a leak would stay after a full GC).
      globalThis.gc?.();
      const kept = process.memoryUsage().heapUsed - base;
      await ms.disconnect();
      console.log(
        `${size.toLocaleString('en-US')} sessions (added in ${(created / 1000).toFixed(1)} s), ${label}: find ${(took / 1000).toFixed(2)} s, ${found.toLocaleString('en-US')} found` +
          ` (${found === expected ? 'right' : 'WRONG'}), heap growth during the scan ${((peak - base) / 1e6).toFixed(1)} MB, after it (GC) ${(kept / 1e6).toFixed(1)} MB, peak rss ${(rss / 1e6).toFixed(0)} MB`,
      );
      if (found !== expected) process.exitCode = 1;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
