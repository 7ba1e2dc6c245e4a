/**
 * @module serializers/session-common
 * Pieces shared by the `php` and `php_binary` session serializers: one serialize context across
 * all top-level values, and PHP's two-step store of decoded values (each value is parsed into its
 * own temporary slot, and the session entries are pointed at those slots only at the end, so `R:`
 * between top-level values behaves exactly as in PHP).
 */
import type { DecodeResult, SerializerContext } from '../lib/serializer.ts';
import { PhpArray, PhpBytes, type PhpKey, type PhpReference, type PhpValue } from '../lib/value.ts';
import { DeferredSlot } from '../lib/array-internals.ts';
import { arrayInternals } from './internal.ts';
import { decodeNamedLazy, LazyEntry, reserveFor, SAMPLE_ENTRIES, type NameLocator, type NamePosition } from './lazy.ts';

export type { NameLocator, NamePosition } from './lazy.ts';
import { Serializer } from './serialize.ts';
import { Unserializer } from './unserialize.ts';

/** PHP's `Skipping numeric key N` warning text. */
export const SKIPPING_NUMERIC_KEY = (key: number | bigint): string => `Skipping numeric key ${key}`;

/**
 * Below this many bytes of entries not built yet the encoder's own first guess (the last output's
 * length, from Buffer's shared pool) serves; above, its buffer starts at their size plus 1/16 and
 * 256 bytes for the names and the values built.
 */
const PRESIZE_FROM = 4096;

/**
 * A serialize context whose reference-holder count covers every value of the session (entries not
 * built yet hold no references, and are not built for it). After a lazy decode its buffer starts
 * about as large as the spans of the entries not built yet ({@link PRESIZE_FROM}): a 140 KB
 * session is then written into one buffer instead of doubling its way up from 4 KB (six
 * reallocations and copies), the engine's when it lends one (`output`: SerializerContext.output).
 */
export function sessionSerializer(session: PhpArray, output?: (size: number) => Buffer): Serializer {
  let deferred = 0;
  const vals = arrayInternals.rawVals(session);
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i];
    if (v instanceof LazyEntry) deferred += v.end - v.start;
  }
  const roots = (): (PhpValue | PhpReference)[] => {
    const all: (PhpValue | PhpReference)[] = [];
    forEachRawSlot(session, (_k, _i, v) => {
      if (!(v instanceof DeferredSlot)) all.push(v);
    });
    return all;
  };
  if (deferred < PRESIZE_FROM) return new Serializer(roots);
  const size = deferred + (deferred >> 4) + 256;
  // A buffer the engine lends for a write to the store (SerializerContext.output), else a new one.
  return new Serializer(roots, output === undefined ? size : output(size));
}

/**
 * Calls fn for every slot of the session in order with its position, leaving entries of a lazy
 * decode unbuilt (serializers/lazy.ts writeSessionSlot writes them).
 */
export function forEachRawSlot(session: PhpArray, fn: (key: PhpKey, i: number, v: PhpValue | PhpReference | DeferredSlot) => void): void {
  const vals = arrayInternals.rawVals(session);
  const hole = arrayInternals.HOLE;
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i]!;
    if (v !== hole) fn(arrayInternals.keyAt(session, i), i, v);
  }
}

/** An unserialize context for session data, reporting diagnostics through the engine. */
export function sessionUnserializer(data: Uint8Array, ctx: SerializerContext): Unserializer {
  return new Unserializer(data, {
    maxDepth: ctx.maxDepth,
    onDiagnostic: (level, message, raw) => ctx.diagnostic(level, message, raw),
  });
}

/**
 * Collects decoded top-level values: `reserve()` fixes the key's position in the session (as
 * zend_hash_update does), `finish()` stores the final content of each temporary slot (PHP's
 * php_session_normalize_vars), which runs on success and on failure alike.
 */
export class PendingVars {
  readonly #names: PhpKey[] = [];
  readonly #holders: PhpArray[] = [];
  constructor(private readonly session: PhpArray) {}

  /** A fresh temporary slot (holder[0]) for the value about to be parsed. */
  holder(): PhpArray {
    return new PhpArray();
  }

  store(name: string | PhpBytes, holder: PhpArray): void {
    this.session.replaceExact(name, null);
    this.#names.push(name);
    this.#holders.push(holder);
  }

  finish(): void {
    for (let i = 0; i < this.#names.length; i++) {
      const v = this.#holders[i]!.getSlot(0);
      if (v !== undefined) this.session.replaceExact(this.#names[i]!, v);
    }
  }
}

/**
 * The decode loop `php` and `php_binary` share: locate a name, parse one value after it, store it
 * as an exact string key; values decoded before a failure stay, as in PHP.
 *
 * PHP parses every value into its own temporary slot and stores the slots at the end, which only
 * matters when a value can refer to an earlier one (`R:`/`r:`). When the input holds no back
 * reference, each value is stored as soon as it is parsed, with the same result and no temporary
 * array per name (a session of 1M names would otherwise allocate 1M of them).
 */
export function decodeNamedValues(
  data: Uint8Array,
  current: PhpArray,
  ctx: SerializerContext,
  locate: NameLocator,
): DecodeResult {
  if (ctx.lazy === true) {
    const lazy = decodeNamedLazy(data, current, ctx, locate);
    if (lazy !== null) return lazy;
  }
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const end = buf.length;
  const u = sessionUnserializer(buf, ctx);
  const pending = u.hasBackReferences ? new PendingVars(current) : null;
  const at: NamePosition = { nameStart: 0, nameEnd: 0, valueStart: 0 };
  let p = 0;
  let ok = true;
  let entries = 0;
  while (p < end) {
    if (!locate(buf, p, end, at)) {
      ok = false;
      break;
    }
    const name = u.string(at.nameStart, at.nameEnd);
    u.pos = at.valueStart;
    if (pending !== null) {
      const holder = pending.holder();
      if (!u.parseInto(holder, 0)) {
        ok = false;
        break;
      }
      pending.store(name, holder);
    } else {
      const v = u.parseValue();
      if (v === undefined) {
        ok = false;
        break;
      }
      current.replaceExact(name, v);
    }
    p = u.pos;
    if (++entries === SAMPLE_ENTRIES) reserveFor(current, entries, p, end);
  }
  pending?.finish();
  return ok ? { ok: true, session: current } : { ok: false };
}
