/**
 * @module serializers/lazy
 * Lazy `$_SESSION` for the `php`, `php_binary` and `php_serialize` serializers. Decoding validates the whole
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
 *
 * `php_serialize` gets the same one level down: the elements of its root array are the entries
 * ({@link decodeRootLazy}).
 *
 * The validated-bytes cache (lib/session/validated.ts): a clean validation (no diagnostics) is
 * kept with its entry table, and so is the entry table of bytes this engine encodes for the store
 * (entries copied verbatim keep their validation, the others are validated where they were
 * written). A later decode of byte-for-byte the same bytes takes that table instead of parsing.
 */
import { DeferredSlot } from '../lib/array-internals.ts';
import type { DiagnosticLevel } from '../lib/errors.ts';
import type { DecodeResult, SerializerContext, ValidatedSlot } from '../lib/serializer.ts';
import { PhpArray, PhpBytes, type PhpKey, type PhpValue } from '../lib/value.ts';
import { arrayInternals } from './internal.ts';
import type { Serializer } from './serialize.ts';
import { decodeStringAlone, Unserializer } from './unserialize.ts';

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
    /** The unserialize_max_depth it validated under without a diagnostic; NaN if it raised one. */
    readonly cleanAt: number,
  ) {
    super();
  }

  override source(): Uint8Array {
    return this.src;
  }

  /** The value, built as the eager decode builds it (its diagnostics were reported at decode). */
  resolve(): PhpValue {
    const v = new Unserializer(this.src.subarray(this.start, this.end), { maxDepth: 0 }).parseValue();
    if (v === undefined) throw new Error('serializers/lazy: an entry that validated does not decode');
    return v;
  }
}

/** The entry table of one clean validation: names and values (built scalars or LazyEntry) in order. */
class ValidatedEntries {
  /** Some entry is a span of the bytes validated (not of another source). */
  spans = false;
  constructor(
    readonly locate: NameLocator,
    readonly names: PhpKey[],
    readonly vals: (PhpValue | LazyEntry)[],
  ) {}

  /** Adds an entry; `bytes`: the buffer validated (an entry over it makes the table hold spans of it). */
  add(name: PhpKey, v: PhpValue | LazyEntry, bytes?: Uint8Array): void {
    if (v instanceof LazyEntry && bytes !== undefined && v.src.buffer === bytes.buffer) this.spans = true;
    this.names.push(name);
    // The cache's own copy: the request may change the bytes of the one it got.
    this.vals.push(unshared(v));
  }
}

/** `v`, or a copy of it when it is mutable (PhpBytes): the cache and each request get their own. */
function unshared<T extends PhpValue | LazyEntry>(v: T): T {
  return v instanceof PhpBytes ? (new PhpBytes(v.bytes.slice()) as T) : v;
}

/** Stores a cached entry table into `current` as the decode stores it; returns `current`. */
function fromCache(hit: ValidatedEntries, current: PhpArray): PhpArray {
  const { names, vals } = hit;
  if (names.length > SAMPLE_ENTRIES) arrayInternals.reserve(current, current.size + names.length);
  for (let i = 0; i < names.length; i++) {
    const v = vals[i]!;
    if (v instanceof LazyEntry) arrayInternals.putDeferred(current, names[i]!, v);
    else current.replaceExact(names[i]!, unshared(v));
  }
  return current;
}

/** The cached entry table of the slot when its bytes are byte-for-byte `data` (and the same serializer's). */
function cachedEntries(slot: ValidatedSlot | undefined, data: Uint8Array, locate: NameLocator): ValidatedEntries | undefined {
  const hit = slot?.get();
  if (hit === undefined || !(hit.entries instanceof ValidatedEntries) || hit.entries.locate !== locate) return undefined;
  const b = hit.bytes;
  return b === data || (b.length === data.length && Buffer.compare(b, data) === 0) ? hit.entries : undefined;
}

/**
 * The lazy decode of `name value` pairs into `current`; null when the eager decode must run
 * instead. Nothing has been reported then; the entries stored so far are a prefix of the names
 * the eager decode goes through in the same order, so it stores every one of them again (at the
 * same positions) and the result is the eager one.
 */
