/**
 * @module handler
 * The save-handler contract: the TypeScript equivalent of PHP's `ps_module` (php_session.h).
 * One file per module in handlers/, each exporting a {@link SaveHandlerModule}.
 */
import type { Diagnostic, DiagnosticLevel } from './errors.ts';

export type MaybePromise<T> = T | Promise<T>;

/** What the engine lends a module instance: ini values and PHP's diagnostics channel. */
export interface SaveHandlerContext {
  /** Current value of an ini directive (`session.*`, `memcached.sess_*`, ...); undefined if unknown. */
  ini(name: string): string | undefined;
  /**
   * Reports a PHP diagnostic raised inside the module. The engine adds the calling function's
   * prefix (`session_start(): `) unless `raw` is set (PHP's php_error without docref).
   */
  diagnostic(level: DiagnosticLevel, message: string, raw?: boolean): void;
  /** Generates an id with PHP's built-in generator (php_session_create_id). */
  createId(): string;
  /** Current time in ms (the request's clock, so tests can move time). */
  now(): number;
}

/**
 * One open session storage, created per request by its module's factory (PHP's mod_data).
 * Return values mirror PHP: `true`/`false` for SUCCESS/FAILURE, `false` from read on failure,
 * a count from gc (`-1` on failure).
 */
export interface SaveHandler {
  /** The module name, as selected by `session.save_handler` (`files`, `user`, ...). */
  readonly name: string;
  /** Opens storage for `savePath` (the raw ini value). Must not fail for a missing session. */
  open(savePath: string, sessionName: string): MaybePromise<boolean>;
  /** Releases storage and any lock. */
  close(): MaybePromise<boolean>;
  /**
   * Reads and locks session `id`. A non-existent id is not an error: return empty data.
   * Returns the stored bytes, or false on failure.
   */
  read(id: string, maxLifetime: number): MaybePromise<Uint8Array | false>;
  /** Writes the encoded session. */
  write(id: string, data: Uint8Array, maxLifetime: number): MaybePromise<boolean>;
  /** Deletes session `id`. Destroying a session that does not exist succeeds. */
  destroy(id: string): MaybePromise<boolean>;
  /** Deletes sessions idle longer than maxLifetime seconds; returns how many, or -1 on failure. */
  gc(maxLifetime: number): MaybePromise<number>;
  /** Creates a new id (collision-checked where the module can); false/null on failure. Default: the built-in generator. */
  createSid?(): MaybePromise<string | false | null>;
  /** True when `id` exists in storage (strict mode). Default: always true. */
  validateSid?(id: string): MaybePromise<boolean>;
  /**
   * The engine no longer references the bytes read() returned last (`data`, that exact object):
   * it compared them with, or copied them into, bytes of its own before decoding. The module may
   * reuse their memory (the memcache modules give the reply's read buffer back to their client,
   * which reads the next large reply into it instead of a fresh buffer). Called at most once per
   * read(), and only when nothing the engine keeps is a view of `data`. Optional.
   */
  release?(data: Uint8Array): void;
  /**
   * write() and updateTimestamp() keep no reference to `data`, nor to any view of it, once the
   * promise they return has settled (or they returned): the engine may then write a later session
   * into the same memory (lib/session/bytes-pool.ts). Only for modules that can promise it (the
   * memcache modules: the client sends the bytes and the reply comes after the last byte).
   */
  readonly forgetsWrittenData?: boolean;
  /** Touches the session without rewriting it (lazy_write). Default: write(). */
  updateTimestamp?(id: string, data: Uint8Array, maxLifetime: number): MaybePromise<boolean>;
}

/** A registered module: its PHP name and a factory for per-request instances. */
export interface SaveHandlerModule {
  readonly name: string;
  create(ctx: SaveHandlerContext): SaveHandler;
  /** ini directives this module adds (e.g. memcached.sess_locking), with PHP's defaults. */
  readonly ini?: readonly ModuleIniEntry[];
  /** MSHUTDOWN: releases what the module holds process-wide (called by `engine.shutdown()`). */
  shutdown?(): MaybePromise<void>;
}

