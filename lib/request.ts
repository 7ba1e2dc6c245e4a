/**
 * @module request
 * One request (PHP's RINIT..RSHUTDOWN) as a facade over lib/session/: camelCase methods with real
 * signatures, the `functions` object a PHP runtime binds, the response headers and diagnostics.
 * The state lives in plain records (PS() in session/state, SG() in session/sapi); the behaviour in
 * one function per ext/session routine (session/lifecycle, module, ids, headers, codec) and one per
 * PHP_FUNCTION (session/functions/).
 */
import { PhpError } from './errors.ts';
import type { Diagnostic } from './errors.ts';
import type { SessionSerializer } from './serializer.ts';
import { PhpArray, type JsInput, type PhpBytes, type PhpValue } from './value.ts';
import { iniBool, iniHost, READY, type EngineCore, type RequestContext } from './session/context.ts';
import { drive } from './session/drive.ts';
import { invoke } from './session/frame.ts';
import { rshutdown, start as phpSessionStart } from './session/lifecycle.ts';
import { addHeader, emitDiagnostic, newSapi, sapiNow, type OutputStart, type RequestOptions, type RequestVar } from './session/sapi.ts';
import { newSessionState, PHP_SESSION_DISABLED, type SessionStatus } from './session/state.ts';
import { bindFunctions, type SessionFunctions } from './session/functions/index.ts';
import { rewriteOutput } from './session/trans-sid.ts';
import { rfc1867Callback, type MultipartEvent } from './session/upload-progress.ts';
import { session_decode, session_encode } from './session/functions/codec.ts';
import { session_get_cookie_params, session_set_cookie_params } from './session/functions/cookie-params.ts';
import { session_create_id, session_id, session_regenerate_id } from './session/functions/id.ts';
import { ini_get, ini_restore, ini_set } from './session/functions/ini.ts';
import { output_add_rewrite_var, output_reset_rewrite_vars } from './session/functions/output.ts';
import { sessionStart } from './session/functions/start.ts';
import {
  session_abort,
  session_destroy,
  session_gc,
  session_reset,
  session_status,
  session_unset,
  session_write_close,
} from './session/functions/state.ts';
import { session_cache_expire, session_cache_limiter, session_module_name, session_name, session_save_path } from './session/functions/settings.ts';
import { RequestWatch } from './session/watch.ts';

export { bytesToPhpString } from './session/functions/codec.ts';
export type { SessionFunctions } from './session/functions/index.ts';
export { HOLD_LIMIT_WARNING } from './session/watch.ts';
export type { EngineCore } from './session/context.ts';
export type { OutputStart, RequestOptions, RequestVar } from './session/sapi.ts';
export type { MultipartEvent } from './session/upload-progress.ts';
export {
  PHP_SESSION_ACTIVE,
  PHP_SESSION_DISABLED,
  PHP_SESSION_NONE,
  SessionStatusNames,
  type SessionStatus,
} from './session/state.ts';

/** What the watch calls on a request past its hold limit (one function for all requests). */
const closeNow = (o: object): Promise<boolean> => (o as SessionRequest).writeClose();

/**
 * One request (PHP's RINIT..RSHUTDOWN). Create it with {@link SessionEngine.request}.
 * @example
 * const req = engine.request({ cookies: { PHPSESSID: 'abc' } });
 * await req.start();
 * req.session.set('n', 1);
 * await req.end();
 */
export class SessionRequest {
  readonly #r: RequestContext;
  #functions: SessionFunctions | undefined;

  constructor(engine: EngineCore, opts: RequestOptions = {}) {
    const ps = newSessionState();
    const r: RequestContext = {
      ps,
      sapi: newSapi(opts),
      engine,
      ini: engine.masterIni.clone(),
      modified: undefined,
      fn: undefined,
      pending: undefined,
      ready: READY,
      serializerCtx: undefined,
      validatedSlot: undefined,
      failedWrites: 0,
    };
    this.#r = r;
    engine.syncModuleIni(r.ini, () => iniHost(r, 'startup'));
    for (const d of engine.takeStartupDiagnostics()) emitDiagnostic(r.sapi, d);
    // RINIT: find the module and serializer named by the ini values.
    ps.mod = engine.findModule(r.ini.get('session.save_handler') ?? '');
    ps.serializer =
      r.ini.parsed<SessionSerializer | undefined>('session.serialize_handler') ??
      engine.findSerializer(r.ini.get('session.serialize_handler') ?? '');
    if (ps.mod === undefined || ps.serializer === undefined) ps.status = PHP_SESSION_DISABLED;
    // The safety net for sessions left open (session/watch): hold limit, GC and exit warnings.
    this.#watch = new RequestWatch(this, r, closeNow);
    if (ps.status !== PHP_SESSION_DISABLED && iniBool(r, 'session.auto_start')) r.ready = this.#autoStart();
  }