export function decodeNamedLazy(data: Uint8Array, current: PhpArray, ctx: SerializerContext, locate: NameLocator): DecodeResult | null {
  const slot = ctx.validated;
  const hit = cachedEntries(slot, data, locate);
  // The bytes of a clean validation: its result, stored as the decode stores it.
  if (hit !== undefined) return { ok: true, session: fromCache(hit, current) };
  // A private copy unless the engine hands over its own: the entries outlive the caller's buffer,
  // which may be reused.
  const src = ctx.owned === true ? asBuffer(data) : Buffer.from(data);
  const end = src.length;
  const held: [DiagnosticLevel, string, boolean][] = [];
  const u = new Unserializer(src, { maxDepth: ctx.maxDepth, validate: true, onDiagnostic: (l, m, raw) => held.push([l, m, raw]) });
  const at: NamePosition = { nameStart: 0, nameEnd: 0, valueStart: 0 };
  const table = slot === undefined ? null : new ValidatedEntries(locate, [], []);
  let p = 0;
  let entries = 0;
  while (p < end) {
    if (!locate(src, p, end, at)) return null;
    const name = u.string(at.nameStart, at.nameEnd);
    u.pos = at.valueStart;
    u.canonical = true;
    const slots = u.slotCount;
    const reported = held.length;
    const v = u.parseValue();
    if (v === undefined) return null;
    const built = scalar(src, at.valueStart, u, v);
    if (built !== undefined) {
      current.replaceExact(name, built);
      table?.add(name, built);
    } else {
      const cleanAt = held.length === reported ? ctx.maxDepth : NaN;
      const e = new LazyEntry(src, at.valueStart, u.pos, u.slotCount - slots, u.canonical, cleanAt);
      arrayInternals.putDeferred(current, name, e);
      table?.add(name, e, src);
    }
    p = u.pos;
    if (++entries === SAMPLE_ENTRIES) reserveFor(current, entries, p, end);
  }
  for (const [l, m, raw] of held) ctx.diagnostic(l, m, raw);
  if (table !== null && held.length === 0) slot!.set({ bytes: src, entries: table, spans: table.spans });
  return { ok: true, session: current };
}

/**
 * php_serialize's lazy decode: the root array's elements become the session's entries, each
 * validated in place by the same parser and kept as its span (small scalars built at once); null
 * when the eager decode must run instead (the root is not an array, the payload holds `r:`/`R:`,
 * or it fails to decode), with nothing reported.
 */
export function decodeRootLazy(data: Uint8Array, ctx: SerializerContext): DecodeResult | null {
  const slot = ctx.validated;
  const hit = cachedEntries(slot, data, ROOT);
  if (hit !== undefined) return { ok: true, session: fromCache(hit, new PhpArray()) };
  const src = ctx.owned === true ? asBuffer(data) : Buffer.from(data);
  const held: [DiagnosticLevel, string, boolean][] = [];
  const u = new Unserializer(src, { maxDepth: ctx.maxDepth, validate: true, onDiagnostic: (l, m, raw) => held.push([l, m, raw]) });
  const session = new PhpArray();
  const table = slot === undefined ? null : new ValidatedEntries(ROOT, [], []);
  let reported = 0;
  const ok = u.validateArrayEntries((key, start, end, slots, canonical, int) => {
    const built = scalar(src, start, u, int ?? null);
    if (built !== undefined) {
      session.replaceExact(key, built);
      table?.add(key, built);
    } else {
      const e = new LazyEntry(src, start, end, slots, canonical, held.length === reported ? ctx.maxDepth : NaN);
      arrayInternals.putDeferred(session, key, e);
      table?.add(key, e, src);
    }
    reported = held.length;
  });
  if (!ok) return null;
  for (const [l, m, raw] of held) ctx.diagnostic(l, m, raw);
  if (table !== null && held.length === 0) slot!.set({ bytes: src, entries: table, spans: table.spans });
  return { ok: true, session };
}

/** The locator of php_serialize's table (its entries are the root array's elements, not names). */
const ROOT: NameLocator = () => false;

/**
 * Remembers php_serialize `bytes`, just encoded for the store, as validated: the root's elements
 * found by validating the bytes again, except the values copied verbatim from an entry that
 * validated cleanly under the same max depth. Nothing is remembered unless all of it is clean.
 */
export function rememberRoot(ctx: SerializerContext, bytes: Uint8Array, rec: VerbatimRecord): void {
  const slot = ctx.validated;
  if (slot === undefined) return;
  const src = asBuffer(bytes);
  let clean = true;
  const u = new Unserializer(src, { maxDepth: ctx.maxDepth, validate: true, onDiagnostic: () => void (clean = false) });
  const table = new ValidatedEntries(ROOT, [], []);
  const known = (start: number): { end: number; slots: number } | undefined => {
    const e = rec.cleanCopyAt(start, ctx.maxDepth);
    return e === undefined ? undefined : { end: start + (e.end - e.start), slots: e.slots };
  };
  const ok = u.validateArrayEntries((key, start, end, slots, canonical, int) => {
    // A value copied verbatim keeps the entry it was copied from (the same bytes in their first
    // source): sessions that take this table never point into the encoder's output for it.
    const built = scalar(src, start, u, int ?? null, true);
    table.add(key, built ?? rec.cleanCopyAt(start, ctx.maxDepth) ?? new LazyEntry(src, start, end, slots, canonical, ctx.maxDepth), src);
  }, known);
  if (ok && clean) slot.set({ bytes: src, entries: table, spans: table.spans });
}

/** php_serialize's encode of a session still holding deferred entries (entries nobody read are copied). */
export function encodeRootLazy(out: Serializer, session: PhpArray, rec: VerbatimRecord | null): void {
  out.writeArrayWith(session, (i, d) => writeSessionSlot(out, session, i, d, rec));
}

