/**
 * @module adapters/session
 * What every adapter shares: the options, the per-request {@link PhpSessionContext} (when to start,
 * ending exactly once, the one error channel) and the `req.session` view.
 * Level 4: imports only the package's public entry point.
 */
import {
  PhpArray,
  PhpBytes,
  PhpFloat,
  SessionEngine,
  SessionError,
  toPhp,
  type Diagnostic,
  type JsInput,
  type PhpKey,
  type PhpValue,
  type RequestVar,
  type SessionRequest,
} from 'php-session-engine';

/** Options of every adapter (same names in all of them). */
export interface PhpSessionOptions {
  /** ini values (like `php -d`), applied after `iniFile`. Ignored when `engine` is given. */
  ini?: Record<string, string | number | boolean>;
  /** A php.ini to read first, e.g. '/etc/php/8.2/fpm/php.ini'. Ignored when `engine` is given. */
  iniFile?: string;
  /** An engine to share (between adapters, or with code using the engine directly). */
  engine?: SessionEngine;
  /**
   * When to start the session. Default (undefined): when the request carries the session cookie,
   * or when the app writes to the session or calls one of its helpers, so anonymous requests create
   * no session. `true`: every request, as PHP's session.auto_start. `false`: only on `start()`.
   */
  autoStart?: boolean;
  /** Start with `read_and_close` (no lock held, nothing written). A function decides per request. */
  readOnly?: boolean | ((req: unknown) => boolean);
  /** Receives every PHP diagnostic (warnings, notices) of the session, with PHP's text. Default: none. */
  onDiagnostic?: (d: Diagnostic) => void;
}

/** The adapters' one error channel: a session operation failed; PHP's diagnostics are attached. */
export class PhpSessionError extends SessionError {
  /** The request's PHP diagnostics up to the failure. */
  readonly diagnostics: readonly Diagnostic[];
  /** HTTP status for the framework's error handler. */
  readonly status = 500;
  readonly statusCode = 500;
  constructor(message: string, diagnostics: readonly Diagnostic[], options?: { cause?: unknown }) {
    const detail = diagnostics.map((d) => d.message).join('; ');
    super(detail === '' ? message : `${message}: ${detail}`, 'ERR_HANDLER', options);
    this.diagnostics = diagnostics;
  }
  override get name(): string {
    return 'PhpSessionError';
  }
}

/** What an adapter reads from the incoming request. */
export interface RequestInput {
  /** The Cookie header. */
  cookie?: string | undefined;
  /** The request URL (path and query). */
  url?: string | undefined;
  /** A parsed body, if the framework parsed one. */
  body?: unknown;
  /** The Referer header. */
  referer?: string | undefined;
  /** The Host header ($_SERVER['HTTP_HOST']: trans-sid's own host for forms). */
  host?: string | undefined;
}

/** The engine's diagnostic when a request held its session past session_engine.max_execution_time. */
export { HOLD_LIMIT_WARNING } from 'php-session-engine';

/** Cookie header → { name: value }, first occurrence wins as in PHP; values URL-decoded. */
export type CookieParser = (header: string) => Record<string, string | undefined>;

/** The shared part of an adapter: the engine and the options, built once. */
export class PhpSessions {
  readonly engine: SessionEngine;
  readonly options: PhpSessionOptions;
  readonly #parseCookies: CookieParser;
  /** The contexts' options when they do not depend on the request (one object for all). */
  #fixedOptions: ContextOptions | undefined;

  constructor(options: PhpSessionOptions, parseCookies: CookieParser) {
    this.options = options;
    this.#parseCookies = parseCookies;
    this.engine = options.engine ?? new SessionEngine({ ...(options.ini && { ini: options.ini }), ...(options.iniFile !== undefined && { iniFile: options.iniFile }) });
    for (const d of startupWarnings(this.engine)) options.onDiagnostic?.(d) ?? process.emitWarning(d.message, 'PhpSessionWarning');
  }

