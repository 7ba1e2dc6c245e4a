/**
 * @module handler
 * The save-handler contract: the TypeScript equivalent of PHP's `ps_module` (php_session.h).
 * One file per module in handlers/, each exporting a {@link SaveHandlerModule}.
 */
import type { DiagnosticLevel } from './errors.ts';

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
  /** Touches the session without rewriting it (lazy_write). Default: write(). */
  updateTimestamp?(id: string, data: Uint8Array, maxLifetime: number): MaybePromise<boolean>;
}

/** A registered module: its PHP name and a factory for per-request instances. */
export interface SaveHandlerModule {
  readonly name: string;
  create(ctx: SaveHandlerContext): SaveHandler;
  /** ini directives this module adds (e.g. memcached.sess_locking), with PHP's defaults. */
  readonly ini?: readonly ModuleIniEntry[];
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
