/**
 * @module session/lifecycle
 * The session's life in a request, one routine per C function of ext/session/session.c:
 * php_session_initialize, php_session_start, php_session_save_current_state, php_session_flush,
 * and RSHUTDOWN (php_rshutdown_session_globals after the shutdown functions).
 */
import { PhpError } from '../errors.ts';
import { hasDangerousChars } from '../session-id.ts';
import { fmt, MSG } from '../messages.ts';
import { callModule, defaultId, iniBool, iniStr, READY, report, throwPending, type RequestContext } from './context.ts';
import type { Routine } from './drive.ts';
import { boundArray, decodeFailed, decodeInPlace, encode, pinIfSpanned, storedBytes, trackInit } from './codec.ts';
import { setSnapshot, type Lease } from './bytes-pool.ts';
import { cacheLimiter, cacheLimiterHeadersSent } from './headers.ts';
import { createSid, resetId, validateSid } from './ids.ts';
import {
  abort,
  close,
  gc,
  gcDue,
  isOpen,
  isUserMod,
  maxLifetime,
  modName,
  open,
  releaseClosedGlobals,
  releaseGlobals,
  savePath,
  sessionName,
  storageMessage,
} from './module.ts';
import type { RequestVar } from './sapi.ts';
import { PHP_SESSION_ACTIVE, PHP_SESSION_DISABLED, PHP_SESSION_NONE } from './state.ts';

/** php_session_initialize: open, find or make the id, read, GC, decode. */
export function* initialize(r: RequestContext): Routine<boolean> {
  const ps = r.ps;
  ps.status = PHP_SESSION_ACTIVE;
  if (ps.mod === undefined) {
    ps.status = PHP_SESSION_DISABLED;
    report(r, 'E_WARNING', MSG.NO_STORAGE_MODULE);
    return false;
  }
  if (!(yield* open(r))) {
    yield* abort(r);
    if (r.pending === undefined) report(r, 'E_WARNING', storageMessage(r, MSG.INIT_STORAGE_FAILED));
    return false;
  }
  const useCookies = iniBool(r, 'session.use_cookies');
  if (ps.id === null || ps.id === '' || ps.id.startsWith('\0')) {
    ps.id = yield* createSid(r);
    if (ps.id === null) {
      yield* abort(r);
      if (r.pending === undefined) r.pending = { error: new PhpError(storageMessage(r, MSG.CREATE_ID_FAILED)) };
      return false;
    }
    if (useCookies) ps.sendCookie = true;
  } else if (iniBool(r, 'session.use_strict_mode') && ps.handler!.validateSid !== undefined) {
    if (!(yield* validateSid(r, ps.id))) {
      ps.id = (yield* createSid(r)) ?? defaultId(r);
      if (useCookies) ps.sendCookie = true;
    }
  }
  if (!resetId(r)) {
    yield* abort(r);
    return false;
  }
  trackInit(r);
  const h = ps.handler!;
  const id = ps.id!;
  const data = (yield callModule(r, () => h.read(id, maxLifetime(r)), false as const)) as Uint8Array | false;
  if (data === false) {
    yield* abort(r);
    if (r.pending === undefined) report(r, 'E_WARNING', storageMessage(r, MSG.READ_FAILED));
    return false;
  }
  // GC must be done after read.
  if (gcDue(r)) yield* gc(r);
  const keep = iniBool(r, 'session.lazy_write');
  const { own, hit } = storedBytes(r, data, keep);
  setSnapshot(ps, keep ? own : null, r.engine.bytesPool);
  const failure = decodeInPlace(r, own ?? data, hit ? true : 'missed', own !== null);
  if (own !== null) pinIfSpanned(r, own);
  // The decode and the snapshot got the engine's own bytes (the validated cache's, or a copy),
  // never `data` itself: the module may reuse its memory (SaveHandler.release).
  if (own !== null && own !== data && h.release !== undefined) h.release(data);
  if (failure !== null) yield* decodeFailed(r, failure);
  return true;
}

/** ppid2sid: a string id is taken; an array (`?PHPSESSID[]=`) means a new id and a cookie. */
function adoptId(r: RequestContext, v: RequestVar | undefined): void {
  if (typeof v === 'string') {
    r.ps.id = v;
    r.ps.sendCookie = false;
  } else {
    r.ps.id = null;
    r.ps.sendCookie = true;
  }
}

