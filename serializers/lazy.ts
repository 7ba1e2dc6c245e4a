/**
 * @module serializers/lazy
 * Lazy `$_SESSION` for the `php` and `php_binary` serializers. Decoding validates the whole
 * payload with the unserializer in its validation mode (the same parser: same acceptance, same
 * diagnostics in the same order, same failures) but builds no values: each top-level entry is
 * stored in the session as a {@link LazyEntry}, its byte span in a private copy of the input. The
 * session array builds an entry's value the first time anything reads it. Encoding copies the
 * bytes of entries nobody read, when the validation found that PHP would write them back
 * unchanged ({@link LazyEntry.canonical}); it builds and encodes every other entry.
 *
 * Falls back to the eager decode (serializers/session-common.ts), which then reports everything
 * itself: when the payload fails to decode (values decoded before the failure stay, as in PHP)
 * and when it holds an `r:`/`R:` token (references number slots across entries). Small scalars
 * (plain ints, null, booleans, short strings) are built at once: deferring them costs more.
 */
import { DeferredSlot } from '../lib/array-internals.ts';
import type { DiagnosticLevel } from '../lib/errors.ts';
import type { DecodeResult, SerializerContext } from '../lib/serializer.ts';
import type { PhpArray, PhpValue } from '../lib/value.ts';
import { arrayInternals } from './internal.ts';
import type { Serializer } from './serialize.ts';
import { Unserializer } from './unserialize.ts';

/** Where the next name lies: the name is [nameStart, nameEnd) and its value starts at valueStart. */
export interface NamePosition {
  nameStart: number;
  nameEnd: number;
  valueStart: number;
}

/**
 * Finds the next name at `p` and fills `at`; false when the data at `p` is malformed (which fails
 * the whole decode).
 */
export type NameLocator = (buf: Buffer, p: number, end: number, at: NamePosition) => boolean;

/** Entries read before the number of the rest is estimated from their size (see {@link reserveFor}). */
export const SAMPLE_ENTRIES = 16;
/** The smallest entry of either handler: a one-byte name and `N;` (`a|N;`, `\x01aN;`). */
const MIN_ENTRY_BYTES = 3;

/**
 * Sizes the session's key index for the whole payload once `read` entries took the first `p` of
 * its `end` bytes, assuming the rest is alike (never more entries than the bytes left can hold):
 * the table then skips its first rounds of regrowing (see lib/key-index.ts MAX_RESERVE).
 */
export function reserveFor(session: PhpArray, read: number, p: number, end: number): void {
  const rest = Math.min(Math.ceil(((end - p) * read) / p), Math.floor((end - p) / MIN_ENTRY_BYTES));
  arrayInternals.reserve(session, session.size + rest);
}

/** One top-level session entry, not built yet: bytes [start, end) of src. */
export class LazyEntry extends DeferredSlot {
  constructor(
    readonly src: Buffer,
    readonly start: number,
    readonly end: number,
    /** The values it holds (serialize slots). */
    readonly slots: number,
    /** serialize() of its value gives exactly these bytes. */
    readonly canonical: boolean,
  ) {
    super();
  }

  /** The value, built as the eager decode builds it (its diagnostics were reported at decode). */
  resolve(): PhpValue {
    const v = new Unserializer(this.src.subarray(this.start, this.end), { maxDepth: 0 }).parseValue();
    if (v === undefined) throw new Error('serializers/lazy: an entry that validated does not decode');
    return v;
  }
}

/**
 * The lazy decode of `name value` pairs into `current`; null when the eager decode must run
 * instead. Nothing has been reported then; the entries stored so far are a prefix of the names
 * the eager decode goes through in the same order, so it stores every one of them again (at the
 * same positions) and the result is the eager one.
 */
export function decodeNamedLazy(data: Uint8Array, current: PhpArray, ctx: SerializerContext, locate: NameLocator): DecodeResult | null {
  // A private copy: the entries outlive the caller's buffer, which may be reused.
  const src = Buffer.from(data);
  const end = src.length;
  const held: [DiagnosticLevel, string, boolean][] = [];
  const u = new Unserializer(src, { maxDepth: ctx.maxDepth, validate: true, onDiagnostic: (l, m, raw) => held.push([l, m, raw]) });
  const at: NamePosition = { nameStart: 0, nameEnd: 0, valueStart: 0 };
  let p = 0;
  let entries = 0;
  while (p < end) {
    if (!locate(src, p, end, at)) return null;
    const name = u.string(at.nameStart, at.nameEnd);
    u.pos = at.valueStart;
    u.canonical = true;
    const slots = u.slotCount;
    const v = u.parseValue();
    if (v === undefined) return null;
    const built = scalar(src, at.valueStart, u, v);
    if (built !== undefined) current.replaceExact(name, built);
    else arrayInternals.putDeferred(current, name, new LazyEntry(src, at.valueStart, u.pos, u.slotCount - slots, u.canonical));
    p = u.pos;
    if (++entries === SAMPLE_ENTRIES) reserveFor(current, entries, p, end);
  }
  for (const [l, m, raw] of held) ctx.diagnostic(l, m, raw);
  return { ok: true, session: current };
}

/** Strings up to this many bytes (token included) are built at once rather than deferred. */
const SHORT_STRING = 64;

/**
 * The value of a small scalar entry that just validated at [start, u.pos), built at once as the
 * eager decode builds it (a deferred entry would cost more than the value): plain ints (the
 * validation returns them), null, booleans and short strings. Undefined for anything else.
 */
function scalar(src: Buffer, start: number, u: Unserializer, v: PhpValue): PhpValue | undefined {
  switch (src[start]) {
    case 0x69: // i: read by the plain-int path (others validate to null)
      return typeof v === 'number' ? v : undefined;
    case 0x4e: // N;
      return null;
    case 0x62: // b:0; b:1;
      return src[start + 2] === 0x31;
    case 0x73: // s:<len>:"<bytes>"; (the first quote opens the bytes)
      return u.pos - start <= SHORT_STRING ? u.string(src.indexOf(0x22, start) + 1, u.pos - 2) : undefined;
    default:
      return undefined;
  }
}

/** Writes slot i of the session (raw: maybe a LazyEntry) as one top-level value. */
export function writeSessionSlot(out: Serializer, session: PhpArray, i: number, v: unknown): void {
  if (v instanceof LazyEntry) {
    if (v.canonical) out.writeVerbatim(v.src, v.start, v.end, v.slots);
    else out.writeValue(arrayInternals.resolveAt(session, i));
  } else {
    out.writeValue(v as PhpValue);
  }
}
