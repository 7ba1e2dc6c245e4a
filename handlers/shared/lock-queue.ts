/**
 * @module handlers/shared/lock-queue
 * The in-process FIFO queue in front of a session lock, shared by the save-handler modules: the
 * `files` module queues its flock/lockfile waiters on {@link sessionLockQueue} (see
 * handlers/files/locks.ts), the redis module its lock waiters, and the memcache and memcached
 * modules their server-lock waiters on the queue of their server list ({@link serverLockQueue},
 * {@link takeQueueSlot}).
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
  /** Held keys: their waiters in arrival order, or null while nobody waits (no array per hold). */
  readonly #queues = new Map<string, Waiter[] | null>();

  /** Number of keys currently held or waited on (for tests and diagnostics). */
  get size(): number {
    return this.#queues.size;
  }

  /** Waiters (not counting the holder) on `key`. */
  waiting(key: string): number {
    const q = this.#queues.get(key);
    return q == null ? 0 : q.length;
  }

  /** The release function when `key` is free now (taking it), else null; never waits. */
  tryAcquire(key: string): (() => void) | null {
    return this.take(key) ? this.#releaser(key) : null;
  }

  /**
   * Takes `key` when it is free now; true if taken. The taker must call {@link handOff} exactly
   * once to let it go (tryAcquire's release function, without the function).
   */
  take(key: string): boolean {
    if (this.#queues.has(key)) return false;
    this.#queues.set(key, null);
    return true;
  }

  /**
   * Resolves with a release function once `key` is ours. Rejects with `onTimeout()` when
   * `deadline` (ms since epoch, Infinity for none) passes first; the waiter is then dequeued.
   */
  acquire(key: string, deadline: number, onTimeout: () => unknown): Promise<() => void> {
    if (this.take(key)) return Promise.resolve(this.#releaser(key));
    let q = this.#queues.get(key)!;
    if (q === null) {
      q = [];
      this.#queues.set(key, q);
    }
    const waiters = q;
    return new Promise<() => void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => resolve(this.#releaser(key)),
        reject,
        timer: undefined,
      };
      if (Number.isFinite(deadline)) {
        waiter.timer = setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          reject(onTimeout());
        }, Math.max(0, deadline - Date.now()));
      }
      waiters.push(waiter);
    });
  }

  /**
   * Lets `key` go: the next waiter gets it, or the key is freed. Only for the holder, once per
   * take() or acquire() (the release functions call it, once).
   */
  handOff(key: string): void {
    const q = this.#queues.get(key);
    if (q === undefined) return;
    const next = q === null ? undefined : q.shift();
    if (next === undefined) {
      this.#queues.delete(key);
      return;
    }
    if (next.timer !== undefined) clearTimeout(next.timer);
    next.resolve();
  }

  #releaser(key: string): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.handOff(key);
    };
  }
}

/** The process-wide queue of session-lock waiters, keyed by session file path. */
export const sessionLockQueue = new KeyedQueue();

const serverQueues = new Map<string, KeyedQueue>();

/**
 * The process-wide queue in front of the locks a module keeps on one server list (the memcache
 * and memcached modules), keyed by lock key. Only the head of a key's queue asks the server for
 * the lock, so requests of one process never poll against each other. Callers keep the queue
 * with their parsed server list (one lookup per list, not per request).
 */
export function serverLockQueue(module: string, serverList: string): KeyedQueue {
  const id = `${module}\n${serverList}`;
  let q = serverQueues.get(id);
  if (q === undefined) {
    q = new KeyedQueue();
    serverQueues.set(id, q);
  }
  return q;
}

/** A place at the head of a {@link KeyedQueue}, held until released or until its lease runs out. */
export interface QueueSlot {
  readonly queue: KeyedQueue;
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
 * Slots with a lease, and one timer for all of them, set for the earliest lease end: a lease costs
 * no timer of its own per request (the steady state: every request's lease is replaced or ended
 * by its release long before it runs out, and the one timer fires once per lease length).
 */
const leased = new Set<Slot>();
let sweepTimer: NodeJS.Timeout | null = null;
/** When the sweep timer fires (ms since epoch). */
let sweepAt = Infinity;

function armSweep(at: number): void {
  if (sweepTimer !== null) {
    if (sweepAt <= at) return;
    clearTimeout(sweepTimer);
  }
  sweepAt = at;
  // The timer must not keep the process alive: it only matters while other requests run.
  sweepTimer = setTimeout(sweepLeases, Math.max(0, at - Date.now()));
  sweepTimer.unref();
}

/** Releases every slot whose lease has run out; sets the timer again for the earliest left. */
function sweepLeases(): void {
  sweepTimer = null;
  sweepAt = Infinity;
  const now = Date.now();
  let next = Infinity;
  for (const slot of leased) {
    if (slot.leaseEnd <= now) slot.release();
    else if (slot.leaseEnd < next) next = slot.leaseEnd;
  }
  if (next !== Infinity) armSweep(next);
}

class Slot implements QueueSlot {
  readonly key: string;
  readonly queue: KeyedQueue;
  #holding = true;
  /** When the lease runs out (ms since epoch); Infinity: no lease. */
  leaseEnd = Infinity;

  constructor(queue: KeyedQueue, key: string) {
    this.queue = queue;
    this.key = key;
  }

  get held(): boolean {
    return this.#holding && (this.leaseEnd === Infinity || Date.now() < this.leaseEnd);
  }

  release(): void {
    if (!this.#holding) return;
    this.#holding = false;
    if (this.leaseEnd !== Infinity) {
      this.leaseEnd = Infinity;
      leased.delete(this);
    }
    this.queue.handOff(this.key);
  }

  leaseFor(ms: number): void {
    if (!this.held) return;
    if (ms > MAX_TIMER_MS) {
      this.leaseEnd = Infinity;
      leased.delete(this);
      return;
    }
    this.leaseEnd = Date.now() + Math.max(0, ms);
    leased.add(this);
    armSweep(this.leaseEnd);
  }
}

/** The slot at the head of `key`'s queue in `queue` when it is free now, else null; never waits. */
export function tryTakeQueueSlot(queue: KeyedQueue, key: string): QueueSlot | null {
  return queue.take(key) ? new Slot(queue, key) : null;
}

/**
 * Waits up to `waitMs` for the head of `key`'s queue in `queue`. Resolves with the slot, or with
 * null when the wait ran out first (nothing is held then). `waitMs` beyond a timer's range means
 * no limit.
 */
export async function takeQueueSlot(queue: KeyedQueue, key: string, waitMs: number): Promise<QueueSlot | null> {
  if (!queue.take(key)) {
    const deadline = waitMs <= MAX_TIMER_MS ? Date.now() + Math.max(0, waitMs) : Infinity;
    try {
      // The slot lets the key go itself (handOff), once; the release function is not needed.
      await queue.acquire(key, deadline, () => null);
    } catch {
      return null;
    }
  }
  return new Slot(queue, key);
}
