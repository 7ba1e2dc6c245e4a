/**
 * @module request
 * One request's session state: what PHP keeps in PS() between RINIT and RSHUTDOWN, every session_*
 * function with PHP's state machine, and the header lines and diagnostics PHP would produce.
 * Port of the request-time half of ext/session/session.c (PHP 8.2).
 */
import { statSync } from 'node:fs';
import {
  PhpArgumentCountError,
  PhpError,
  PhpTypeError,
  PhpValueError,
  SessionError,
  type Diagnostic,
  type DiagnosticLevel,
} from './errors.ts';
import type { SaveHandler, SaveHandlerContext, SaveHandlerModule } from './handler.ts';
import type { SerializerContext, SessionSerializer } from './serializer.ts';
import { IniTable, iniString, type IniHost, type IniStage } from './ini.ts';
import { fmt, MSG } from './messages.ts';
import { createSessionId, hasDangerousChars, isValidSessionId } from './session-id.ts';
import { cacheLimiterHeaders, hasForbiddenNameChars, sessionCookieValue } from './cookie.ts';
import {
  normalizeInt,
  PhpArray,
  PhpBytes,
  PhpFloat,
  PhpObject,
  type JsInput,
  type PhpValue,
} from './value.ts';
import { zendZvalTypeName as phpTypeName } from './zend/types.ts';

/** session_status() values. */
export const PHP_SESSION_DISABLED = 0;
export const PHP_SESSION_NONE = 1;
export const PHP_SESSION_ACTIVE = 2;
export type SessionStatus = 0 | 1 | 2;

/** A request variable: a string, or (as PHP allows, `?PHPSESSID[]=x`) an array. */
export type RequestVar = string | PhpArray;

/** Where output started, for the "(output started at file:line)" suffix. */
export interface OutputStart {
  file: string;
  line: number;
}

/** Input of {@link SessionEngine.request}: PHP's request globals and clock. */
export interface RequestOptions {
  /** $_COOKIE (decoded values). */
  cookies?: Record<string, RequestVar>;
  /** $_GET. */
  query?: Record<string, RequestVar>;
  /** $_POST. */
  body?: Record<string, RequestVar>;
  /** $_SERVER as the engine saw it (only HTTP_REFERER is read, for session.referer_check). */
  server?: Record<string, string>;
  /** Output already started: true, or where it started. */
  headersSent?: boolean | OutputStart;
  /** The request's clock in ms since the epoch; default Date.now() at each use. */
  now?: number;
  /** The running script (SAPI path_translated); its mtime gives the cache limiters' Last-Modified. */
  scriptPath?: string;
  /** Called for each diagnostic as it is raised (a runtime may print it live). */
  onDiagnostic?: (d: Diagnostic) => void;
}

/** The `user` module's seam (handlers/user.ts), typed structurally so the engine does not depend on it. */
export interface UserModuleApi {
  parseSaveHandlerArgs(args: readonly unknown[], previous?: UserSpecLike): UserSpecLike;
  createUserSaveHandler(spec: UserSpecLike, ctx: UserContextLike): UserHandlerLike;
}
export interface UserSpecLike {
  readonly className: string | undefined;
  readonly registerShutdown: boolean;
  readonly argumentDiagnostics: readonly Diagnostic[];
}
export interface UserContextLike extends SaveHandlerContext {
  defaultModule: SaveHandlerModule | undefined;
  sessionActive(): boolean;
  pendingException?(): unknown;
  setPendingException?(error: unknown): void;
}
export interface UserHandlerLike extends SaveHandler {
  readonly opened?: boolean;
  readonly inSaveHandler?: boolean;
}

/** What a request needs from its engine (MINIT state). */
export interface EngineCore {
  readonly masterIni: IniTable;
  findModule(name: string): SaveHandlerModule | undefined;
  findSerializer(name: string): SessionSerializer | undefined;
  readonly userApi: UserModuleApi | undefined;
  gcRandom(): number;
  /** Defines missing module ini entries in `table`; `host` may be a factory (called only when needed). */
  syncModuleIni(table: IniTable, host: IniHost | (() => IniHost)): void;
  /** MINIT diagnostics not yet shown; handed to the first request (PHP prints them in its output). */
  takeStartupDiagnostics(): Diagnostic[];
}

type ShutdownFn = () => unknown;

const te = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What `await` would treat as a promise (an object or function with a callable `then`). */
function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return (
    ((typeof v === 'object' && v !== null) || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** The settled "startup done" of a request without auto_start. */
const READY: Promise<void> = Promise.resolve();

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Bytes as a PHP string value: a JS string when valid UTF-8, else PhpBytes. */
export function bytesToPhpString(b: Uint8Array): string | PhpBytes {
  try {
    return utf8.decode(b);
  } catch {
    return new PhpBytes(b);
  }
}

function phpStringToBytes(s: string | PhpBytes | Uint8Array): Uint8Array {
  if (s instanceof PhpBytes) return s.bytes;
  if (s instanceof Uint8Array) return s;
  return te.encode(s);
}

/** A PHP value's type name as zend_zval_type_name() words it. */
function typeName(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string' || v instanceof PhpBytes || v instanceof Uint8Array) return 'string';
  if (v instanceof PhpFloat) return 'float';
  if (v instanceof PhpArray || Array.isArray(v) || v instanceof Map) return 'array';
  if (v instanceof PhpObject) return v.className;
  if (typeof v === 'function') return 'Closure';
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v) as object | null;
    if (proto === null || proto === Object.prototype) return 'array';
    return phpTypeName(v as PhpValue);
  }
  return 'mixed';
}

function isPhpArrayLike(v: unknown): v is PhpArray | Record<string, unknown> | unknown[] | Map<unknown, unknown> {
  if (v instanceof PhpArray || Array.isArray(v) || v instanceof Map) return true;
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto === null || proto === Object.prototype;
}

function toPhpArray(v: PhpArray | Record<string, unknown> | unknown[] | Map<unknown, unknown>): PhpArray {
  return v instanceof PhpArray ? v : PhpArray.from(v as JsInput);
}

/** PHP's float to string (precision 17 shortest round-trip, as PHP 8 prints floats). */
function floatToString(f: number): string {
  if (Number.isNaN(f)) return 'NAN';
  if (!Number.isFinite(f)) return f > 0 ? 'INF' : '-INF';
  if (Number.isInteger(f) && Math.abs(f) < 1e15) return String(f);
  const s = String(f);
  return s.replace(/e\+?/, 'E+').replace('E+-', 'E-');
}

/** zval_get_string() for scalars (arrays give "Array"). */
function zvalToString(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v === true) return '1';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floatToString(v);
  if (v instanceof PhpFloat) return floatToString(v.value);
  if (v instanceof PhpBytes) return v.toBinaryString();
  if (isPhpArrayLike(v)) return 'Array';
  return String(v);
}

/** zval_is_true(). */
function zvalIsTrue(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (v === true) return true;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (v instanceof PhpFloat) return v.value !== 0;
  if (typeof v === 'string') return v !== '' && v !== '0';
  if (v instanceof PhpBytes) return !(v.bytes.length === 0 || (v.bytes.length === 1 && v.bytes[0] === 0x30));
  if (v instanceof PhpArray) return v.size > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isPhpArrayLike(v)) return Object.keys(v).length > 0;
  return true;
}

/** zval_get_long() for the read_and_close option (string, int, bool). */
function zvalToLong(v: unknown): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'bigint') return v === 0n ? 0 : 1;
  if (typeof v === 'string') {
    const m = /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(v);
    return m === null ? 0 : Math.trunc(Number(m[0].trim())) || 0;
  }
  return 0;
}

/**
 * One request (PHP's RINIT..RSHUTDOWN). Create it with {@link SessionEngine.request}.
 * @example
 * const req = engine.request({ cookies: { PHPSESSID: 'abc' } });
 * await req.start();
 * req.session.set('n', 1);
 * await req.end();
 */
export class SessionRequest {
  /** $_COOKIE as the script sees it now (session_start reads it, so changes count). */
  cookies: Record<string, RequestVar>;
  /** $_GET. */
  query: Record<string, RequestVar>;
  /** $_POST. */
  body: Record<string, RequestVar>;
  /** The server array (HTTP_REFERER). */
  readonly server: Record<string, string>;

  readonly #core: EngineCore;
  readonly #ini: IniTable;
  readonly #modified = new Set<string>();
  readonly #nowFixed: number | undefined;
  readonly #scriptPath: string | undefined;
  readonly #onDiagnostic: ((d: Diagnostic) => void) | undefined;

  #status: SessionStatus = PHP_SESSION_NONE;
  #id: string | null = null;
  #sendCookie = false;
  #defineSid = true;
  #mod: SaveHandlerModule | undefined;
  #defaultMod: SaveHandlerModule | undefined;
  #serializer: SessionSerializer | undefined;
  #handler: SaveHandler | null = null;
  /** PHP's `PS(mod_data) || PS(mod_user_implemented)`. */
  #handlerOpen = false;
  #snapshot: Uint8Array | null = null;
  #sessionVar: PhpValue | undefined = undefined;
  #bound = false;
  #headers: Array<[string, string]> = [];
  #diagnostics: Diagnostic[] = [];
  #headersSent: false | { file?: string; line?: number } = false;
  #fn: string | undefined;
  #settingUserHandler = false;
  #userSpec: UserSpecLike | undefined;
  /**
   * PHP's mod_user_class_name: the class of the handler object given to session_set_save_handler,
   * which names a failed write (`Class::write`). Callables clear it, and so does
   * php_rshutdown_session_globals (session_destroy): later failures are named `write`.
   */
  #userClassName: string | undefined;
  #pending: { error: unknown } | undefined;
  #sid: string | undefined;
  #transSid = false;
  #shutdownFns: Array<{ name?: string; fn: ShutdownFn }> = [];
  #ended = false;
  #inHandler = 0;

