/**
 * @module serializers/session-common
 * Pieces shared by the `php` and `php_binary` session serializers: key bytes, one serialize
 * context across all top-level values, and PHP's two-step store of decoded values (each value is
 * parsed into its own temporary slot, and the session entries are pointed at those slots only at
 * the end, so `R:` between top-level values behaves exactly as in PHP).
 */
import { isUtf8 } from 'node:buffer';
import type { DecodeResult, SerializerContext } from '../lib/serializer.ts';
import { PhpArray, PhpBytes, type PhpKey, type PhpReference, type PhpValue } from '../lib/value.ts';
import { Serializer, Unserializer } from './var.ts';

/** PHP's `Skipping numeric key N` warning text. */
export const SKIPPING_NUMERIC_KEY = (key: number | bigint): string => `Skipping numeric key ${key}`;

/** The bytes of a string key. */
export function keyBytes(key: string | PhpBytes): Uint8Array {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key.bytes;
}

/** A session key read from raw bytes: a JS string when valid UTF-8, else PhpBytes (never normalised to int). */
export function keyFromBytes(buf: Buffer, start: number, end: number): string | PhpBytes {
  const view = buf.subarray(start, end);
  return isUtf8(view) ? view.toString('utf8') : new PhpBytes(Uint8Array.prototype.slice.call(view));
}

/** A serialize context whose reference-holder count covers every value of the session. */
export function sessionSerializer(session: PhpArray): Serializer {
  return new Serializer(() => {
    const all: (PhpValue | PhpReference)[] = [];
    session.forEachSlot((_k, v) => all.push(v));
    return all;
  });
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
 * Where the next name lies: `[nameStart, nameEnd, valueStart]`, or null when the data at `p` is
 * malformed (which fails the whole decode).
 */
export type NameLocator = (buf: Buffer, p: number, end: number) => readonly [number, number, number] | null;

/**
 * The decode loop `php` and `php_binary` share: locate a name, parse one value after it, store it
 * as an exact string key; values decoded before a failure stay, as in PHP.
 */
export function decodeNamedValues(
  data: Uint8Array,
  current: PhpArray,
  ctx: SerializerContext,
  locate: NameLocator,
): DecodeResult {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const end = buf.length;
  const u = sessionUnserializer(buf, ctx);
  const pending = new PendingVars(current);
  let p = 0;
  let ok = true;
  while (p < end) {
    const at = locate(buf, p, end);
    if (at === null) {
      ok = false;
      break;
    }
    const name = keyFromBytes(buf, at[0], at[1]);
    const holder = pending.holder();
    u.pos = at[2];
    if (!u.parseInto(holder, 0)) {
      ok = false;
      break;
    }
    pending.store(name, holder);
    p = u.pos;
  }
  pending.finish();
  return ok ? { ok: true, session: current } : { ok: false };
}
