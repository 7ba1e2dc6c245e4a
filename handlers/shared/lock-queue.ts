/**
 * @module handlers/shared/lock-queue
 * The in-process FIFO queue in front of a session lock, shared by the save-handler modules: the
 * `files` module queues its flock/lockfile waiters on {@link sessionLockQueue} (see
 * handlers/files/locks.ts), the redis module its lock waiters, and the memcache and memcached
 * modules their server-lock waiters on {@link serverLockQueue} ({@link takeQueueSlot}).
 *
 * Only the head of a key's queue touches the real lock (kernel flock, lock directory, server key);
 * the others wait on a promise, so waiting holds no thread.
 */
interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A FIFO mutex per key, for waiters inside this process. Holds no threads: waiting is a pending
 * promise. Keys with nobody holding or waiting are removed, so the map stays as small as the set
 * of sessions in use.
 */
export class KeyedQueue {
  readonly #queues = new Map<string, Waiter[]>();

  /** Number of keys currently held or waited on (for tests and diagnostics). */
  get size(): number {
    return this.#queues.size;
  }

  /** Waiters (not counting the holder) on `key`. */
  waiting(key: string): number {
    const q = this.#queues.get(key);
    return q === undefined ? 0 : q.length;
  }

  /** The release function when `key` is free now (taking it), else null; never waits. */
  tryAcquire(key: string): (() => void) | null {
    if (this.#queues.has(key)) return null;
    this.#queues.set(key, []);
    return this.#releaser(key);
  }

  /**
   * Resolves with a release function once `key` is ours. Rejects with `onTimeout()` when
   * `deadline` (ms since epoch, Infinity for none) passes first; the waiter is then dequeued.
   */
  acquire(key: string, deadline: number, onTimeout: () => unknown): Promise<() => void> {
    const q = this.#queues.get(key);
    if (q === undefined) {
      this.#queues.set(key, []);
      return Promise.resolve(this.#releaser(key));
    }
    return new Promise<() => void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => resolve(this.#releaser(key)),
        reject,
        timer: undefined,
      };
      if (Number.isFinite(deadline)) {
        waiter.timer = setTimeout(() => {
          const i = q.indexOf(waiter);
          if (i >= 0) q.splice(i, 1);
          reject(onTimeout());
        }, Math.max(0, deadline - Date.now()));
      }
      q.push(waiter);
    });
  }

  #releaser(key: string): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const q = this.#queues.get(key);
      if (q === undefined) return;
      const next = q.shift();
      if (next === undefined) {
        this.#queues.delete(key);
        return;
      }
      if (next.timer !== undefined) clearTimeout(next.timer);
      next.resolve();
    };
  }
}

/** The process-wide queue of session-lock waiters, keyed by session file path. */
export const sessionLockQueue = new KeyedQueue();

/**
 * The process-wide queue in front of locks kept on a server (the memcache and memcached modules),
 * keyed by module, server list and lock key. Only the head of a key's queue asks the server for
 * the lock, so requests of one process never poll against each other.
 */
export const serverLockQueue = new KeyedQueue();

/** A place at the head of a {@link KeyedQueue}, held until released or until its lease runs out. */
export interface QueueSlot {
  readonly key: string;
  /** False once released, by release() or by the lease. */
  readonly held: boolean;
  /** Hands the key to the next waiter; idempotent. */
  release(): void;
  /**
   * Releases the slot by itself `ms` from now unless released before (a later call replaces the
   * earlier lease), so a request that is never closed blocks the key only as long as the lock it
   * took on the server lives. Beyond a timer's range: no lease.
   */
  leaseFor(ms: number): void;
}

/** setTimeout's largest delay; longer waits count as unlimited. */
const MAX_TIMER_MS = 0x7fffffff;

/**
 * Waits up to `waitMs` for the head of `key`'s queue in `queue`. Resolves with the slot, or with
 * null when the wait ran out first (nothing is held then). `waitMs` beyond a timer's range means
 * no limit.
 */
export async function takeQueueSlot(queue: KeyedQueue, key: string, waitMs: number): Promise<QueueSlot | null> {
  let leave = queue.tryAcquire(key);
  if (leave === null) {
    const deadline = waitMs <= MAX_TIMER_MS ? Date.now() + Math.max(0, waitMs) : Infinity;
    try {
      leave = await queue.acquire(key, deadline, () => null);
    } catch {
      return null;
    }
  }
  const release = leave;
  let held = true;
  let timer: NodeJS.Timeout | undefined;
  const slot: QueueSlot = {
    key,
    get held() {
      return held;
    },
    release() {
      if (!held) return;
      held = false;
      if (timer !== undefined) clearTimeout(timer);
      release();
    },
    leaseFor(ms: number) {
      if (!held) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (ms > MAX_TIMER_MS) return;
      // The timer must not keep the process alive: it only matters while other requests run.
      timer = setTimeout(() => slot.release(), Math.max(0, ms));
      timer.unref();
    },
  };
  return slot;
}