  readonly #watch: RequestWatch;

  /** Runs session_start() under the watch (see session/watch). */
  #watched(p: Promise<boolean>): Promise<boolean> {
    this.#watch.started();
    return p.then((ok) => {
      this.#watch.noteId();
      return ok;
    });
  }

  /** RINIT's auto_start: php_session_start() outside any function ("PHP Request Startup: "). */
  async #autoStart(): Promise<void> {
    const r = this.#r;
    r.fn = 'PHP Request Startup';
    try {
      this.#watch.started();
      await drive(phpSessionStart(r));
      this.#watch.noteId();
    } finally {
      r.fn = undefined;
    }
  }

  /**
   * Settles when request startup is done (session.auto_start starts the session here). Every
   * async session function waits for it; await it before calling the synchronous ones.
   */
  get ready(): Promise<void> {
    return this.#r.ready.then(() => {
      const p = this.#r.pending;
      if (p !== undefined) {
        this.#r.pending = undefined;
        throw p.error;
      }
    });
  }

  /** The session functions under their PHP names, as a PHP runtime binds them (built on first use). */
  get functions(): SessionFunctions {
    if (this.#functions === undefined) {
      const f = bindFunctions(this.#r);
      const start = f.session_start;
      f.session_start = (...args: unknown[]) => this.#watched(start(...args));
      this.#functions = f;
    }
    return this.#functions;
  }

  // Request globals and response -----------------------------------------------------------------

  /** $_COOKIE as the script sees it now (session_start reads it, so changes count). */
  get cookies(): Record<string, RequestVar> {
    return this.#r.sapi.cookies;
  }
  set cookies(v: Record<string, RequestVar>) {
    this.#r.sapi.cookies = v;
  }

  /** $_GET. */
  get query(): Record<string, RequestVar> {
    return this.#r.sapi.query;
  }
  set query(v: Record<string, RequestVar>) {
    this.#r.sapi.query = v;
  }

  /** $_POST. */
  get body(): Record<string, RequestVar> {
    return this.#r.sapi.body;
  }
  set body(v: Record<string, RequestVar>) {
    this.#r.sapi.body = v;
  }

  /** The server array (HTTP_REFERER). */
  get server(): Record<string, string> {
    return this.#r.sapi.server;
  }

  /** $_SESSION. Before the first start it is created empty on first use, as PHP creates it on write. */
  get session(): PhpArray {
    const v = this.#r.ps.sessionVar;
    if (v === undefined || v === null) {
      const a = new PhpArray();
      this.#r.ps.sessionVar = a;
      return a;
    }
    if (!(v instanceof PhpArray)) throw new PhpError('Cannot use a scalar value as an array');
    return v;
  }
  set session(value: PhpArray | Record<string, JsInput>) {
    this.#r.ps.sessionVar = value instanceof PhpArray ? value : PhpArray.from(value);
  }

  /** $_SESSION exactly as it is (undefined when unset; any value a script assigned). */
  get sessionValue(): PhpValue | undefined {
    return this.#r.ps.sessionVar;
  }
  set sessionValue(value: PhpValue | undefined) {
    this.#r.ps.sessionVar = value;
  }

  /** Header lines PHP would send, in order. */
  get headers(): Array<[string, string]> {
    return this.#r.sapi.headers;
  }

  /** Warnings, notices and deprecations raised so far, with PHP's texts. */
  get diagnostics(): Diagnostic[] {
    return this.#r.sapi.diagnostics;
  }

  /**
   * PHP's SID constant, read-only: `"name=id"` when the id did not come from the session cookie
   * (and session.use_only_cookies is off), `""` when it did or use_only_cookies is on; undefined
   * (PHP: Error "Undefined constant "SID"") until php_session_reset_id first runs, i.e. a
   * successful session_start() or session_regenerate_id(). Each of them sets it again (a new id
   * after regenerate); session_write_close(), session_destroy() and session_id() leave it as it is.
   */
  get SID(): string | undefined {
    return this.#r.ps.sid;
  }

  /** Same as {@link SID} (the name used before SID was documented). */
  get sid(): string | undefined {
    return this.#r.ps.sid;
  }

  /**
   * How many times saving the session data failed in this request: the module's write (or
   * update_timestamp, under lazy_write) did not return true or threw, at session_write_close(),
   * session_commit() or the request's end. PHP only warns ("Failed to write session data ...")
   * and session_write_close() still returns true; this count lets a caller tell without reading
   * the warnings' texts. Writes of session_regenerate_id() are not counted (it returns false).
   */
  get failedWrites(): number {
    return this.#r.failedWrites;
  }

  /** True when PHP would rewrite URLs of the output with the id (trans-sid armed). */
  get transSidActive(): boolean {
    return this.#r.ps.transSid;
  }

  /**
   * Passes response output through PHP's URL rewriter ("URL-Rewriter" output handlers): once
   * trans-sid applied at session_start()/session_regenerate_id() (see {@link transSidActive}) or
   * output_add_rewrite_var() was called, links, forms, frames and areas get the session name=id
   * (and the added variables) as PHP 8.2 would write them; before that, output passes unchanged.
   * State is kept across calls (a tag cut between two chunks is rewritten as if whole); the end of
   * a chunk that could still be part of a tag is held back until the next call, and `final: true`
   * (PHP's flush and end of request) passes it through as PHP does. A string in gives a string out
   * (UTF-8), bytes in give a Buffer out (byte-exact). Each call uses the variables of that moment;
   * PHP, which buffers the whole response, uses those at flush or end of request (see README).
   */
  rewriteOutput(chunk: string, opts?: { final?: boolean }): string;
  rewriteOutput(chunk: Uint8Array, opts?: { final?: boolean }): Buffer;
  rewriteOutput(chunk: string | Uint8Array, opts: { final?: boolean } = {}): string | Buffer {
    return rewriteOutput(this.#r, chunk, opts.final === true);
  }

  /**
   * Upload progress (session.upload_progress.*): feed the multipart parser's events of this
   * request's body, in order, before the script runs — `start` (Content-Length), each `formdata`
   * field, `file_start` / `file_data` / `file_end` per file, and `end`. The session keeps
   * `$_SESSION[prefix . name]` in the store as PHP's rfc1867 hook does. Resolves false when the
   * upload is to be cancelled (another request set `cancel_upload` in the record): drop the current
   * file and report UPLOAD_ERR_EXTENSION (8) for it in its `file_end`, as PHP's parser does.
   */
  uploadProgress(event: MultipartEvent): Promise<boolean> {
    const r = this.#r;
    return invoke(r, 'PHP Request Startup', () => rfc1867Callback(r, event));
  }

  /** output_add_rewrite_var(). */
  outputAddRewriteVar(name: string, value: string): boolean {
    return output_add_rewrite_var(this.#r, [name, value]);
  }

  /** output_reset_rewrite_vars(). */
  outputResetRewriteVars(): boolean {
    return output_reset_rewrite_vars(this.#r, []);
  }

  /** PHP's headers_sent(). */
  get headersSent(): boolean {
    return this.#r.sapi.headersSent !== false;
  }

  /** Output has started (optionally where): later header changes fail as in PHP. */
  markHeadersSent(file?: string, line?: number): void {
    const sapi = this.#r.sapi;
    if (sapi.headersSent === false) sapi.headersSent = file === undefined ? {} : { file, line: line ?? 0 };
  }

  /** Sets the headers-sent state (a runtime that buffers output may also reset it). */
  setHeadersSent(sent: boolean | OutputStart): void {
    this.#r.sapi.headersSent = sent === false ? false : sent === true ? {} : { ...sent };
  }

  /** Adds a header line as PHP's header() does (`replace` removes earlier ones of the same name). */
  addHeader(name: string, value: string, replace = true): void {
    addHeader(this.#r.sapi, name, value, replace);
  }

  /** Registers a shutdown function (register_shutdown_function); end() runs them before RSHUTDOWN. */
  registerShutdownFunction(fn: () => unknown): void {
    this.#r.sapi.shutdownFns.push({ fn });
  }

  /** The request's clock, ms. */
  now(): number {
    return sapiNow(this.#r.sapi);
  }

  // The session functions, camelCase (each @see its PHP function) -------------------------------

  /** session_start(). @see https://www.php.net/manual/en/function.session-start.php */
  start(options?: PhpArray | Record<string, JsInput>): Promise<boolean> {
    // Without options this is session_start() with no arguments (nothing to check).
    if (options === undefined) return this.#watched(invoke(this.#r, 'session_start', () => sessionStart(this.#r, undefined)));
    return this.functions.session_start(options);
  }

  /** session_id(): the current id; with an argument, sets it (returns the old one). @see https://www.php.net/manual/en/function.session-id.php */
  id(newId?: string | null): string | false {
    return session_id(this.#r, newId === undefined ? [] : [newId]);
  }

  /** session_name(). @see https://www.php.net/manual/en/function.session-name.php */
  name(newName?: string | null): string | false {
    return session_name(this.#r, newName === undefined ? [] : [newName]);
  }

  /** session_status(). @see https://www.php.net/manual/en/function.session-status.php */
  status(): SessionStatus {
    return session_status(this.#r, []);
  }

  /** session_write_close(). @see https://www.php.net/manual/en/function.session-write-close.php */
  writeClose(): Promise<boolean> {
    return session_write_close(this.#r, []);
  }

  /** session_commit(). @see https://www.php.net/manual/en/function.session-commit.php */
  commit(): Promise<boolean> {
    return session_write_close(this.#r, [], 'session_commit');
  }

  /** session_abort(). @see https://www.php.net/manual/en/function.session-abort.php */
  abort(): Promise<boolean> {
    return session_abort(this.#r, []);
  }

  /** session_reset(). @see https://www.php.net/manual/en/function.session-reset.php */
  reset(): Promise<boolean> {
    return session_reset(this.#r, []);
  }

  /** session_destroy(). @see https://www.php.net/manual/en/function.session-destroy.php */
  destroy(): Promise<boolean> {
    return session_destroy(this.#r, []);
  }

  /** session_unset(). @see https://www.php.net/manual/en/function.session-unset.php */
  unset(): boolean {
    return session_unset(this.#r, []);
  }

  /** session_regenerate_id(). @see https://www.php.net/manual/en/function.session-regenerate-id.php */
  regenerateId(deleteOldSession = false): Promise<boolean> {
    return session_regenerate_id(this.#r, [deleteOldSession]);
  }

  /** session_create_id(). @see https://www.php.net/manual/en/function.session-create-id.php */
  createId(prefix = ''): Promise<string | false> {
    return session_create_id(this.#r, [prefix]);
  }

  /** session_encode(). @see https://www.php.net/manual/en/function.session-encode.php */
  encode(): string | PhpBytes | false {
    return session_encode(this.#r, []);
  }

  /** session_decode(). @see https://www.php.net/manual/en/function.session-decode.php */
  decode(data: string | PhpBytes | Uint8Array): Promise<boolean> {
    return session_decode(this.#r, [data]);
  }

  /** session_gc(). @see https://www.php.net/manual/en/function.session-gc.php */
  gc(): Promise<number | false> {
    return session_gc(this.#r, []);
  }

  /** session_save_path(). @see https://www.php.net/manual/en/function.session-save-path.php */
  savePath(path?: string | null): string | false {
    return session_save_path(this.#r, path === undefined ? [] : [path]);
  }

  /** session_module_name(). @see https://www.php.net/manual/en/function.session-module-name.php */
  moduleName(module?: string | null): string | false {
    return session_module_name(this.#r, module === undefined ? [] : [module]);
  }

  /** session_set_save_handler(), object or callable form. @see https://www.php.net/manual/en/function.session-set-save-handler.php */
  setSaveHandler(...args: unknown[]): boolean {
    return this.functions.session_set_save_handler(...args);
  }

  /** session_set_cookie_params(), both signatures. @see https://www.php.net/manual/en/function.session-set-cookie-params.php */
  setCookieParams(...args: unknown[]): Promise<boolean> {
    return session_set_cookie_params(this.#r, args);
  }

  /** session_get_cookie_params(). @see https://www.php.net/manual/en/function.session-get-cookie-params.php */
  getCookieParams(): PhpArray {
    return session_get_cookie_params(this.#r, []);
  }

  /** session_cache_limiter(). @see https://www.php.net/manual/en/function.session-cache-limiter.php */
  cacheLimiter(value?: string | null): string | false {
    return session_cache_limiter(this.#r, value === undefined ? [] : [value]);
  }

  /** session_cache_expire(). @see https://www.php.net/manual/en/function.session-cache-expire.php */
  cacheExpire(value?: number | null): number | bigint | false {
    return session_cache_expire(this.#r, value === undefined ? [] : [value]);
  }

  /** session_register_shutdown(). @see https://www.php.net/manual/en/function.session-register-shutdown.php */
  registerShutdown(): void {
    this.functions.session_register_shutdown();
  }

  /** ini_get() for any directive the engine knows. */
  iniGet(name: string): string | false {
    return ini_get(this.#r, [name]);
  }

  /** ini_set(): the old value, or false. */
  iniSet(name: string, value: string | number | boolean | null): string | false {
    return ini_set(this.#r, [name, value]);
  }

  /** ini_restore(). */
  iniRestore(name: string): void {
    ini_restore(this.#r, [name]);
  }

  /**
   * RSHUTDOWN: runs the registered shutdown functions, then writes and closes an active session and
   * releases the request's state. Rethrows an exception a save handler threw on the way.
   */
  end(): Promise<void> {
    const r = this.#r;
    if (r.sapi.ended) return Promise.resolve();
    r.sapi.ended = true;
    this.#watch.ended();
    try {
      const v = drive(rshutdown(r));
      return v instanceof Promise ? v : Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }
}