/** php_session_start: find the id in the request, initialize, send the cache limiter. */
export function* start(r: RequestContext): Routine<boolean> {
  const ps = r.ps;
  switch (ps.status) {
    case PHP_SESSION_ACTIVE:
      report(r, 'E_NOTICE', MSG.ALREADY_STARTED, true);
      return false;
    case PHP_SESSION_DISABLED: {
      const handlerName = r.ini.get('session.save_handler') ?? '';
      if (ps.mod === undefined) {
        ps.mod = r.engine.findModule(handlerName);
        if (ps.mod === undefined) {
          report(r, 'E_WARNING', fmt(MSG.NO_SAVE_HANDLER, handlerName));
          return false;
        }
      }
      const serName = r.ini.get('session.serialize_handler') ?? '';
      if (ps.serializer === undefined) {
        ps.serializer = r.engine.findSerializer(serName);
        if (ps.serializer === undefined) {
          report(r, 'E_WARNING', fmt(MSG.NO_SERIALIZER, serName));
          return false;
        }
      }
      ps.status = PHP_SESSION_NONE;
      break;
    }
    default:
      break;
  }
  const useCookies = iniBool(r, 'session.use_cookies');
  const useOnlyCookies = iniBool(r, 'session.use_only_cookies');
  ps.defineSid = !useOnlyCookies;
  ps.sendCookie = useCookies || useOnlyCookies;
  const name = sessionName(r);
  const { cookies, query, body, server } = r.sapi;
  if (ps.id === null) {
    if (useCookies && Object.hasOwn(cookies, name)) {
      adoptId(r, cookies[name]);
      ps.sendCookie = false;
      ps.defineSid = false;
    }
    if (!useOnlyCookies) {
      if (ps.id === null && Object.hasOwn(query, name)) adoptId(r, query[name]);
      if (ps.id === null && Object.hasOwn(body, name)) adoptId(r, body[name]);
      const check = iniStr(r, 'session.referer_check');
      const referer = Object.hasOwn(server, 'HTTP_REFERER') ? server['HTTP_REFERER'] : undefined;
      if (ps.id !== null && check !== '' && typeof referer === 'string' && referer !== '' && !referer.includes(check)) {
        ps.id = null;
      }
    }
  }
  if (ps.id !== null && hasDangerousChars(ps.id)) ps.id = null;
  let ok = yield* initialize(r);
  if (ok && cacheLimiter(r) === -2) {
    yield* cacheLimiterHeadersSent(r);
    ok = false;
  }
  if (!ok) {
    ps.status = PHP_SESSION_NONE;
    ps.id = null;
    return false;
  }
  return true;
}

/** Bytes at the end compared first: a changed session most often differs there (a key set last). */
const TAIL_FIRST = 32;

/** lazy_write's "unchanged" check. */
function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = n - 1, stop = Math.max(0, n - TAIL_FIRST); i >= stop; i--) if (a[i] !== b[i]) return false;
  return Buffer.compare(a, b) === 0;
}

/** php_session_save_current_state: write (or touch, with lazy_write) and close. */
export function* saveState(r: RequestContext, write: boolean): Routine<void> {
  const ps = r.ps;
  if (write && boundArray(r) !== undefined) {
    let ok = false;
    let op: 'write' | 'update_timestamp' = 'write';
    const h = ps.handler;
    // The count on a pooled encoder output this write holds (bytes-pool.ts), dropped once the
    // module's write is over.
    const lent: { lease: Lease | undefined } = { lease: undefined };
    try {
      if (isOpen(r) && h !== null) {
        const id = ps.id ?? '';
        const val = encode(r, true, h.forgetsWrittenData === true ? lent : undefined);
        if (val === null) {
          ok = ((yield callModule(r, () => h.write(id, new Uint8Array(0), maxLifetime(r)), false)) as boolean) === true;
        } else if (
          iniBool(r, 'session.lazy_write') &&
          ps.snapshot !== null &&
          h.updateTimestamp !== undefined &&
          bytesEqual(val, ps.snapshot)
        ) {
          op = 'update_timestamp';
          ok = ((yield callModule(r, () => h.updateTimestamp!(id, val, maxLifetime(r)), false)) as boolean) === true;
        } else {
          ok = ((yield callModule(r, () => h.write(id, val, maxLifetime(r)), false)) as boolean) === true;
        }
      }
    } finally {
      lent.lease?.drop();
      if (!ok) r.failedWrites++;
    }
    if (!ok && r.pending === undefined) {
      if (!(isOpen(r) && isUserMod(r) && h !== null && ps.userSpec !== undefined)) {
        report(r, 'E_WARNING', fmt(MSG.WRITE_FAILED, modName(r), savePath(r)));
      } else {
        const cls = ps.userClassName;
        const label = cls === undefined ? op : `${cls}::${op === 'write' ? 'write' : 'updateTimestamp'}`;
        report(r, 'E_WARNING', fmt(MSG.WRITE_FAILED_USER, savePath(r), label));
      }
    }
  }
  if (isOpen(r)) yield* close(r);
}

/** php_session_flush. */
export function* flush(r: RequestContext, write: boolean): Routine<boolean> {
  if (r.ps.status !== PHP_SESSION_ACTIVE) return false;
  yield* saveState(r, write);
  r.ps.status = PHP_SESSION_NONE;
  return true;
}

/**
 * RSHUTDOWN: the shutdown functions (they may register more; an exception stops the rest, as
 * PHP's fatal "Uncaught ..." does, but the session is still saved), then write and close an
 * active session and release the request's session globals.
 */
export function* rshutdown(r: RequestContext): Routine<void> {
  if (r.ready !== READY) yield r.ready;
  let failure: { error: unknown } | undefined;
  const fns = r.sapi.shutdownFns;
  try {
    for (let i = 0; i < fns.length; i++) yield fns[i]!.fn();
  } catch (e) {
    failure = { error: e };
  }
  const outer = r.fn;
  r.fn = undefined;
  try {
    if (r.ps.status === PHP_SESSION_ACTIVE) yield* flush(r, true);
    if (isOpen(r)) yield* releaseGlobals(r);
    else releaseClosedGlobals(r);
    r.ps.userSpec = undefined;
  } finally {
    r.fn = outer;
  }
  if (failure !== undefined) {
    r.pending = undefined;
    throw failure.error;
  }
  throwPending(r);
}
