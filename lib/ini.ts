/**
 * @module ini
 * The session ini directives as one declarative table (PHP_INI_BEGIN in session.c), PHP's value
 * parsers (zend_ini_parse_bool, zend_ini_parse_quantity), and the per-engine / per-request value
 * tables with PHP's change rules: who may change an entry, its validator, and the "session active"
 * and "headers sent" guards.
 */
import type { DiagnosticLevel } from './errors.ts';
import type { ModuleIniEntry, SaveHandlerModule } from './handler.ts';
import type { SessionSerializer } from './serializer.ts';
import { fmt, MSG } from './messages.ts';

export type IniChangeable = 'PHP_INI_ALL' | 'PHP_INI_PERDIR' | 'PHP_INI_SYSTEM';

/** When a value is applied: engine construction, a script at run time, or the end-of-request restore. */
export type IniStage = 'startup' | 'runtime' | 'deactivate';

/** What a validator may look at while deciding on a new value. */
export interface IniHost {
  readonly stage: IniStage;
  /** False while the engine is being built (PHP's PG(modules_activated)). */
  readonly modulesActivated: boolean;
  /** True only while session_set_save_handler() switches the handler to "user". */
  readonly settingUserHandler: boolean;
  sessionActive(): boolean;
  headersSent(): boolean;
  /** Reports a diagnostic; `raw` = zend_error (no function prefix). */
  report(level: DiagnosticLevel, message: string, raw?: boolean): void;
  findModule(name: string): SaveHandlerModule | undefined;
  findSerializer(name: string): SessionSerializer | undefined;
  /** Called when session.save_handler was accepted (PHP moves PS(mod) to PS(default_mod)). */
  saveHandlerChanged?(module: SaveHandlerModule | undefined): void;
}

/** One accepted value: the raw string ini_get() shows and what the engine uses. */
export interface IniValue {
  raw: string;
  parsed: unknown;
}

export interface IniEntry {
  readonly name: string;
  readonly default: string;
  readonly changeable: IniChangeable;
  /** The PHP extension that declares it (ini_get_all's filter); default "session". */
  readonly extension?: string;
  /** Validates and parses; `false` refuses the value (the old one stays). Absent: accept as a string. */
  onModify?(value: string, host: IniHost): { parsed: unknown } | false;
}

// ---------------------------------------------------------------------------------------------
// Value parsers

const WS = new Set([' ', '\t', '\n', '\r', '\v', '\f']);

/** C atol/atoi: optional leading whitespace and sign, then decimal digits; 0 when none. */
export function cAtol(s: string): bigint {
  const m = /^[ \t\n\r\v\f]*([+-]?\d+)/.exec(s);
  if (m === null) return 0n;
  return clampLong(BigInt(m[1]!));
}

const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;
const ULONG_MOD = 1n << 64n;

function clampLong(v: bigint): bigint {
  return v > LONG_MAX ? LONG_MAX : v < LONG_MIN ? LONG_MIN : v;
}

/** zend_ini_parse_bool: "true"/"yes"/"on" (any case), else atoi() != 0. */
export function parseIniBool(s: string): boolean {
  const l = s.toLowerCase();
  if (l === 'true' || l === 'yes' || l === 'on') return true;
  return cAtol(s) !== 0n;
}

/** smart_str_append_escaped: how zend_ini quotes a bad value in its warning. */
function escapeForMessage(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b >= 32 && b <= 126 && b !== 92) out += String.fromCharCode(b);
    else if (b === 10) out += '\\n';
    else if (b === 13) out += '\\r';
    else if (b === 9) out += '\\t';
    else if (b === 12) out += '\\f';
    else if (b === 11) out += '\\v';
    else if (b === 92) out += '\\\\';
    else if (b === 27) out += '\\e';
    else out += '\\x' + b.toString(16).padStart(2, '0');
  }
  return out;
}

