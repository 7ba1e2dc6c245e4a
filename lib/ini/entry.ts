/**
 * @module ini/entry
 * The shape of an ini directive (PHP's zend_ini_entry_def) and of the host its validator talks to:
 * who may change it, its default, its OnUpdate* rule and the stage a change happens in.
 */
import type { DiagnosticLevel } from '../errors.ts';
import type { SaveHandlerModule } from '../handler.ts';
import type { SessionSerializer } from '../serializer.ts';

export type IniChangeable = 'PHP_INI_ALL' | 'PHP_INI_PERDIR' | 'PHP_INI_SYSTEM';

/** When a value is applied: engine construction, a script at run time, or the end-of-request restore. */
export type IniStage = 'startup' | 'runtime' | 'deactivate';

/**
 * What an entry's parsed value is, after its OnUpdate* rule: `bool` (OnUpdateBool → boolean),
 * `long` (OnUpdateLong and kin → bigint, or number for the sid entries), `real` (OnUpdateReal →
 * number), `string` (OnUpdateString → the C string), `module` / `serializer` (the registry entry
 * or undefined), `freq` (session.upload_progress.freq → number, negative for a percentage).
 */
export type IniType = 'bool' | 'long' | 'real' | 'string' | 'module' | 'serializer' | 'freq';

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
  /** What `parsed` holds (see {@link IniType}); absent: the raw string. */
  readonly type?: IniType;
  /** Validates and parses; `false` refuses the value (the old one stays). Absent: accept as a string. */
  onModify?(value: string, host: IniHost): { parsed: unknown } | false;
}
