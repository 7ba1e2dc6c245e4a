/**
 * @module handlers/shared/memcache/common
 * Small pieces both memcache modules share: sleeping, expiry arithmetic, handing bytes to the
 * engine. (They read their ini
 * directives through the request's typed scope, lib/ini/scope.ts.)
 */
import type { SaveHandlerContext } from '../../../lib/handler.ts';

/** memcached treats an exptime above 30 days as an absolute Unix time (REALTIME_MAXDELTA). */
export const REALTIME_MAXDELTA = 60 * 60 * 24 * 30;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Current Unix time in whole seconds on the request's clock. */
export function unixNow(ctx: SaveHandlerContext): number {
  return Math.floor(ctx.now() / 1000);
}

/**
 * The bytes of `b` as a plain Uint8Array over the same memory (what a module's read returns), not
 * a copy: the client's reply buffers are the caller's to keep.
 */
export function plainBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
