/**
 * @module session/codec
 * $_SESSION and the serializer: php_session_track_init, php_session_encode and
 * php_session_decode (ext/session/session.c).
 */
import { SessionError } from '../errors.ts';
import { MSG } from '../messages.ts';
import type { SerializerContext, SessionSerializer, ValidatedSlot } from '../serializer.ts';
import { PhpArray } from '../value.ts';
import { report, setPending, type RequestContext } from './context.ts';
import type { Routine } from './drive.ts';
import { destroy, modName, savePath } from './module.ts';
import { validatedKey } from './validated.ts';
import type { Lease } from './bytes-pool.ts';
import { arrayInternals, DeferredSlot } from '../array-internals.ts';

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
  // Every field the engine sets around an encode or decode is there from the start (one shape).
  return (r.serializerCtx = {
    diagnostic: (l, m) => report(r, l, m),
    maxDepth,
    lazy: r.engine.lazyDecode === true,
    validated: undefined,
    owned: false,
    output: undefined,
  });
}

/**
 * The session's place in the engine's validated-bytes cache (lib/session/validated.ts), when
 * the engine keeps one and decodes lazily. `missed`: the bytes about to be decoded were already
 * compared with the cached ones and differ ({@link storedBytes}); the slot then only takes the
 * new validation, so the decode does not compare them again.
 */
function validatedSlot(r: RequestContext, ctx: SerializerContext, serializer: SessionSerializer, missed = false): ValidatedSlot | undefined {
  const cache = r.engine.validated;
  if (cache === undefined || ctx.lazy !== true) return undefined;
  const module = modName(r);
  const path = savePath(r);
  const id = r.ps.id ?? '';
  let m = r.validatedSlot;
  if (m === undefined || m.id !== id || m.savePath !== path || m.module !== module || m.serializer !== serializer.name || m.maxDepth !== ctx.maxDepth) {
    const key = validatedKey(module, path, id, serializer.name, ctx.maxDepth);
    m = r.validatedSlot = { module, savePath: path, id, serializer: serializer.name, maxDepth: ctx.maxDepth, key, slot: cache.slot(key) };
  }
  return missed ? cache.slot(m.key, true) : m.slot;
}

/**
 * The bytes read from the store as an immutable copy the engine owns, for the decode and the
 * lazy_write snapshot to share: the cache's copy when it holds byte-for-byte these bytes for
 * this session (no copy at all), else a copy when `keep` (the snapshot needs one), else null.
 * `hit` tells whether the cache held them (the decode then skips its own comparison on a miss).
 */
export function storedBytes(r: RequestContext, data: Uint8Array, keep: boolean): { own: Uint8Array | null; hit: boolean } {
  const serializer = r.ps.serializer;
  const cached = serializer === undefined ? undefined : validatedSlot(r, serializerContext(r), serializer)?.get();
  if (cached !== undefined && cached.bytes.length === data.length && Buffer.compare(cached.bytes, data) === 0) return { own: cached.bytes, hit: true };
  return { own: keep ? Buffer.from(data) : null, hit: false };
}

/**
 * php_session_encode: the encoded session, or null (with PHP's warning where PHP warns).
 * `stored`: the bytes are about to be written to the store (the validated-bytes cache keeps them).
 */
export function encode(r: RequestContext, stored = false, lent?: { lease: Lease | undefined }): Uint8Array | null {
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
  const ctx = serializerContext(r);
  // `lent`: the bytes go to a module that keeps nothing of them once its write resolved; a
  // built-in serializer may then write into a pooled buffer, `lent.lease` being the caller's count
  // on it (dropped after the write).
  const pool = r.engine.bytesPool;
  let taken: Lease | undefined;
  if (lent !== undefined && pool !== undefined && r.engine.builtinSerializer?.(serializer) === true) {
    ctx.output = (size) => {
      taken?.drop();
      taken = pool.take(size);
      return taken.buffer;
    };
  }
  try {
    if (stored) ctx.validated = validatedSlot(r, ctx, serializer);
    const val = serializer.encode(arr, ctx);
    if (taken !== undefined) {
      // The output grew out of the pooled buffer (or was copied): nothing holds the buffer.
      if (val !== null && val.buffer === taken.buffer.buffer) lent!.lease = taken;
      else taken.drop();
    }
    return val;
  } catch (e) {
    taken?.drop();
    setPending(r, e);
    return null;
  } finally {
    ctx.validated = undefined;
    ctx.output = undefined;
  }
}

/**
 * Pins `bytes` when they are a pooled encoder output (bytes-pool.ts) and the session just decoded
 * from them holds entries that are spans of them: those may be read for as long as the session
 * array lives, so the buffer is never reused.
 */
export function pinIfSpanned(r: RequestContext, bytes: Uint8Array): void {
  const lease = r.engine.bytesPool?.leaseOf(bytes);
  const v = r.ps.sessionVar;
  if (lease === undefined || !(v instanceof PhpArray)) return;
  const vals = arrayInternals.rawVals(v) as readonly unknown[];
  for (let i = 0; i < vals.length; i++) {
    const x = vals[i];
    if (x instanceof DeferredSlot && x.source()?.buffer === bytes.buffer) {
      lease.pin();
      return;
    }
  }
}

/**
 * How {@link decodeInPlace} failed: no serializer (PHP's warning is reported), or the decode
 * failed, with the exception a serializer threw if it threw one (not an unserialize error).
 */
export type DecodeFailure = 'no-serializer' | 'failed' | { readonly error: unknown };

/**
 * php_session_decode up to its failure branch, which never waits: null when the session was
 * decoded, else the failure for {@link decodeFailed}. Split from it so that the usual decode
 * enters no routine (a generator object is ~0.3 KB a request). `stored`: the bytes were read
 * from the store (the validated-bytes cache applies; `'missed'`: {@link storedBytes} found the
 * cache holding other bytes); `owned`: they are an immutable copy the engine owns.
 */
export function decodeInPlace(r: RequestContext, data: Uint8Array, stored: boolean | 'missed' = false, owned = false): DecodeFailure | null {
  const serializer = r.ps.serializer;
  if (serializer === undefined) {
    report(r, 'E_WARNING', MSG.DECODE_UNKNOWN_SERIALIZER);
    return 'no-serializer';
  }
  const current = boundArray(r) ?? new PhpArray();
  let failure: DecodeFailure = 'failed';
  const ctx = serializerContext(r);
  try {
    if (stored !== false) ctx.validated = validatedSlot(r, ctx, serializer, stored === 'missed');
    ctx.owned = owned;
    const res = serializer.decode(data, current, ctx);
    if (res.ok) {
      r.ps.sessionVar = res.session === null ? new PhpArray() : res.session;
      r.ps.bound = true;
      return null;
    }
  } catch (e) {
    if (!(e instanceof SessionError) || e.code !== 'ERR_UNSERIALIZE') failure = { error: e };
  } finally {
    ctx.validated = undefined;
    ctx.owned = false;
  }
  return failure;
}

/** php_session_decode's failure branch: a failed decode destroys the session; false. */
export function* decodeFailed(r: RequestContext, failure: DecodeFailure): Routine<boolean> {
  if (failure === 'no-serializer') return false;
  yield* destroy(r);
  trackInit(r);
  report(r, 'E_WARNING', MSG.DECODE_FAILED);
  if (failure !== 'failed') setPending(r, failure.error);
  return false;
}

/** php_session_decode (session_decode()): see {@link decodeInPlace}. */
export function* decode(r: RequestContext, data: Uint8Array): Routine<boolean> {
  const failure = decodeInPlace(r, data);
  return failure === null ? true : yield* decodeFailed(r, failure);
}