  /** Creates the context of one HTTP request (does not start the session yet: see `begin()`). */
  context(input: RequestInput, frameworkRequest: unknown): PhpSessionContext {
    const query: Record<string, RequestVar> = {};
    // Only a URL with a query string has anything for $_GET (most requests: skip the URL parser).
    const rawUrl = input.url;
    if (rawUrl !== undefined && rawUrl.includes('?')) {
      for (const [k, v] of new URL(rawUrl, 'http://localhost').searchParams) if (!(k in query)) query[k] = v;
    }
    // The parser's object is the request's own (a fresh one each call): it becomes $_COOKIE as it
    // is, unless it holds an undefined value (then a copy without those).
    const parsed = this.#parseCookies(input.cookie ?? '');
    let cookies = parsed as Record<string, RequestVar>;
    for (const k in parsed) {
      if (parsed[k] === undefined) {
        cookies = {};
        for (const j of Object.keys(parsed)) if (parsed[j] !== undefined) cookies[j] = parsed[j]!;
        break;
      }
    }
    const body: Record<string, RequestVar> = {};
    if (input.body !== null && typeof input.body === 'object' && !Array.isArray(input.body)) {
      for (const [k, v] of Object.entries(input.body as Record<string, unknown>)) if (typeof v === 'string') body[k] = v;
    }
    const server: Record<string, string> = {};
    if (input.referer !== undefined) server['HTTP_REFERER'] = input.referer;
    if (input.host !== undefined) server['HTTP_HOST'] = input.host;
    // The engine's hold limit (session_engine.max_execution_time) writes and closes a session held
    // too long and reports it here; later writes through the view are refused.
    const onDiagnostic = this.options.onDiagnostic;
    const request = this.engine.request(onDiagnostic === undefined ? { cookies, query, body, server } : { cookies, query, body, server, onDiagnostic });
    const ro = this.options.readOnly;
    const opts = typeof ro === 'function' ? { readOnly: ro(frameworkRequest), autoStart: this.options.autoStart } : (this.#fixedOptions ??= { readOnly: ro === true, autoStart: this.options.autoStart });
    return new PhpSessionContext(request, opts);
  }
}

/** Configuration that would make this engine disagree with a PHP sharing its sessions. */
export function startupWarnings(engine: SessionEngine): Diagnostic[] {
  const out: Diagnostic[] = [];
  const prob = Number(engine.iniGet('session.gc_probability') ?? '0');
  if ((engine.iniGet('session.save_handler') ?? '') === 'files' && prob > 0) {
    const path = engine.iniGet('session.save_path') ?? '';
    out.push({
      level: 'E_WARNING',
      message:
        `php-session-engine: session GC is enabled on the files save path "${path}" ` +
        `(session.gc_probability=${prob}, gc_divisor=${engine.iniGet('session.gc_divisor') ?? ''}): Node will delete ` +
        `sessions older than gc_maxlifetime=${engine.iniGet('session.gc_maxlifetime') ?? ''} s. If PHP shares this ` +
        "directory, let one side collect: Debian's php.ini sets gc_probability=0 and cleans with a cron job; " +
        "pass iniFile: '/etc/php/8.2/fpm/php.ini' or ini: { 'session.gc_probability': 0 }.",
    });
  }
  return out;
}

const RESOLVED: Promise<void> = Promise.resolve();

interface ContextOptions {
  readOnly: boolean;
  autoStart: boolean | undefined;
}

/**
 * One HTTP request's session: starts it when needed, ends it exactly once, reports failures as
 * {@link PhpSessionError}. Framework requests carry it as `req.phpSession`.
 */
export class PhpSessionContext {
  /** The engine request (PHP's session functions are on `request.functions`). */
  readonly request: SessionRequest;
  /** The `$_SESSION` view (`req.session`). */
  readonly session: SessionView;
  readonly readOnly: boolean;
  readonly #opts: ContextOptions;
  /** Values written before the session started (lazy start): merged into $_SESSION at start. */
  #pending: PhpArray | undefined;
  #starting: Promise<void> | undefined;
  #started = false;
  #wantStart = false;
  #ending: Promise<void> | undefined;
  #closed = false;
  /** Header lines already handed to the response. */
  #headersTaken = 0;

  #transSid = false;
  #holdForOutput = false;
  #outputPending = false;

