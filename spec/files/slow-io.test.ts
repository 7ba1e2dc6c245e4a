/**
 * @module spec/files/slow-io
 * When a synchronous ftruncate of a session file is slow (the disk makes it wait), the next
 * truncates and closes go to the thread pool even with one session file open, so a server's
 * event loop keeps serving its other connections (bench/http: ext4 stalls of ~1 ms per call).
 * The same calls, in the same order, with the same data land either way.
 */
import fs, { readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { afterAll, afterEach, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import { testSessionId } from '../handlers/suite.ts';
import { tempDir } from './support.ts';

const tmp = tempDir('slow-io');
afterAll(() => tmp.remove());

const original = { ftruncateSync: fs.ftruncateSync, ftruncate: fs.ftruncate, closeSync: fs.closeSync, close: fs.close };
afterEach(() => {
  Object.assign(fs, original);
  syncBuiltinESMExports();
});

/** Replaces fs functions (also as seen through `import * as fs`), counting calls. */
function instrument(slowFirstTruncate: boolean): Record<keyof typeof original, number> {
  const calls = { ftruncateSync: 0, ftruncate: 0, closeSync: 0, close: 0 };
  fs.ftruncateSync = ((fd: number, len?: number) => {
    if (calls.ftruncateSync++ === 0 && slowFirstTruncate) {
      // The disk keeps this call waiting (a busy wait stands for it; no timing is asserted).
      const until = performance.now() + 5;
      while (performance.now() < until);
    }
    return original.ftruncateSync(fd, len);
  }) as typeof fs.ftruncateSync;
  fs.ftruncate = ((...args: Parameters<typeof fs.ftruncate>) => {
    calls.ftruncate++;
    return (original.ftruncate as (...a: unknown[]) => void)(...args);
  }) as typeof fs.ftruncate;
  fs.closeSync = ((fd: number) => {
    calls.closeSync++;
    return original.closeSync(fd);
  }) as typeof fs.closeSync;
  fs.close = ((...args: Parameters<typeof fs.close>) => {
    calls.close++;
    return (original.close as (...a: unknown[]) => void)(...args);
  }) as typeof fs.close;
  syncBuiltinESMExports();
  return calls;
}

async function cycle(engine: SessionEngine, id: string, n: number): Promise<void> {
  const req = engine.request({ cookies: { PHPSESSID: id } });
  expect(await req.start()).toBe(true);
  req.session.set('n', n);
  expect(await req.writeClose()).toBe(true);
  await req.end();
  expect(req.diagnostics).toEqual([]);
}

it('after one slow synchronous ftruncate, the next truncates and closes go to the thread pool; the data lands', async () => {
  const engine = new SessionEngine({ ini: { 'session.save_path': tmp.dir, 'session.cache_limiter': '', 'session.gc_probability': 0 } });
  const id = testSessionId();
  const calls = instrument(true);
  await cycle(engine, id, 1); // the slow, synchronous truncate
  expect(calls.ftruncateSync).toBe(1);
  const before = { ...calls };
  await cycle(engine, id, 2);
  await cycle(engine, id, 3);
  // One session file open at a time: without the slow-call rule these would be synchronous.
  expect(calls.ftruncateSync - before.ftruncateSync).toBe(0);
  expect(calls.ftruncate - before.ftruncate).toBe(2);
  expect(calls.close - before.close).toBeGreaterThanOrEqual(2);
  expect(readFileSync(`${tmp.dir}/sess_${id}`, 'latin1')).toBe('n|i:3;');
});
