/**
 * @module spec/memcache/lock-queue
 * The in-process queue in front of the memcache modules' server locks (handlers/shared/lock-queue.ts
 * takeQueueSlot), and php-memcached's total lock wait (lockWaitBudget), without a server.
 */
import { describe, expect, it } from 'vitest';
import { lockWaitBudget } from '../../handlers/memcached.ts';
import { KeyedQueue, takeQueueSlot, tryTakeQueueSlot } from '../../handlers/shared/lock-queue.ts';

describe('takeQueueSlot', () => {
  it('hands the key over in arrival order; release is idempotent', async () => {
    const q = new KeyedQueue();
    const first = (await takeQueueSlot(q, 'k', 1000))!;
    const order: number[] = [];
    const waiting = [1, 2, 3].map((i) => takeQueueSlot(q, 'k', 60_000).then((s) => (order.push(i), s!)));
    expect(q.waiting('k')).toBe(3);
    first.release();
    first.release();
    expect(first.held).toBe(false);
    for (const w of waiting) (await w).release();
    expect(order).toEqual([1, 2, 3]);
    expect(q.size).toBe(0);
  });

  it('gives null when the wait runs out, and leaves nothing behind', async () => {
    const q = new KeyedQueue();
    const holder = (await takeQueueSlot(q, 'k', 0))!;
    expect(await takeQueueSlot(q, 'k', 0)).toBeNull();
    expect(await takeQueueSlot(q, 'k', 20)).toBeNull();
    expect(q.waiting('k')).toBe(0);
    holder.release();
    expect(q.size).toBe(0);
  });

  it('a lease passes the key on by itself; the old holder\'s release then does nothing', async () => {
    const q = new KeyedQueue();
    const stuck = (await takeQueueSlot(q, 'k', 0))!;
    stuck.leaseFor(10);
    const next = (await takeQueueSlot(q, 'k', 60_000))!;
    expect(stuck.held).toBe(false);
    expect(next.held).toBe(true);
    stuck.release();
    expect(next.held).toBe(true);
    expect(q.waiting('k')).toBe(0);
    const third = takeQueueSlot(q, 'k', 60_000);
    expect(q.waiting('k')).toBe(1);
    next.release();
    (await third)!.release();
    expect(q.size).toBe(0);
  });

  it('tryTakeQueueSlot takes a free key at once and never queues', async () => {
    const q = new KeyedQueue();
    const first = tryTakeQueueSlot(q, 'k')!;
    expect(first.held).toBe(true);
    expect(tryTakeQueueSlot(q, 'k')).toBeNull();
    const waiting = takeQueueSlot(q, 'k', 60_000);
    expect(tryTakeQueueSlot(q, 'k')).toBeNull();
    expect(q.waiting('k')).toBe(1);
    first.release();
    (await waiting)!.release();
    expect(q.size).toBe(0);
  });

  it('leases share one timer: a shorter lease set after a longer one still passes its key on', async () => {
    const q = new KeyedQueue();
    const long = (await takeQueueSlot(q, 'a', 0))!;
    long.leaseFor(60_000);
    const short = (await takeQueueSlot(q, 'b', 0))!;
    short.leaseFor(10);
    const next = await takeQueueSlot(q, 'b', 5_000);
    expect(next).not.toBeNull();
    expect(short.held).toBe(false);
    expect(long.held).toBe(true);
    next!.release();
    long.release();
    expect(q.size).toBe(0);
  });

  it('a lease replaced by a longer one, or by none, no longer releases the slot', async () => {
    const q = new KeyedQueue();
    const first = (await takeQueueSlot(q, 'k', 0))!;
    first.leaseFor(10);
    first.leaseFor(0x7fffffff + 1);
    const second = (await takeQueueSlot(q, 'j', 0))!;
    second.leaseFor(20);
    // The sweep for the 20 ms lease also looks at the first slot: no lease any more, still held.
    expect(await takeQueueSlot(q, 'j', 5_000)).not.toBeNull();
    expect(first.held).toBe(true);
    expect(await takeQueueSlot(q, 'k', 0)).toBeNull();
    first.release();
    expect(q.waiting('k')).toBe(0);
  });
});

describe('lockWaitBudget (php-memcached: retries waits, doubling from wait_min up to wait_max)', () => {
  it.each([
    [150, 150, 5, 750],
    [5, 20, 200, 5 + 10 + 20 * 198],
    [100, 1000, 4, 100 + 200 + 400 + 800],
    [300, 100, 3, 300 + 100 + 100],
    [0, 150, 5, 0],
    [150, 150, 0, 0],
    [150, 150, -1, 0],
    [1, 10, 2_000_000_000, 1 + 2 + 4 + 8 + 10 * (2_000_000_000 - 4)],
  ])('wait_min %i, wait_max %i, retries %i: %i ms', (min, max, retries, total) => {
    expect(lockWaitBudget(min, max, retries)).toBe(total);
  });
});
