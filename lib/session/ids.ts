/**
 * @module session/ids
 * Session ids inside a request: PS(mod)->s_create_sid and s_validate_sid with their defaults,
 * and php_session_reset_id (ext/session/session.c). Making and checking id strings is
 * lib/session-id.ts (shared with modules).
 */
import { MSG } from '../messages.ts';
import { callModule, defaultId, iniBool, iniStr, report, type RequestContext } from './context.ts';
import type { Routine } from './drive.ts';
import { sendCookie } from './headers.ts';
import { setSessionVar } from './trans-sid.ts';

/** PS(mod)->s_create_sid (the built-in generator when the module has none); null on failure. */
export function* createSid(r: RequestContext): Routine<string | null> {
  const h = r.ps.handler!;
  if (h.createSid === undefined) return defaultId(r);
  const id = (yield callModule(r, () => h.createSid!(), null)) as string | false | null;
  return typeof id === 'string' ? id : null;
}

/** PS(mod)->s_validate_sid: the id exists in storage. */
export function* validateSid(r: RequestContext, id: string): Routine<boolean> {
  const h = r.ps.handler!;
  return ((yield callModule(r, () => h.validateSid!(id), false)) as boolean) === true;
}

/** php_session_reset_id: sends the cookie if due, defines SID, arms trans-sid. */
export function resetId(r: RequestContext): boolean {
  const ps = r.ps;
  if (ps.id === null) {
    report(r, 'E_WARNING', MSG.ID_NOT_INITIALIZED);
    return false;
  }
  const useCookies = iniBool(r, 'session.use_cookies');
  if (useCookies && ps.sendCookie) {
    sendCookie(r);
    ps.sendCookie = false;
  }
  const name = iniStr(r, 'session.name');
  ps.sid = ps.defineSid ? `${name}=${ps.id}` : '';
  let trans = iniBool(r, 'session.use_trans_sid') && !iniBool(r, 'session.use_only_cookies');
  if (trans && useCookies && Object.hasOwn(r.sapi.cookies, name)) trans = false;
  ps.transSid = trans;
  if (trans) setSessionVar(r, name, ps.id);
  return true;
}