/** True when the array holds an entry not built yet. */
export function hasDeferred(a: PhpArray): boolean {
  const vals = arrayInternals.rawVals(a);
  for (let i = 0; i < vals.length; i++) if (vals[i] instanceof DeferredSlot) return true;
  return false;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Where an encode copied entries verbatim: output offset and entry, in output order. Kept only
 * while the engine wants the encoded bytes remembered (SerializerContext.validated).
 */
export class VerbatimRecord {
  readonly starts: number[] = [];
  readonly entries: LazyEntry[] = [];
  /** Where {@link cleanCopyAt} looks next: its callers ask in increasing output offsets. */
  #next = 0;

  /** The entry copied verbatim to output offset `start`, if it validated cleanly under `maxDepth`. */
  cleanCopyAt(start: number, maxDepth: number): LazyEntry | undefined {
    const { starts, entries } = this;
    while (this.#next < starts.length && starts[this.#next]! < start) this.#next++;
    const e = starts[this.#next] === start ? entries[this.#next] : undefined;
    return e !== undefined && e.cleanAt === maxDepth ? e : undefined;
  }
}

/**
 * Remembers `bytes`, just encoded for the store, as validated: their entry table, found by
 * locating every name again and validating every value, except the values copied verbatim from
 * an entry that validated cleanly under the same max depth (same bytes, same result). Nothing is
 * remembered when anything would not be clean.
 */
export function rememberEncoded(ctx: SerializerContext, bytes: Uint8Array, rec: VerbatimRecord, locate: NameLocator): void {
  const slot = ctx.validated;
  if (slot === undefined) return;
  const src = asBuffer(bytes);
  const end = src.length;
  let clean = true;
  // Made at the first value not copied, from there: a short payload's unserializer decodes its
  // text from its start at once, mostly bytes that were copied.
  let u: Unserializer | undefined;
  const at: NamePosition = { nameStart: 0, nameEnd: 0, valueStart: 0 };
  const table = new ValidatedEntries(locate, [], []);
  let p = 0;
  while (p < end) {
    if (!locate(src, p, end, at)) return;
    // Decoded on their own: cutting them from u's text window would decode 64 KB windows of
    // values copied verbatim.
    const name = decodeStringAlone(src, at.nameStart, at.nameEnd);
    const copied = rec.cleanCopyAt(at.valueStart, ctx.maxDepth);
    if (copied !== undefined) {
      // The entry it was copied from (the same bytes in their first source): sessions that take
      // this table never point into the encoder's output for it.
      table.add(name, copied, src);
      p = at.valueStart + (copied.end - copied.start);
      continue;
    }
    u ??= new Unserializer(src, { maxDepth: ctx.maxDepth, validate: true, onDiagnostic: () => void (clean = false) }, at.valueStart);
    u.pos = at.valueStart;
    u.canonical = true;
    const slots = u.slotCount;
    const v = u.parseValue();
    if (v === undefined || !clean) return;
    table.add(name, scalar(src, at.valueStart, u, v, true) ?? new LazyEntry(src, at.valueStart, u.pos, u.slotCount - slots, u.canonical, ctx.maxDepth), src);
    p = u.pos;
  }
  slot.set({ bytes: src, entries: table, spans: table.spans });
}

/** Strings up to this many bytes (token included) are built at once rather than deferred. */
const SHORT_STRING = 64;

/**
 * The value of a small scalar entry that just validated at [start, u.pos), built at once as the
 * eager decode builds it (a deferred entry would cost more than the value): plain ints (the
 * validation returns them), null, booleans and short strings. Undefined for anything else.
 * `alone`: decode a string by itself, not from u's text window (after an encode, the values
 * validated are few and far apart: a window would decode 64 KB for each).
 */
function scalar(src: Buffer, start: number, u: Unserializer, v: PhpValue, alone = false): PhpValue | undefined {
  switch (src[start]) {
    case 0x69: // i: read by the plain-int path (others validate to null)
      return typeof v === 'number' ? v : undefined;
    case 0x4e: // N;
      return null;
    case 0x62: // b:0; b:1;
      return src[start + 2] === 0x31;
    case 0x73: // s:<len>:"<bytes>"; (the first quote opens the bytes)
      if (u.pos - start > SHORT_STRING) return undefined;
      return alone ? decodeStringAlone(src, src.indexOf(0x22, start) + 1, u.pos - 2) : u.string(src.indexOf(0x22, start) + 1, u.pos - 2);
    default:
      return undefined;
  }
}

/** Writes slot i of the session (raw: maybe a LazyEntry) as one top-level value; `rec` notes verbatim copies. */
export function writeSessionSlot(out: Serializer, session: PhpArray, i: number, v: unknown, rec: VerbatimRecord | null): void {
  if (v instanceof LazyEntry) {
    if (v.canonical) {
      if (rec !== null) {
        rec.starts.push(out.length);
        rec.entries.push(v);
      }
      out.writeVerbatim(v.src, v.start, v.end, v.slots);
    } else {
      out.writeValue(arrayInternals.resolveAt(session, i));
    }
  } else {
    out.writeValue(v as PhpValue);
  }
}
