/**
 * @module msession/stores/types
 * What msession needs from a store beyond PHP's SaveHandler contract: listing the ids it holds
 * (streaming), a snapshot read without the lock (for scans), and the remaining lifetime.
 */
import type { SaveHandlerContext } from '../../lib/handler.ts';
import type { MsessionError } from '../errors.ts';
import type { CandidateFilter } from '../prefilter.ts';

export interface ScanOptions {
  signal?: AbortSignal;
}

/** A batch read's answer for a session whose bytes the prefilter rejected (not copied out, not decoded). */
export const PREFILTERED: unique symbol = Symbol('msession: rejected by the prefilter');

/**
 * One session of a batch read: its bytes, null when it is gone, the error of that session alone,
 * or {@link PREFILTERED} when the read ran the scan's prefilter and the bytes cannot match.
 */
export type PeekResult = Uint8Array | null | MsessionError | typeof PREFILTERED;

/** The enumeration side of one configured store (one per Msession). */
export interface SessionStore {
  /** The module name (files, memcached, ...). */
  readonly module: string;
  /** Every session id held, streamed: constant memory whatever the count. */
  ids(opts?: ScanOptions): AsyncIterable<string>;
  /** The stored bytes without taking the lock (a scan must not queue behind live requests); null when gone. */
  peek(id: string): Promise<Uint8Array | null>;
  /** ids() in batches (one await per batch instead of one per id); optional, ids() is chunked otherwise. */
  idBatches?(opts?: ScanOptions): AsyncIterable<string[]>;
  /**
   * peek() of many ids at once (one pipelined round trip for a server, one loop of synchronous reads
   * for files), results in the order of `ids`. A failing store rejects the whole call; a session
   * that alone cannot be read gets its MsessionError in its slot. Optional: peek() is used otherwise.
   * With `filter` (find/listvar) the store may test the bytes where it reads them and answer
   * PREFILTERED for those that fail (files does, on its reader threads too); bytes it returns are
   * tested again by the scan, so a store may ignore the filter.
   */
  peekMany?(ids: readonly string[], filter?: CandidateFilter | null): Promise<PeekResult[]>;
  /**
   * peekMany() calls a scan may keep in flight ahead of the batch it decodes (results still come
   * in listing order). Default 0: one batch at a time.
   */
  readonly readAhead?: number;
  /** Seconds left before the store drops the session (null: no such session; Infinity: never). */
  ttl(id: string): Promise<number | null>;
  /** Sets the remaining lifetime; false when the session does not exist. */
  setTtl(id: string, seconds: number): Promise<boolean>;
  /** Who holds PHP's lock on the session, as far as the store can tell. */
  lockInfo?(id: string): Promise<LockInfo>;
  /** Bytes of the stored session (for stats), null when gone. */
  size?(id: string): Promise<number | null>;
  close(): Promise<void>;
}

/** The state of a session's lock. */
export interface LockInfo {
  locked: boolean;
  /** files (flock): the processes holding the lock, from /proc/locks (Linux). */
  pids?: number[];
  /** files: processes waiting for it. */
  waiting?: number;
  /** memcache(d): seconds until the server drops the lock item. */
  expiresIn?: number;
  /** memcache(d): seconds since the lock was taken (its lifetime minus what is left). */
  heldFor?: number;
}

/** Builds the store for a save path, with the engine's ini (through the module's context). */
export type StoreFactory = (savePath: string, ctx: SaveHandlerContext) => SessionStore;

/** A user module (SaveHandlerModule) can offer enumeration by carrying this factory. */
export interface EnumerableModule {
  readonly msessionStore?: StoreFactory;
}