function toSigned(u: bigint): bigint {
  u = ((u % ULONG_MOD) + ULONG_MOD) % ULONG_MOD;
  return u > LONG_MAX ? u - ULONG_MOD : u;
}

/** C strtoul on a string: returns the value, how many characters were consumed and ERANGE. */
function strtoul(s: string, base: number): { value: bigint; end: number; overflow: boolean } {
  let i = 0;
  while (i < s.length && WS.has(s[i]!)) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  if (base === 0) {
    if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
      base = 16;
      i += 2;
    } else if (s[i] === '0') base = 8;
    else base = 10;
  } else if (base === 16 && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
    i += 2;
  }
  const start = i;
  let v = 0n;
  let overflow = false;
  const B = BigInt(base);
  for (; i < s.length; i++) {
    const d = parseInt(s[i]!, 36);
    if (Number.isNaN(d) || d >= base) break;
    v = v * B + BigInt(d);
    if (v >= ULONG_MOD) overflow = true;
  }
  if (i === start) return { value: 0n, end: 0, overflow: false };
  if (overflow) return { value: ULONG_MOD - 1n, end: i, overflow };
  return { value: neg ? (ULONG_MOD - v) % ULONG_MOD : v, end: i, overflow };
}

/**
 * zend_ini_parse_quantity (signed): the value and, for a doubtful input, the explanation PHP
 * appends to `Invalid "<name>" setting. `.
 */
export function parseQuantity(value: string): { value: bigint; error?: string } {
  let str = 0;
  let strEnd = value.length;
  let digits = str;
  while (digits < strEnd && WS.has(value[digits]!)) digits++;
  while (digits < strEnd && WS.has(value[strEnd - 1]!)) strEnd--;
  if (digits === strEnd) return { value: 0n };
  const esc = (): string => escapeForMessage(value);
  let negative = false;
  if (value[digits] === '+') digits++;
  else if (value[digits] === '-') {
    negative = true;
    digits++;
  }
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
  const noDigits = {
    value: 0n,
    error: `Invalid quantity "${esc()}": no valid leading digits, interpreting as "0" for backwards compatibility`,
  };
  if (!isDigit(value[digits])) return noDigits;
  let base = 0;
  if (value[digits] === '0' && !isDigit(value[digits + 1])) {
    if (digits + 1 === strEnd) return { value: 0n };
    const c = value[digits + 1]!;
    let skipPrefix = true;
    if ('gGmMkK'.includes(c)) skipPrefix = false;
    else if (c === 'x' || c === 'X') base = 16;
    else if (c === 'o' || c === 'O') base = 8;
    else if (c === 'b' || c === 'B') base = 2;
    else {
      return {
        value: 0n,
        error: `Invalid prefix "0${c}", interpreting as "0" for backwards compatibility`,
      };
    }
    if (skipPrefix) {
      digits += 2;
      const noAfter = {
        value: 0n,
        error: `Invalid quantity "${esc()}": no digits after base prefix, interpreting as "0" for backwards compatibility`,
      };
      if (digits === strEnd) return noAfter;
      // a second sign or prefix after the first prefix
      let d = digits;
      while (d < strEnd && WS.has(value[d]!)) d++;
      if (value[d] === '+' || value[d] === '-') d++;
      if (value[d] === '0' && !isDigit(value[d + 1]) && d + 1 !== strEnd && 'xXoObB'.includes(value[d + 1] ?? '')) d += 2;
      if (d !== digits) return noAfter;
    }
  }
  const sub = value.slice(digits, strEnd);
  const r = strtoul(sub, base);
  let retval = r.value;
  let overflow = r.overflow;
  if (!overflow) {
    if (negative && retval === LONG_MAX + 1n) retval = toSigned(-retval);
    else if (retval > LONG_MAX) overflow = true;
    else if (negative) retval = -retval;
  }
  if (r.end === 0) return noDigits;
  let digitsEnd = digits + r.end;
  while (digitsEnd < strEnd && WS.has(value[digitsEnd]!)) digitsEnd++;
  const finish = (v: bigint): { value: bigint; error?: string } =>
    overflow
      ? {
          value: toSigned(v),
          error: `Invalid quantity "${esc()}": value is out of range, using overflow result for backwards compatibility`,
        }
      : { value: toSigned(v) };
  if (digitsEnd === strEnd) return finish(retval);
  const last = value[strEnd - 1]!;
  let factor: bigint;
  if (last === 'g' || last === 'G') factor = 1n << 30n;
  else if (last === 'm' || last === 'M') factor = 1n << 20n;
  else if (last === 'k' || last === 'K') factor = 1n << 10n;
  else {
    return {
      value: toSigned(retval),
      error: `Invalid quantity "${esc()}": unknown multiplier "${escapeForMessage(last)}", interpreting as "${escapeForMessage(value.slice(str, digitsEnd))}" for backwards compatibility`,
    };
  }
  const s = toSigned(retval);
  if (!overflow) overflow = s > 0n ? s > LONG_MAX / factor : s < LONG_MIN / factor;
  retval = toSigned(s * factor);
  if (digitsEnd !== strEnd - 1) {
    return {
      value: retval,
      error: `Invalid quantity "${esc()}", interpreting as "${escapeForMessage(value.slice(str, digitsEnd))}${escapeForMessage(last)}" for backwards compatibility`,
    };
  }
  return finish(retval);
}