  /**
   * The adapter passes the body through `request.rewriteOutput()` when trans-sid is active: the
   * engine request (whose rewriter that is) then ends in {@link finishOutput}, not in `end()`. The
   * session itself is written and closed (lock released) in `end()` all the same.
   */
  holdForOutput(): void {
    this.#holdForOutput = true;
  }

  /** Ends the engine request held by {@link holdForOutput} (the body is out). Idempotent. */
  finishOutput(): Promise<void> {
    if (!this.#outputPending) return RESOLVED;
    this.#outputPending = false;
    return this.request.end();
  }

  /** {@link finishOutput} with its failure ignored (what a response's close listener calls); nothing to do in most requests. */
  finishOutputQuietly(): void {
    if (this.#outputPending) void this.finishOutput().catch(() => undefined);
  }

  constructor(request: SessionRequest, opts: ContextOptions) {
    this.request = request;
    this.#opts = opts;
    this.readOnly = opts.readOnly;
    this.session = createSessionView(this);
  }

  /** The session cookie's name (session.name). */
  get cookieName(): string {
    return String(this.request.name());
  }

  /** True when the session is open (started and not yet written). */
  get active(): boolean {
    return this.request.status() === 2;
  }

  /** True once the request has ended (session written and lock released). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The session id ('' when none). */
  get id(): string {
    const id = this.request.id();
    return id === false ? '' : id;
  }

  /** Called by the adapter before the app runs: starts the session when the options say so. */
  begin(): Promise<void> {
    const a = this.#opts.autoStart;
    if (a === true || (a === undefined && typeof this.request.cookies[this.cookieName] === 'string')) return this.start();
    return Promise.resolve();
  }

  /** Starts the session now (idempotent); rejects with a PhpSessionError when PHP's session_start() fails. */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new PhpSessionError('the session of this request has already ended', this.request.diagnostics));
    return (this.#starting ??= this.#start());
  }

  // #start and the ending below are promise chains, not async functions: each request runs them once,
  // and an async function's frame and its awaits allocated ~1.4 KB a request (bench/adapters).
  #start(): Promise<void> {
    const req = this.request;
    const from = req.diagnostics.length;
    return req.start(this.readOnly ? { read_and_close: true } : undefined).then((ok) => {
      if (!ok) throw new PhpSessionError('session_start() failed', req.diagnostics.slice(from));
      this.#started = true;
      const pending = this.#pending;
      this.#pending = undefined;
      if (pending !== undefined) for (const [k, v] of pending) this.data().set(k, v);
    });
  }

