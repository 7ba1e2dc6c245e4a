/**
 * @module session/functions/id
 * PHP_FUNCTION(session_id), PHP_FUNCTION(session_regenerate_id) and
 * PHP_FUNCTION(session_create_id).
 */
import { PhpError } from '../../errors.ts';
import type { UserSaveHandler } from '../../handler.ts';
import { fmt, MSG } from '../../messages.ts';
import { isValidSessionId } from '../../session-id.ts';
import { callModule, defaultId, iniBool, report, type RequestContext } from '../context.ts';
import type { Routine } from '../drive.ts';
import { invoke, invokeSync } from '../frame.ts';
import { encode } from '../codec.ts';
import { createSid, resetId, validateSid } from '../ids.ts';
import { close, maxLifetime, modName, open, savePath } from '../module.ts';
import { PHP_SESSION_ACTIVE, PHP_SESSION_NONE } from '../state.ts';
import { argc, boolArg, strArg } from './args.ts';
import { refuseChange, requireActive } from './guard.ts';
import { setSnapshot } from '../bytes-pool.ts';

export function session_id(r: RequestContext, args: readonly unknown[]): string | false {
  argc('session_id', args, 0, 1);
  const id = strArg(r, 'session_id', 1, 'id', args[0], true);
  return invokeSync(r, 'session_id', () => {
    if (id !== null) {
      const headers = iniBool(r, 'session.use_cookies') ? MSG.ID_HEADERS : undefined;
      if (refuseChange(r, MSG.ID_ACTIVE, headers)) return false;
    }
    const cur = r.ps.id === null ? '' : r.ps.id.split('\0')[0]!;
    if (id !== null) r.ps.id = id;
    return cur;
  });
}

export function session_regenerate_id(r: RequestContext, args: readonly unknown[]): Promise<boolean> {
  argc('session_regenerate_id', args, 0, 1);
  const del = boolArg(r, 'session_regenerate_id', 1, 'delete_old_session', args[0], false) === true;
  return invoke(r, 'session_regenerate_id', () => regenerateId(r, del));
}

/** The body of session_regenerate_id(): keep or delete the old data, then open a new id. */
function* regenerateId(r: RequestContext, del: boolean): Routine<boolean> {
  if (!requireActive(r, MSG.REGENERATE_INACTIVE)) return false;
  if (refuseChange(r, undefined, MSG.REGENERATE_HEADERS)) return false;
  const ps = r.ps;
  const h = ps.handler!;
  const oldId = ps.id ?? '';
  const path = savePath(r);
  const mod = modName(r);
  if (del) {
    if (((yield callModule(r, () => h.destroy(oldId), false)) as boolean) !== true) {
      yield* close(r);
      ps.status = PHP_SESSION_NONE;
      if (r.pending === undefined) report(r, 'E_WARNING', fmt(MSG.REGENERATE_DESTROY_FAILED, mod, path));
      return false;
    }
  } else {
    const data = encode(r) ?? new Uint8Array(0);
    if (((yield callModule(r, () => h.write(oldId, data, maxLifetime(r)), false)) as boolean) !== true) {
      yield* close(r);
      ps.status = PHP_SESSION_NONE;
      report(r, 'E_WARNING', fmt(MSG.REGENERATE_WRITE_FAILED, mod, path));
      return false;
    }
  }
  yield* close(r);
  setSnapshot(ps, null, r.engine.bytesPool);
  ps.id = null;
  const fail = (msg: string): false => {
    ps.status = PHP_SESSION_NONE;
    if (r.pending === undefined) r.pending = { error: new PhpError(fmt(msg, mod, path)) };
    return false;
  };
  if (!(yield* open(r))) return fail(MSG.REGENERATE_OPEN_FAILED);
  let newId = yield* createSid(r);
  ps.id = newId;
  if (newId === null) return fail(MSG.REGENERATE_CREATE_FAILED);
  if (iniBool(r, 'session.use_strict_mode') && ps.handler!.validateSid !== undefined) {
    let limit = 3;
    while (limit-- > 0 && (yield* validateSid(r, newId))) {
      newId = yield* createSid(r);
      ps.id = newId;
      if (newId === null) {
        yield* close(r);
        return fail(MSG.REGENERATE_COLLISION);
      }
    }
  }
  const nh = ps.handler!;
  const readId = newId;
  if (((yield callModule(r, () => nh.read(readId, maxLifetime(r)), false as const)) as Uint8Array | false) === false) {
    yield* close(r);
    return fail(MSG.REGENERATE_READ_FAILED);
  }
  if (iniBool(r, 'session.use_cookies')) ps.sendCookie = true;
  return resetId(r);
}

export function session_create_id(r: RequestContext, args: readonly unknown[]): Promise<string | false> {
  argc('session_create_id', args, 0, 1);
  const prefix = args.length === 0 ? '' : strArg(r, 'session_create_id', 1, 'prefix', args[0], false)!;
  return invoke(r, 'session_create_id', () => createId(r, prefix));
}

/** The body of session_create_id(): the module's generator, collision-checked, when a session is active. */
function* createId(r: RequestContext, prefix: string): Routine<string | false> {
  if (prefix !== '' && !isValidSessionId(prefix)) {
    report(r, 'E_WARNING', MSG.PREFIX_INVALID);
    return false;
  }
  let newId: string | null = null;
  const h = r.ps.handler;
  const inHandler = r.ps.inHandler > 0 || (h as Partial<UserSaveHandler> | null)?.inSaveHandler === true;
  if (!inHandler && r.ps.status === PHP_SESSION_ACTIVE && h !== null) {
    for (let limit = 3; limit > 0; limit--) {
      newId = yield* createSid(r);
      if (h.validateSid === undefined || newId === null) break;
      if (yield* validateSid(r, newId)) {
        newId = null;
        continue;
      }
      break;
    }
  } else {
    newId = defaultId(r);
  }
  if (newId === null) {
    report(r, 'E_WARNING', MSG.CREATE_NEW_ID_FAILED);
    return false;
  }
  return prefix + newId;
}