/** An ini directive contributed by a module. */
export interface ModuleIniEntry {
  name: string;
  default: string;
  /** PHP_INI_ALL, PHP_INI_PERDIR or PHP_INI_SYSTEM. */
  changeable: 'PHP_INI_ALL' | 'PHP_INI_PERDIR' | 'PHP_INI_SYSTEM';
  /** Returns a warning text to refuse the value, or undefined to accept it. */
  validate?(value: string): string | undefined;
}

/**
 * A callback registered through session_set_save_handler(): the function and the `this` it is
 * called with (one entry of PHP's PS(mod_user_names)).
 */
export interface UserCallbackBinding {
  fn: (...args: never[]) => unknown;
  self: unknown;
}

/**
 * What `session_set_save_handler()` registered: PHP's PS(mod_user_names) and
 * PS(mod_user_class_name). The engine reads the documented fields; `object` and `slots` belong to
 * the `user` module.
 */
export interface UserHandlerSpec {
  /** Object form: the class name used in messages (`MySession::write`); callable form: undefined. */
  readonly className: string | undefined;
  /** The handler object (object form), or undefined. */
  readonly object: object | undefined;
  /**
   * Object form: true = register the `session_shutdown` function (PHP writes and closes the
   * session in the shutdown-function phase); false = remove it. Callable form: always false
   * (PHP removes the shutdown function).
   */
  readonly registerShutdown: boolean;
  /**
   * Diagnostics PHP raises while parsing the arguments (e.g. Deprecated "Passing null to parameter
   * #2 ($close) of type bool is deprecated"). The engine emits them, prefixed by the function name,
   * before its own state checks.
   */
  readonly argumentDiagnostics: readonly Diagnostic[];
  /** The nine slots in PHP's order (open ... update_timestamp); undefined = not supplied. */
  readonly slots: readonly (UserCallbackBinding | undefined)[];
}

/** The engine side of the user-handler seam: what the user module needs beyond any module's context. */
export interface UserHandlerContext extends SaveHandlerContext {
  /** The module active before `user` (PHP's default_mod), which SessionHandler wraps. */
  defaultModule: SaveHandlerModule | undefined;
  /** True while the session is active (SessionHandler's methods require it). */
  sessionActive(): boolean;
  /**
   * PHP's pending exception (EG(exception)), if the engine models it: the exception currently
   * waiting to leave the running session_* function, or undefined. Optional; see
   * {@link UserHandlerContext.setPendingException}.
   */
  pendingException?(): unknown;
  /**
   * Records `error` as the pending exception. When both hooks are provided, a callback's
   * exception (and a TypeError about its return value) is recorded instead of thrown, the
   * operation reports failure, later callbacks are skipped while it is pending, and the engine
   * throws it when the session_* function returns, which is PHP's order exactly. Without the hooks
   * the handler throws at once, after its own state updates.
   */
  setPendingException?(error: unknown): void;
}

/** The `user` module's per-session instance, with what the engine needs for PHP's messages. */
export interface UserSaveHandler extends SaveHandler {
  /** PHP's mod_user_implemented: open was called and close has not been since. */
  readonly opened: boolean;
  /** PHP's in_save_handler: a user callback is running (session_create_id then uses the built-in generator). */
  readonly inSaveHandler: boolean;
}

/**
 * The one seam between the engine and the `user` module (mod_user.c plus the argument handling of
 * PHP_FUNCTION(session_set_save_handler)). handlers/user.ts implements it; lib/builtins.ts wires it.
 */
export interface UserModuleApi {
  /** Validates session_set_save_handler()'s arguments (PHP's TypeError/ArgumentCountError texts). */
  parseSaveHandlerArgs(args: readonly unknown[], previous?: UserHandlerSpec): UserHandlerSpec;
  /** The module instance for one registration; request-wide state is keyed by `ctx`. */
  createUserSaveHandler(spec: UserHandlerSpec, ctx: UserHandlerContext): UserSaveHandler;
}