/** PHP's is_numeric_string() for session.name (leading/trailing whitespace allowed, no hex). */
export function isNumericString(s: string): boolean {
  return /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$/.test(s);
}

// ---------------------------------------------------------------------------------------------
// Validators (OnUpdate* in session.c)

/** SESSION_CHECK_ACTIVE_STATE + SESSION_CHECK_OUTPUT_STATE; true when the change may go on. */
function guards(host: IniHost): boolean {
  if (host.sessionActive()) {
    host.report('E_WARNING', MSG.INI_ACTIVE);
    return false;
  }
  if (host.headersSent() && host.stage !== 'deactivate') {
    host.report('E_WARNING', MSG.INI_HEADERS);
    return false;
  }
  return true;
}

function quantity(name: string, value: string, host: IniHost): bigint {
  const r = parseQuantity(value);
  if (r.error !== undefined) host.report('E_WARNING', fmt(MSG.INVALID_SETTING, name, r.error), true);
  return r.value;
}

/** The C string PHP keeps for a char* setting: everything before the first NUL byte. */
export function cString(value: string): string {
  const i = value.indexOf('\0');
  return i < 0 ? value : value.slice(0, i);
}

const sessionString = (_name: string) => (value: string, host: IniHost) => (guards(host) ? { parsed: cString(value) } : false);
const sessionBool = () => (value: string, host: IniHost) => (guards(host) ? { parsed: parseIniBool(value) } : false);
const sessionLong = (name: string) => (value: string, host: IniHost) =>
  guards(host) ? { parsed: quantity(name, value, host) } : false;

function errType(host: IniHost): DiagnosticLevel {
  return host.stage === 'runtime' ? 'E_WARNING' : 'E_ERROR';
}

function onUpdateSaveHandler(value: string, host: IniHost): { parsed: unknown } | false {
  if (!guards(host)) return false;
  const mod = host.findModule(value);
  if (host.modulesActivated && mod === undefined) {
    if (host.stage !== 'deactivate') host.report(errType(host), fmt(MSG.SAVE_HANDLER_NOT_FOUND, value));
    return false;
  }
  if (!host.settingUserHandler && mod !== undefined && mod.name.toLowerCase() === 'user') {
    host.report(errType(host), MSG.SAVE_HANDLER_USER);
    return false;
  }
  host.saveHandlerChanged?.(mod);
  return { parsed: mod };
}

