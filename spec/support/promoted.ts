/**
 * @module spec/support/promoted
 * Counting the bytes V8's young-generation collections move to the old generation while a script
 * runs a workload (v8.GCProfiler, in a child process with --single-threaded-gc and --expose-gc).
 * The script is an ES module run from the project root (it may import './lib/...'); it calls
 * `await promotedBy(n, run)`, which runs `run(n)` under the profiler and returns
 * `{ perRequest, scavenges }` (old-space bytes added by scavenges, divided by `n`), and prints one
 * JSON line last, which {@link promoted} parses.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const PRELUDE = `
  import v8 from 'node:v8';
  globalThis.promotedBy = async (n, run) => {
    const profiler = new v8.GCProfiler();
    profiler.start();
    await run(n);
    let promoted = 0, scavenges = 0;
    for (const s of profiler.stop().statistics) {
      if (s.gcType !== 'Scavenge') continue;
      scavenges++;
      const old = (h) => h.heapSpaceStatistics.find((x) => x.spaceName === 'old_space').spaceUsedSize;
      promoted += old(s.afterGC) - old(s.beforeGC);
    }
    return { perRequest: promoted / n, scavenges };
  };
`;

/** Runs `script` (see the module's doc) and returns the JSON it printed last. */
export function promoted<T extends object>(script: string): T & { perRequest: number; scavenges: number } {
  const r = spawnSync(process.execPath, ['--expose-gc', '--single-threaded-gc', '--import', 'tsx', '--input-type=module', '-e', PRELUDE + script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T & { perRequest: number; scavenges: number };
}
