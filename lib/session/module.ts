/**
 * @module session/module
 * The module's life inside a request: making PS(mod_data), open and close, php_session_abort,
 * php_session_gc, php_session_destroy and php_rshutdown_session_globals (ext/session/session.c).
 */
import type { SaveHandler, UserHandlerContext, UserSaveHandler } from '../handler.ts';
import { fmt, MSG } from '../messages.ts';
import { callModule, defaultId, iniLong, iniStr, report, type RequestContext } from './context.ts';
import type { Routine } from './drive.ts';
import { sapiNow } from './sapi.ts';
import { PHP_SESSION_ACTIVE, PHP_SESSION_NONE } from './state.ts';
import { setSnapshot } from './bytes-pool.ts';
import { INI_SCOPE_SLOT, type IniScopeSlot } from '../ini/scope.ts';

export function savePath(r: RequestContext): string {
  return iniStr(r, 'session.save_path');
}

export function sessionName(r: RequestContext): string {
  return iniStr(r, 'session.name');
}

export function maxLifetime(r: RequestContext): number {
  return Number(iniLong(r, 'session.gc_maxlifetime'));
}

export function modName(r: RequestContext): string {
  return r.ps.mod?.name ?? '';
}

export function isUserMod(r: RequestContext): boolean {
  const mod = r.ps.mod;
  return mod !== undefined && mod.name.toLowerCase() === 'user';
}

/** `PS(mod_data) || PS(mod_user_implemented)`: the module holds storage open. */
export function isOpen(r: RequestContext): boolean {
  const h = r.ps.handler as Partial<UserSaveHandler> | null;
  if (h !== null && typeof h.opened === 'boolean') return h.opened || r.ps.handlerOpen;
  return r.ps.handlerOpen;
}

/** The context a module instance gets (one per instance, as PHP's user module expects). */
function moduleContext(r: RequestContext): UserHandlerContext & IniScopeSlot {
  return {
    ini: (n) => r.ini.get(n),
    [INI_SCOPE_SLOT]: null,
    diagnostic: (l, m, raw) => report(r, l, m, raw === true),
    createId: () => defaultId(r),
    now: () => sapiNow(r.sapi),
    defaultModule: r.ps.defaultMod,
    sessionActive: () => r.ps.status === PHP_SESSION_ACTIVE,
    pendingException: () => r.pending?.error,
    // zend_throw_exception with one already pending: the new exception becomes current (the
    // module links the old one as its previous, the `cause` it passes).
    setPendingException: (e) => {
      r.pending = { error: e };
    },
  };
}

/** A new PS(mod_data) for PS(mod); the user module gets the registration. */
function instantiate(r: RequestContext): SaveHandler {
  const mod = r.ps.mod!;
  const ctx = moduleContext(r);
  const api = r.engine.userApi;
  if (isUserMod(r) && r.ps.userSpec !== undefined && api !== undefined) {
    return api.createUserSaveHandler(r.ps.userSpec, ctx);
  }
  return mod.create(ctx);
}

/** PS(mod)->s_open. */
export function* open(r: RequestContext): Routine<boolean> {
  // PHP keeps one module-data slot: opening again while open (session_reset) re-opens the same
  // storage, and the module releases what it held (mod_files closes its file in open).
  const h = r.ps.handler !== null && isOpen(r) ? r.ps.handler : instantiate(r);
  r.ps.handler = h;
  const ok = (yield callModule(r, () => h.open(savePath(r), sessionName(r)), false)) as boolean;
  // The user module counts as open once open() was called, whatever it returned.
  r.ps.handlerOpen = ok === true || isUserMod(r);
  return ok === true;
}

/** PS(mod)->s_close, when open. */
export function* close(r: RequestContext): Routine<void> {
  const h = r.ps.handler;
  if (h !== null && isOpen(r)) yield callModule(r, () => h.close(), false);
  r.ps.handlerOpen = false;
}

/** php_session_abort. */
export function* abort(r: RequestContext): Routine<boolean> {
  if (r.ps.status !== PHP_SESSION_ACTIVE) return false;
  if (isOpen(r)) yield* close(r);
  r.ps.status = PHP_SESSION_NONE;
  return true;
}

/**
 * php_session_gc's draw at session start: true when gc_probability/gc_divisor says collect.
 * (Split from the collection itself so that the usual start, which does not collect, does not
 * enter a routine: each `yield*` costs about 0.5 µs of a ~6 µs in-memory cycle.)
 */
export function gcDue(r: RequestContext): boolean {
  if (!isOpen(r) || r.ps.handler === null) return false;
  const divisor = Number(iniLong(r, 'session.gc_divisor'));
  const probability = iniLong(r, 'session.gc_probability');
  const nrand = Math.trunc(Math.fround(divisor) * r.engine.gcRandom());
  return probability > 0n && BigInt(nrand) < probability;
}

/** php_session_gc's collection: the module's gc; its count, or -1 (failure, or nothing open). */
export function* gc(r: RequestContext): Routine<number> {
  const h = r.ps.handler;
  if (!isOpen(r) || h === null) return -1;
  const n = (yield callModule(r, () => h.gc(maxLifetime(r)), -1)) as number;
  return typeof n === 'number' ? n : -1;
}

/** php_rshutdown_session_globals. */
export function* releaseGlobals(r: RequestContext): Routine<void> {
  r.ps.bound = false;
  if (isOpen(r)) yield* close(r);
  clearGlobals(r);
}

/**
 * php_rshutdown_session_globals when the module is not open ({@link releaseGlobals} would not
 * wait): the end of a request that closed its session enters no routine.
 */
export function releaseClosedGlobals(r: RequestContext): void {
  r.ps.bound = false;
  clearGlobals(r);
}

function clearGlobals(r: RequestContext): void {
  r.ps.userClassName = undefined;
  r.ps.id = null;
  setSnapshot(r.ps, null, r.engine.bytesPool);
  r.ps.status = PHP_SESSION_NONE;
}

/** php_session_destroy. */
export function* destroy(r: RequestContext): Routine<boolean> {
  if (r.ps.status !== PHP_SESSION_ACTIVE) {
    report(r, 'E_WARNING', MSG.DESTROY_UNINITIALIZED);
    return false;
  }
  let ok = true;
  const h = r.ps.handler;
  const id = r.ps.id;
  if (id !== null && h !== null) {
    if (((yield callModule(r, () => h.destroy(id), false)) as boolean) !== true) {
      ok = false;
      if (r.pending === undefined) report(r, 'E_WARNING', MSG.DESTROY_FAILED);
    }
  }
  yield* releaseGlobals(r);
  // php_rinit_session_globals
  r.ps.defineSid = true;
  return ok;
}

/** The "<module> (path: <save_path>)" arguments of the storage messages. */
export function storageMessage(r: RequestContext, template: string): string {
  return fmt(template, modName(r), savePath(r));
}