  /** $_SESSION while started, else the values waiting for the lazy start. */
  data(): PhpArray {
    if (this.#started && !this.#closed && this.active) return this.request.session;
    if (this.#started || this.#closed) {
      // Closed (read-only, written, destroyed): reads see the last data, writes are refused by the view.
      const v = this.request.sessionValue;
      return v instanceof PhpArray ? v : (this.#pending ??= new PhpArray());
    }
    return (this.#pending ??= new PhpArray());
  }

  /** The view's writes: refused once the session is closed, else they make the lazy start happen. */
  beforeWrite(): void {
    if (this.#closed || (this.#started && !this.active)) {
      throw new PhpSessionError(
        this.readOnly ? 'the session is read-only (readOnly / read_and_close)' : 'the session of this request has already been written and closed',
        this.request.diagnostics,
      );
    }
    if (!this.#started) this.#wantStart = this.#opts.autoStart !== false;
  }

  /** session_regenerate_id(true): a new id, the old session deleted (use it at login). */
  async regenerate(): Promise<void> {
    await this.start();
    const from = this.request.diagnostics.length;
    if (!(await this.request.regenerateId(true))) throw new PhpSessionError('session_regenerate_id() failed', this.request.diagnostics.slice(from));
  }

  /** Logout: the data, the stored session (file or item) and the cookie. */
  async destroy(): Promise<void> {
    if (!this.#started && typeof this.request.cookies[this.cookieName] !== 'string') {
      this.#pending = new PhpArray();
      this.#wantStart = false;
      return;
    }
    await this.start();
    const params = this.request.getCookieParams();
    const name = this.cookieName;
    const from = this.request.diagnostics.length;
    const ok = await this.request.destroy();
    if (!ok) throw new PhpSessionError('session_destroy() failed', this.request.diagnostics.slice(from));
    this.request.sessionValue = new PhpArray();
    // Forget the old id: a later write starts a new session rather than reviving the destroyed one.
    delete this.request.cookies[name];
    this.#started = false;
    this.#starting = undefined;
    this.#wantStart = false;
    this.#pending = new PhpArray();
    let line = `${name}=deleted; expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0`;
    const path = params.get('path');
    const domain = params.get('domain');
    const samesite = params.get('samesite');
    if (typeof path === 'string' && path !== '') line += `; path=${path}`;
    if (typeof domain === 'string' && domain !== '') line += `; domain=${domain}`;
    if (params.get('secure') === true) line += '; secure';
    if (params.get('httponly') === true) line += '; HttpOnly';
    if (typeof samesite === 'string' && samesite !== '') line += `; SameSite=${samesite}`;
    this.request.addHeader('Set-Cookie', line, false);
  }

  /** Writes the session now and keeps it open (session_write_close() then session_start()). */
  async save(): Promise<void> {
    await this.start();
    if (this.readOnly) return;
    const from = this.request.diagnostics.length;
    if (!(await this.request.writeClose())) throw new PhpSessionError('session_write_close() failed', this.request.diagnostics.slice(from));
    this.#starting = undefined;
    this.#started = false;
    await this.start();
  }

  /** Keeps the session alive: starts it, so its timestamp is updated at the end even when unchanged. */
  async touch(): Promise<void> {
    await this.start();
  }

  /**
   * Ends the request (idempotent): the lazy start if the app wrote, then write, close, unlock and
   * RSHUTDOWN. Rejects with a PhpSessionError when the write (or the start) failed.
   */
  end(): Promise<void> {
    return (this.#ending ??= this.#end());
  }

  #end(): Promise<void> {
    // Started already (the start's reaction has run): straight to the write, without a reaction
    // on the settled start (two closures and a promise a request less).
    if (this.#started) return this.#write();
    // The lazy start first, if the app wrote; a failed start is the request's failure.
    const starting = this.#starting ?? (this.#wantStart ? this.start() : undefined);
    if (starting === undefined) return this.#write();
    return starting.then(
      () => this.#write(),
      (e: unknown) => this.#close(e),
    );
  }

  /**
   * Writes and closes an open session, then ends the request. Unless trans-sid keeps the engine
   * request open for the body (see {@link holdForOutput}), RSHUTDOWN alone does both, as in a PHP
   * script that never calls session_write_close() (shutdown functions first, then the write):
   * one engine call instead of session_write_close() and then RSHUTDOWN (~1 KB of allocation and
   * a promise chain a request less). Either way a failed write (PHP's "Failed to write session
   * data" warning: session_write_close() still returns true, as PHP's does) rejects with a
   * PhpSessionError carrying the warnings.
   */
  #write(): Promise<void> {
    const req = this.request;
    this.#transSid ||= req.transSidActive;
    if (!this.active) return this.#close(undefined);
    const from = req.diagnostics.length;
    const failedBefore = req.failedWrites;
    if (!(this.#transSid && this.#holdForOutput)) {
      // From here on the view refuses writes: they would land after the data went out.
      this.#closed = true;
      let ended: Promise<void>;
      try {
        ended = req.end();
      } catch (e) {
        return Promise.reject(this.#failure(e));
      }
      return ended.then(
        () => {
          const failed = writeFailure(req, from, failedBefore);
          if (failed !== undefined) throw failed;
        },
        (e: unknown) => Promise.reject(this.#failure(e)),
      );
    }
    let written: Promise<boolean>;
    try {
      written = req.writeClose();
    } catch (e) {
      return this.#close(e);
    }
    return written.then(
      (ok) => this.#close(ok ? writeFailure(req, from, failedBefore) : new PhpSessionError('session write failed', req.diagnostics.slice(from))),
      (e: unknown) => this.#close(e),
    );
  }

  /**
   * Marks the session closed and ends the engine request (RSHUTDOWN), unless trans-sid rewrites the
   * body: then the engine request ends in finishOutput(). Rejects with the first failure.
   */
  #close(failure: unknown): Promise<void> {
    const req = this.request;
    this.#closed = true;
    this.#transSid ||= req.transSidActive;
    let ended: Promise<void> | undefined;
    try {
      // The rewriter works until the request's end: with trans-sid active and an adapter that
      // rewrites the body, the engine request ends once the body is out (finishOutput()).
      if (this.#transSid && this.#holdForOutput) this.#outputPending = true;
      else ended = req.end();
    } catch (e) {
      failure ??= e;
    }
    if (ended === undefined) return failure === undefined ? RESOLVED : Promise.reject(this.#failure(failure));
    if (failure === undefined) return ended.then(undefined, (e: unknown) => Promise.reject(this.#failure(e)));
    const fail = (): Promise<never> => Promise.reject(this.#failure(failure));
    return ended.then(fail, fail);
  }

  #failure(f: unknown): PhpSessionError {
    return f instanceof PhpSessionError ? f : new PhpSessionError('session failed', this.request.diagnostics, { cause: f });
  }

  /**
   * True when trans-sid was active for this request when it ended (PHP's URL rewriter armed): the
   * adapter then passes the response body through `request.rewriteOutput()`.
   */
  get transSidActive(): boolean {
    return this.#transSid || this.request.transSidActive;
  }

  /** Header lines (name, value) not yet handed to the response; each is returned once. */
  takeHeaders(): Array<[string, string]> {
    const all = this.request.headers;
    const out = all.slice(this.#headersTaken);
    this.#headersTaken = all.length;
    return out;
  }
}

/**
 * The write of the session failed when the engine counted a failed save since `failedBefore`
 * (the module's write returned false: PHP warns "Failed to write session data" and its
 * session_write_close() and RSHUTDOWN go on and return true all the same). A PhpSessionError
 * with the diagnostics since `from`, or undefined.
 */
function writeFailure(req: SessionRequest, from: number, failedBefore: number): PhpSessionError | undefined {
  return req.failedWrites > failedBefore ? new PhpSessionError('session write failed', req.diagnostics.slice(from)) : undefined;
}

/** The `req.session` view's methods (everything else is a session key). */
export interface SessionMethods {
  /** The value at key, PHP-typed (arrays are PhpArray, ints outside ±2^53 bigint, ...). */
  get(key: PhpKey): PhpValue | undefined;
  /** Stores a value; plain JS is converted now (integral numbers → int, others → float; use `new PhpFloat(2)` for a float 2). */
  set(key: PhpKey, value: JsInput): void;
  has(key: PhpKey): boolean;
  delete(key: PhpKey): boolean;
  /** Plain JS (JSON-safe) copy of the data. */
  toJSON(): Record<string, unknown>;
  /** The session id ('' when none yet). */
  readonly id: string;
  regenerate(): Promise<void>;
  destroy(): Promise<void>;
  save(): Promise<void>;
  touch(): Promise<void>;
}

/** The default shape: any key; values read back as PHP values, written as plain JS or PHP values. */
export type SessionShape = Record<string, JsInput>;

/**
 * `req.session`: $_SESSION with property access (`req.session.user_id`) and get/set/has/delete.
 * `T` types the property access (e.g. `SessionView<{ user_id?: number }>`).
 */
export type SessionView<T extends object = SessionShape> = SessionMethods & { [K in keyof T]: T[K] } & Record<string, unknown>;

const METHODS = new Set(['get', 'set', 'has', 'delete', 'toJSON', 'id', 'regenerate', 'destroy', 'save', 'touch']);

/** Plain JS → PHP value at write time; a value PHP cannot hold is refused here, not at the end. */
export function toSessionValue(value: unknown): PhpValue {
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new TypeError(`a ${typeof value} cannot be stored in a PHP session`);
  }
  if (value !== null && typeof value === 'object' && !(value instanceof PhpArray) && !(value instanceof Uint8Array) && !(value instanceof Map)) {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (!Array.isArray(value) && proto !== Object.prototype && proto !== null && !isPhpClass(value)) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new TypeError(`a ${name} cannot be stored in a PHP session: store plain data (e.g. its toJSON() or toISOString())`);
    }
  }
  return toPhp(value as JsInput);
}

function isPhpClass(v: object): boolean {
  return v instanceof PhpBytes || v instanceof PhpFloat || Object.getPrototypeOf(v)?.constructor?.name?.startsWith('Php') === true;
}

/** A PHP value as JSON-safe plain JS (bigints as strings, bytes as Latin-1 strings). */
export function phpToJson(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof PhpFloat) return v.value;
  if (v instanceof PhpBytes) return v.toBinaryString();
  if (v instanceof PhpArray) return v.toJSON();
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') return (v as { toJSON(): unknown }).toJSON();
  return v;
}

function keyOf(p: string): PhpKey {
  return p;
}

/** The view's methods, built on the first method access (property access needs none of them). */
function viewMethods(ctx: PhpSessionContext): SessionMethods {
  return {
    get: (key) => ctx.data().get(key),
    set: (key, value) => viewSet(ctx, key, value),
    has: (key) => ctx.data().has(key),
    delete: (key) => viewDelete(ctx, key),
    toJSON: () => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of ctx.data()) Object.defineProperty(out, String(k instanceof PhpBytes ? k.toBinaryString() : k), { value: phpToJson(v), enumerable: true, writable: true, configurable: true });
      return out;
    },
    get id() {
      return ctx.id;
    },
    regenerate: () => ctx.regenerate(),
    destroy: () => ctx.destroy(),
    save: () => ctx.save(),
    touch: () => ctx.touch(),
  };
}

function viewSet(ctx: PhpSessionContext, key: PhpKey, value: unknown): void {
  const v = toSessionValue(value);
  ctx.beforeWrite();
  ctx.data().set(key, v);
}

function viewDelete(ctx: PhpSessionContext, key: PhpKey): boolean {
  ctx.beforeWrite();
  return ctx.data().delete(key);
}

/** The Proxy handler of one view: its traps are shared (prototype methods), its state is the context. */
class ViewHandler implements ProxyHandler<Record<string, unknown>> {
  readonly ctx: PhpSessionContext;
  #methods: SessionMethods | undefined;
  constructor(ctx: PhpSessionContext) {
    this.ctx = ctx;
  }
  get(_t: Record<string, unknown>, p: string | symbol): unknown {
    if (typeof p === 'symbol') return undefined;
    if (METHODS.has(p)) return ((this.#methods ??= viewMethods(this.ctx)) as unknown as Record<string, unknown>)[p];
    return this.ctx.data().get(keyOf(p));
  }
  set(_t: Record<string, unknown>, p: string | symbol, value: unknown): boolean {
    if (typeof p === 'symbol' || METHODS.has(p)) throw new TypeError(`session.${String(p)} is a method name: use session.set('${String(p)}', value)`);
    viewSet(this.ctx, keyOf(p), value);
    return true;
  }
  has(_t: Record<string, unknown>, p: string | symbol): boolean {
    return typeof p === 'string' && (METHODS.has(p) || this.ctx.data().has(keyOf(p)));
  }
  deleteProperty(_t: Record<string, unknown>, p: string | symbol): boolean {
    if (typeof p === 'symbol') return true;
    viewDelete(this.ctx, keyOf(p));
    return true;
  }
  ownKeys(): string[] {
    return [...this.ctx.data().keys()].map((k) => (k instanceof PhpBytes ? k.toBinaryString() : String(k)));
  }
  getPrototypeOf(): object | null {
    return null;
  }
  getOwnPropertyDescriptor(_t: Record<string, unknown>, p: string | symbol): PropertyDescriptor | undefined {
    if (typeof p === 'symbol' || !this.ctx.data().has(keyOf(p))) return undefined;
    return { value: this.ctx.data().get(keyOf(p)), enumerable: true, configurable: true, writable: true };
  }
}

/**
 * The views' Proxy targets inherit from this empty null-prototype object: `Object.create(null)`
 * itself makes a dictionary-mode object (a hash table a request); `Object.create(VIEW_BASE)` a
 * fast one. The handler's getPrototypeOf still says null.
 */
const VIEW_BASE = Object.create(null) as object;

/** Builds the `req.session` view of a context. */
export function createSessionView<T extends object>(ctx: PhpSessionContext): SessionView<T> {
  return new Proxy(Object.create(VIEW_BASE) as Record<string, unknown>, new ViewHandler(ctx)) as SessionView<T>;
}