function onUpdateSerializer(value: string, host: IniHost): { parsed: unknown } | false {
  if (!guards(host)) return false;
  const ser = host.findSerializer(value);
  if (host.modulesActivated && ser === undefined) {
    if (host.stage !== 'deactivate') host.report(errType(host), fmt(MSG.SERIALIZER_NOT_FOUND, value));
    return false;
  }
  return { parsed: ser };
}

function onUpdateSaveDir(value: string, host: IniHost): { parsed: unknown } | false {
  if (!guards(host)) return false;
  if (host.stage === 'runtime' && value.includes('\0')) return false;
  return { parsed: cString(value) };
}

function onUpdateName(value: string, host: IniHost): { parsed: unknown } | false {
  if (!guards(host)) return false;
  if (value === '' || isNumericString(value)) {
    const level: DiagnosticLevel = host.stage === 'deactivate' ? 'E_ERROR' : 'E_WARNING';
    if (host.stage !== 'deactivate') host.report(level, fmt(MSG.NAME_NUMERIC, value));
    return false;
  }
  if (value.startsWith('\0')) return false;
  return { parsed: cString(value) };
}

/** Largest cookie lifetime PHP 8.2 stores (ZEND_LONG_MAX - INT_MAX - 1 on 64-bit builds). */
const MAX_COOKIE_LIFETIME = LONG_MAX - 2147483647n - 1n;

function onUpdateCookieLifetime(value: string, host: IniHost, current: () => unknown): { parsed: unknown } | false {
  if (!guards(host)) return false;
  const v = cAtol(value);
  if (v < 0n) {
    host.report('E_WARNING', MSG.COOKIE_LIFETIME_NEGATIVE);
    return false;
  }
  // Too large: PHP reports success but keeps the effective value.
  if (v > MAX_COOKIE_LIFETIME) return { parsed: current() };
  const q = quantity('session.cookie_lifetime', value, host);
  if (q < 0n) return false;
  return { parsed: q };
}

function sidRange(value: string, min: bigint, max: bigint): bigint | undefined {
  // ZEND_STRTOL(value, &end, 10) must consume the whole string.
  const m = /^[ \t\n\r\v\f]*([+-]?\d+)$/.exec(value);
  if (m === null) return undefined;
  const v = clampLong(BigInt(m[1]!));
  return v >= min && v <= max ? v : undefined;
}

function onUpdateSidLength(value: string, host: IniHost): { parsed: unknown } | false {
  if (!guards(host)) return false;
  const v = sidRange(value, 22n, 256n);
  if (v === undefined) {
    host.report('E_WARNING', MSG.SID_LENGTH);
    return false;
  }
  return { parsed: Number(v) };
}

function onUpdateSidBits(value: string, host: IniHost): { parsed: unknown } | false {
  if (!guards(host)) return false;
  const v = sidRange(value, 4n, 6n);
  if (v === undefined) {
    host.report('E_WARNING', MSG.SID_BITS);
    return false;
  }
  return { parsed: Number(v) };
}

function onUpdateFreq(value: string, host: IniHost): { parsed: unknown } | false {
  // ZEND_ATOL then truncation to a C int
  const tmp = Number(BigInt.asIntN(32, cAtol(value)));
  if (tmp < 0) {
    host.report('E_WARNING', MSG.FREQ_NEGATIVE);
    return false;
  }
  if (value.endsWith('%')) {
    if (tmp > 100) {
      host.report('E_WARNING', MSG.FREQ_PERCENT);
      return false;
    }
    return { parsed: -tmp };
  }
  return { parsed: tmp };
}

const plainBool = (value: string) => ({ parsed: parseIniBool(value) });
const plainString = (value: string) => ({ parsed: value });

