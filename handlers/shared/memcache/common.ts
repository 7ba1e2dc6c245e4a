/**
 * @module handlers/shared/memcache/common
 * Small pieces both memcache modules share: sleeping, expiry arithmetic, handing bytes to the
 * engine, and their typed ini reads ({@link IniRead}).
 */
import type { SaveHandlerContext } from '../../../lib/handler.ts';
import { zendAtol, zendIniParseBool, zendIniParseQuantity } from '../../../lib/zend/index.ts';

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
 * One directive read with one of PHP's conversions, as lib/ini/scope.ts's getters convert it. The
 * raw value is still read at every call (where the extension reads it: an ini_set() in between
 * acts as in PHP); only its conversion is remembered, for the last raw text seen in the process,
 * so the same text is not parsed again on every request.
 */
export class IniRead<T> {
  readonly #name: string;
  readonly #dflt: T;
  readonly #convert: (raw: string) => T;
  #raw: string | undefined = undefined;
  #value: T;

  constructor(name: string, dflt: T, convert: (raw: string) => T) {
    this.#name = name;
    this.#dflt = dflt;
    this.#convert = convert;
    this.#value = dflt;
  }

  /** The value for `ctx` now; the default for an unknown directive. */
  get(ctx: SaveHandlerContext): T {
    const raw = ctx.ini(this.#name);
    if (raw === undefined) return this.#dflt;
    if (raw !== this.#raw) {
      this.#value = this.#convert(raw);
      this.#raw = raw;
    }
    return this.#value;
  }
}

/** OnUpdateBool (IniScope.bool). */
export const boolIni = (name: string, dflt: boolean): IniRead<boolean> => new IniRead(name, dflt, zendIniParseBool);
/** OnUpdateLong as a number (IniScope.int). */
export const intIni = (name: string, dflt: number): IniRead<number> => new IniRead(name, dflt, (raw) => Number(zendIniParseQuantity(raw).value));
/** ZEND_ATOL as a number (Number(IniScope.atol)). */
export const atolIni = (name: string, dflt: number): IniRead<number> => new IniRead(name, dflt, (raw) => Number(zendAtol(raw)));
