/**
 * @module session/bytes-pool
 * The encoder's output buffers for session writes, reused once nothing references them (issue #16:
 * a fresh 140 KB ArrayBuffer a cycle is external memory V8 frees only after a GC, and its pressure
 * brings scavenges and mark-compacts).
 *
 * A buffer is lent for one encode ({@link BytesPool.take}) with a {@link Lease}, which counts its
 * owners: the write that sends it (until the module's write resolves; only modules that declare
 * SaveHandler.forgetsWrittenData), the validated-bytes cache slot holding it (until replaced or
 * evicted), the lazy_write snapshot of each request that read it from the cache (until cleared).
 * Each owner holds its own count and drops it once. A buffer some session's lazy entries point
 * into (a span of it may be read for as long as the session array lives) is pinned: never reused.
 * When the last owner drops an unpinned buffer it goes back to the pool (at most {@link MAX_FREE}
 * kept). A lease is one lending: a late drop of an old lease never touches a later lending.
 */

/** Buffers kept for reuse at most (a writer and a cache slot in turn need two). */
const MAX_FREE = 2;

/** One lending of a pooled buffer. */
export class Lease {
  #refs = 1;
  #pinned = false;
  #done = false;
  constructor(
    readonly pool: BytesPool,
    readonly buffer: Buffer,
  ) {}

  /** One more owner; false when the lending is over (the bytes are not this lease's any more). */
  hold(): boolean {
    if (this.#done) return false;
    this.#refs++;
    return true;
  }

  /** An owner is done with the bytes; the last one gives the buffer back unless pinned. */
  drop(): void {
    if (this.#done || --this.#refs > 0) return;
    this.#done = true;
    if (!this.#pinned) this.pool.giveBack(this);
  }

  /** Something whose lifetime is not counted (a session's lazy entry) points into the bytes: never reused. */
  pin(): void {
    this.#pinned = true;
  }

  get pinned(): boolean {
    return this.#pinned;
  }

  get done(): boolean {
    return this.#done;
  }
}

export class BytesPool {
  /** The current lending of each pooled buffer, by its memory. */
  readonly #leases = new WeakMap<ArrayBufferLike, Lease>();
  readonly #free: Buffer[] = [];

  /**
   * A buffer of at least `size` bytes for one encode, lent with one owner (the caller): a free one
   * of at most twice that size, else a new one.
   */
  take(size: number): Lease {
    let buf: Buffer | undefined;
    for (let i = 0; i < this.#free.length; i++) {
      const b = this.#free[i]!;
      if (b.length >= size && b.length <= 2 * size) {
        buf = b;
        this.#free.splice(i, 1);
        break;
      }
    }
    buf ??= Buffer.allocUnsafeSlow(size);
    const lease = new Lease(this, buf);
    this.#leases.set(buf.buffer, lease);
    return lease;
  }

  /** The lending `bytes` are part of, while it lasts. */
  leaseOf(bytes: Uint8Array): Lease | undefined {
    const l = this.#leases.get(bytes.buffer);
    return l === undefined || l.done ? undefined : l;
  }

  /** One more owner of `bytes` when they are lent: the lease to drop later, else undefined. */
  hold(bytes: Uint8Array): Lease | undefined {
    const l = this.leaseOf(bytes);
    return l !== undefined && l.hold() ? l : undefined;
  }

  /** Buffers free for reuse now (tests). */
  get freeCount(): number {
    return this.#free.length;
  }

  /** Called by a lease whose last owner dropped it. */
  giveBack(lease: Lease): void {
    if (this.#leases.get(lease.buffer.buffer) !== lease) return;
    this.#leases.delete(lease.buffer.buffer);
    if (this.#free.length < MAX_FREE) this.#free.push(lease.buffer);
  }
}

/** Where a request keeps its lazy_write snapshot and its count on the snapshot's bytes. */
export interface SnapshotHolder {
  snapshot: Uint8Array | null;
  snapshotLease: Lease | undefined;
}

/** Sets the lazy_write snapshot: the count on the one it replaces is dropped, one on `bytes` taken when they are lent. */
export function setSnapshot(ps: SnapshotHolder, bytes: Uint8Array | null, pool: BytesPool | undefined): void {
  const old = ps.snapshotLease;
  ps.snapshot = bytes;
  ps.snapshotLease = bytes === null ? undefined : pool?.hold(bytes);
  old?.drop();
}
