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
 *
 * Cheap to ask for: `iniScope(ctx)` over an engine's module context gives back the scope it made
 * for that context before (a module may call it at every read), and the numbers and booleans it parses are remembered per raw string
 * (the parse is a pure function of the string). Each read still looks the raw value up, so a value
 * changed by ini_set() is seen at the next read; a refused value never reaches the table, and its
 * warning is the change's (lib/ini/table.ts), not the read's.
 */
import { cAtof, cString, zendAtol, zendIniParseBool, zendIniParseQuantity } from '../zend/index.ts';
import type { IniEntry, IniValue } from './entry.ts';

/** Where a scope reads: the raw value of a directive; optionally its parsed value and entry. */
export interface IniSource {
  get(name: string): string | undefined;
  value?(name: string): IniValue | undefined;
  entry?(name: string): IniEntry | undefined;
}

/**
 * The parsed values of raw strings, for one parse rule: bounded (emptied when full; long strings
 * not kept), since raw values come from ini_set() and a script may set many different ones.
 */
class ParseMemo<T> {
  readonly #parse: (raw: string) => T;
  readonly #values = new Map<string, T>();

  constructor(parse: (raw: string) => T) {
    this.#parse = parse;
  }

  get(raw: string): T {
    // A long value (a script may ini_set() anything) is parsed each time rather than kept.
    if (raw.length > MEMO_KEY_LIMIT) return this.#parse(raw);
    const values = this.#values;
    let v = values.get(raw);
    if (v === undefined) {
      v = this.#parse(raw);
      if (values.size >= MEMO_LIMIT) values.clear();
      values.set(raw, v);
    }
    return v;
  }
}

/** How many raw strings each memo keeps, and the longest it keeps. */
const MEMO_LIMIT = 256;
const MEMO_KEY_LIMIT = 64;
const QUANTITIES = new ParseMemo((raw) => zendIniParseQuantity(raw).value);
const ATOLS = new ParseMemo(zendAtol);
const BOOLS = new ParseMemo(zendIniParseBool);
const REALS = new ParseMemo(cAtof);

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
    return raw === undefined ? dflt : BOOLS.get(raw);
  }

  /** OnUpdateLong (zend_ini_parse_quantity, PHP 8.2): `"1k"` → 1024n; the warning belongs to the change, not here. */
  long(name: string): bigint | undefined;
  long(name: string, dflt: bigint): bigint;
  long(name: string, dflt?: bigint): bigint | undefined {
    const t = this.#typed(name, 'long');
    if (typeof t === 'bigint') return t;
    if (typeof t === 'number') return BigInt(t);
    const raw = this.#src.get(name);
    return raw === undefined ? dflt : QUANTITIES.get(raw);
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
    return raw === undefined ? dflt : ATOLS.get(raw);
  }

  /** OnUpdateReal (zend_strtod): the leading decimal number, else 0. */
  real(name: string): number | undefined;
  real(name: string, dflt: number): number;
  real(name: string, dflt?: number): number | undefined {
    const t = this.#typed(name, 'real');
    if (typeof t === 'number') return t;
    const raw = this.#src.get(name);
    return raw === undefined ? dflt : REALS.get(raw);
  }
}

/** A source over a `ini(name)` reader (a SaveHandlerContext). */
class ReaderSource implements IniSource {
  readonly #reader: IniReader;

  constructor(reader: IniReader) {
    this.#reader = reader;
  }

  get(name: string): string | undefined {
    return this.#reader.ini(name);
  }
}

type IniReader = { ini(name: string): string | undefined };

/**
 * Where a source keeps the scope made for it: a source that declares this slot (null until the
 * first call) gets the same scope at each {@link iniScope} call; the engine's module contexts
 * declare it. (A slot, not a WeakMap keyed by the source: a WeakMap gaining an entry per request
 * made the files cycle ~30% dearer in CPU, V8's collections processing its dead entries.)
 */
export const INI_SCOPE_SLOT: unique symbol = Symbol('iniScope');

/** A source with a place for its scope (see {@link INI_SCOPE_SLOT}). */
export interface IniScopeSlot {
  [INI_SCOPE_SLOT]?: IniScope | null;
}

/**
 * A scope over an {@link IniSource}, or over anything with PHP's `ini(name)` reader (a
 * SaveHandlerContext); for a source with an {@link INI_SCOPE_SLOT}, the same scope each time.
 */
export function iniScope(source: (IniSource | IniReader) & IniScopeSlot): IniScope {
  const kept = source[INI_SCOPE_SLOT];
  if (kept !== undefined && kept !== null) return kept;
  const scope = new IniScope('get' in source ? source : new ReaderSource(source));
  if (kept === null) source[INI_SCOPE_SLOT] = scope;
  return scope;
}
