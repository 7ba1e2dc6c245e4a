/**
 * @module handlers/shared/memcache/common
 * Small pieces both memcache modules share: sleeping, expiry arithmetic, handing bytes to the
 * engine, and their typed ini reads ({@link IniRead}).
 */
import type { SaveHandlerContext } from '../../../lib/handler.ts';
import { iniScope, type IniScope } from '../../../lib/ini/scope.ts';

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

/**
 * One directive read with one of PHP's conversions: the module's table of named reads with their
 * defaults, over the request's typed scope (lib/ini/scope.ts), which keeps one scope per module
 * context and remembers each raw text's conversion. The raw value is still read at every call
 * (where the extension reads it: an ini_set() in between acts as in PHP).
 */
export class IniRead<T> {
  readonly #read: (scope: IniScope) => T;

  constructor(read: (scope: IniScope) => T) {
    this.#read = read;
  }

  /** The value for `ctx` now; the default for an unknown directive. */
  get(ctx: SaveHandlerContext): T {
    return this.#read(iniScope(ctx));
  }
}

/** OnUpdateBool (IniScope.bool). */
export const boolIni = (name: string, dflt: boolean): IniRead<boolean> => new IniRead((s) => s.bool(name, dflt));
/** OnUpdateLong as a number (IniScope.int). */
export const intIni = (name: string, dflt: number): IniRead<number> => new IniRead((s) => s.int(name, dflt));
/** ZEND_ATOL as a number (Number(IniScope.atol)). */
export const atolIni = (name: string, dflt: number): IniRead<number> => new IniRead((s) => Number(s.atol(name, BigInt(dflt))));
