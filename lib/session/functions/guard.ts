/**
 * @module session/functions/guard
 * The two state checks the session functions make before changing a setting, written once:
 * "... cannot be changed when a session is active" and "... after headers have already been sent".
 */
import { report, type RequestContext } from '../context.ts';
import { PHP_SESSION_ACTIVE } from '../state.ts';

/**
 * Checks the session is not active (warning `active`) and headers were not sent (warning
 * `headers`); either message may be omitted to skip that check. Returns which check failed,
 * after PHP's warning, or undefined when the change may go ahead.
 */
export function refuseChange(
  r: RequestContext,
  active: string | undefined,
  headers: string | undefined,
): 'active' | 'headers' | undefined {
  if (active !== undefined && r.ps.status === PHP_SESSION_ACTIVE) {
    report(r, 'E_WARNING', active);
    return 'active';
  }
  if (headers !== undefined && r.sapi.headersSent !== false) {
    report(r, 'E_WARNING', headers);
    return 'headers';
  }
  return undefined;
}

/** Checks a session is active; otherwise PHP's warning and false. */
export function requireActive(r: RequestContext, message: string): boolean {
  if (r.ps.status === PHP_SESSION_ACTIVE) return true;
  report(r, 'E_WARNING', message);
  return false;
}
