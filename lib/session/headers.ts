/**
 * @module session/headers
 * The header lines ext/session sends: php_session_send_cookie and php_session_cache_limiter
 * (ext/session/session.c). The line formats are lib/cookie.ts.
 */
import { statSync } from 'node:fs';
import { cacheLimiterHeaders, hasForbiddenNameChars, sessionCookieValue } from '../cookie.ts';
import { fmt, MSG } from '../messages.ts';
import { iniBool, iniLong, iniStr, report, type RequestContext } from './context.ts';
import type { Routine } from './drive.ts';
import { abort } from './module.ts';
import { addHeader, sapiNow } from './sapi.ts';
import { PHP_SESSION_ACTIVE } from './state.ts';

/** php_session_send_cookie. */
export function sendCookie(r: RequestContext): boolean {
  const at = r.sapi.headersSent;
  if (at !== false) {
    if (at.file !== undefined) report(r, 'E_WARNING', fmt(MSG.COOKIE_SENT_AT, at.file, at.line ?? 0));
    else report(r, 'E_WARNING', MSG.COOKIE_SENT);
    return false;
  }
  const name = iniStr(r, 'session.name');
  if (hasForbiddenNameChars(name)) {
    report(r, 'E_WARNING', MSG.COOKIE_NAME_FORBIDDEN);
    return false;
  }
  const value = sessionCookieValue({
    name,
    id: r.ps.id ?? '',
    lifetime: iniLong(r, 'session.cookie_lifetime'),
    path: iniStr(r, 'session.cookie_path'),
    domain: iniStr(r, 'session.cookie_domain'),
    secure: iniBool(r, 'session.cookie_secure'),
    httponly: iniBool(r, 'session.cookie_httponly'),
    samesite: iniStr(r, 'session.cookie_samesite'),
    nowSeconds: Math.floor(sapiNow(r.sapi) / 1000),
  });
  // Remove an already queued cookie of this session (but no other Set-Cookie line).
  const prefix = `${name}=`;
  r.sapi.headers = r.sapi.headers.filter(([n, v]) => !(n === 'Set-Cookie' && v.startsWith(prefix)));
  r.sapi.headers.push(['Set-Cookie', value]);
  return true;
}

/**
 * php_session_cache_limiter: 0 sent or nothing to send, -1 not applicable, -2 headers already
 * sent: then nothing is done yet, and the caller runs {@link cacheLimiterHeadersSent} (which
 * aborts the session). Split so that the usual start, which sends its lines, enters no routine
 * (a generator object is ~0.3 KB a request).
 */
export function cacheLimiter(r: RequestContext): number {
  const limiter = iniStr(r, 'session.cache_limiter');
  if (limiter === '') return 0;
  if (r.ps.status !== PHP_SESSION_ACTIVE) return -1;
  if (r.sapi.headersSent !== false) return -2;
  let mtime: number | undefined;
  if (r.sapi.scriptPath !== undefined) {
    try {
      mtime = Math.floor(statSync(r.sapi.scriptPath).mtimeMs / 1000);
    } catch {
      mtime = undefined;
    }
  }
  const lines = cacheLimiterHeaders(
    limiter,
    BigInt.asIntN(64, iniLong(r, 'session.cache_expire')),
    Math.floor(sapiNow(r.sapi) / 1000),
    mtime,
  );
  if (lines === undefined) return -1;
  for (const [n, v] of lines) addHeader(r.sapi, n, v, true);
  return 0;
}

/** php_session_cache_limiter when the headers were already sent ({@link cacheLimiter} answered -2): abort and warn. */
export function* cacheLimiterHeadersSent(r: RequestContext): Routine<void> {
  const at = r.sapi.headersSent;
  if (at === false) throw new Error('session/headers: cacheLimiterHeadersSent with no headers sent');
  yield* abort(r);
  if (at.file !== undefined) report(r, 'E_WARNING', fmt(MSG.CACHE_LIMITER_SENT_AT, at.file, at.line ?? 0));
  else report(r, 'E_WARNING', MSG.CACHE_LIMITER_SENT);
}