  #functions: SessionFunctions | undefined;

  /** The session functions under their PHP names, as a PHP runtime binds them (built on first use). */
  get functions(): SessionFunctions {
    return (this.#functions ??= this.#buildFunctions());
  }

  constructor(core: EngineCore, opts: RequestOptions = {}) {
    this.#core = core;
    this.cookies = opts.cookies ?? {};
    this.query = opts.query ?? {};
    this.body = opts.body ?? {};
    this.server = opts.server ?? {};
    this.#nowFixed = opts.now;
    this.#scriptPath = opts.scriptPath;
    this.#onDiagnostic = opts.onDiagnostic;
    if (opts.headersSent !== undefined && opts.headersSent !== false) {
      this.#headersSent = opts.headersSent === true ? {} : { ...opts.headersSent };
    }
    this.#ini = core.masterIni.clone();
    core.syncModuleIni(this.#ini, () => this.#host('startup'));
    for (const d of core.takeStartupDiagnostics()) {
      this.#diagnostics.push(d);
      this.#onDiagnostic?.(d);
    }
    // RINIT: find the module and serializer named by the ini values.
    this.#mod = core.findModule(this.#ini.get('session.save_handler') ?? '');
    this.#serializer =
      this.#ini.parsed<SessionSerializer | undefined>('session.serialize_handler') ??
      core.findSerializer(this.#ini.get('session.serialize_handler') ?? '');
    if (this.#mod === undefined || this.#serializer === undefined) this.#status = PHP_SESSION_DISABLED;
    if (this.#status !== PHP_SESSION_DISABLED && this.#iniBool('session.auto_start')) {
      this.#ready = this.#autoStart();
    }
  }

  #ready: Promise<void> = READY;

  /** RINIT's auto_start: php_session_start() outside any function ("PHP Request Startup: "). */
  async #autoStart(): Promise<void> {
    this.#fn = 'PHP Request Startup';
    try {
      await this.#phpSessionStart();
    } finally {
      this.#fn = undefined;
    }
  }

  /**
   * Settles when request startup is done (session.auto_start starts the session here). Every
   * async session function waits for it; await it before calling the synchronous ones.
   */
  get ready(): Promise<void> {
    return this.#ready.then(() => {
      this.#throwPending();
    });
  }

  // -------------------------------------------------------------------------------------------
  // Public state

  /** $_SESSION. Before the first start it is created empty on first use, as PHP creates it on write. */
  get session(): PhpArray {
    const v = this.#sessionVar;
    if (v === undefined || v === null) {
      const a = new PhpArray();
      this.#sessionVar = a;
      return a;
    }
    if (!(v instanceof PhpArray)) throw new PhpError('Cannot use a scalar value as an array');
    return v;
  }

  set session(value: PhpArray | Record<string, JsInput>) {
    this.#sessionVar = value instanceof PhpArray ? value : PhpArray.from(value);
  }

  /** $_SESSION exactly as it is (undefined when unset; any value a script assigned). */
  get sessionValue(): PhpValue | undefined {
    return this.#sessionVar;
  }

  set sessionValue(value: PhpValue | undefined) {
    this.#sessionVar = value;
  }

  /** Header lines PHP would send, in order. */
  get headers(): Array<[string, string]> {
    return this.#headers;
  }

  /** Warnings, notices and deprecations raised so far, with PHP's texts. */
  get diagnostics(): Diagnostic[] {
    return this.#diagnostics;
  }

  /** The SID constant ("" or "name=id"); undefined before the first id reset. */
  get sid(): string | undefined {
    return this.#sid;
  }

  /** True when PHP would rewrite URLs of the output with the id (trans-sid armed). */
  get transSidActive(): boolean {
    return this.#transSid;
  }

  /** PHP's headers_sent(). */
  get headersSent(): boolean {
    return this.#headersSent !== false;
  }

  /** Output has started (optionally where): later header changes fail as in PHP. */
  markHeadersSent(file?: string, line?: number): void {
    if (this.#headersSent === false) this.#headersSent = file === undefined ? {} : { file, line: line ?? 0 };
  }

  /** Sets the headers-sent state (a runtime that buffers output may also reset it). */
  setHeadersSent(sent: boolean | OutputStart): void {
    this.#headersSent = sent === false ? false : sent === true ? {} : { ...sent };
  }

  /** Adds a header line as PHP's header() does (`replace` removes earlier ones of the same name). */
  addHeader(name: string, value: string, replace = true): void {
    if (replace) this.#headers = this.#headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase());
    this.#headers.push([name, value]);
  }

  /** Registers a shutdown function (register_shutdown_function); end() runs them before RSHUTDOWN. */
  registerShutdownFunction(fn: ShutdownFn): void {
    this.#shutdownFns.push({ fn });
  }

  /** The request's clock, ms. */
  now(): number {
    return this.#nowFixed ?? Date.now();
  }

  // -------------------------------------------------------------------------------------------
  // Internals: diagnostics, ini host, handler calls

  #report(level: DiagnosticLevel, message: string, raw = false): void {
    let text = message;
    if (!raw) {
      const fn = this.#fn;
      text = fn === undefined ? `PHP Request Shutdown: ${message}` : fn.startsWith('PHP ') ? `${fn}: ${message}` : `${fn}(): ${message}`;
    }
    const d: Diagnostic = { level, message: text };
    this.#diagnostics.push(d);
    this.#onDiagnostic?.(d);
  }

  #host(stage: IniStage = 'runtime'): IniHost {
    return {
      stage,
      modulesActivated: true,
      settingUserHandler: this.#settingUserHandler,
      sessionActive: () => this.#status === PHP_SESSION_ACTIVE,
      headersSent: () => this.#headersSent !== false,
      report: (l, m, raw) => this.#report(l, m, raw),
      findModule: (n) => this.#core.findModule(n),
      findSerializer: (n) => this.#core.findSerializer(n),
      saveHandlerChanged: (m) => {
        this.#defaultMod = this.#mod;
        this.#mod = m;
      },
    };
  }

