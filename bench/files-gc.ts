/**
 * bench/files-gc: the files handler's GC on a directory of 1,000,000 session files (3/4 of them
 * expired), through the handler's gc() as session_gc() would call it. Reports the count deleted
 * (must be exactly the expired ones), the time taken, and peak RSS / heap growth sampled through
 * the progress callback. Budget: the GC adds less than 100 MB to the process (the tsx loader alone
 * puts the baseline RSS near 90 MB, so the growth is what the GC is accountable for).
 *
 * Run: node --conditions=php-session-engine-source --import tsx bench/files-gc.ts [count]
 */
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFilesModule, type FilesGcProgress } from '../handlers/files.ts';

const N = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'pse-bench-gc-'));
const old = Math.floor(Date.now() / 1000) - 10_000;

try {
  let t = performance.now();
  for (let i = 0; i < N; i++) {
    const p = `${dir}/sess_${i.toString(16).padStart(32, '0')}`;
    closeSync(openSync(p, 'w', 0o600));
    if (i % 4 !== 0) utimesSync(p, old, old);
    if (i % 100_000 === 99_999) process.stdout.write(`created ${i + 1}\r`);
  }
  const expired = N - Math.ceil(N / 4);
  console.log(`created ${N.toLocaleString('en-US')} files (${expired.toLocaleString('en-US')} expired) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  globalThis.gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  let reports = 0;
  const sample = (p: FilesGcProgress): void => {
    reports++;
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    if (p.scanned % 100_000 === 0) process.stdout.write(`scanned ${p.scanned}, deleted ${p.deleted}\r`);
  };
  const ctx = {
    ini: (name: string) => (name === 'session.save_path' ? dir : undefined),
    diagnostic: (level: string, message: string) => console.error(`${level}: ${message}`),
    createId: () => 'unused',
    now: () => Date.now(),
  };
  const handler = createFilesModule({ onGcProgress: sample }).create(ctx);
  await handler.open(dir, 'PHPSESSID');
  t = performance.now();
  const deleted = await handler.gc(1440);
  const secs = (performance.now() - t) / 1000;
  await handler.close();
  const left = readdirSync(dir).length;
  const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
  console.log(
    `gc: deleted ${deleted.toLocaleString('en-US')} (expected ${expired.toLocaleString('en-US')}, ${deleted === expired ? 'OK' : 'WRONG'}), ` +
      `${left.toLocaleString('en-US')} left, ${secs.toFixed(1)} s (${Math.round(N / secs).toLocaleString('en-US')} entries/s), ${reports} progress reports`,
  );
  console.log(`memory: rss ${mb(base.rss)} → peak ${mb(peakRss)} MB; heap ${mb(base.heapUsed)} → peak ${mb(peakHeap)} MB growth ${mb(peakRss - base.rss)} MB (${peakRss - base.rss < 100 * 1024 * 1024 ? 'under' : 'OVER'} the 100 MB budget)`);
  if (deleted !== expired || left !== N - expired || peakRss - base.rss >= 100 * 1024 * 1024) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
