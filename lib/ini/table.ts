/**
 * @module ini/table
 * The per-engine / per-request ini value tables with PHP's change rules (zend_alter_ini_entry:
 * who may change an entry, its validator), module-contributed entries, and the conversion of
 * option values to ini strings.
 */
import type { ModuleIniEntry } from '../handler.ts';
import { zvalGetString } from '../zend/index.ts';
import type { IniEntry, IniHost, IniValue } from './entry.ts';
import { onUpdateCookieLifetime } from './session.ts';

/** Turns a module-contributed entry into a table entry (its validator's text becomes a warning). */
export function moduleIniEntry(e: ModuleIniEntry, moduleName?: string): IniEntry {
  const validate = e.validate;
  return {
    ...(moduleName !== undefined ? { extension: moduleName.toLowerCase() } : {}),
    name: e.name,
    default: e.default,
    changeable: e.changeable,
    onModify:
      validate === undefined
        ? (value) => ({ parsed: value })
        : (value, host) => {
            const msg = validate(value);
            if (msg !== undefined) {
              host.report('E_WARNING', msg);
              return false;
            }
            return { parsed: value };
          },
  };
}

/**
 * Converts an option value the way PHP turns it into an ini string (zval_get_string(): true → "1",
 * false/null → "", a float at `precision` 14: 0.1 + 0.2 → "0.3", 1e25 → "1.0E+25").
 */
export function iniString(v: string | number | boolean | bigint | null | undefined): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  return zvalGetString(v) as string;
}


/**
 * A set of current ini values over an entry table. The engine holds the master table (defaults,
 * engine options, php.ini); each request works on a copy, and ini_restore() returns to the master.
 *
 * A copy is copy-on-write: it reads through to the table it was made from until it changes an
 * entry or a value, so a request that changes nothing costs two empty maps. The table a copy was
 * made from must not change while the copy is in use (the engine only changes its master at
 * construction and when a module is registered; module entries are then defined in each request's
 * own copy by the request itself).
 */
/** The entries and values of a copy nothing was written to yet (never written to: each table makes its own on its first write). */
const NO_ENTRIES: ReadonlyMap<string, IniEntry> = new Map();
const NO_VALUES: ReadonlyMap<string, IniValue> = new Map();

export class IniTable {
  /** Entries defined here (for a copy: only those added since it was made). */
  #entries: Map<string, IniEntry>;
  /** Values set here (for a copy: only those changed since it was made). */
  #values: Map<string, IniValue>;
  readonly #base: IniTable | undefined;

  constructor(entries: Map<string, IniEntry>, values?: Map<string, IniValue>, base?: IniTable) {
    this.#entries = entries;
    this.#values = values ?? new Map();
    this.#base = base;
  }

  /** Adds an entry with its default value (not validated, as PHP registers defaults). */
  define(entry: IniEntry, host: IniHost): void {
    if (this.has(entry.name) && this.value(entry.name) !== undefined) return;
    this.#ownEntries().set(entry.name, entry);
    const r = this.#modify(entry, entry.default, host);
    this.#ownValues().set(entry.name, { raw: entry.default, parsed: r === false ? entry.default : r.parsed });
  }

  has(name: string): boolean {
    return this.#entries.has(name) || (this.#base !== undefined && this.#base.has(name));
  }

  entry(name: string): IniEntry | undefined {
    return this.#entries.get(name) ?? this.#base?.entry(name);
  }

  names(): string[] {
    if (this.#base === undefined) return [...this.#entries.keys()];
    const out = this.#base.names();
    for (const k of this.#entries.keys()) if (!this.#base.has(k)) out.push(k);
    return out;
  }

  /** The raw value (ini_get), or undefined for an unknown directive. */
  get(name: string): string | undefined {
    return this.value(name)?.raw;
  }

  parsed<T>(name: string): T {
    return this.value(name)?.parsed as T;
  }

  value(name: string): IniValue | undefined {
    return this.#values.get(name) ?? this.#base?.value(name);
  }

  #modify(entry: IniEntry, value: string, host: IniHost): { parsed: unknown } | false {
    if (entry.name === 'session.cookie_lifetime') {
      return onUpdateCookieLifetime(value, host, () => this.value(entry.name)?.parsed ?? 0n);
    }
    return entry.onModify === undefined ? { parsed: value } : entry.onModify(value, host);
  }

  /**
   * zend_alter_ini_entry: `user` applies PHP_INI_USER permission (only PHP_INI_ALL entries).
   * Returns false for an unknown entry, a refused permission or a refused value.
   */
  alter(name: string, value: string, host: IniHost, user = true): boolean {
    const entry = this.entry(name);
    if (entry === undefined) return false;
    if (user && entry.changeable !== 'PHP_INI_ALL') return false;
    const r = this.#modify(entry, value, host);
    if (r === false) return false;
    this.#ownValues().set(name, { raw: value, parsed: r.parsed });
    return true;
  }

  /** Sets a value already validated elsewhere (copying the master value back). */
  setValue(name: string, v: IniValue): void {
    this.#ownValues().set(name, v);
  }

  /** A copy-on-write copy (see the class comment). */
  clone(): IniTable {
    return new IniTable(NO_ENTRIES as Map<string, IniEntry>, NO_VALUES as Map<string, IniValue>, this);
  }

  #ownEntries(): Map<string, IniEntry> {
    if (this.#entries === NO_ENTRIES) this.#entries = new Map();
    return this.#entries;
  }

  #ownValues(): Map<string, IniValue> {
    if (this.#values === NO_VALUES) this.#values = new Map();
    return this.#values;
  }
}