  /** zend_alter_ini_entry at run time with user permission. */
  #alterIni(name: string, value: string): boolean {
    const ok = this.#ini.alter(name, value, this.#host('runtime'), true);
    if (ok) {
      this.#modified.add(name);
      if (name === 'session.serialize_handler') {
        this.#serializer = this.#ini.parsed<SessionSerializer | undefined>(name);
      }
    }
    return ok;
  }

  /** The status, re-read (TypeScript would otherwise narrow it across awaits). */
  #currentStatus(): SessionStatus {
    return this.#status;
  }

  #iniBool(name: string): boolean {
    return this.#ini.parsed<boolean>(name) === true;
  }

  #iniLong(name: string): bigint {
    const v = this.#ini.parsed<unknown>(name);
    return typeof v === 'bigint' ? v : BigInt(Number(v ?? 0));
  }

  /** A string setting as PHP's C code sees it (cut at a NUL byte for char* settings). */
  #iniStr(name: string): string {
    const v = this.#ini.value(name);
    if (v === undefined) return '';
    return typeof v.parsed === 'string' ? v.parsed : v.raw;
  }

  get #savePath(): string {
    return this.#iniStr('session.save_path');
  }

  get #name(): string {
    return this.#iniStr('session.name');
  }

  get #maxLifetime(): number {
    return Number(this.#iniLong('session.gc_maxlifetime'));
  }

  #modName(): string {
    return this.#mod?.name ?? '';
  }

  #isUserMod(): boolean {
    return this.#mod !== undefined && this.#mod.name.toLowerCase() === 'user';
  }

  /** The built-in id generator with the current sid_length / sid_bits_per_character. */
  #defaultId(): string {
    return createSessionId(
      this.#ini.parsed<number>('session.sid_length') ?? 32,
      this.#ini.parsed<number>('session.sid_bits_per_character') ?? 4,
    );
  }

  #moduleContext(): UserContextLike {
    return {
      ini: (n) => this.#ini.get(n),
      diagnostic: (l, m, raw) => this.#report(l, m, raw === true),
      createId: () => this.#defaultId(),
      now: () => this.now(),
      defaultModule: this.#defaultMod,
      sessionActive: () => this.#status === PHP_SESSION_ACTIVE,
      pendingException: () => this.#pending?.error,
      // zend_throw_exception with one already pending: the new exception becomes current (the
      // module links the old one as its previous, the `cause` it passes).
      setPendingException: (e) => {
        this.#pending = { error: e };
      },
    };
  }

  #instantiate(): SaveHandler {
    const mod = this.#mod!;
    const ctx = this.#moduleContext();
    const api = this.#core.userApi;
    if (this.#isUserMod() && this.#userSpec !== undefined && api !== undefined) {
      return api.createUserSaveHandler(this.#userSpec, ctx);
    }
    return mod.create(ctx);
  }

  /**
   * Calls into the module; a throw becomes PHP's pending exception and the call fails. A module
   * method that answers with a plain value (not a thenable) gets a plain value back, without a
   * promise; a thenable is awaited (the result is then a native Promise).
   */
  #call<T>(fn: () => T | PromiseLike<T>, failed: T): T | Promise<T> {
    this.#inHandler++;
    let r: T | PromiseLike<T>;
    try {
      r = fn();
    } catch (e) {
      this.#inHandler--;
      if (this.#pending === undefined) this.#pending = { error: e };
      return failed;
    }
    if (isThenable(r)) return this.#callAsync(r, failed);
    this.#inHandler--;
    return r;
  }

  async #callAsync<T>(p: PromiseLike<T>, failed: T): Promise<T> {
    try {
      return await p;
    } catch (e) {
      if (this.#pending === undefined) this.#pending = { error: e };
      return failed;
    } finally {
      this.#inHandler--;
    }
  }

  #throwPending(): void {
    const p = this.#pending;
    if (p !== undefined) {
      this.#pending = undefined;
      throw p.error;
    }
  }

  /** Runs a PHP function body with its name as the diagnostics prefix; rethrows a pending exception. */
  #run<T>(fn: string, body: () => T | Promise<T>): Promise<T> {
    if (this.#ready !== READY) return this.#runAfterReady(fn, body);
    const outer = this.#fn;
    this.#fn = fn;
    let r: T | Promise<T>;
    try {
      r = body();
    } catch (e) {
      this.#fn = outer;
      return Promise.reject(e);
    }
    if (r instanceof Promise) return this.#finishRun(r, outer);
    this.#fn = outer;
    const p = this.#pending;
    if (p !== undefined) {
      this.#pending = undefined;
      return Promise.reject(p.error);
    }
    return Promise.resolve(r);
  }

  async #finishRun<T>(body: Promise<T>, outer: string | undefined): Promise<T> {
    try {
      const r = await body;
      this.#throwPending();
      return r;
    } finally {
      this.#fn = outer;
    }
  }

  async #runAfterReady<T>(fn: string, body: () => T | Promise<T>): Promise<T> {
    await this.#ready;
    const outer = this.#fn;
    this.#fn = fn;
    try {
      const r = await body();
      this.#throwPending();
      return r;
    } finally {
      this.#fn = outer;
    }
  }

  #runSync<T>(fn: string, body: () => T): T {
    const outer = this.#fn;
    this.#fn = fn;
    try {
      return body();
    } finally {
      this.#fn = outer;
    }
  }

  #argc(fn: string, args: readonly unknown[], min: number, max: number): void {
    const n = args.length;
    if (n >= min && n <= max) return;
    const bound = n < min ? min : max;
    const word = min === max ? 'exactly' : n < min ? 'at least' : 'at most';
    throw new PhpArgumentCountError(`${fn}() expects ${word} ${bound} argument${bound === 1 ? '' : 's'}, ${n} given`);
  }

  /** Coercive-mode string parameter (`?string` when nullable). */
  #strArg(fn: string, n: number, pname: string, v: unknown, nullable: boolean): string | null {
    if (v === undefined || v === null) {
      if (nullable) return null;
      this.#runSync(fn, () =>
        this.#report('E_DEPRECATED', `Passing null to parameter #${n} ($${pname}) of type string is deprecated`),
      );
      return '';
    }
    if (typeof v === 'string') return v;
    if (v instanceof PhpBytes) return v.toBinaryString();
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v instanceof PhpFloat) {
      return zvalToString(v);
    }
    throw new PhpTypeError(
      `${fn}(): Argument #${n} ($${pname}) must be of type ${nullable ? '?string' : 'string'}, ${typeName(v)} given`,
    );
  }

  #boolArg(fn: string, n: number, pname: string, v: unknown, nullable: boolean): boolean | null {
    if (v === undefined || v === null) return nullable ? null : false;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number' || typeof v === 'bigint' || v instanceof PhpFloat) return zvalIsTrue(v);
    if (typeof v === 'string') return zvalIsTrue(v);
    throw new PhpTypeError(
      `${fn}(): Argument #${n} ($${pname}) must be of type ${nullable ? '?bool' : 'bool'}, ${typeName(v)} given`,
    );
  }

  #intArg(fn: string, n: number, pname: string, v: unknown, nullable: boolean, types = nullable ? '?int' : 'int'): bigint | null {
    if (v === undefined || v === null) return nullable ? null : 0n;
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    if (typeof v === 'boolean') return v ? 1n : 0n;
    if (typeof v === 'string' && /^[ \t\n\r\v\f]*[+-]?\d+[ \t\n\r\v\f]*$/.test(v)) return BigInt(v.trim());
    if ((typeof v === 'number' || v instanceof PhpFloat) && Number.isFinite(Number(v))) {
      const f = Number(v);
      if (Number.isInteger(f)) return BigInt(f);
      this.#runSync(fn, () =>
        this.#report('E_DEPRECATED', `Implicit conversion from float ${floatToString(f)} to int loses precision`),
      );
      return BigInt(Math.trunc(f));
    }
    throw new PhpTypeError(`${fn}(): Argument #${n} ($${pname}) must be of type ${types}, ${typeName(v)} given`);
  }

  // -------------------------------------------------------------------------------------------
  // Engine internals (php_session_* in session.c)

  /** php_session_track_init: a fresh, bound, empty $_SESSION. */
  #trackInit(): void {
    this.#sessionVar = new PhpArray();
    this.#bound = true;
  }

  #boundArray(): PhpArray | undefined {
    return this.#bound && this.#sessionVar instanceof PhpArray ? this.#sessionVar : undefined;
  }

  #serCtx: SerializerContext | undefined;

  /** The serializer's context (made once per request; its depth follows unserialize_max_depth). */
  #serializerContext(): SerializerContext {
    const depth = this.#ini.parsed<unknown>('unserialize_max_depth');
    const maxDepth = typeof depth === 'bigint' ? Number(depth) : 4096;
    const c = this.#serCtx;
    if (c !== undefined && c.maxDepth === maxDepth) return c;
    return (this.#serCtx = { diagnostic: (l, m) => this.#report(l, m), maxDepth });
  }

  /** php_session_encode: the encoded session, or null (with PHP's warning where PHP warns). */
  #encode(): Uint8Array | null {
    const arr = this.#boundArray();
    if (arr === undefined) {
      this.#report('E_WARNING', MSG.ENCODE_NO_SESSION);
      return null;
    }
    if (this.#serializer === undefined) {
      this.#report('E_WARNING', MSG.ENCODE_UNKNOWN_SERIALIZER);
      return null;
    }
    try {
      return this.#serializer.encode(arr, this.#serializerContext());
    } catch (e) {
      if (this.#pending === undefined) this.#pending = { error: e };
      return null;
    }
  }

  /** php_session_decode. */
  #decode(data: Uint8Array): boolean | Promise<boolean> {
    if (this.#serializer === undefined) {
      this.#report('E_WARNING', MSG.DECODE_UNKNOWN_SERIALIZER);
      return false;
    }
    let current = this.#boundArray();
    if (current === undefined) {
      current = new PhpArray();
    }
    let ok = false;
    let thrown: { error: unknown } | undefined;
    try {
      const r = this.#serializer.decode(data, current, this.#serializerContext());
      if (r.ok) {
        ok = true;
        const s = r.session;
        this.#sessionVar = s === null ? new PhpArray() : s;
        this.#bound = true;
      }
    } catch (e) {
      if (!(e instanceof SessionError) || e.code !== 'ERR_UNSERIALIZE') thrown = { error: e };
    }
    if (!ok) return this.#decodeFailed(thrown);
    return true;
  }

  async #decodeFailed(thrown: { error: unknown } | undefined): Promise<false> {
    await this.#destroy();
    this.#trackInit();
    this.#report('E_WARNING', MSG.DECODE_FAILED);
    if (thrown !== undefined && this.#pending === undefined) this.#pending = thrown;
    return false;
  }

  #closeHandler(): void | Promise<void> {
    const h = this.#handler;
    if (h !== null && this.#isOpen()) {
      const r = this.#call(() => h.close(), false);
      if (r instanceof Promise) {
        return r.then(() => {
          this.#handlerOpen = false;
        });
      }
    }
    this.#handlerOpen = false;
  }

  #isOpen(): boolean {
    const h = this.#handler as UserHandlerLike | null;
    if (h !== null && typeof h.opened === 'boolean') return h.opened || this.#handlerOpen;
    return this.#handlerOpen;
  }

  /** php_session_abort. */
  async #abort(): Promise<boolean> {
    if (this.#status !== PHP_SESSION_ACTIVE) return false;
    if (this.#isOpen()) await this.#closeHandler();
    this.#status = PHP_SESSION_NONE;
    return true;
  }

  #open(): boolean | Promise<boolean> {
    // PHP keeps one module-data slot: opening again while open (session_reset) re-opens the same
    // storage, and the module releases what it held (mod_files closes its file in open).
    const h = this.#handler !== null && this.#isOpen() ? this.#handler : this.#instantiate();
    this.#handler = h;
    const r = this.#call(() => h.open(this.#savePath, this.#name), false);
    return r instanceof Promise ? r.then((ok) => this.#opened(ok)) : this.#opened(r);
  }

  #opened(ok: boolean): boolean {
    // The user module counts as open once open() was called, whatever it returned.
    this.#handlerOpen = ok === true || this.#isUserMod();
    return ok === true;
  }

  async #createSid(): Promise<string | null> {
    const h = this.#handler!;
    if (h.createSid === undefined) return this.#defaultId();
    const r = await this.#call(() => h.createSid!(), null);
    return typeof r === 'string' ? r : null;
  }

  async #validateSid(id: string): Promise<boolean> {
    const h = this.#handler!;
    return (await this.#call(() => h.validateSid!(id), false)) === true;
  }

  /**
   * php_session_initialize. Steps that answer at once are chained without promises; the first
   * one that returns a promise continues the rest after it.
   */
  #initialize(): boolean | Promise<boolean> {
    this.#status = PHP_SESSION_ACTIVE;
    if (this.#mod === undefined) {
      this.#status = PHP_SESSION_DISABLED;
      this.#report('E_WARNING', MSG.NO_STORAGE_MODULE);
      return false;
    }
    const opened = this.#open();
    if (opened instanceof Promise) return opened.then((ok) => this.#initOpened(ok));
    return this.#initOpened(opened);
  }

  #initOpened(opened: boolean): boolean | Promise<boolean> {
    if (!opened) return this.#initOpenFailed();
    const useCookies = this.#iniBool('session.use_cookies');
    if (this.#id === null || this.#id === '' || this.#id.startsWith('\0')) return this.#initNewId(useCookies);
    if (this.#iniBool('session.use_strict_mode') && this.#handler!.validateSid !== undefined) {
      return this.#initStrict(this.#id, useCookies);
    }
    return this.#initRead();
  }

  async #initOpenFailed(): Promise<false> {
    await this.#abort();
    if (this.#pending === undefined) {
      this.#report('E_WARNING', fmt(MSG.INIT_STORAGE_FAILED, this.#modName(), this.#savePath));
    }
    return false;
  }

  async #initNewId(useCookies: boolean): Promise<boolean> {
    this.#id = await this.#createSid();
    if (this.#id === null) {
      await this.#abort();
      if (this.#pending === undefined) {
        this.#pending = { error: new PhpError(fmt(MSG.CREATE_ID_FAILED, this.#modName(), this.#savePath)) };
      }
      return false;
    }
    if (useCookies) this.#sendCookie = true;
    return this.#initRead();
  }

  async #initStrict(id: string, useCookies: boolean): Promise<boolean> {
    if (!(await this.#validateSid(id))) {
      this.#id = (await this.#createSid()) ?? this.#defaultId();
      if (useCookies) this.#sendCookie = true;
    }
    return this.#initRead();
  }

  #initRead(): boolean | Promise<boolean> {
    if (!this.#resetId()) return this.#abort().then(() => false);
    this.#trackInit();
    const h = this.#handler!;
    const id = this.#id!;
    const data = this.#call(() => h.read(id, this.#maxLifetime), false as const);
    if (data instanceof Promise) return data.then((d) => this.#initReadDone(d));
    return this.#initReadDone(data);
  }

  #initReadDone(data: Uint8Array | false): boolean | Promise<boolean> {
    if (data === false) return this.#initReadFailed();
    // GC must run after the read.
    const gc = this.#gc(false);
    if (gc instanceof Promise) return gc.then(() => this.#initDecode(data));
    return this.#initDecode(data);
  }

  async #initReadFailed(): Promise<false> {
    await this.#abort();
    if (this.#pending === undefined) {
      this.#report('E_WARNING', fmt(MSG.READ_FAILED, this.#modName(), this.#savePath));
    }
    return false;
  }

  #initDecode(data: Uint8Array): true | Promise<true> {
    this.#snapshot = null;
    if (this.#iniBool('session.lazy_write')) this.#snapshot = data.slice();
    const decoded = this.#decode(data);
    return decoded instanceof Promise ? decoded.then(() => true) : true;
  }

  /** php_session_gc: the probability draw at start, or an immediate run (session_gc). */
  #gc(immediate: boolean): number | Promise<number> {
    if (!this.#isOpen() || this.#handler === null) return -1;
    const h = this.#handler;
    const run = async (): Promise<number> => {
      const r = await this.#call(() => h.gc(this.#maxLifetime), -1);
      return typeof r === 'number' ? r : -1;
    };
    if (immediate) return run();
    const divisor = Number(this.#iniLong('session.gc_divisor'));
    const probability = this.#iniLong('session.gc_probability');
    const nrand = Math.trunc(Math.fround(divisor) * this.#core.gcRandom());
    if (probability > 0n && BigInt(nrand) < probability) return run().then(() => -1);
    return -1;
  }

  /** php_session_save_current_state. */
  #saveState(write: boolean): void | Promise<void> {
    if (write && this.#boundArray() !== undefined) {
      let r: boolean | Promise<boolean> = false;
      let op: 'write' | 'update_timestamp' = 'write';
      const h = this.#handler;
      if (this.#isOpen() && h !== null) {
        const id = this.#id ?? '';
        const val = this.#encode();
        if (val !== null) {
          if (
            this.#iniBool('session.lazy_write') &&
            this.#snapshot !== null &&
            h.updateTimestamp !== undefined &&
            bytesEqual(val, this.#snapshot)
          ) {
            op = 'update_timestamp';
            r = this.#call(() => h.updateTimestamp!(id, val, this.#maxLifetime), false);
          } else {
            r = this.#call(() => h.write(id, val, this.#maxLifetime), false);
          }
        } else {
          r = this.#call(() => h.write(id, new Uint8Array(0), this.#maxLifetime), false);
        }
      }
      if (r instanceof Promise) return r.then((ok) => this.#saved(ok === true, op, h));
      return this.#saved(r === true, op, h);
    }
    return this.#closeAfterSave();
  }

  /** The rest of php_session_save_current_state once the write (or touch) answered. */
  #saved(ok: boolean, op: 'write' | 'update_timestamp', h: SaveHandler | null): void | Promise<void> {
    if (!ok && this.#pending === undefined) {
      const user = this.#isOpen() && this.#isUserMod() && h !== null && this.#userSpec !== undefined;
      if (!user) {
        this.#report('E_WARNING', fmt(MSG.WRITE_FAILED, this.#modName(), this.#savePath));
      } else {
        const cls = this.#userClassName;
        const label = cls === undefined ? op : `${cls}::${op === 'write' ? 'write' : 'updateTimestamp'}`;
        this.#report('E_WARNING', fmt(MSG.WRITE_FAILED_USER, this.#savePath, label));
      }
    }
    return this.#closeAfterSave();
  }

  #closeAfterSave(): void | Promise<void> {
    if (this.#isOpen()) return this.#closeHandler();
  }

  /** php_session_flush. */
  #flush(write: boolean): boolean | Promise<boolean> {
    if (this.#status !== PHP_SESSION_ACTIVE) return false;
    const saving = this.#saveState(write);
    if (saving !== undefined) {
      return saving.then(() => {
        this.#status = PHP_SESSION_NONE;
        return true;
      });
    }
    this.#status = PHP_SESSION_NONE;
    return true;
  }

  /** php_rshutdown_session_globals. */
  #releaseGlobals(): void | Promise<void> {
    this.#bound = false;
    if (this.#isOpen()) {
      const closing = this.#closeHandler();
      if (closing !== undefined) return closing.then(() => this.#clearGlobals());
    }
    this.#clearGlobals();
  }

  #clearGlobals(): void {
    this.#userClassName = undefined;
    this.#id = null;
    this.#snapshot = null;
    this.#status = PHP_SESSION_NONE;
  }

  /** php_session_destroy. */
  async #destroy(): Promise<boolean> {
    if (this.#status !== PHP_SESSION_ACTIVE) {
      this.#report('E_WARNING', MSG.DESTROY_UNINITIALIZED);
      return false;
    }
    let ok = true;
    const h = this.#handler;
    const id = this.#id;
    if (id !== null && h !== null) {
      if ((await this.#call(() => h.destroy(id), false)) !== true) {
        ok = false;
        if (this.#pending === undefined) this.#report('E_WARNING', MSG.DESTROY_FAILED);
      }
    }
    await this.#releaseGlobals();
    // php_rinit_session_globals
    this.#defineSid = true;
    return ok;
  }

  /** php_session_send_cookie. */
  #sendSessionCookie(): boolean {
    if (this.#headersSent !== false) {
      const at = this.#headersSent;
      if (at.file !== undefined) this.#report('E_WARNING', fmt(MSG.COOKIE_SENT_AT, at.file, at.line ?? 0));
      else this.#report('E_WARNING', MSG.COOKIE_SENT);
      return false;
    }
    const name = this.#name;
    if (hasForbiddenNameChars(name)) {
      this.#report('E_WARNING', MSG.COOKIE_NAME_FORBIDDEN);
      return false;
    }
    const value = sessionCookieValue({
      name,
      id: this.#id ?? '',
      lifetime: this.#iniLong('session.cookie_lifetime'),
      path: this.#iniStr('session.cookie_path'),
      domain: this.#iniStr('session.cookie_domain'),
      secure: this.#iniBool('session.cookie_secure'),
      httponly: this.#iniBool('session.cookie_httponly'),
      samesite: this.#iniStr('session.cookie_samesite'),
      nowSeconds: Math.floor(this.now() / 1000),
    });
    // Remove an already queued cookie of this session (but no other Set-Cookie line).
    const prefix = `${name}=`;
    this.#headers = this.#headers.filter(([n, v]) => !(n === 'Set-Cookie' && v.startsWith(prefix)));
    this.#headers.push(['Set-Cookie', value]);
    return true;
  }

  /** php_session_reset_id. */
  #resetId(): boolean {
    if (this.#id === null) {
      this.#report('E_WARNING', MSG.ID_NOT_INITIALIZED);
      return false;
    }
    const useCookies = this.#iniBool('session.use_cookies');
    if (useCookies && this.#sendCookie) {
      this.#sendSessionCookie();
      this.#sendCookie = false;
    }
    this.#sid = this.#defineSid ? `${this.#name}=${this.#id}` : '';
    let trans = this.#iniBool('session.use_trans_sid') && !this.#iniBool('session.use_only_cookies');
    if (trans && useCookies && Object.hasOwn(this.cookies, this.#name)) trans = false;
    this.#transSid = trans;
    return true;
  }

  /** php_session_cache_limiter: 0 sent or nothing to send, -1 not applicable, -2 headers already sent. */
  #cacheLimiter(): number | Promise<number> {
    const limiter = this.#iniStr('session.cache_limiter');
    if (limiter === '') return 0;
    if (this.#status !== PHP_SESSION_ACTIVE) return -1;
    if (this.#headersSent !== false) return this.#cacheLimiterTooLate(this.#headersSent);
    return this.#sendCacheLimiter(limiter);
  }

  async #cacheLimiterTooLate(at: { file?: string; line?: number }): Promise<number> {
    await this.#abort();
    if (at.file !== undefined) this.#report('E_WARNING', fmt(MSG.CACHE_LIMITER_SENT_AT, at.file, at.line ?? 0));
    else this.#report('E_WARNING', MSG.CACHE_LIMITER_SENT);
    return -2;
  }

  #sendCacheLimiter(limiter: string): number {
    let mtime: number | undefined;
    if (this.#scriptPath !== undefined) {
      try {
        mtime = Math.floor(statSync(this.#scriptPath).mtimeMs / 1000);
      } catch {
        mtime = undefined;
      }
    }
    const lines = cacheLimiterHeaders(
      limiter,
      BigInt.asIntN(64, this.#iniLong('session.cache_expire')),
      Math.floor(this.now() / 1000),
      mtime,
    );
    if (lines === undefined) return -1;
    for (const [n, v] of lines) this.addHeader(n, v, true);
    return 0;
  }

  #lookupVar(source: Record<string, RequestVar>, name: string): { found: boolean; value: RequestVar | undefined } {
    if (!Object.hasOwn(source, name)) return { found: false, value: undefined };
    return { found: true, value: source[name] };
  }

  /** ppid2sid. */
  #adoptId(v: RequestVar | undefined): void {
    if (typeof v === 'string') {
      this.#id = v;
      this.#sendCookie = false;
    } else {
      this.#id = null;
      this.#sendCookie = true;
    }
  }

  /** php_session_start. */
  #phpSessionStart(): boolean | Promise<boolean> {
    switch (this.#status) {
      case PHP_SESSION_ACTIVE:
        this.#report('E_NOTICE', MSG.ALREADY_STARTED, true);
        return false;
      case PHP_SESSION_DISABLED: {
        const handlerName = this.#ini.get('session.save_handler') ?? '';
        if (this.#mod === undefined) {
          this.#mod = this.#core.findModule(handlerName);
          if (this.#mod === undefined) {
            this.#report('E_WARNING', fmt(MSG.NO_SAVE_HANDLER, handlerName));
            return false;
          }
        }
        const serName = this.#ini.get('session.serialize_handler') ?? '';
        if (this.#serializer === undefined) {
          this.#serializer = this.#core.findSerializer(serName);
          if (this.#serializer === undefined) {
            this.#report('E_WARNING', fmt(MSG.NO_SERIALIZER, serName));
            return false;
          }
        }
        this.#status = PHP_SESSION_NONE;
        break;
      }
      default:
        break;
    }
    const useCookies = this.#iniBool('session.use_cookies');
    const useOnlyCookies = this.#iniBool('session.use_only_cookies');
    this.#defineSid = !useOnlyCookies;
    this.#sendCookie = useCookies || useOnlyCookies;
    const name = this.#name;
    if (this.#id === null) {
      if (useCookies) {
        const c = this.#lookupVar(this.cookies, name);
        if (c.found) {
          this.#adoptId(c.value);
          this.#sendCookie = false;
          this.#defineSid = false;
        }
      }
      if (!useOnlyCookies) {
        if (this.#id === null) {
          const g = this.#lookupVar(this.query, name);
          if (g.found) this.#adoptId(g.value);
        }
        if (this.#id === null) {
          const p = this.#lookupVar(this.body, name);
          if (p.found) this.#adoptId(p.value);
        }
        const check = this.#iniStr('session.referer_check');
        const referer = Object.hasOwn(this.server, 'HTTP_REFERER') ? this.server['HTTP_REFERER'] : undefined;
        if (this.#id !== null && check !== '' && typeof referer === 'string' && referer !== '' && !referer.includes(check)) {
          this.#id = null;
        }
      }
    }
    if (this.#id !== null && hasDangerousChars(this.#id)) this.#id = null;
    const initialized = this.#initialize();
    if (initialized instanceof Promise) return initialized.then((ok) => this.#startInitialized(ok));
    return this.#startInitialized(initialized);
  }

  #startInitialized(ok: boolean): boolean | Promise<boolean> {
    if (!ok) {
      this.#status = PHP_SESSION_NONE;
      this.#id = null;
      return false;
    }
    const limited = this.#cacheLimiter();
    if (limited instanceof Promise) return limited.then((l) => this.#startLimited(l));
    return this.#startLimited(limited);
  }

  #startLimited(limited: number): boolean {
    if (limited === -2) {
      this.#status = PHP_SESSION_NONE;
      this.#id = null;
      return false;
    }
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // PHP functions (implementation; argument checking lives in the `functions` object)

  #sessionStart(options: PhpArray | undefined): boolean | Promise<boolean> {
    if (this.#status === PHP_SESSION_ACTIVE) {
      this.#report('E_NOTICE', MSG.START_ACTIVE);
      return true;
    }
    if (this.#iniBool('session.use_cookies') && this.#headersSent !== false) {
      this.#report('E_WARNING', MSG.START_HEADERS);
      return false;
    }
    let readAndClose = 0;
    if (options !== undefined) {
      for (const [key, value] of options) {
        if (typeof key !== 'string' && !(key instanceof PhpBytes)) continue;
        const k = typeof key === 'string' ? key : key.toBinaryString();
        if (
          typeof value === 'string' ||
          typeof value === 'boolean' ||
          typeof value === 'bigint' ||
          (typeof value === 'number' && Number.isSafeInteger(value)) ||
          value instanceof PhpBytes
        ) {
          if (k === 'read_and_close') {
            readAndClose = zvalToLong(value instanceof PhpBytes ? value.toBinaryString() : value);
          } else {
            const str = value instanceof PhpBytes ? value.toBinaryString() : iniString(value);
            if (!this.#alterIni(`session.${k}`, str)) this.#report('E_WARNING', fmt(MSG.START_OPTION_FAILED, k));
          }
        } else {
          throw new PhpTypeError(fmt(MSG.START_OPTION_TYPE, 'session_start', k, typeName(value)));
        }
      }
    }
    const started = this.#phpSessionStart();
    if (started instanceof Promise) return started.then(() => this.#sessionStarted(readAndClose));
    return this.#sessionStarted(readAndClose);
  }

  #sessionStarted(readAndClose: number): boolean | Promise<boolean> {
    if (this.#currentStatus() !== PHP_SESSION_ACTIVE) {
      this.#boundArray()?.clear();
      return false;
    }
    if (readAndClose !== 0) {
      const flushing = this.#flush(false);
      if (flushing instanceof Promise) return flushing.then(() => true);
    }
    return true;
  }

  /** session_write_close() / session_commit(). */
  #writeClose(): boolean | Promise<boolean> {
    if (this.#status !== PHP_SESSION_ACTIVE) return false;
    const flushing = this.#flush(true);
    return flushing instanceof Promise ? flushing.then(() => true) : true;
  }

  async #regenerateId(del: boolean): Promise<boolean> {
    if (this.#status !== PHP_SESSION_ACTIVE) {
      this.#report('E_WARNING', MSG.REGENERATE_INACTIVE);
      return false;
    }
    if (this.#headersSent !== false) {
      this.#report('E_WARNING', MSG.REGENERATE_HEADERS);
      return false;
    }
    const h = this.#handler!;
    const oldId = this.#id ?? '';
    const path = this.#savePath;
    const mod = this.#modName();
    if (del) {
      if ((await this.#call(() => h.destroy(oldId), false)) !== true) {
        await this.#closeHandler();
        this.#status = PHP_SESSION_NONE;
        if (this.#pending === undefined) this.#report('E_WARNING', fmt(MSG.REGENERATE_DESTROY_FAILED, mod, path));
        return false;
      }
    } else {
      const data = this.#encode() ?? new Uint8Array(0);
      if ((await this.#call(() => h.write(oldId, data, this.#maxLifetime), false)) !== true) {
        await this.#closeHandler();
        this.#status = PHP_SESSION_NONE;
        this.#report('E_WARNING', fmt(MSG.REGENERATE_WRITE_FAILED, mod, path));
        return false;
      }
    }
    await this.#closeHandler();
    this.#snapshot = null;
    this.#id = null;
    const fail = (msg: string): false => {
      this.#status = PHP_SESSION_NONE;
      if (this.#pending === undefined) this.#pending = { error: new PhpError(fmt(msg, mod, path)) };
      return false;
    };
    if (!(await this.#open())) return fail(MSG.REGENERATE_OPEN_FAILED);
    this.#id = await this.#createSid();
    if (this.#id === null) return fail(MSG.REGENERATE_CREATE_FAILED);
    if (this.#iniBool('session.use_strict_mode') && this.#handler!.validateSid !== undefined) {
      let limit = 3;
      while (limit-- > 0 && (await this.#validateSid(this.#id))) {
        this.#id = await this.#createSid();
        if (this.#id === null) {
          await this.#closeHandler();
          return fail(MSG.REGENERATE_COLLISION);
        }
      }
    }
    const nh = this.#handler!;
    const newId = this.#id;
    if ((await this.#call(() => nh.read(newId, this.#maxLifetime), false as const)) === false) {
      await this.#closeHandler();
      return fail(MSG.REGENERATE_READ_FAILED);
    }
    if (this.#iniBool('session.use_cookies')) this.#sendCookie = true;
    return this.#resetId();
  }

  async #createId(prefix: string): Promise<string | false> {
    let id = '';
    if (prefix !== '') {
      if (!isValidSessionId(prefix)) {
        this.#report('E_WARNING', MSG.PREFIX_INVALID);
        return false;
      }
      id = prefix;
    }
    let newId: string | null = null;
    const inHandler = this.#inHandler > 0 || (this.#handler as UserHandlerLike | null)?.inSaveHandler === true;
    if (!inHandler && this.#status === PHP_SESSION_ACTIVE && this.#handler !== null) {
      const h = this.#handler;
      for (let limit = 3; limit > 0; limit--) {
        newId = await this.#createSid();
        if (h.validateSid === undefined || newId === null) break;
        if (await this.#validateSid(newId)) {
          newId = null;
          continue;
        }
        break;
      }
    } else {
      newId = this.#defaultId();
    }
    if (newId === null) {
      this.#report('E_WARNING', MSG.CREATE_NEW_ID_FAILED);
      return false;
    }
    return id + newId;
  }

  async #setCookieParams(args: unknown[]): Promise<boolean> {
    const fn = 'session_set_cookie_params';
    this.#argc(fn, args, 1, 5);
    const [first, a2, a3, a4, a5] = args;
    let options: PhpArray | undefined;
    let lifetimeLong: bigint | undefined;
    if (isPhpArrayLike(first)) options = toPhpArray(first);
    else lifetimeLong = this.#intArg(fn, 1, 'lifetime_or_options', first, false, 'array|int')!;
    let path = this.#strArg(fn, 2, 'path', a2, true);
    let domain = this.#strArg(fn, 3, 'domain', a3, true);
    let secure = this.#boolArg(fn, 4, 'secure', a4, true);
    let httponly = this.#boolArg(fn, 5, 'httponly', a5, true);
    let lifetime: string | null = null;
    let samesite: string | null = null;

    if (!this.#iniBool('session.use_cookies')) {
      this.#report('E_WARNING', MSG.COOKIES_DISABLED);
      return false;
    }
    if (this.#status === PHP_SESSION_ACTIVE) {
      this.#report('E_WARNING', MSG.COOKIE_PARAMS_ACTIVE);
      return false;
    }
    if (this.#headersSent !== false) {
      this.#report('E_WARNING', MSG.COOKIE_PARAMS_HEADERS);
      return false;
    }
    if (options !== undefined) {
      const argName = ['', '', 'path', 'domain', 'secure', 'httponly'];
      const given = [false, false, path !== null, domain !== null, secure !== null, httponly !== null];
      for (let i = 2; i <= 5; i++) {
        if (given[i]) throw new PhpValueError(`${fn}(): Argument #${i} ($${argName[i]}) ${MSG.COOKIE_PARAMS_MUST_BE_NULL}`);
      }
      let found = 0;
      for (const [key, value] of options) {
        if (typeof key === 'string' || key instanceof PhpBytes) {
          const k = typeof key === 'string' ? key : key.toBinaryString();
          switch (k.toLowerCase()) {
            case 'lifetime':
              lifetime = zvalToString(value);
              found++;
              break;
            case 'path':
              path = zvalToString(value);
              found++;
              break;
            case 'domain':
              domain = zvalToString(value);
              found++;
              break;
            case 'secure':
              secure = zvalIsTrue(value);
              found++;
              break;
            case 'httponly':
              httponly = zvalIsTrue(value);
              found++;
              break;
            case 'samesite':
              samesite = zvalToString(value);
              found++;
              break;
            default:
              this.#report('E_WARNING', fmt(MSG.COOKIE_PARAMS_UNKNOWN_KEY, k));
          }
        } else {
          this.#report('E_WARNING', MSG.COOKIE_PARAMS_NUMERIC_KEY);
        }
      }
      if (found === 0) throw new PhpValueError(`${fn}(): Argument #1 ($lifetime_or_options) ${MSG.COOKIE_PARAMS_NO_KEY}`);
    } else {
      lifetime = String(lifetimeLong);
    }
    if (lifetime !== null && !this.#alterIni('session.cookie_lifetime', lifetime)) return false;
    if (path !== null && !this.#alterIni('session.cookie_path', path)) return false;
    if (domain !== null && !this.#alterIni('session.cookie_domain', domain)) return false;
    if (secure !== null && !this.#alterIni('session.cookie_secure', secure ? '1' : '0')) return false;
    if (httponly !== null && !this.#alterIni('session.cookie_httponly', httponly ? '1' : '0')) return false;
    if (samesite !== null && !this.#alterIni('session.cookie_samesite', samesite)) return false;
    return true;
  }

  #getCookieParams(): PhpArray {
    const out = new PhpArray();
    out.set('lifetime', normalizeInt(this.#iniLong('session.cookie_lifetime')));
    out.set('path', this.#iniStr('session.cookie_path'));
    out.set('domain', this.#iniStr('session.cookie_domain'));
    out.set('secure', this.#iniBool('session.cookie_secure'));
    out.set('httponly', this.#iniBool('session.cookie_httponly'));
    out.set('samesite', this.#iniStr('session.cookie_samesite'));
    return out;
  }

  #setSaveHandler(args: unknown[]): boolean {
    const api = this.#core.userApi;
    if (api === undefined) {
      throw new PhpError('session_set_save_handler(): the "user" save handler module is not available');
    }
    const spec = api.parseSaveHandlerArgs(args, this.#userSpec);
    for (const d of spec.argumentDiagnostics) this.#report(d.level, d.message);
    if (this.#status === PHP_SESSION_ACTIVE) {
      this.#report('E_WARNING', MSG.SAVE_HANDLER_ACTIVE);
      return false;
    }
    if (this.#headersSent !== false) {
      this.#report('E_WARNING', MSG.SAVE_HANDLER_HEADERS);
      return false;
    }
    const objectForm = args.length <= 2;
    this.#userSpec = spec;
    this.#userClassName = spec.className;
    // PHP keeps its shutdown functions in a hash table: registering `session_shutdown` again
    // updates the entry where it is, so it keeps its place before shutdown functions registered
    // since; the callable form (and `false`) removes it. While end() runs the list, a removed entry
    // leaves a hole (as a hash table's deleted bucket does), so no later function is skipped.
    const at = this.#shutdownFns.findIndex((s) => s.name === 'session_shutdown');
    if (objectForm && spec.registerShutdown) {
      const entry = { name: 'session_shutdown', fn: () => this.functions.session_register_shutdown() };
      if (at >= 0) this.#shutdownFns[at] = entry;
      else this.#shutdownFns.push(entry);
    } else if (at >= 0) {
      if (this.#ended) this.#shutdownFns[at] = { fn: () => undefined };
      else this.#shutdownFns.splice(at, 1);
    }
    if (!this.#isUserMod()) {
      this.#settingUserHandler = true;
      try {
        this.#alterIni('session.save_handler', 'user');
      } finally {
        this.#settingUserHandler = false;
      }
    }
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // camelCase API

  /** session_start(). @see https://www.php.net/manual/en/function.session-start.php */
  start(options?: PhpArray | Record<string, JsInput>): Promise<boolean> {
    // Without options this is session_start() with no arguments (nothing to check).
    if (options === undefined) return this.#run('session_start', () => this.#sessionStart(undefined));
    return this.functions.session_start(options);
  }

  /** session_id(): the current id; with an argument, sets it (returns the old one). */
  id(newId?: string | null): string | false {
    return newId === undefined ? this.functions.session_id() : this.functions.session_id(newId);
  }

  /** session_name(). */
  name(newName?: string | null): string | false {
    return newName === undefined ? this.functions.session_name() : this.functions.session_name(newName);
  }

  /** session_status(). */
  status(): SessionStatus {
    return this.functions.session_status();
  }

  /** session_write_close() / session_commit(). */
  writeClose(): Promise<boolean> {
    return this.#run('session_write_close', () => this.#writeClose());
  }

  commit(): Promise<boolean> {
    return this.functions.session_commit();
  }

  /** session_abort(). */
  abort(): Promise<boolean> {
    return this.functions.session_abort();
  }

  /** session_reset(). */
  reset(): Promise<boolean> {
    return this.functions.session_reset();
  }

  /** session_destroy(). */
  destroy(): Promise<boolean> {
    return this.functions.session_destroy();
  }

  /** session_unset(). */
  unset(): boolean {
    return this.functions.session_unset();
  }

  /** session_regenerate_id(). */
  regenerateId(deleteOldSession = false): Promise<boolean> {
    return this.functions.session_regenerate_id(deleteOldSession);
  }

  /** session_create_id(). */
  createId(prefix = ''): Promise<string | false> {
    return this.functions.session_create_id(prefix);
  }

  /** session_encode(). */
  encode(): string | PhpBytes | false {
    return this.functions.session_encode();
  }

  /** session_decode(). */
  decode(data: string | PhpBytes | Uint8Array): Promise<boolean> {
    return this.functions.session_decode(data);
  }

  /** session_gc(). */
  gc(): Promise<number | false> {
    return this.functions.session_gc();
  }

  /** session_save_path(). */
  savePath(path?: string | null): string | false {
    return path === undefined ? this.functions.session_save_path() : this.functions.session_save_path(path);
  }

  /** session_module_name(). */
  moduleName(module?: string | null): string | false {
    return module === undefined ? this.functions.session_module_name() : this.functions.session_module_name(module);
  }

  /** session_set_save_handler(), object or callable form. */
  setSaveHandler(...args: unknown[]): boolean {
    return this.functions.session_set_save_handler(...args);
  }

  /** session_set_cookie_params(), both signatures. */
  setCookieParams(...args: unknown[]): Promise<boolean> {
    return this.functions.session_set_cookie_params(...args);
  }

  /** session_get_cookie_params(). */
  getCookieParams(): PhpArray {
    return this.functions.session_get_cookie_params();
  }

  /** session_cache_limiter(). */
  cacheLimiter(value?: string | null): string | false {
    return value === undefined ? this.functions.session_cache_limiter() : this.functions.session_cache_limiter(value);
  }

  /** session_cache_expire(). */
  cacheExpire(value?: number | null): number | bigint | false {
    return value === undefined ? this.functions.session_cache_expire() : this.functions.session_cache_expire(value);
  }

  /** session_register_shutdown(). */
  registerShutdown(): void {
    this.functions.session_register_shutdown();
  }

  /** ini_get() for any directive the engine knows. */
  iniGet(name: string): string | false {
    return this.functions.ini_get(name);
  }

  /** ini_set(): the old value, or false. */
  iniSet(name: string, value: string | number | boolean | null): string | false {
    return this.functions.ini_set(name, value);
  }

  /** ini_restore(). */
  iniRestore(name: string): void {
    this.functions.ini_restore(name);
  }

  /**
   * RSHUTDOWN: runs the registered shutdown functions, then writes and closes an active session and
   * releases the request's state. Rethrows an exception a save handler threw on the way.
   */
  end(): Promise<void> {
    if (this.#ended) return Promise.resolve();
    this.#ended = true;
    if (this.#ready === READY && this.#shutdownFns.length === 0 && this.#status !== PHP_SESSION_ACTIVE) {
      // Nothing to run or save: release the request's state without a promise chain.
      const outer = this.#fn;
      this.#fn = undefined;
      let releasing: void | Promise<void>;
      try {
        releasing = this.#releaseGlobals();
      } catch (e) {
        this.#fn = outer;
        return Promise.reject(e);
      }
      if (releasing !== undefined) return this.#endAfterRelease(releasing, outer);
      this.#userSpec = undefined;
      this.#fn = outer;
      const p = this.#pending;
      if (p === undefined) return Promise.resolve();
      this.#pending = undefined;
      return Promise.reject(p.error);
    }
    return this.#endRequest();
  }

  async #endAfterRelease(releasing: Promise<void>, outer: string | undefined): Promise<void> {
    try {
      await releasing;
      this.#userSpec = undefined;
    } finally {
      this.#fn = outer;
    }
    this.#throwPending();
  }

  async #endRequest(): Promise<void> {
    if (this.#ready !== READY) await this.#ready;
    // Shutdown functions may register more; run until the list is exhausted. An exception stops
    // the remaining ones (PHP's fatal "Uncaught ..."), but the session is still saved below.
    let failure: { error: unknown } | undefined;
    try {
      for (let i = 0; i < this.#shutdownFns.length; i++) {
        await this.#shutdownFns[i]!.fn();
      }
    } catch (e) {
      failure = { error: e };
    }
    const outer = this.#fn;
    this.#fn = undefined;
    try {
      if (this.#status === PHP_SESSION_ACTIVE) await this.#flush(true);
      const releasing = this.#releaseGlobals();
      if (releasing !== undefined) await releasing;
      this.#userSpec = undefined;
    } finally {
      this.#fn = outer;
    }
    if (failure !== undefined) {
      this.#pending = undefined;
      throw failure.error;
    }
    this.#throwPending();
  }

  // -------------------------------------------------------------------------------------------

  #buildFunctions(): SessionFunctions {
    const self = this;
    const noArgs = (fn: string, args: readonly unknown[]): void => self.#argc(fn, args, 0, 0);
    const f: SessionFunctions = {
      session_start(...args: unknown[]): Promise<boolean> {
        self.#argc('session_start', args, 0, 1);
        const opt = args[0];
        let options: PhpArray | undefined;
        if (opt !== undefined) {
          if (!isPhpArrayLike(opt)) {
            throw new PhpTypeError(`session_start(): Argument #1 ($options) must be of type array, ${typeName(opt)} given`);
          }
          options = toPhpArray(opt);
        }
        return self.#run('session_start', () => self.#sessionStart(options));
      },
      session_id(...args: unknown[]): string | false {
        self.#argc('session_id', args, 0, 1);
        const id = self.#strArg('session_id', 1, 'id', args[0], true);
        return self.#runSync('session_id', () => {
          if (id !== null && self.#status === PHP_SESSION_ACTIVE) {
            self.#report('E_WARNING', MSG.ID_ACTIVE);
            return false;
          }
          if (id !== null && self.#iniBool('session.use_cookies') && self.#headersSent !== false) {
            self.#report('E_WARNING', MSG.ID_HEADERS);
            return false;
          }
          const cur = self.#id === null ? '' : self.#id.split('\0')[0]!;
          if (id !== null) self.#id = id;
          return cur;
        });
      },
      session_name(...args: unknown[]): string | false {
        self.#argc('session_name', args, 0, 1);
        const name = self.#strArg('session_name', 1, 'name', args[0], true);
        return self.#runSync('session_name', () => {
          if (name !== null && self.#status === PHP_SESSION_ACTIVE) {
            self.#report('E_WARNING', MSG.NAME_ACTIVE);
            return false;
          }
          if (name !== null && self.#headersSent !== false) {
            self.#report('E_WARNING', MSG.NAME_HEADERS);
            return false;
          }
          const old = self.#name;
          if (name !== null) self.#alterIni('session.name', name);
          return old;
        });
      },
      session_module_name(...args: unknown[]): string | false {
        self.#argc('session_module_name', args, 0, 1);
        const name = self.#strArg('session_module_name', 1, 'module', args[0], true);
        return self.#runSync('session_module_name', () => {
          if (name !== null && self.#status === PHP_SESSION_ACTIVE) {
            self.#report('E_WARNING', MSG.MODULE_ACTIVE);
            return false;
          }
          if (name !== null && self.#headersSent !== false) {
            self.#report('E_WARNING', MSG.MODULE_HEADERS);
            return false;
          }
          const ret = self.#modName();
          if (name !== null) {
            if (name.toLowerCase() === 'user') {
              throw new PhpValueError(`session_module_name(): Argument #1 ($module) ${MSG.MODULE_USER}`);
            }
            if (self.#core.findModule(name) === undefined) {
              self.#report('E_WARNING', fmt(MSG.MODULE_NOT_FOUND, name));
              return false;
            }
            if (self.#isOpen() && self.#handler !== null) {
              // PHP closes the module data here without waiting for anything else.
              const h = self.#handler;
              void Promise.resolve()
                .then(() => h.close())
                .catch(() => undefined);
            }
            self.#handlerOpen = false;
            self.#handler = null;
            self.#alterIni('session.save_handler', name);
          }
          return ret;
        });
      },
      session_save_path(...args: unknown[]): string | false {
        self.#argc('session_save_path', args, 0, 1);
        const path = self.#strArg('session_save_path', 1, 'path', args[0], true);
        if (path !== null && path.includes('\0')) {
          throw new PhpValueError(`session_save_path(): Argument #1 ($path) ${MSG.SAVE_PATH_NUL}`);
        }
        return self.#runSync('session_save_path', () => {
          if (path !== null && self.#status === PHP_SESSION_ACTIVE) {
            self.#report('E_WARNING', MSG.SAVE_PATH_ACTIVE);
            return false;
          }
          if (path !== null && self.#headersSent !== false) {
            self.#report('E_WARNING', MSG.SAVE_PATH_HEADERS);
            return false;
          }
          const old = self.#savePath;
          if (path !== null) self.#alterIni('session.save_path', path);
          return old;
        });
      },
      session_regenerate_id(...args: unknown[]): Promise<boolean> {
        self.#argc('session_regenerate_id', args, 0, 1);
        const del = self.#boolArg('session_regenerate_id', 1, 'delete_old_session', args[0], false) === true;
        return self.#run('session_regenerate_id', () => self.#regenerateId(del));
      },
      session_create_id(...args: unknown[]): Promise<string | false> {
        self.#argc('session_create_id', args, 0, 1);
        const prefix = args.length === 0 ? '' : self.#strArg('session_create_id', 1, 'prefix', args[0], false)!;
        return self.#run('session_create_id', () => self.#createId(prefix));
      },
      session_destroy(...args: unknown[]): Promise<boolean> {
        noArgs('session_destroy', args);
        return self.#run('session_destroy', () => self.#destroy());
      },
      session_unset(...args: unknown[]): boolean {
        noArgs('session_unset', args);
        if (self.#status !== PHP_SESSION_ACTIVE) return false;
        self.#boundArray()?.clear();
        return true;
      },
      session_write_close(...args: unknown[]): Promise<boolean> {
        noArgs('session_write_close', args);
        return self.#run('session_write_close', () => self.#writeClose());
      },
      session_commit(...args: unknown[]): Promise<boolean> {
        noArgs('session_commit', args);
        return self.#run('session_commit', () => self.#writeClose());
      },
      session_abort(...args: unknown[]): Promise<boolean> {
        noArgs('session_abort', args);
        return self.#run('session_abort', async () => {
          if (self.#status !== PHP_SESSION_ACTIVE) return false;
          await self.#abort();
          return true;
        });
      },
      session_reset(...args: unknown[]): Promise<boolean> {
        noArgs('session_reset', args);
        return self.#run('session_reset', async () => {
          if (self.#status !== PHP_SESSION_ACTIVE) return false;
          await self.#initialize();
          return true;
        });
      },
      session_status(...args: unknown[]): SessionStatus {
        noArgs('session_status', args);
        return self.#status;
      },
      session_encode(...args: unknown[]): string | PhpBytes | false {
        noArgs('session_encode', args);
        return self.#runSync('session_encode', () => {
          const r = self.#encode();
          const p = self.#pending;
          if (p !== undefined) {
            self.#pending = undefined;
            throw p.error;
          }
          return r === null ? false : bytesToPhpString(r);
        });
      },
      session_decode(...args: unknown[]): Promise<boolean> {
        self.#argc('session_decode', args, 1, 1);
        const raw = args[0];
        const data =
          raw instanceof Uint8Array
            ? raw
            : phpStringToBytes(
                raw instanceof PhpBytes ? raw : self.#strArg('session_decode', 1, 'data', raw, false)!,
              );
        return self.#run('session_decode', async () => {
          if (self.#status !== PHP_SESSION_ACTIVE) {
            self.#report('E_WARNING', MSG.DECODE_INACTIVE);
            return false;
          }
          return self.#decode(data);
        });
      },
      session_gc(...args: unknown[]): Promise<number | false> {
        noArgs('session_gc', args);
        return self.#run('session_gc', async () => {
          if (self.#status !== PHP_SESSION_ACTIVE) {
            self.#report('E_WARNING', MSG.GC_INACTIVE);
            return false;
          }
          const n = await self.#gc(true);
          return n < 0 ? false : n;
        });
      },
      session_set_save_handler(...args: unknown[]): boolean {
        return self.#runSync('session_set_save_handler', () => self.#setSaveHandler(args));
      },
      session_set_cookie_params(...args: unknown[]): Promise<boolean> {
        return self.#run('session_set_cookie_params', () => self.#setCookieParams(args));
      },
      session_get_cookie_params(...args: unknown[]): PhpArray {
        noArgs('session_get_cookie_params', args);
        return self.#getCookieParams();
      },
      session_cache_limiter(...args: unknown[]): string | false {
        self.#argc('session_cache_limiter', args, 0, 1);
        const v = self.#strArg('session_cache_limiter', 1, 'value', args[0], true);
        return self.#runSync('session_cache_limiter', () => {
          if (v !== null && self.#status === PHP_SESSION_ACTIVE) {
            self.#report('E_WARNING', MSG.CACHE_LIMITER_ACTIVE);
            return false;
          }
          if (v !== null && self.#headersSent !== false) {
            self.#report('E_WARNING', MSG.CACHE_LIMITER_HEADERS);
            return false;
          }
          const old = self.#iniStr('session.cache_limiter');
          if (v !== null) self.#alterIni('session.cache_limiter', v);
          return old;
        });
      },
      session_cache_expire(...args: unknown[]): number | bigint | false {
        self.#argc('session_cache_expire', args, 0, 1);
        const v = self.#intArg('session_cache_expire', 1, 'value', args[0], true);
        return self.#runSync('session_cache_expire', () => {
          const cur = normalizeInt(self.#iniLong('session.cache_expire'));
          if (v !== null && self.#status === PHP_SESSION_ACTIVE) {
            self.#report('E_WARNING', MSG.CACHE_EXPIRE_ACTIVE);
            return cur;
          }
          if (v !== null && self.#headersSent !== false) {
            self.#report('E_WARNING', MSG.CACHE_EXPIRE_HEADERS);
            return false;
          }
          if (v !== null) self.#alterIni('session.cache_expire', v.toString());
          return cur;
        });
      },
      session_register_shutdown(...args: unknown[]): void {
        noArgs('session_register_shutdown', args);
        self.#shutdownFns.push({
          fn: () => self.functions.session_write_close(),
        });
      },
      ini_get(...args: unknown[]): string | false {
        self.#argc('ini_get', args, 1, 1);
        const name = self.#strArg('ini_get', 1, 'option', args[0], false)!;
        return self.#ini.get(name) ?? false;
      },
      ini_set(...args: unknown[]): string | false {
        self.#argc('ini_set', args, 2, 2);
        const name = self.#strArg('ini_set', 1, 'option', args[0], false)!;
        const raw = args[1];
        let value: string;
        if (raw === null || raw === undefined) value = '';
        else if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint' || raw instanceof PhpFloat || raw instanceof PhpBytes) {
          value = zvalToString(raw);
        } else {
          throw new PhpTypeError(
            `ini_set(): Argument #2 ($value) must be of type string|int|float|bool|null, ${typeName(raw)} given`,
          );
        }
        return self.#runSync('ini_set', () => {
          const old = self.#ini.get(name);
          if (old === undefined) return false;
          return self.#alterIni(name, value) ? old : false;
        });
      },
      ini_get_all(...args: unknown[]): PhpArray | false {
        self.#argc('ini_get_all', args, 0, 2);
        const ext = self.#strArg('ini_get_all', 1, 'extension', args[0], true);
        const details = args.length < 2 ? true : self.#boolArg('ini_get_all', 2, 'details', args[1], false) === true;
        return self.#runSync('ini_get_all', () => {
          const names = self.#ini
            .names()
            .filter((n) => ext === null || (self.#ini.entry(n)?.extension ?? 'session') === ext.toLowerCase())
            .sort();
          if (ext !== null && names.length === 0) {
            self.#report('E_WARNING', `Extension "${ext}" cannot be found`);
            return false;
          }
          const access = { PHP_INI_ALL: 7, PHP_INI_PERDIR: 2, PHP_INI_SYSTEM: 4 } as const;
          const out = new PhpArray();
          for (const n of names) {
            const local = self.#ini.get(n) ?? null;
            if (!details) {
              out.set(n, local);
              continue;
            }
            const row = new PhpArray();
            row.set('global_value', self.#core.masterIni.get(n) ?? local);
            row.set('local_value', local);
            row.set('access', access[self.#ini.entry(n)!.changeable]);
            out.set(n, row);
          }
          return out;
        });
      },
      ini_restore(...args: unknown[]): void {
        self.#argc('ini_restore', args, 1, 1);
        const name = self.#strArg('ini_restore', 1, 'option', args[0], false)!;
        self.#runSync('ini_restore', () => {
          const entry = self.#ini.entry(name);
          if (entry === undefined || entry.changeable !== 'PHP_INI_ALL' || !self.#modified.has(name)) return;
          const master = self.#core.masterIni.value(name);
          if (master === undefined) return;
          if (self.#ini.alter(name, master.raw, self.#host('runtime'), false)) {
            self.#ini.setValue(name, { raw: master.raw, parsed: self.#ini.parsed(name) });
            if (name === 'session.serialize_handler') {
              self.#serializer = self.#ini.parsed<SessionSerializer | undefined>(name);
            }
            self.#modified.delete(name);
          }
        });
      },
    };
    return f;
  }
}

/** The session functions under their PHP names (what a PHP runtime binds). */
export interface SessionFunctions {
  session_start(options?: PhpArray | Record<string, JsInput>): Promise<boolean>;
  session_start(...args: unknown[]): Promise<boolean>;
  session_id(id?: string | null): string | false;
  session_id(...args: unknown[]): string | false;
  session_name(name?: string | null): string | false;
  session_name(...args: unknown[]): string | false;
  session_module_name(module?: string | null): string | false;
  session_module_name(...args: unknown[]): string | false;
  session_save_path(path?: string | null): string | false;
  session_save_path(...args: unknown[]): string | false;
  session_regenerate_id(delete_old_session?: boolean): Promise<boolean>;
  session_regenerate_id(...args: unknown[]): Promise<boolean>;
  session_create_id(prefix?: string): Promise<string | false>;
  session_create_id(...args: unknown[]): Promise<string | false>;
  session_destroy(...args: unknown[]): Promise<boolean>;
  session_unset(...args: unknown[]): boolean;
  session_write_close(...args: unknown[]): Promise<boolean>;
  session_commit(...args: unknown[]): Promise<boolean>;
  session_abort(...args: unknown[]): Promise<boolean>;
  session_reset(...args: unknown[]): Promise<boolean>;
  session_status(...args: unknown[]): SessionStatus;
  session_encode(...args: unknown[]): string | PhpBytes | false;
  session_decode(data: string | PhpBytes | Uint8Array): Promise<boolean>;
  session_decode(...args: unknown[]): Promise<boolean>;
  session_gc(...args: unknown[]): Promise<number | false>;
  session_set_save_handler(...args: unknown[]): boolean;
  session_set_cookie_params(...args: unknown[]): Promise<boolean>;
  session_get_cookie_params(...args: unknown[]): PhpArray;
  session_cache_limiter(value?: string | null): string | false;
  session_cache_limiter(...args: unknown[]): string | false;
  session_cache_expire(value?: number | null): number | bigint | false;
  session_cache_expire(...args: unknown[]): number | bigint | false;
  session_register_shutdown(...args: unknown[]): void;
  ini_get(option: string): string | false;
  ini_get(...args: unknown[]): string | false;
  ini_set(option: string, value: string | number | boolean | null): string | false;
  ini_set(...args: unknown[]): string | false;
  ini_restore(option: string): void;
  ini_restore(...args: unknown[]): void;
  ini_get_all(extension?: string | null, details?: boolean): PhpArray | false;
  ini_get_all(...args: unknown[]): PhpArray | false;
}

/** Re-exported for callers that need PHP's `session_status()` names. */
export const SessionStatusNames = {
  [PHP_SESSION_DISABLED]: 'PHP_SESSION_DISABLED',
  [PHP_SESSION_NONE]: 'PHP_SESSION_NONE',
  [PHP_SESSION_ACTIVE]: 'PHP_SESSION_ACTIVE',
} as const;
