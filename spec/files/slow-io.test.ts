/**
 * @module spec/files/slow-io
 * When a synchronous ftruncate of a session file is slow (the disk makes it wait), the next
 * truncates and closes go to the thread pool even with one session file open, so a server's
 * event loop keeps serving its other connections (bench/http: ext4 stalls of ~1 ms per call).
 * That mode ends only when thread-pool truncates come back fast, never by a synchronous try.
 * The same calls, in the same order, with the same data land either way. The mode is process
 * state: the tests run in order and each starts by entering it.
 *
 * Each cycle here rewrites a 5000-byte padding with another letter, so every write changes more
 * than one 4 KiB block and is PHP's truncate-then-write (a write the module may make in place,
 * handlers/files/in-place.ts, has no truncate, and its close does not wait: the last test).
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

/**
 * Replaces fs functions (also as seen through `import * as fs`), counting calls. `pool`: how a
 * thread-pool ftruncate answers: 'real', 'late' (truncated, its callback at least 1 ms later: slow), or
 * 'at-once' (the callback before the call returns, the file left as is: a disk that answers at
 * once; a real truncate here would be timed with it, and the test's data only grows).
 */
function instrument(slowFirstTruncate: boolean, pool: 'real' | 'late' | 'at-once' = 'real'): Record<keyof typeof original, number> {
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
    if (pool === 'real') return (original.ftruncate as (...a: unknown[]) => void)(...args);
    const [fd, len, cb] = args as unknown as [number, number, (err: NodeJS.ErrnoException | null) => void];
    if (pool === 'at-once') return cb(null);
    original.ftruncateSync(fd, len);
    // setTimeout(cb, 1) alone may fire 0.02 ms later (libuv's clock counts whole milliseconds),
    // which counted as a fast answer now and then: wait until a full millisecond has passed.
    const due = performance.now() + 1;
    const answer = (): void => void (performance.now() >= due ? cb(null) : setTimeout(answer, 1));
    setTimeout(answer, 1);
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

/** The padding of cycle n: 5000 bytes, its letter alternating. */
const padOf = (n: number): string => (n % 2 === 0 ? 'x' : 'y').repeat(5000);
/** The session after cycle n. */
const stored = (n: number): string => `n|i:${n};pad|s:5000:"${padOf(n)}";`;

async function cycle(engine: SessionEngine, id: string, n: number, pad = padOf(n)): Promise<void> {
  const req = engine.request({ cookies: { PHPSESSID: id } });
  expect(await req.start()).toBe(true);
  req.session.set('n', n);
  req.session.set('pad', pad);
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
  expect(readFileSync(`${tmp.dir}/sess_${id}`, 'latin1')).toBe(stored(3));
});

/** A new session after one cycle that leaves the process in slow I/O mode (whichever way its truncate went). */
async function inSlowIo(pool: 'late' | 'at-once'): Promise<{ engine: SessionEngine; id: string; calls: Record<keyof typeof original, number> }> {
  const engine = new SessionEngine({ ini: { 'session.save_path': tmp.dir, 'session.cache_limiter': '', 'session.gc_probability': 0 } });
  const id = testSessionId();
  const calls = instrument(true, pool);
  await cycle(engine, id, 0);
  return { engine, id, calls };
}

it('slow I/O mode makes no synchronous try while thread-pool truncates come back slow (300 cycles)', async () => {
  const { engine, id, calls } = await inSlowIo('late');
  const before = { ...calls };
  for (let n = 1; n <= 300; n++) await cycle(engine, id, n);
  // A synchronous try every 256 calls (the rule before) would have stalled the process here.
  expect(calls.ftruncateSync - before.ftruncateSync).toBe(0);
  expect(calls.ftruncate - before.ftruncate).toBe(300);
  expect(readFileSync(`${tmp.dir}/sess_${id}`, 'latin1')).toBe(stored(300));
});

it('slow I/O mode ends after 16 thread-pool truncates in a row came back fast', async () => {
  // Cycle 0 leaves the mode on with no fast answer counted (a slow synchronous truncate, or a
  // slow thread-pool one when an earlier test left the mode on): the count starts from here.
  const { engine, id } = await inSlowIo('late');
  const calls = instrument(false, 'at-once');
  let n = 0;
  // 16 fast answers in a row are needed; a descheduled process may make one look slow, so up to 64.
  while (calls.ftruncateSync === 0 && n < 64) await cycle(engine, id, ++n);
  expect(calls.ftruncate).toBeGreaterThanOrEqual(16);
  expect(calls.ftruncate).toBe(n - 1);
  expect(calls.ftruncateSync).toBe(1);
  expect(readFileSync(`${tmp.dir}/sess_${id}`, 'latin1')).toBe(stored(n));
});

it('in slow I/O mode, a write made in place neither truncates nor closes on the thread pool', async () => {
  const { engine, id, calls } = await inSlowIo('late');
  const before = { ...calls };
  // The padding of cycle 0 again: only n changes, in place, in the first 4 KiB.
  for (let n = 1; n <= 3; n++) await cycle(engine, id, n, padOf(0));
  expect(calls.ftruncateSync - before.ftruncateSync).toBe(0);
  expect(calls.ftruncate - before.ftruncate).toBe(0);
  expect(calls.close - before.close).toBe(0);
  expect(calls.closeSync - before.closeSync).toBe(3);
  expect(readFileSync(`${tmp.dir}/sess_${id}`, 'latin1')).toBe(`n|i:3;pad|s:5000:"${padOf(0)}";`);
});
