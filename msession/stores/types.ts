/**
 * @module msession/stores/types
 * What msession needs from a store beyond PHP's SaveHandler contract: listing the ids it holds
 * (streaming), a snapshot read without the lock (for scans), and the remaining lifetime.
 */
import type { SaveHandlerContext } from '../../lib/handler.ts';

export interface ScanOptions {
  signal?: AbortSignal;
}

/** The enumeration side of one configured store (one per Msession). */
export interface SessionStore {
  /** The module name (files, memcached, ...). */
  readonly module: string;
  /** Every session id held, streamed: constant memory whatever the count. */
  ids(opts?: ScanOptions): AsyncIterable<string>;
  /** The stored bytes without taking the lock (a scan must not queue behind live requests); null when gone. */
  peek(id: string): Promise<Uint8Array | null>;
  /** Seconds left before the store drops the session (null: no such session; Infinity: never). */
  ttl(id: string): Promise<number | null>;
  /** Sets the remaining lifetime; false when the session does not exist. */
  setTtl(id: string, seconds: number): Promise<boolean>;
  /** Bytes of the stored session (for stats), null when gone. */
  size?(id: string): Promise<number | null>;
  close(): Promise<void>;
}

/** Builds the store for a save path, with the engine's ini (through the module's context). */
export type StoreFactory = (savePath: string, ctx: SaveHandlerContext) => SessionStore;

/** A user module (SaveHandlerModule) can offer enumeration by carrying this factory. */
export interface EnumerableModule {
  readonly msessionStore?: StoreFactory;
}
