/**
 * @module session/functions/state
 * The session functions that move the session through its states: session_write_close /
 * session_commit, session_abort, session_reset, session_destroy, session_unset, session_status,
 * session_gc and session_register_shutdown.
 */
import { MSG } from '../../messages.ts';
import type { RequestContext } from '../context.ts';
import type { Routine } from '../drive.ts';
import { invoke } from '../frame.ts';
import { boundArray } from '../codec.ts';
import { flush, initialize } from '../lifecycle.ts';
import { abort, destroy, gc } from '../module.ts';
import { PHP_SESSION_ACTIVE, type SessionStatus } from '../state.ts';
import { argc } from './args.ts';
import { requireActive } from './guard.ts';

/** session_write_close() and its alias session_commit(). */
export function session_write_close(r: RequestContext, args: readonly unknown[], fn = 'session_write_close'): Promise<boolean> {
  argc(fn, args, 0, 0);
  return invoke(r, fn, () => writeClose(r));
}

// The bodies are module-level generator functions: a generator closure made per call keeps the
// request reachable until the next full GC (V8), which tripled the engine's GC time.

function* writeClose(r: RequestContext): Routine<boolean> {
  if (r.ps.status !== PHP_SESSION_ACTIVE) return false;
  yield* flush(r, true);
  return true;
}

export function session_abort(r: RequestContext, args: readonly unknown[]): Promise<boolean> {
  argc('session_abort', args, 0, 0);
  return invoke(r, 'session_abort', () => sessionAbort(r));
}

function* sessionAbort(r: RequestContext): Routine<boolean> {
  if (r.ps.status !== PHP_SESSION_ACTIVE) return false;
  yield* abort(r);
  return true;
}

export function session_reset(r: RequestContext, args: readonly unknown[]): Promise<boolean> {
  argc('session_reset', args, 0, 0);
  return invoke(r, 'session_reset', () => sessionReset(r));
}

function* sessionReset(r: RequestContext): Routine<boolean> {
  if (r.ps.status !== PHP_SESSION_ACTIVE) return false;
  yield* initialize(r);
  return true;
}

export function session_destroy(r: RequestContext, args: readonly unknown[]): Promise<boolean> {
  argc('session_destroy', args, 0, 0);
  return invoke(r, 'session_destroy', () => destroy(r));
}

export function session_unset(r: RequestContext, args: readonly unknown[]): boolean {
  argc('session_unset', args, 0, 0);
  if (r.ps.status !== PHP_SESSION_ACTIVE) return false;
  boundArray(r)?.clear();
  return true;
}

export function session_status(r: RequestContext, args: readonly unknown[]): SessionStatus {
  argc('session_status', args, 0, 0);
  return r.ps.status;
}

export function session_gc(r: RequestContext, args: readonly unknown[]): Promise<number | false> {
  argc('session_gc', args, 0, 0);
  return invoke(r, 'session_gc', () => sessionGc(r));
}

function* sessionGc(r: RequestContext): Routine<number | false> {
  if (!requireActive(r, MSG.GC_INACTIVE)) return false;
  const n = yield* gc(r);
  return n < 0 ? false : n;
}

/** Registers `writeClose` (session_write_close as the runtime bound it) as a shutdown function. */
export function session_register_shutdown(r: RequestContext, args: readonly unknown[], writeClose: () => unknown): void {
  argc('session_register_shutdown', args, 0, 0);
  r.sapi.shutdownFns.push({ fn: writeClose });
}
