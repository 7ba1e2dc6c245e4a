/**
 * @module ini/scope
 * A per-request view of the ini values with typed getters: each getter applies one of PHP's
 * OnUpdate* rules (through lib/zend), so modules read `scope.bool('memcached.sess_locking')`
 * instead of re-parsing raw strings. For an entry whose table already holds the parsed value of
 * that type (the session.* entries), the getter returns it without parsing again.
 *
 * @example
 * ```ts
 * const ini = iniScope(ctx);                       // ctx: SaveHandlerContext or an IniTable
 * ini.bool('session.use_strict_mode');             // OnUpdateBool → boolean
 * ini.long('session.gc_maxlifetime');              // OnUpdateLong → bigint ("1k" → 1024n)
 * ini.int('memcached.sess_lock_wait_min', 150);    // the same as a number, with a default
 * ```
 */
import { cAtof, cString, zendAtol, zendIniParseBool, zendIniParseQuantity } from '../zend/index.ts';
import type { IniEntry, IniValue } from './entry.ts';

/** Where a scope reads: the raw value of a directive; optionally its parsed value and entry. */
export interface IniSource {
  get(name: string): string | undefined;
  value?(name: string): IniValue | undefined;
  entry?(name: string): IniEntry | undefined;
}

/** Typed reads over one set of ini values (a request's table, or a save handler's context). */
export class IniScope {
  readonly #src: IniSource;

  constructor(source: IniSource) {
    this.#src = source;
  }

  #typed(name: string, type: IniEntry['type']): unknown {
    const src = this.#src;
    if (src.entry === undefined || src.value === undefined) return undefined;
    return src.entry(name)?.type === type ? src.value(name)?.parsed : undefined;
  }

  /** True when the directive exists. */
  has(name: string): boolean {
    return this.#src.get(name) !== undefined;
  }

  /** The raw value (ini_get()); `dflt` for an unknown directive. */
  string(name: string): string | undefined;
  string(name: string, dflt: string): string;
  string(name: string, dflt?: string): string | undefined {
    return this.#src.get(name) ?? dflt;
  }

  /** The value as C code sees a char* setting (OnUpdateString: cut at the first NUL). */
  cString(name: string): string | undefined;
  cString(name: string, dflt: string): string;
  cString(name: string, dflt?: string): string | undefined {
    const raw = this.#src.get(name);
    return raw === undefined ? dflt : cString(raw);
  }

  /** OnUpdateBool (zend_ini_parse_bool): "on"/"yes"/"true", else atoi() != 0. */
  bool(name: string): boolean | undefined;
  bool(name: string, dflt: boolean): boolean;
  bool(name: string, dflt?: boolean): boolean | undefined {
    const t = this.#typed(name, 'bool');
    if (typeof t === 'boolean') return t;
    const raw = this.#src.get(name);
    return raw === undefined ? dflt : zendIniParseBool(raw);
  }

  /** OnUpdateLong (zend_ini_parse_quantity, PHP 8.2): `"1k"` → 1024n; the warning belongs to the change, not here. */
  long(name: string): bigint | undefined;
  long(name: string, dflt: bigint): bigint;
  long(name: string, dflt?: bigint): bigint | undefined {
    const t = this.#typed(name, 'long');
    if (typeof t === 'bigint') return t;
    if (typeof t === 'number') return BigInt(t);
    const raw = this.#src.get(name);
    return raw === undefined ? dflt : zendIniParseQuantity(raw).value;
  }

  /** {@link IniScope.long} as a number (values beyond ±2^53 lose precision, as any JS number). */
  int(name: string): number | undefined;
  int(name: string, dflt: number): number;
  int(name: string, dflt?: number): number | undefined {
    const v = this.long(name);
    return v === undefined ? dflt : Number(v);
  }

  /** ZEND_ATOL of the raw value, for directives a module reads with atol() rather than OnUpdateLong. */
  atol(name: string): bigint | undefined;
  atol(name: string, dflt: bigint): bigint;
  atol(name: string, dflt?: bigint): bigint | undefined {
    const raw = this.#src.get(name);
    return raw === undefined ? dflt : zendAtol(raw);
  }

  /** OnUpdateReal (zend_strtod): the leading decimal number, else 0. */
  real(name: string): number | undefined;
  real(name: string, dflt: number): number;
  real(name: string, dflt?: number): number | undefined {
    const t = this.#typed(name, 'real');
    if (typeof t === 'number') return t;
    const raw = this.#src.get(name);
    return raw === undefined ? dflt : cAtof(raw);
  }
}

/** A scope over an {@link IniSource}, or over anything with PHP's `ini(name)` reader (a SaveHandlerContext). */
export function iniScope(source: IniSource | { ini(name: string): string | undefined }): IniScope {
  if ('get' in source) return new IniScope(source);
  return new IniScope({ get: (name) => source.ini(name) });
}
