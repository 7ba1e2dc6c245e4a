/**
 * @module session/frame
 * The frame of a PHP function call: its name prefixes the diagnostics raised inside it, and an
 * exception a module threw (PHP's pending EG(exception)) leaves when the function returns.
 */
import { READY, throwPending, type RequestContext } from './context.ts';
import { drive, type Routine } from './drive.ts';

/**
 * Calls a PHP function whose body may wait: waits for request startup first, runs `body` as a
 * routine (synchronously as far as it goes), and answers with a promise.
 */
export function invoke<T>(r: RequestContext, fn: string, body: () => Routine<T>): Promise<T> {
  if (r.ready !== READY) return invokeAfterReady(r, fn, body);
  const outer = r.fn;
  r.fn = fn;
  let v: T | Promise<T>;
  try {
    v = drive(body());
  } catch (e) {
    r.fn = outer;
    return Promise.reject(e);
  }
  if (v instanceof Promise) return finish(r, v, outer);
  r.fn = outer;
  const p = r.pending;
  if (p !== undefined) {
    r.pending = undefined;
    return Promise.reject(p.error);
  }
  return Promise.resolve(v);
}

async function finish<T>(r: RequestContext, v: Promise<T>, outer: string | undefined): Promise<T> {
  try {
    const result = await v;
    throwPending(r);
    return result;
  } finally {
    r.fn = outer;
  }
}

async function invokeAfterReady<T>(r: RequestContext, fn: string, body: () => Routine<T>): Promise<T> {
  await r.ready;
  const outer = r.fn;
  r.fn = fn;
  try {
    const result = await drive(body());
    throwPending(r);
    return result;
  } finally {
    r.fn = outer;
  }
}

/** Calls a PHP function that never waits (its name still prefixes its diagnostics). */
export function invokeSync<T>(r: RequestContext, fn: string, body: () => T): T {
  const outer = r.fn;
  r.fn = fn;
  try {
    return body();
  } finally {
    r.fn = outer;
  }
}
