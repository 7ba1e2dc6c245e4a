/**
 * @module spec/files/locks
 * The lock machinery on its own: the in-process FIFO queue (order, timeouts, no leftovers), the
 * non-blocking flock try, and the lock-file mode's directory (outside PHP's GC pattern).
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LockTimeoutError } from '../../lib/errors.ts';
import { acquireSessionLock, lockDirPath, tryFlockExclusive } from '../../handlers/files/locks.ts';
import { KeyedQueue } from '../../handlers/shared/lock-queue.ts';
import { tempDir } from './support.ts';

describe('KeyedQueue', () => {
  it('hands a key to waiters in arrival order and forgets idle keys', async () => {
    const q = new KeyedQueue();
    const order: number[] = [];
    const first = await q.acquire('k', Infinity, () => new Error('timeout'));
    const waiters = [1, 2, 3].map((n) =>
      q.acquire('k', Infinity, () => new Error('timeout')).then((release) => {
        order.push(n);
        release();
      }),
    );
    expect(q.waiting('k')).toBe(3);
    first();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(q.size).toBe(0);
  });

  it('a waiter past its deadline leaves the queue with the given error; the others still get through', async () => {
    const q = new KeyedQueue();
    const first = await q.acquire('k', Infinity, () => new Error('never'));
    const late = q.acquire('k', Date.now() + 30, () => new Error('timed out'));
    const patient = q.acquire('k', Infinity, () => new Error('never'));
    await expect(late).rejects.toThrow('timed out');
    expect(q.waiting('k')).toBe(1);
    first();
    (await patient)();
    expect(q.size).toBe(0);
  });

  it('release is idempotent', async () => {
    const q = new KeyedQueue();
    const r = await q.acquire('k', Infinity, () => new Error('x'));
    const next = q.acquire('k', Infinity, () => new Error('x'));
    r();
    r();
    const r2 = await next;
    expect(q.size).toBe(1);
    r2();
    expect(q.size).toBe(0);
  });
});

describe('session locks', () => {
  const tmp = tempDir('locks');
  afterAll(() => tmp.remove());

  it('flock: a second descriptor cannot take the lock until the first is closed', () => {
    const p = join(tmp.dir, 'sess_flock');
    const a = openSync(p, 'w');
    const b = openSync(p, 'r');
    expect(tryFlockExclusive(a)).toBe(true);
    expect(tryFlockExclusive(b)).toBe(false);
    closeSync(a);
    expect(tryFlockExclusive(b)).toBe(true);
    closeSync(b);
  });

  it('flock with a wait limit: LockTimeoutError with the id and the time waited', async () => {
    const p = join(tmp.dir, 'sess_timeout');
    const a = openSync(p, 'w');
    const b = openSync(p, 'r');
    const held = await acquireSessionLock('flock', p, a, { id: 'timeout', timeoutMs: 0 });
    // Same path, so the second waiter queues in-process behind the holder.
    const err = await acquireSessionLock('flock', p, b, { id: 'timeout', timeoutMs: 80 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect((err as LockTimeoutError).id).toBe('timeout');
    expect((err as LockTimeoutError).waitedMs).toBeGreaterThanOrEqual(70);
    closeSync(a);
    await held.release();
    const again = await acquireSessionLock('flock', p, b, { id: 'timeout', timeoutMs: 80 });
    closeSync(b);
    await again.release();
  });

  it('lockfile: the lock directory is .sess_<id>.lock (not matched by PHP GC\'s sess_ prefix) and goes away on release', async () => {
    const p = join(tmp.dir, 'sess_abc');
    expect(lockDirPath(p)).toBe(join(tmp.dir, '.sess_abc.lock'));
    const fd = openSync(p, 'w');
    const held = await acquireSessionLock('lockfile', p, fd, { id: 'abc', timeoutMs: 0 });
    expect(existsSync(lockDirPath(p))).toBe(true);
    const err = await acquireSessionLock('lockfile', p, fd, { id: 'abc', timeoutMs: 60 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    await held.release();
    closeSync(fd);
    expect(existsSync(lockDirPath(p))).toBe(false);
  });
});
