/**
 * @module session/context
 * The per-request bundle every routine works on: PS() ({@link SessionState}), the SAPI record, the
 * engine's MINIT state, the request's ini scope, and the executor state PHP keeps in EG() (the
 * running function, for diagnostic prefixes, and the pending exception). With it: the diagnostics
 * channel, typed ini getters and zend_alter_ini_entry, and the call into the save handler.
 */
import type { Diagnostic, DiagnosticLevel } from '../errors.ts';
import type { SaveHandlerModule, UserModuleApi } from '../handler.ts';
import type { SerializerContext, SessionSerializer } from '../serializer.ts';
import type { IniHost, IniStage, IniTable } from '../ini/index.ts';
import { emitDiagnostic, type Sapi } from './sapi.ts';
import { PHP_SESSION_ACTIVE, type SessionState } from './state.ts';
import { isThenable } from './drive.ts';
import { createSessionId } from '../session-id.ts';
import type { SlotMemo, ValidatedCache } from './validated.ts';
import type { BytesPool } from './bytes-pool.ts';

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
  takeStartupDiagnostics(): readonly Diagnostic[];
  /** Decode sessions lazily where the serializer can (SessionEngineOptions.lazyDecode). */
  readonly lazyDecode?: boolean;
  /** The validated-bytes cache of lazy decoding (SessionEngineOptions.validatedCacheBytes); undefined = none. */
  readonly validated?: ValidatedCache | undefined;
  /** The encoder's output buffers for writes to the store (lib/session/bytes-pool.ts). */
  readonly bytesPool?: BytesPool | undefined;
  /** Whether `s` is one of the engine's built-in serializers (only they are lent a pooled output buffer). */
  readonly builtinSerializer?: (s: SessionSerializer) => boolean;
}

/** One request: PS(), SG(), the engine, the ini scope, and the executor state. */
export interface RequestContext {
  readonly ps: SessionState;
  readonly sapi: Sapi;
  readonly engine: EngineCore;
  /** The request's ini values (a copy-on-write clone of the engine's). */
  readonly ini: IniTable;
  /** Names changed by the script (ini_restore only restores these); made on the first change. */
  modified: Set<string> | undefined;
  /** The running PHP function (diagnostic prefix); undefined = request shutdown. */
  fn: string | undefined;
  /** EG(exception): thrown by a module, rethrown when the running function returns. */
  pending: { error: unknown } | undefined;
  /** Request startup (auto_start); READY when there was nothing to do. */
  ready: Promise<void>;
  /** The serializer's context, made once per request (see session/codec). */
  serializerCtx: SerializerContext | undefined;
  /** The session's slot in the validated-bytes cache, kept while its key stays the same (see session/codec). */
  validatedSlot: SlotMemo | undefined;
  /** Saves of the session data (php_session_save_current_state) whose write or update_timestamp failed. */
  failedWrites: number;
}

/** The settled "startup done" of a request without auto_start. */
export const READY: Promise<void> = Promise.resolve();

/**
 * php_error_docref: the diagnostic with the running function's prefix (`session_start(): `,
 * `PHP Request Startup: `, or `PHP Request Shutdown: ` outside any function); `raw` = zend_error.
 */
export function report(r: RequestContext, level: DiagnosticLevel, message: string, raw = false): void {
  let text = message;
  if (!raw) {
    const fn = r.fn;
    text = fn === undefined ? `PHP Request Shutdown: ${message}` : fn.startsWith('PHP ') ? `${fn}: ${message}` : `${fn}(): ${message}`;
  }
  emitDiagnostic(r.sapi, { level, message: text });
}

/** Records `error` as the pending exception unless one is pending already. */
export function setPending(r: RequestContext, error: unknown): void {
  if (r.pending === undefined) r.pending = { error };
}

/** Throws the pending exception, if any, and clears it. */
export function throwPending(r: RequestContext): void {
  const p = r.pending;
  if (p !== undefined) {
    r.pending = undefined;
    throw p.error;
  }
}

// ---------------------------------------------------------------------------------------------
// The ini scope: typed getters and zend_alter_ini_entry

export function iniBool(r: RequestContext, name: string): boolean {
  return r.ini.parsed<boolean>(name) === true;
}

export function iniLong(r: RequestContext, name: string): bigint {
  const v = r.ini.parsed<unknown>(name);
  return typeof v === 'bigint' ? v : BigInt(Number(v ?? 0));
}

/** A string setting as PHP's C code sees it (cut at a NUL byte for char* settings). */
export function iniStr(r: RequestContext, name: string): string {
  const v = r.ini.value(name);
  if (v === undefined) return '';
  return typeof v.parsed === 'string' ? v.parsed : v.raw;
}

/** The ini validators' view of this request (PHP's OnUpdate* read PS() and SG()). */
export function iniHost(r: RequestContext, stage: IniStage = 'runtime'): IniHost {
  return {
    stage,
    modulesActivated: true,
    settingUserHandler: r.ps.settingUserHandler,
    sessionActive: () => r.ps.status === PHP_SESSION_ACTIVE,
    headersSent: () => r.sapi.headersSent !== false,
    report: (l, m, raw) => report(r, l, m, raw),
    findModule: (n) => r.engine.findModule(n),
    findSerializer: (n) => r.engine.findSerializer(n),
    openBasedir: () => iniStr(r, 'open_basedir'),
    saveHandlerChanged: (m) => {
      r.ps.defaultMod = r.ps.mod;
      r.ps.mod = m;
    },
  };
}

/** zend_alter_ini_entry at run time with user permission. */
export function alterIni(r: RequestContext, name: string, value: string): boolean {
  const ok = r.ini.alter(name, value, iniHost(r, 'runtime'), true);
  if (ok) {
    (r.modified ??= new Set()).add(name);
    if (name === 'session.serialize_handler') {
      r.ps.serializer = r.ini.parsed<SessionSerializer | undefined>(name);
    }
  }
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Calling the module

/**
 * Calls into the module; a throw becomes PHP's pending exception and the call answers `failed`.
 * A plain answer comes back plain (no promise); a thenable is awaited, and its rejection also
 * becomes the pending exception.
 */
export function callModule<T>(r: RequestContext, fn: () => T | PromiseLike<T>, failed: T): T | Promise<T> {
  r.ps.inHandler++;
  let v: T | PromiseLike<T>;
  try {
    v = fn();
  } catch (e) {
    r.ps.inHandler--;
    setPending(r, e);
    return failed;
  }
  if (isThenable(v)) return settleModuleCall(r, v, failed);
  r.ps.inHandler--;
  return v;
}

async function settleModuleCall<T>(r: RequestContext, p: PromiseLike<T>, failed: T): Promise<T> {
  try {
    return await p;
  } catch (e) {
    setPending(r, e);
    return failed;
  } finally {
    r.ps.inHandler--;
  }
}

/** php_session_create_id with the current sid_length / sid_bits_per_character. */
export function defaultId(r: RequestContext): string {
  return createSessionId(
    r.ini.parsed<number>('session.sid_length') ?? 32,
    r.ini.parsed<number>('session.sid_bits_per_character') ?? 4,
  );
}
