/**
 * @module session/codec
 * $_SESSION and the serializer: php_session_track_init, php_session_encode and
 * php_session_decode (ext/session/session.c).
 */
import { SessionError } from '../errors.ts';
import { MSG } from '../messages.ts';
import type { SerializerContext } from '../serializer.ts';
import { PhpArray } from '../value.ts';
import { report, setPending, type RequestContext } from './context.ts';
import type { Routine } from './drive.ts';
import { destroy } from './module.ts';

/** php_session_track_init: a fresh, bound, empty $_SESSION. */
export function trackInit(r: RequestContext): void {
  r.ps.sessionVar = new PhpArray();
  r.ps.bound = true;
}

/** $_SESSION when it is the session's array. */
export function boundArray(r: RequestContext): PhpArray | undefined {
  const v = r.ps.sessionVar;
  return r.ps.bound && v instanceof PhpArray ? v : undefined;
}

/** The serializer's context (made once per request; its depth follows unserialize_max_depth). */
function serializerContext(r: RequestContext): SerializerContext {
  const depth = r.ini.parsed<unknown>('unserialize_max_depth');
  const maxDepth = typeof depth === 'bigint' ? Number(depth) : 4096;
  const c = r.serializerCtx;
  if (c !== undefined && c.maxDepth === maxDepth) return c;
  return (r.serializerCtx = { diagnostic: (l, m) => report(r, l, m), maxDepth, lazy: r.engine.lazyDecode === true });
}

/** php_session_encode: the encoded session, or null (with PHP's warning where PHP warns). */
export function encode(r: RequestContext): Uint8Array | null {
  const arr = boundArray(r);
  if (arr === undefined) {
    report(r, 'E_WARNING', MSG.ENCODE_NO_SESSION);
    return null;
  }
  const serializer = r.ps.serializer;
  if (serializer === undefined) {
    report(r, 'E_WARNING', MSG.ENCODE_UNKNOWN_SERIALIZER);
    return null;
  }
  try {
    return serializer.encode(arr, serializerContext(r));
  } catch (e) {
    setPending(r, e);
    return null;
  }
}

/** php_session_decode: a failed decode destroys the session. */
export function* decode(r: RequestContext, data: Uint8Array): Routine<boolean> {
  const serializer = r.ps.serializer;
  if (serializer === undefined) {
    report(r, 'E_WARNING', MSG.DECODE_UNKNOWN_SERIALIZER);
    return false;
  }
  const current = boundArray(r) ?? new PhpArray();
  let thrown: { error: unknown } | undefined;
  try {
    const res = serializer.decode(data, current, serializerContext(r));
    if (res.ok) {
      r.ps.sessionVar = res.session === null ? new PhpArray() : res.session;
      r.ps.bound = true;
      return true;
    }
  } catch (e) {
    if (!(e instanceof SessionError) || e.code !== 'ERR_UNSERIALIZE') thrown = { error: e };
  }
  yield* destroy(r);
  trackInit(r);
  report(r, 'E_WARNING', MSG.DECODE_FAILED);
  if (thrown !== undefined) setPending(r, thrown.error);
  return false;
}