/** The session.* directives of PHP 8.2, in PHP's order, with PHP's built-in defaults. */
export const SESSION_INI: readonly IniEntry[] = [
  { name: 'session.save_path', default: '', changeable: 'PHP_INI_ALL', onModify: onUpdateSaveDir },
  { name: 'session.name', default: 'PHPSESSID', changeable: 'PHP_INI_ALL', onModify: onUpdateName },
  { name: 'session.save_handler', default: 'files', changeable: 'PHP_INI_ALL', onModify: onUpdateSaveHandler },
  { name: 'session.auto_start', default: '0', changeable: 'PHP_INI_PERDIR', onModify: plainBool },
  { name: 'session.gc_probability', default: '1', changeable: 'PHP_INI_ALL', onModify: sessionLong('session.gc_probability') },
  { name: 'session.gc_divisor', default: '100', changeable: 'PHP_INI_ALL', onModify: sessionLong('session.gc_divisor') },
  { name: 'session.gc_maxlifetime', default: '1440', changeable: 'PHP_INI_ALL', onModify: sessionLong('session.gc_maxlifetime') },
  { name: 'session.serialize_handler', default: 'php', changeable: 'PHP_INI_ALL', onModify: onUpdateSerializer },
  { name: 'session.cookie_lifetime', default: '0', changeable: 'PHP_INI_ALL' }, // onModify bound per table (needs the current value)
  { name: 'session.cookie_path', default: '/', changeable: 'PHP_INI_ALL', onModify: sessionString('session.cookie_path') },
  { name: 'session.cookie_domain', default: '', changeable: 'PHP_INI_ALL', onModify: sessionString('session.cookie_domain') },
  { name: 'session.cookie_secure', default: '0', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  { name: 'session.cookie_httponly', default: '0', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  { name: 'session.cookie_samesite', default: '', changeable: 'PHP_INI_ALL', onModify: sessionString('session.cookie_samesite') },
  { name: 'session.use_cookies', default: '1', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  { name: 'session.use_only_cookies', default: '1', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  { name: 'session.use_strict_mode', default: '0', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  { name: 'session.referer_check', default: '', changeable: 'PHP_INI_ALL', onModify: sessionString('session.referer_check') },
  { name: 'session.cache_limiter', default: 'nocache', changeable: 'PHP_INI_ALL', onModify: sessionString('session.cache_limiter') },
  { name: 'session.cache_expire', default: '180', changeable: 'PHP_INI_ALL', onModify: sessionLong('session.cache_expire') },
  { name: 'session.use_trans_sid', default: '0', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  { name: 'session.sid_length', default: '32', changeable: 'PHP_INI_ALL', onModify: onUpdateSidLength },
  { name: 'session.sid_bits_per_character', default: '4', changeable: 'PHP_INI_ALL', onModify: onUpdateSidBits },
  { name: 'session.lazy_write', default: '1', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  // php-src declares "1", but the PHP 8.2 we check against (Debian 8.2.36, `php -n`) reports "0".
  { name: 'session.upload_progress.enabled', default: '0', changeable: 'PHP_INI_PERDIR', onModify: plainBool },
  { name: 'session.upload_progress.cleanup', default: '1', changeable: 'PHP_INI_PERDIR', onModify: plainBool },
  { name: 'session.upload_progress.prefix', default: 'upload_progress_', changeable: 'PHP_INI_PERDIR', onModify: plainString },
  { name: 'session.upload_progress.name', default: 'PHP_SESSION_UPLOAD_PROGRESS', changeable: 'PHP_INI_PERDIR', onModify: plainString },
  { name: 'session.upload_progress.freq', default: '1%', changeable: 'PHP_INI_PERDIR', onModify: onUpdateFreq },
  { name: 'session.upload_progress.min_freq', default: '1', changeable: 'PHP_INI_PERDIR', onModify: (v) => ({ parsed: parseFloat(v) || 0 }) },
  // ext/standard (url_scanner_ex): no session guards
  { name: 'session.trans_sid_tags', default: 'a=href,area=href,frame=src,form=', changeable: 'PHP_INI_ALL', onModify: plainString, extension: 'standard' },
  { name: 'session.trans_sid_hosts', default: '', changeable: 'PHP_INI_ALL', onModify: plainString, extension: 'standard' },
  { name: 'url_rewriter.tags', default: 'form=', changeable: 'PHP_INI_ALL', onModify: plainString, extension: 'standard' },
  { name: 'url_rewriter.hosts', default: '', changeable: 'PHP_INI_ALL', onModify: plainString, extension: 'standard' },
  // main/main.c: OnUpdateStringUnempty (an empty value is refused without a warning)
  { name: 'arg_separator.output', default: '&', changeable: 'PHP_INI_ALL', onModify: (v) => (v === '' ? false : { parsed: v }), extension: 'core' },
  // main/main.c: the files module's fallback directory
  { name: 'sys_temp_dir', default: '', changeable: 'PHP_INI_SYSTEM', onModify: plainString, extension: 'core' },
  // ext/standard/var.c: the serializers' depth limit
  {
    name: 'unserialize_max_depth',
    default: '4096',
    changeable: 'PHP_INI_ALL',
    extension: 'standard',
    onModify: (v, host) => ({ parsed: quantity('unserialize_max_depth', v, host) }),
  },
];

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
        ? plainString
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

/** Converts an option value the way PHP turns it into an ini string. */
export function iniString(v: string | number | boolean | bigint | null | undefined): string {
  if (v === true) return '1';
  if (v === false || v === null || v === undefined) return '';
  return String(v);
}

// ---------------------------------------------------------------------------------------------
// Tables

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
export class IniTable {
  /** Entries defined here (for a copy: only those added since it was made). */
  readonly #entries: Map<string, IniEntry>;
  /** Values set here (for a copy: only those changed since it was made). */
  readonly #values: Map<string, IniValue>;
  readonly #base: IniTable | undefined;

  constructor(entries: Map<string, IniEntry>, values?: Map<string, IniValue>, base?: IniTable) {
    this.#entries = entries;
    this.#values = values ?? new Map();
    this.#base = base;
  }

  /** Adds an entry with its default value (not validated, as PHP registers defaults). */
  define(entry: IniEntry, host: IniHost): void {
    if (this.has(entry.name) && this.value(entry.name) !== undefined) return;
    this.#entries.set(entry.name, entry);
    const r = this.#modify(entry, entry.default, host);
    this.#values.set(entry.name, { raw: entry.default, parsed: r === false ? entry.default : r.parsed });
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
    this.#values.set(name, { raw: value, parsed: r.parsed });
    return true;
  }

  /** Sets a value already validated elsewhere (copying the master value back). */
  setValue(name: string, v: IniValue): void {
    this.#values.set(name, v);
  }

  /** A copy-on-write copy (see the class comment). */
  clone(): IniTable {
    return new IniTable(new Map(), new Map(), this);
  }
}

export function sessionEntryMap(): Map<string, IniEntry> {
  return new Map(SESSION_INI.map((e) => [e.name, e]));
}

// ---------------------------------------------------------------------------------------------
// php.ini files

/**
 * Reads php.ini text into name → value, as PHP's ini scanner does for the simple forms used for
 * session settings: `name = value`, quoted values, `;` comments, [sections] ignored, and the
 * bare words on/yes/true → "1", off/no/false/none/null → "".
 */
export function parseIniText(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rawLine of text.split(/\r\n|\n|\r/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const name = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (value.startsWith('"')) {
      const end = value.indexOf('"', 1);
      value = end < 0 ? value.slice(1) : value.slice(1, end);
    } else if (value.startsWith("'")) {
      const end = value.indexOf("'", 1);
      value = end < 0 ? value.slice(1) : value.slice(1, end);
    } else {
      const sc = value.indexOf(';');
      if (sc >= 0) value = value.slice(0, sc).trim();
      const l = value.toLowerCase();
      if (l === 'on' || l === 'yes' || l === 'true') value = '1';
      else if (l === 'off' || l === 'no' || l === 'false' || l === 'none' || l === 'null') value = '';
    }
    out.set(name, value);
  }
  return out;
}
