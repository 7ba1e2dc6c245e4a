/**
 * @module serializers/unserialize
 * PHP 8.2's `unserialize()` (ext/standard/var_unserializer.re), ported to the value model of
 * lib/value.ts.
 *
 * The codec is *class-agnostic*: this library has no PHP classes, so `unserialize()` behaves as
 * PHP would if every well-formed class name named a plain class (no magic methods, no declared
 * properties) and every well-formed `E:` named an existing enum case. Objects decode to
 * {@link PhpObject} with their class name and mangled property names kept as written, `C:`
 * payloads to {@link PhpSerializable} (kept verbatim), enum cases to {@link PhpEnum}; all of them
 * re-encode to the bytes they came from. `allowed_classes` works as in PHP: a refused class
 * becomes `__PHP_Incomplete_Class` with its `__PHP_Incomplete_Class_Name` property.
 *
 * Reference slots (`r:` / `R:`) are numbered exactly as PHP numbers them. {@link Unserializer} is
 * exported so that session serializers can share one slot table across several top-level values.
 *
 * Long file: one parser, as var_unserializer.re is one scanner; its fast paths and the general
 * path that reports errors share the cursor and slot table, and splitting them would put the hot
 * loop behind module boundaries.
 */
import { isUtf8 } from 'node:buffer';
import type { DiagnosticLevel, DiagnosticSink } from '../lib/errors.ts';
import { PhpError, PhpTypeError, PhpValueError, UnserializeError } from '../lib/errors.ts';
import {
  PHP_INT_MAX,
  PHP_INT_MIN,
  PhpArray,
  PhpBytes,
  PhpEnum,
  PhpFloat,
  PhpObject,
  PhpReference,
  PhpSerializable,
  type PhpKey,
  type PhpValue,
} from '../lib/value.ts';
import { doubleToShortest, isPhpArrayLike, phpArrayValues, zendZvalTypeName, zvalGetString, zvalType } from '../lib/zend/index.ts';
import {
  asciiLower,
  BINARY_NAME_PREFIX,
  INCOMPLETE_CLASS,
  INCOMPLETE_CLASS_LC,
  isObjectValue,
  isWellFormed,
  MAGIC_MEMBER,
  nameValue,
} from './var-common.ts';
import { arrayInternals } from './internal.ts';

// ---------------------------------------------------------------------------------------------
// Messages (texts byte-identical to PHP 8.2's)
// ---------------------------------------------------------------------------------------------

/** PHP's diagnostic texts used by the codec. */
export const MESSAGES = {
  OUT_OF_RANGE: 'Numerical result out of range',
  UNEXPECTED_END: 'Unexpected end of serialized data',
  MAX_DEPTH: (depth: number) =>
    `Maximum depth of ${depth} exceeded. The depth limit can be changed using the max_depth unserialize() option or the unserialize_max_depth ini setting`,
  INSUFFICIENT_DATA: (required: number | bigint, present: number) =>
    `Insufficient data for unserializing - ${required} required, ${present} present`,
  NO_UNSERIALIZER: (cls: string) => `Class ${cls} has no unserializer`,
  BAD_DATA: 'Bad unserialize data',
  ENUM_MISSING_COLON: (name: string) => `Invalid enum name '${name}' (missing colon)`,
  ENUM_CLASS_NOT_FOUND: (name: string) => `Class '${name}' not found`,
  ENUM_UNDEFINED_CONSTANT: (cls: string, name: string) => `Undefined constant ${cls}::${name}`,
  ERROR_AT_OFFSET: (offset: number, length: number) => `Error at offset ${offset} of ${length} bytes`,
} as const;

/** A diagnostic raised inside the codec; `raw` = PHP raised it without a function prefix (zend_error). */
export type CodecDiagnosticSink = (level: DiagnosticLevel, message: string, raw: boolean) => void;

/** HT_MAX_SIZE on 64-bit builds. */
const HT_MAX_SIZE = 0x40000000;

/** Options of {@link unserialize}, as PHP's `unserialize($data, $options)`. */
export interface UnserializeOptions {
  /**
   * true (default): every class; false: none; an array (JS array, PhpArray, Map): those classes
   * (case-insensitive, entries converted to strings as PHP does). Others become
   * __PHP_Incomplete_Class. Any other type is PHP's TypeError.
   */
  allowed_classes?: boolean | readonly unknown[] | PhpArray | ReadonlyMap<unknown, unknown> | null;
  /** Maximum nesting depth, a PHP int (PHP's default, the unserialize_max_depth ini, is 4096); 0 = unlimited. Any other type is PHP's TypeError. */
  max_depth?: number | bigint | PhpFloat | string | boolean | null;
  /** Receives PHP's warnings and notices with their exact text (`unserialize(): ` prefix where PHP adds one). */
  onDiagnostic?: DiagnosticSink;
}

/** Settings of one {@link Unserializer}. */
export interface UnserializerSettings {
  /** null = all classes allowed; otherwise the lower-cased allowed names. */
  allowedClasses?: ReadonlySet<string> | null;
  /** 0 = unlimited. */
  maxDepth?: number;
  onDiagnostic?: CodecDiagnosticSink | undefined;
  /**
   * Validation mode (lazy session decoding): parse exactly as usual, with the same acceptance,
   * diagnostics and error offsets, but build no values. See {@link Unserializer.canonical} and
   * {@link Unserializer.needsEager}.
   */
  validate?: boolean;
}

const FAIL = Symbol('fail');
/** Arrays declaring more elements than this pass their count on as a hint to their key index. */
const RESERVE_FROM = 16;

/** An array or object being filled; `seen`/`last` track its keys in validation mode. */
interface Frame {
  c: PhpArray;
  n: number;
  obj: boolean;
  o: PhpObject | null;
  /** String keys read so far: their byte spans (start, end, …), then a Set of their Latin-1 text. */
  seen: number[] | Set<string> | null;
  /** The last integer key, or -1. */
  last: number;
}

/** The container of every value in validation mode: never written to. */
const SINK = new PhpArray();
const NO_DIAGNOSTICS: CodecDiagnosticSink = () => undefined;

// Class-name characters PHP accepts (zend_is_valid_class_name): [0-9A-Za-z_\\\x80-\xff].
const CLASS_CHARS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  CLASS_CHARS[c] =
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x5c || c >= 0x80
      ? 1
      : 0;
}

const TWO64 = 1n << 64n;
/** Exact powers of ten (10^k is a double exactly for k <= 22). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
const REF_LOWER = Buffer.from('r:');
const REF_UPPER = Buffer.from('R:');

type FastBuffer = Buffer & { latin1Slice?: (s: number, e: number) => string; utf8Slice?: (s: number, e: number) => string };
const HAS_SLICES = typeof (Buffer.alloc(0) as FastBuffer).latin1Slice === 'function';
/** Buffer's native Latin-1 decode of [s, e) (toString() without its argument checks). */
function latin1Slice(b: Buffer, s: number, e: number): string {
  return HAS_SLICES ? (b as FastBuffer).latin1Slice!(s, e) : b.toString('latin1', s, e);
}
function utf8Slice(b: Buffer, s: number, e: number): string {
  return HAS_SLICES ? (b as FastBuffer).utf8Slice!(s, e) : b.toString('utf8', s, e);
}

/**
 * Bytes [s, e) → string (valid UTF-8) or PhpBytes, decoded on their own, as Unserializer#string
 * decodes them but without its text window: for a few short strings far apart in a large buffer
 * (the window would decode 64 KB of Latin-1 for each).
 */
export function decodeStringAlone(b: Buffer, s: number, e: number): string | PhpBytes {
  let i = s;
  while (i < e && b[i]! < 0x80) i++;
  return i === e ? latin1Slice(b, s, e) : decodeNonAscii(b, s, e);
}

/** Bytes [s, e) holding a non-ASCII byte → string when they are valid UTF-8, else PhpBytes. */
function decodeNonAscii(b: Buffer, s: number, e: number): string | PhpBytes {
  // Decoding replaces invalid sequences with U+FFFD; only then is a validity check needed.
  const str = utf8Slice(b, s, e);
  if (str.indexOf('\uFFFD') === -1) return str;
  const view = b.subarray(s, e);
  if (isUtf8(view)) return str;
  return new PhpBytes(Uint8Array.prototype.slice.call(view));
}

/** Bytes decoded at a time by Unserializer#text (below V8's 128 KB large-object threshold). */
const TEXT_WINDOW = 64 * 1024;

/**
 * One PHP unserialize context (php_unserialize_data_t): the input buffer, the read position and
 * the slot table that `r:`/`R:` refer to. Session serializers parse several top-level values
 * with one instance so that slot numbers continue across keys.
 *
 * Values are parsed *into a location* (container array + exact key), as PHP parses into a zval:
 * `R:` turns the target location into a shared {@link PhpReference}.
 */
export class Unserializer {
  readonly buf: Uint8Array;
  /** Read position: after a failure, the offset PHP reports ("Error at offset P"). */
  pos: number;
  readonly end: number;
  /** The slot table: container and key of every value parsed so far, interleaved. */
  readonly #slots: (PhpArray | PhpKey)[] = [];
  /** Slots used so far; their locations are only recorded when the input can refer back (has `r:`/`R:`). */
  #slotN = 0;
  readonly #track: boolean;
  #depth = 0;
  readonly #maxDepth: number;
  readonly #allowed: ReadonlySet<string> | null;
  readonly #diag: CodecDiagnosticSink;
  readonly #nodeBuf: Buffer;
  #classNames: Map<string, string> | null = null;
  /** Arrays/objects being filled: container, elements still to read, object or array. */
  readonly #stack: Frame[] = [];
  /** False in validation mode: containers are not filled and values not built. */
  readonly #build: boolean;
  #canon = true;
  #needsEager = false;

  constructor(data: Uint8Array, settings: UnserializerSettings = {}, start = 0) {
    this.buf = data;
    this.pos = start;
    this.end = data.length;
    this.#maxDepth = settings.maxDepth ?? 4096;
    this.#allowed = settings.allowedClasses ?? null;
    this.#diag = settings.onDiagnostic ?? NO_DIAGNOSTICS;
    this.#build = settings.validate !== true;
    const nb = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.#nodeBuf = nb;
    // Slot locations are recorded only when the input contains the bytes of a back reference.
    if (nb.length - start < 4096) {
      // A short input is decoded as one text window at once (its strings are cut from it anyway),
      // and searched there: V8's string search is cheaper than a byte loop or a native Buffer call.
      const win = latin1Slice(nb, start, nb.length);
      this.#win = win;
      this.#winStart = start;
      this.#track = this.#build && (win.indexOf('r:') >= 0 || win.indexOf('R:') >= 0);
    } else {
      this.#track = this.#build && (nb.indexOf(REF_LOWER, start) >= 0 || nb.indexOf(REF_UPPER, start) >= 0);
    }
  }

  /**
   * Validation mode: true while every value parsed since it was last set to true would re-encode
   * to exactly its input bytes (canonical integers, floats and lengths, no `S:`, no objects or
   * enums, array keys as PHP writes them, no duplicate keys). Conservative: false may be wrong,
   * true never is.
   */
  get canonical(): boolean {
    return this.#canon;
  }

  set canonical(v: boolean) {
    this.#canon = v;
  }

  /**
   * Validation mode: the input holds an `r:`/`R:` token, which only a building parse can check
   * (its slot table holds values); the parse stopped there and failed, and its result means nothing.
   */
  get needsEager(): boolean {
    return this.#needsEager;
  }

  /** Number of slots used so far. */
  get slotCount(): number {
    return this.#slotN;
  }

  /**
   * False when no value can refer back to an earlier slot (the input holds no `r:`/`R:` bytes):
   * a parsed value's location is then never used again.
   */
  get hasBackReferences(): boolean {
    return this.#track;
  }

  /**
   * Parses one value at `pos` and returns it; undefined on malformed input, with `pos` where PHP's
   * parser stopped. For input without back references only ({@link hasBackReferences} false): the
   * value's location is not kept, so nothing can refer to it. Plain `i:` and `s:` values are read
   * in one step, anything else through a scratch slot.
   */
  parseValue(): PhpValue | undefined {
    const p = this.pos;
    const t = this.buf[p];
    if (t === 0x69 || t === 0x73) {
      const v = t === 0x69 ? this.#plainInt(p) : this.#plainString(p);
      if (v !== null) {
        this.#slotN++;
        return v;
      }
    }
    const scratch = (this.#scratch ??= new PhpArray());
    if (!this.parseInto(scratch, 0)) return undefined;
    return this.#build ? (scratch.getSlot(0) as PhpValue) : null;
  }

  #scratch: PhpArray | null = null;

  /** The input bytes [s, e) as a PHP string value: a JS string when they are valid UTF-8, else PhpBytes. */
  string(s: number, e: number): string | PhpBytes {
    return this.#str(s, e);
  }

  /**
   * Parses one value at `pos` into `container[key]` (stored exactly, replacing the slot).
   * Returns false on malformed input, leaving `pos` where PHP's parser stopped.
   */
  parseInto(container: PhpArray, key: PhpKey): boolean {
    // Containers are filled with an explicit stack, not recursion, so nesting is bounded by
    // max_depth and memory, never by the JS call stack.
    const base = this.#stack.length;
    const depth = this.#depth;
    if (this.#value(container, key) && this.#fill(base)) return true;
    this.#stack.length = base;
    this.#depth = depth;
    return false;
  }

  /**
   * Validation mode, php_serialize's lazy decode: validates the array at `pos` as
   * {@link parseInto} parses it (the same acceptance, diagnostics and failure offset) and
   * reports each element: its key as the building parse stores it, the value's bytes [start,
   * end), the slots they use, whether they re-encode to themselves ({@link canonical}), and the
   * value itself when it was a plain `i:` token (undefined otherwise). False on failure.
   * `known(start)`: the end and slots of a value at `start` whose bytes the caller knows validated
   * cleanly and canonically at this depth; it is skipped, not parsed.
   */
  validateArrayEntries(
    entry: (key: PhpKey, start: number, end: number, slots: number, canonical: boolean, int: number | undefined) => void,
    known?: (start: number) => { end: number; slots: number } | undefined,
  ): boolean {
    const base = this.#stack.length;
    const depth = this.#depth;
    if (this.buf[this.pos] === 0x61 && this.#value(SINK, 0) && this.#entries(base, entry, known)) return true;
    this.#stack.length = base;
    this.#depth = depth;
    return false;
  }

  /** The elements of the array frame at `base` (see {@link validateArrayEntries}), then its `}`. */
  #entries(base: number, entry: Parameters<Unserializer['validateArrayEntries']>[0], known: Parameters<Unserializer['validateArrayEntries']>[1]): boolean {
    const stack = this.#stack;
    if (stack.length === base) return true; // a:0:{} (closed by #array)
    const f = stack[base]!;
    const b = this.buf;
    while (f.n > 0) {
      f.n--;
      // The key as #fill's building path stores it (#key accepts what its fast path does, silently).
      let k = this.#key();
      if (k === FAIL) return false;
      if (typeof k === 'string') k = numericKey(k);
      const start = this.pos;
      const slots = this.#slotN;
      this.#canon = true;
      // A value whose bytes validated cleanly and canonically before (the caller vouches): skipped.
      const done = known?.(start);
      if (done !== undefined) {
        this.pos = done.end;
        this.#slotN += done.slots;
        entry(k, start, done.end, done.slots, true, undefined);
        continue;
      }
      const t = b[start];
      // Plain i:/s: values in one step, as in #fill (validation reads no string: '' stands for it).
      let int: number | undefined;
      let plain = false;
      if (t === 0x73) plain = this.#plainString(start) !== null;
      else if (t === 0x69) plain = (int = this.#plainInt(start) ?? undefined) !== undefined;
      if (plain) {
        this.#slotN++;
      } else {
        const before = stack.length;
        if (!this.#value(f.c, k)) return false;
        if (stack.length !== before) {
          if (!this.#fill(before)) return false;
        } else if (f.n > 0) {
          const prev = b[this.pos - 1];
          if (prev !== 0x3b && prev !== 0x7d) {
            this.pos--;
            return false;
          }
        }
      }
      entry(k, start, this.pos, this.#slotN - slots, this.#canon, int);
    }
    this.#depth--;
    stack.pop();
    return this.#finish();
  }

  /** Reads elements of the open containers until the stack is back at `base`. */
  #fill(base: number): boolean {
    const stack = this.#stack;
    const b = this.buf;
    while (stack.length > base) {
      const f = stack[stack.length - 1]!;
      if (f.n === 0) {
        this.#depth--;
        stack.pop();
        if (f.obj && f.o !== null) adoptIncompleteName(f.o);
        if (!this.#finish()) return false;
        continue;
      }
      f.n--;
      // Fast path: a string key and a string or plain int value as PHP writes them
      // (s:<len>:"<text>"; and i:<digits>;), each read in one step; anything else goes through
      // #key / #value, which also report the errors.
      let k: PhpKey | typeof FAIL | null;
      if (this.#build) {
        k = b[this.pos] === 0x73 ? this.#plainString(this.pos) : null;
        if (k === null) {
          k = this.#key();
          if (k === FAIL) return false;
          if (f.obj) {
            // Property names are strings: an i: key becomes its decimal string.
            if (typeof k === 'number' || typeof k === 'bigint') k = String(k);
          } else if (typeof k === 'string') {
            k = numericKey(k);
          }
        } else if (!f.obj) {
          k = numericKey(k);
        }
      } else if ((k = this.#validateKey(f)) === FAIL) {
        return false;
      }
      const t = b[this.pos];
      if (t === 0x73 || t === 0x69) {
        const v = t === 0x73 ? this.#plainString(this.pos) : this.#plainInt(this.pos);
        if (v !== null) {
          this.#slotN++;
          if (this.#track) this.#slots.push(f.c, k);
          if (this.#build) f.c.replaceExact(k, v);
          continue;
        }
      }
      const before = stack.length;
      if (!this.#value(f.c, k)) return false;
      if (stack.length === before && f.n > 0) {
        const prev = b[this.pos - 1];
        if (prev !== 0x3b && prev !== 0x7d) {
          this.pos--;
          return false;
        }
      }
    }
    return true;
  }

  #warn(message: string, raw = false): void {
    this.#diag('E_WARNING', message, raw);
  }

  /** A Latin-1 decode of the input bytes [#winStart, #winStart + #win.length). */
  #win = '';
  #winStart = 0;

  /**
   * ASCII bytes [s, e) as a string: a substring of a window of the input decoded once as
   * Latin-1, which is several times faster than one native decode per string. Windows stay
   * below V8's large-object size (a 140 KB string would be allocated in large-object space,
   * an order of magnitude slower than a few 64 KB ones). V8 may keep longer substrings as
   * slices of their window; a window lives as long as the values cut from it.
   */
  #text(s: number, e: number): string {
    let off = s - this.#winStart;
    if (off < 0 || e - this.#winStart > this.#win.length) {
      if (e - s > TEXT_WINDOW >> 2) return latin1Slice(this.#nodeBuf, s, e);
      this.#win = latin1Slice(this.#nodeBuf, s, Math.min(this.end, s + TEXT_WINDOW));
      this.#winStart = s;
      off = 0;
    }
    return this.#win.substring(off, off + (e - s));
  }

  /**
   * Bytes → string (valid UTF-8) or PhpBytes. ASCII text is cut from the Latin-1 window (#text).
   * (A module-wide cache of short key strings was measured slower than cutting them every time.)
   */
  #str(s: number, e: number): string | PhpBytes {
    const b = this.buf;
    let i = s;
    while (i < e && b[i]! < 0x80) i++;
    return i === e ? this.#text(s, e) : decodeNonAscii(this.#nodeBuf, s, e);
  }

  /**
   * Validation mode: reads the key at pos (the same acceptance as the building path) and clears
   * {@link canonical} where PHP would write the key differently, or where it repeats an earlier
   * key of the array (a repeated key is stored once and the count re-encodes smaller).
   */
  #validateKey(f: Frame): 0 | typeof FAIL {
    const b = this.buf;
    const p = this.pos;
    if (b[p] === 0x73) {
      const s = this.#stringHead(p);
      const e = s + this.#headLen;
      if (s >= 0 && e + 2 <= this.end && b[e] === 0x22 && b[e + 1] === 0x3b) {
        this.pos = e + 2;
        if (this.#canon) this.#checkStringKey(f, p, s, e);
        return 0;
      }
    }
    if (this.#key() === FAIL) return FAIL;
    // A property name PHP writes back as a string (s:), never as read here.
    if (f.obj) this.#canon = false;
    else if (this.#canon) {
      // Canonical int keys: i:0; or i:<1-9 then digits>; (at most 15 digits), increasing.
      let q = p + 2;
      let v = 0;
      if (b[p] === 0x69 && (b[q] !== 0x30 || b[q + 1] === 0x3b)) {
        while (b[q]! >= 0x30 && b[q]! <= 0x39 && q - p < 17) v = v * 10 + (b[q++]! - 0x30);
      }
      if (q === this.pos - 1 && q > p + 2 && v > f.last) f.last = v;
      else this.#canon = false;
    }
    return 0;
  }

  #checkStringKey(f: Frame, p: number, s: number, e: number): void {
    const b = this.buf;
    const c0 = b[s]!;
    if (
      (b[p + 2] === 0x30 && s - p > 5) ||
      // "5" is stored as the int key 5 and written back as i:5; (in an array: property names stay strings)
      (!f.obj && ((c0 >= 0x30 && c0 <= 0x39) || c0 === 0x2d) && typeof numericKey(this.#text(s, e)) !== 'string')
    ) {
      this.#canon = false;
      return;
    }
    const seen = f.seen;
    if (seen === null) {
      f.seen = [s, e];
      return;
    }
    if (Array.isArray(seen)) {
      // Few keys: compared as bytes; many: a Set of their text.
      const len = e - s;
      for (let j = 0; j < seen.length; j += 2) {
        const s2 = seen[j]!;
        if (seen[j + 1]! - s2 !== len) continue;
        let k = 0;
        while (k < len && b[s + k] === b[s2 + k]) k++;
        if (k === len) {
          this.#canon = false;
          return;
        }
      }
      if (seen.length < 32) {
        seen.push(s, e);
        return;
      }
      const set = new Set<string>();
      for (let j = 0; j < seen.length; j += 2) set.add(this.#text(seen[j]!, seen[j + 1]!));
      f.seen = set;
      set.add(this.#text(s, e));
      return;
    }
    const text = this.#text(s, e);
    if (seen.has(text)) this.#canon = false;
    else seen.add(text);
  }

  /** Validation mode: a float whose input text [s, e) is not the text serialize() writes for it. */
  #checkFloat(v: number, s: number, e: number): void {
    if (this.#canon && doubleToShortest(v) !== this.#text(s, e)) this.#canon = false;
  }

  /** Scans `uiv` (one or more digits) at p; returns the index after it, or -1. */
  #scanDigits(p: number): number {
    const b = this.buf;
    const start = p;
    while (p < this.end && b[p]! >= 0x30 && b[p]! <= 0x39) p++;
    return p === start ? -1 : p;
  }

  /** parse_uiv: the digits at [s, e) as size_t (wrapping modulo 2^64, as C does). */
  #uiv(s: number, e: number): number {
    const b = this.buf;
    if (e - s <= 15) {
      let r = 0;
      for (let i = s; i < e; i++) r = r * 10 + (b[i]! - 0x30);
      return r;
    }
    let big = 0n;
    for (let i = s; i < e; i++) big = (big * 10n + BigInt(b[i]! - 0x30)) % TWO64;
    return Number(big); // may exceed 2^53 only when huge, where it is only compared against lengths
  }

  /**
   * parse_iv2: optional sign, leading zeros skipped, digits; warns and clamps on overflow.
   * Returns the value and the index after the digits.
   */
  /** Index after the digits read by the last #iv() call. */
  #ivEnd = 0;
  /** Start of the name the last {@link #quotedName} call accepted. */
  #nameStart = 0;

  #iv(p: number): number | bigint {
    const b = this.buf;
    let neg = false;
    if (b[p] === 0x2d) {
      neg = true;
      p++;
    } else if (b[p] === 0x2b) {
      p++;
    }
    while (p < this.end && b[p] === 0x30) p++;
    const start = p;
    while (p < this.end && b[p]! >= 0x30 && b[p]! <= 0x39) p++;
    const digits = p - start;
    if (digits <= 15) {
      let r = 0;
      for (let i = start; i < p; i++) r = r * 10 + (b[i]! - 0x30);
      this.#ivEnd = p;
      return neg ? (r === 0 ? 0 : -r) : r;
    }
    let big = 0n;
    if (digits <= 19) {
      for (let i = start; i < p; i++) big = big * 10n + BigInt(b[i]! - 0x30);
    }
    if (digits > 19 || big > (neg ? -PHP_INT_MIN : PHP_INT_MAX)) {
      this.#ivEnd = p;
      this.#warn(MESSAGES.OUT_OF_RANGE);
      return neg ? PHP_INT_MIN : PHP_INT_MAX;
    }
    const r = neg ? -big : big;
    this.#ivEnd = p;
    return r >= BigInt(Number.MIN_SAFE_INTEGER) && r <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r) : r;
  }

  /** Matches `X:` uiv `<c1><c2>` at p (token letter already checked); returns the index after the digits or -1. */
  #head(p: number, c1: number, c2: number): number {
    const b = this.buf;
    if (b[p + 1] !== 0x3a) return -1;
    const e = this.#scanDigits(p + 2);
    if (e < 0 || b[e] !== c1 || e + 1 >= this.end || b[e + 1] !== c2) return -1;
    return e;
  }

  /** Scans `i:` iv `;` at p; returns index after `;` or -1. */
  #scanInt(p: number): number {
    const b = this.buf;
    if (b[p + 1] !== 0x3a) return -1;
    let q = p + 2;
    if (b[q] === 0x2b || b[q] === 0x2d) q++;
    const e = this.#scanDigits(q);
    if (e < 0 || e >= this.end || b[e] !== 0x3b) return -1;
    return e + 1;
  }

  /** Scans a `d:` token at p; returns [index after `;`, value] or null. */
  #scanDouble(p: number): [number, number] | null {
    const b = this.buf;
    const end = this.end;
    if (b[p + 1] !== 0x3a) return null;
    let q = p + 2;
    // NAN; INF; -INF;
    if (b[q] === 0x4e && b[q + 1] === 0x41 && b[q + 2] === 0x4e && b[q + 3] === 0x3b && q + 3 < end) return [q + 4, NaN];
    if (b[q] === 0x49 && b[q + 1] === 0x4e && b[q + 2] === 0x46 && b[q + 3] === 0x3b && q + 3 < end) return [q + 4, Infinity];
    if (b[q] === 0x2d && b[q + 1] === 0x49 && b[q + 2] === 0x4e && b[q + 3] === 0x46 && b[q + 4] === 0x3b && q + 4 < end) {
      return [q + 5, -Infinity];
    }
    const numStart = q;
    if (b[q] === 0x2b || b[q] === 0x2d) q++;
    let intDigits = 0;
    while (q < end && b[q]! >= 0x30 && b[q]! <= 0x39) {
      q++;
      intDigits++;
    }
    let fracDigits = 0;
    if (q < end && b[q] === 0x2e) {
      q++;
      while (q < end && b[q]! >= 0x30 && b[q]! <= 0x39) {
        q++;
        fracDigits++;
      }
    }
    if (intDigits === 0 && fracDigits === 0) return null;
    if (q < end && (b[q] === 0x65 || b[q] === 0x45)) {
      q++;
      if (b[q] === 0x2b || b[q] === 0x2d) q++;
      const e = this.#scanDigits(q);
      if (e < 0) return null;
      q = e;
    }
    if (q >= end || b[q] !== 0x3b) return null;
    return [q + 1, Number(this.#text(numStart, q))];
  }

  /** Reads a class, enum or case name at [s, e) (cached); see {@link BINARY_NAME_PREFIX} for non-UTF-8 names. */
  #name(s: number, e: number): string {
    const raw = this.#text(s, e);
    this.#classNames ??= new Map();
    let name = this.#classNames.get(raw);
    if (name === undefined) {
      const v = this.#str(s, e);
      name = typeof v === 'string' ? v : BINARY_NAME_PREFIX + raw;
      this.#classNames.set(raw, name);
    }
    return name;
  }

  #validClassName(s: number, e: number): boolean {
    const b = this.buf;
    for (let i = s; i < e; i++) if (CLASS_CHARS[b[i]!] === 0) return false;
    return true;
  }

  #classAllowed(name: string): boolean {
    if (this.#allowed === null) return true;
    return this.#allowed.has(asciiLower(name));
  }

  /** An array or object key (parsed without a slot table, as PHP does). */
  #key(): PhpKey | typeof FAIL {
    const b = this.buf;
    const p = this.pos;
    if (p >= this.end) return FAIL;
    switch (b[p]) {
      case 0x69: {
        // i: — plain short decimals inline (list indexes), the general rules otherwise
        if (b[p + 1] === 0x3a) {
          let q = p + 2;
          let d = b[q];
          let v = 0;
          while (d !== undefined && d >= 0x30 && d <= 0x39 && q - p < 17) {
            v = v * 10 + (d - 0x30);
            d = b[++q];
          }
          if (d === 0x3b && q > p + 2) {
            this.pos = q + 1;
            return v;
          }
        }
        const e = this.#scanInt(p);
        if (e < 0) return FAIL;
        const v = this.#iv(p + 2);
        this.pos = e;
        return v;
      }
      case 0x73: // s:
      case 0x53: {
        // S:
        const v = this.#stringToken(p, b[p] === 0x53);
        return v === FAIL ? FAIL : v;
      }
      case 0x4e:
        if (b[p + 1] === 0x3b) this.pos = p + 2;
        return FAIL;
      case 0x62:
        if (b[p + 1] === 0x3a && (b[p + 2] === 0x30 || b[p + 2] === 0x31) && b[p + 3] === 0x3b && p + 3 < this.end) this.pos = p + 4;
        return FAIL;
      case 0x64: {
        const r = this.#scanDouble(p);
        if (r !== null) this.pos = r[0];
        return FAIL;
      }
      case 0x61: {
        const e = this.#head(p, 0x3a, 0x7b);
        if (e >= 0) {
          this.#iv(p + 2); // parse_iv runs (and may warn) before the key check fails
          this.pos = e + 2;
        }
        return FAIL;
      }
      case 0x72:
      case 0x52: {
        const e = this.#refHead(p);
        if (e >= 0) this.pos = e;
        return FAIL;
      }
      case 0x7d:
        this.#diag('E_NOTICE', MESSAGES.UNEXPECTED_END, false);
        return FAIL;
      default:
        return FAIL;
    }
  }

  /** `r:`/`R:` uiv `;` → index after `;`, or -1. */
  #refHead(p: number): number {
    const b = this.buf;
    if (b[p + 1] !== 0x3a) return -1;
    const e = this.#scanDigits(p + 2);
    if (e < 0 || e >= this.end || b[e] !== 0x3b) return -1;
    return e + 1;
  }

  /** The length read by the last {@link #stringHead} call. */
  #headLen = 0;

  /**
   * The `s:<len>:"` head of a string token at p (uiv length, read inline: this is the hottest
   * path): returns the index after the opening quote, with the length in #headLen, or -1.
   */
  #stringHead(p: number): number {
    const b = this.buf;
    if (b[p + 1] !== 0x3a) return -1;
    let e = p + 2;
    let c = b[e];
    if (c === undefined || c < 0x30 || c > 0x39) return -1;
    let len = 0;
    do {
      len = len * 10 + (c - 0x30);
      c = b[++e];
    } while (c !== undefined && c >= 0x30 && c <= 0x39);
    if (c !== 0x3a || b[e + 1] !== 0x22) return -1;
    this.#headLen = e - p - 2 > 15 ? this.#uiv(p + 2, e) : len;
    return e + 2;
  }

  /**
   * A well-formed `s:<len>:"<text>";` at p whose text is valid UTF-8: returns it and moves pos past
   * it. Returns null, with pos unchanged, for anything else (left to #stringToken and its errors).
   */
  #plainString(p: number): string | null {
    const b = this.buf;
    const s = this.#stringHead(p);
    if (s < 0) return null;
    const end = s + this.#headLen;
    if (end + 2 > this.end || b[end] !== 0x22 || b[end + 1] !== 0x3b) return null;
    if (!this.#build) {
      // Any bytes are a valid s: string; only a length written with leading zeros re-encodes differently.
      if (b[p + 2] === 0x30 && s - p > 5) this.#canon = false;
      this.pos = end + 2;
      return '';
    }
    const v = this.#str(s, end);
    if (typeof v !== 'string') return null;
    this.pos = end + 2;
    return v;
  }

  /** A plain `i:<digits>;` at p (optional minus, at most 15 digits): its value, pos moved past it; else null. */
  #plainInt(p: number): number | null {
    const b = this.buf;
    if (b[p + 1] !== 0x3a) return null;
    let q = p + 2;
    const neg = b[q] === 0x2d;
    if (neg) q++;
    const ds = q;
    let d = b[q];
    let v = 0;
    while (d !== undefined && d >= 0x30 && d <= 0x39 && q - ds < 15) {
      v = v * 10 + (d - 0x30);
      d = b[++q];
    }
    if (d !== 0x3b || q === ds) return null;
    if (!this.#build && ((b[ds] === 0x30 && q - ds > 1) || (neg && v === 0))) this.#canon = false;
    this.pos = q + 1;
    return neg ? (v === 0 ? 0 : -v) : v;
  }

  /** `s:`/`S:` token at p → the string, or FAIL with pos set as PHP sets it. */
  #stringToken(p: number, escaped: boolean): string | PhpBytes | typeof FAIL {
    const b = this.buf;
    let cur = this.#stringHead(p);
    if (cur < 0) return FAIL;
    const len = this.#headLen;
    const maxlen = this.end - cur;
    if (maxlen < len) {
      this.pos = p + 2;
      return FAIL;
    }
    let value: string | PhpBytes;
    if (!escaped) {
      value = this.#str(cur, cur + len);
      cur += len;
    } else {
      // S: n decoded bytes, each raw or `\` + two hex digits.
      const out = new Uint8Array(len);
      for (let i = 0; i < len; i++) {
        if (cur >= this.end) return FAIL; // PHP's scan position is local: the error points at the token
        if (b[cur] !== 0x5c) {
          out[i] = b[cur++]!;
        } else {
          const h = hexVal(b[cur + 1]);
          const l = hexVal(b[cur + 2]);
          if (h < 0 || l < 0) return FAIL;
          out[i] = (h << 4) | l;
          cur += 3;
        }
      }
      value = isUtf8(out) ? Buffer.from(out.buffer, out.byteOffset, out.length).toString('utf8') : new PhpBytes(out);
    }
    if (cur >= this.end || b[cur] !== 0x22) {
      this.pos = cur;
      return FAIL;
    }
    if (cur + 1 >= this.end || b[cur + 1] !== 0x3b) {
      this.pos = cur + 1;
      return FAIL;
    }
    this.pos = cur + 2;
    return value;
  }

  #sameLocation(c: PhpArray, k: PhpKey, c2: PhpArray, k2: PhpKey): boolean {
    if (c !== c2) return false;
    if (k === k2) return true;
    return k instanceof PhpBytes && k2 instanceof PhpBytes && k.equals(k2);
  }

  #value(c: PhpArray, k: PhpKey): boolean {
    const b = this.buf;
    const p = this.pos;
    if (p >= this.end) return false;
    const t = b[p];
    if (t !== 0x52) {
      this.#slotN++;
      if (this.#track) this.#slots.push(c, k);
    }
    switch (t) {
      case 0x4e: // N;
        if (b[p + 1] !== 0x3b || p + 1 >= this.end) return false;
        this.pos = p + 2;
        if (this.#build) c.replaceExact(k, null);
        return true;
      case 0x62: // b:0; b:1;
        if (b[p + 1] !== 0x3a || (b[p + 2] !== 0x30 && b[p + 2] !== 0x31) || b[p + 3] !== 0x3b || p + 3 >= this.end) return false;
        this.pos = p + 4;
        if (this.#build) c.replaceExact(k, b[p + 2] === 0x31);
        return true;
      case 0x69: {
        // i: — fast path for plain short decimals, the general rules otherwise
        const plain = this.#plainInt(p);
        if (plain !== null) {
          if (this.#build) c.replaceExact(k, plain);
          return true;
        }
        const e = this.#scanInt(p);
        if (e < 0) return false;
        const v = this.#iv(p + 2);
        this.pos = e;
        if (this.#build) c.replaceExact(k, v);
        else this.#canon = false;
        return true;
      }
      case 0x64: {
        // d: fast path for plain decimals of at most 15 digits: m / 10^k is then correctly
        // rounded (both exact doubles, one IEEE division), the same double as strtod gives.
        if (b[p + 1] === 0x3a) {
          let q = p + 2;
          let neg = false;
          if (b[q] === 0x2d) {
            neg = true;
            q++;
          }
          let m = 0;
          let digits = 0;
          let frac = -1;
          let d = b[q];
          for (;;) {
            if (d !== undefined && d >= 0x30 && d <= 0x39) {
              m = m * 10 + (d - 0x30);
              digits++;
              if (frac >= 0) frac++;
            } else if (d === 0x2e && frac < 0) {
              frac = 0;
            } else {
              break;
            }
            d = b[++q];
          }
          if (d === 0x3b && digits > 0 && digits <= 15) {
            const a = frac > 0 ? m / POW10[frac]! : m;
            const v = neg ? -a : a;
            this.pos = q + 1;
            if (this.#build) c.replaceExact(k, Number.isInteger(v) ? new PhpFloat(v) : v);
            else if (this.#canon && !plainShortest(b, neg ? p + 3 : p + 2, q, frac, v)) this.#canon = false;
            return true;
          }
        }
        const r = this.#scanDouble(p);
        if (r === null) return false;
        this.pos = r[0];
        const v = r[1];
        if (this.#build) c.replaceExact(k, Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? new PhpFloat(v) : v);
        else this.#checkFloat(v, p + 2, r[0] - 1);
        return true;
      }
      case 0x73:
      case 0x53: {
        const v = this.#stringToken(p, t === 0x53);
        if (v === FAIL) return false;
        if (this.#build) c.replaceExact(k, v);
        else if (t === 0x53 || (b[p + 2] === 0x30 && b[p + 3] !== 0x3a)) this.#canon = false;
        return true;
      }
      case 0x61:
        return this.#array(c, k, p);
      case 0x4f:
      case 0x43:
        return this.#object(c, k, p, t === 0x43);
      case 0x45:
        return this.#enum(c, k, p);
      case 0x72:
      case 0x52: {
        if (!this.#build) {
          // Checking a back reference needs the values of the slot table: only a building parse can.
          this.#needsEager = true;
          return false;
        }
        const e = this.#refHead(p);
        if (e < 0) return false;
        this.pos = e;
        const n = this.#uiv(p + 2, e - 1);
        const id = n - 1;
        if (id < 0 || 2 * id >= this.#slots.length) return false;
        const tc = this.#slots[2 * id] as PhpArray;
        const tk = this.#slots[2 * id + 1] as PhpKey;
        if (this.#sameLocation(tc, tk, c, k)) return false;
        const target = tc.getSlot(tk);
        if (target === undefined) return false;
        if (t === 0x52) {
          let box: PhpReference;
          if (target instanceof PhpReference) {
            box = target;
          } else {
            box = new PhpReference(target);
            tc.replaceExact(tk, box);
          }
          c.replaceExact(k, box);
          return true;
        }
        const obj = target instanceof PhpReference ? target.value : target;
        if (!isObjectValue(obj)) return false;
        c.replaceExact(k, obj);
        return true;
      }
      case 0x7d:
        this.#diag('E_NOTICE', MESSAGES.UNEXPECTED_END, false);
        return false;
      default:
        return false;
    }
  }

  #enterNested(): boolean {
    if (this.#maxDepth > 0 && this.#depth >= this.#maxDepth) {
      this.#warn(MESSAGES.MAX_DEPTH(this.#maxDepth));
      return false;
    }
    this.#depth++;
    return true;
  }

  #finish(): boolean {
    if (this.pos >= this.end || this.buf[this.pos] !== 0x7d) return false;
    this.pos++;
    return true;
  }

  #array(c: PhpArray, k: PhpKey, p: number): boolean {
    const e = this.#head(p, 0x3a, 0x7b);
    if (e < 0) return false;
    const elements = this.#iv(p + 2);
    this.pos = e + 2;
    const n = typeof elements === 'bigint' ? Infinity : elements;
    if (n < 0 || n >= HT_MAX_SIZE || n > Math.floor((this.end - this.pos) / 2)) return false;
    let arr = SINK;
    if (this.#build) {
      c.replaceExact(k, (arr = new PhpArray()));
      // A hint for the key index, which a list (keys 0, 1, …) never builds.
      if (n > RESERVE_FROM) arrayInternals.reserve(arr, n);
    }
    else if (this.buf[p + 2] === 0x30 && e - p > 3) this.#canon = false; // a:0…
    if (n === 0) return this.#finish();
    if (!this.#enterNested()) return false;
    this.#stack.push({ c: arr, n, obj: false, o: null, seen: null, last: -1 });
    return true;
  }

  /**
   * The `X:<len>:"<name>"` head shared by `O:`/`C:` and `E:` at p, followed by `term`: returns the
   * index of the closing quote (the name starts at {@link #nameStart}), or -1 with `pos` where PHP
   * reports the error.
   */
  #quotedName(p: number, term: number): number {
    const b = this.buf;
    const e = this.#head(p, 0x3a, 0x22);
    if (e < 0) return -1;
    const len = this.#uiv(p + 2, e);
    const start = e + 2;
    if (this.end - start < len || len === 0) {
      this.pos = p + 2;
      return -1;
    }
    const cur = start + len;
    if (cur >= this.end || b[cur] !== 0x22) {
      this.pos = cur;
      return -1;
    }
    if (cur + 1 >= this.end || b[cur + 1] !== term) {
      this.pos = cur + 1;
      return -1;
    }
    this.#nameStart = start;
    return cur;
  }

  #object(c: PhpArray, k: PhpKey, p: number, custom: boolean): boolean {
    const b = this.buf;
    const cur = this.#quotedName(p, 0x3a);
    if (cur < 0) return false;
    const nameStart = this.#nameStart;
    if (b[nameStart] === 0 || b[nameStart] === 0x5c) return false;
    if (!this.#validClassName(nameStart, cur)) return false;
    const name = this.#name(nameStart, cur);
    const incomplete = !this.#classAllowed(name);
    this.pos = cur;
    // The two classes every PHP has are spelled as declared, whatever the case in the data.
    const lcName = asciiLower(name);
    const className = lcName === 'stdclass' ? 'stdClass' : lcName === INCOMPLETE_CLASS_LC ? INCOMPLETE_CLASS : name;

    if (custom) {
      const datalenV = this.#iv(cur + 2);
      this.pos = this.#ivEnd;
      const datalen = typeof datalenV === 'bigint' ? Number(datalenV) : datalenV;
      if (this.end - this.pos < 2) return false;
      if (b[this.pos] !== 0x3a) return false;
      if (b[this.pos + 1] !== 0x7b) {
        this.pos += 1;
        return false;
      }
      this.pos += 2;
      const present = this.end - this.pos;
      if (datalen < 0 || present <= datalen) {
        this.#warn(MESSAGES.INSUFFICIENT_DATA(datalenV, present), true);
        return false;
      }
      if (b[this.pos + datalen] !== 0x7d) {
        this.pos += datalen;
        return false;
      }
      const lc = asciiLower(name);
      if (incomplete || lc === INCOMPLETE_CLASS_LC || lc === 'stdclass') {
        this.#warn(MESSAGES.NO_UNSERIALIZER(incomplete || lc === INCOMPLETE_CLASS_LC ? INCOMPLETE_CLASS : 'stdClass'), true);
        const obj = new PhpObject(incomplete || lc === INCOMPLETE_CLASS_LC ? INCOMPLETE_CLASS : 'stdClass');
        if (incomplete) obj.properties.setExact(MAGIC_MEMBER, nameValue(name));
        if (this.#build) c.replaceExact(k, obj);
      } else if (this.#build) {
        c.replaceExact(k, new PhpSerializable(className, this.#str(this.pos, this.pos + datalen)));
      }
      this.#canon = false;
      this.pos += datalen + 1;
      return true;
    }

    if (this.pos >= this.end - 2) {
      this.#warn(MESSAGES.BAD_DATA, true);
      return false;
    }
    const elementsV = this.#iv(this.pos + 2);
    this.pos = this.#ivEnd;
    const elements = typeof elementsV === 'bigint' ? (elementsV < 0n ? -1 : Infinity) : elementsV;
    if (elements < 0 || elements > Math.floor((this.end - cur) / 2)) return false;
    if (this.pos >= this.end || b[this.pos] !== 0x3a) return false;
    if (this.pos + 1 >= this.end || b[this.pos + 1] !== 0x7b) {
      this.pos += 1;
      return false;
    }
    this.pos += 2;
    // PHP writes an object back as read only when it is a plain stdClass spelled so, with its
    // count as serialize() writes it (its property names are checked as they come).
    const countEnd = this.pos - 2;
    if (name !== 'stdClass' || incomplete || (b[cur + 2] === 0x30 ? countEnd !== cur + 3 : !(b[cur + 2]! > 0x30 && b[cur + 2]! <= 0x39))) {
      this.#canon = false;
    }
    let props = SINK;
    let obj: PhpObject | null = null;
    if (this.#build) {
      obj = new PhpObject(incomplete ? INCOMPLETE_CLASS : className);
      props = obj.properties;
      if (incomplete) props.setExact(MAGIC_MEMBER, nameValue(name));
      c.replaceExact(k, obj);
    }
    if (elements >= HT_MAX_SIZE - (incomplete ? 1 : 0)) return false;
    if (!this.#enterNested()) return false;
    this.#stack.push({ c: props, n: elements, obj: true, o: incomplete || className === 'stdClass' ? null : obj, seen: null, last: -1 });
    return true;
  }

  #enum(c: PhpArray, k: PhpKey, p: number): boolean {
    const b = this.buf;
    const cur = this.#quotedName(p, 0x3b);
    if (cur < 0) return false;
    const s = this.#nameStart;
    let colon = -1;
    for (let i = s; i < cur; i++) {
      if (b[i] === 0x3a) {
        colon = i;
        break;
      }
    }
    if (colon < 0) {
      this.#warn(MESSAGES.ENUM_MISSING_COLON(this.#display(s, cur)));
      return false;
    }
    if (!this.#validClassName(s, colon)) return false;
    const enumName = this.#name(s, colon);
    // Class lookup ignores one leading namespace separator.
    const lookupName = enumName.charCodeAt(0) === 0x5c ? enumName.slice(1) : enumName;
    if (lookupName === '') {
      this.#warn(MESSAGES.ENUM_CLASS_NOT_FOUND(enumName));
      return false;
    }
    this.pos = cur + 2;
    const caseName = this.#name(colon + 1, cur);
    if (!isIdentifier(caseName)) {
      this.#warn(MESSAGES.ENUM_UNDEFINED_CONSTANT(enumName, this.#display(colon + 1, cur)));
      return false;
    }
    if (this.#build) c.replaceExact(k, new PhpEnum(lookupName, caseName));
    this.#canon = false;
    return true;
  }

  /** Bytes as PHP would print them into a message (raw; decoded as UTF-8 for display). */
  #display(s: number, e: number): string {
    return this.#nodeBuf.toString('utf8', s, e);
  }
}

/**
 * An object of a class PHP would not know is a `__PHP_Incomplete_Class` whose name property is
 * stored first; a `__PHP_Incomplete_Class_Name` property in the data overwrites it in place, so
 * the object then re-serializes under that name. Reproduce that when the data has the property.
 */
function adoptIncompleteName(o: PhpObject): void {
  const props = o.properties;
  if (asciiLower(o.className) === INCOMPLETE_CLASS_LC || props.getSlot(MAGIC_MEMBER) === undefined) return;
  const entries = [...props.rawEntries()].filter(([k]) => k !== MAGIC_MEMBER);
  const magic = props.getSlot(MAGIC_MEMBER)!;
  props.clear();
  props.setExact(MAGIC_MEMBER, magic);
  for (const [k, v] of entries) props.setExact(k, v);
  o.className = INCOMPLETE_CLASS;
}

/**
 * True when the plain decimal digits [s, e) (at most 15 significant, an optional `.` with `frac`
 * digits after it, sign excluded) are what serialize() writes for their value v: PHP writes
 * 1e-4 <= |v| < 1e15 (and zero) as plain decimals with the shortest digits that read back as v,
 * and a decimal of at most 15 digits is the shortest one exactly when it has no leading zero
 * before other digits and no trailing zero after the point (two such decimals never share a double).
 */
function plainShortest(b: Uint8Array, s: number, e: number, frac: number, v: number): boolean {
  const intDigits = e - s - (frac >= 0 ? frac + 1 : 0);
  if (intDigits === 0 || (intDigits > 1 && b[s] === 0x30)) return false;
  if (frac === 0 || (frac > 0 && b[e - 1] === 0x30)) return false;
  const a = Math.abs(v);
  return a === 0 ? frac < 0 : a >= 1e-4;
}

function hexVal(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

const IDENT_RE = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*$/u;
function isIdentifier(s: string): boolean {
  return IDENT_RE.test(s);
}

/** ZEND_HANDLE_NUMERIC_STR for a decoded string key. */
function numericKey(key: string): PhpKey {
  const len = key.length;
  if (len === 0 || len > 20) return key;
  const c0 = key.charCodeAt(0);
  if (!((c0 >= 0x30 && c0 <= 0x39) || (c0 === 0x2d && len > 1))) return key;
  let i = c0 === 0x2d ? 1 : 0;
  const first = key.charCodeAt(i);
  if (first === 0x30 && len - i > 1) return key; // leading zero
  if (first === 0x30 && c0 === 0x2d) return key; // "-0"
  for (; i < len; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return key;
  }
  if (len < 16) return Number(key);
  const big = BigInt(key);
  if (big > PHP_INT_MAX || big < PHP_INT_MIN) return key;
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === 'string') {
    if (!isWellFormed(data)) throw new UnserializeError('Input string contains a lone UTF-16 surrogate', 0, 0);
    return Buffer.from(data, 'utf8');
  }
  return data;
}

/**
 * Validates PHP's unserialize() options (php_unserialize_with_options in ext/standard/var.c);
 * throws PHP's TypeError/ValueError texts. `allowed_classes` entries are converted to strings as
 * PHP's convert_to_string() does (an array warns "Array to string conversion" through `onDiagnostic`).
 */
export function unserializerSettings(
  options: UnserializeOptions | undefined,
  fn = 'unserialize',
  onDiagnostic?: DiagnosticSink,
): {
  allowedClasses: Set<string> | null;
  maxDepth: number;
} {
  let allowedClasses: Set<string> | null = null;
  let maxDepth = 4096;
  if (options !== undefined) {
    const ac: unknown = options.allowed_classes;
    if (ac !== undefined) {
      const t = zvalType(ac);
      if (t !== 'array' && t !== 'bool') {
        throw new PhpTypeError(`${fn}(): Option "allowed_classes" must be of type array|bool, ${zendZvalTypeName(ac)} given`);
      }
      if (t === 'array' && isPhpArrayLike(ac)) {
        allowedClasses = new Set();
        for (const entry of phpArrayValues(ac)) {
          const et = zvalType(entry);
          if (et === 'object') throw new PhpError(`Object of class ${zendZvalTypeName(entry)} could not be converted to string`);
          if (et === 'array') onDiagnostic?.('E_WARNING', 'Array to string conversion');
          const s = zvalGetString(entry)!;
          allowedClasses.add(asciiLower(typeof s === 'string' ? s : BINARY_NAME_PREFIX + s.toBinaryString()));
        }
      } else if (ac === false) allowedClasses = new Set();
    }
    const md: unknown = options.max_depth;
    if (md !== undefined) {
      if (zvalType(md) !== 'int') {
        throw new PhpTypeError(`${fn}(): Option "max_depth" must be of type int, ${zendZvalTypeName(md)} given`);
      }
      const depth = BigInt(md as number | bigint);
      if (depth < 0n) throw new PhpValueError(`${fn}(): Option "max_depth" must be greater than or equal to 0`);
      // Depths beyond any real nesting behave alike; keep the number exact up to 2^53.
      maxDepth = depth > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(depth);
    }
  }
  return { allowedClasses, maxDepth };
}

const DEFAULT_SETTINGS: UnserializerSettings = Object.freeze({ allowedClasses: null, maxDepth: 4096 });

/** The outcome of {@link unserializePhp}: PHP's value, or `false` where PHP returns false. */
export type PhpUnserializeResult = { ok: true; value: PhpValue } | { ok: false; offset: number };

/**
 * PHP-faithful unserialize(): never throws for malformed data. Returns `{ ok: false }` where PHP
 * returns `false`, after sending PHP's diagnostics (including the `Error at offset P of L bytes`
 * notice, not raised for empty input) to `options.onDiagnostic`.
 */
export function unserializePhp(data: Uint8Array | string, options?: UnserializeOptions): PhpUnserializeResult {
  const bytes = toBytes(data);
  const sink = options?.onDiagnostic;
  const settings = unserializerSettings(options, 'unserialize', sink);
  if (bytes.length === 0) return { ok: false, offset: 0 };
  const u = new Unserializer(bytes, {
    ...settings,
    onDiagnostic: (level, message, raw) => sink?.(level, raw ? message : `unserialize(): ${message}`),
  });
  const holder = new PhpArray();
  if (!u.parseInto(holder, 0)) {
    sink?.('E_NOTICE', `unserialize(): ${MESSAGES.ERROR_AT_OFFSET(u.pos, bytes.length)}`);
    return { ok: false, offset: u.pos };
  }
  const v = holder.getExact(0);
  return { ok: true, value: v === undefined ? null : v };
}

/**
 * PHP 8.2 `unserialize()`. Accepts what PHP accepts (trailing bytes after the value are ignored,
 * as in 8.2). Where PHP would return `false` with the notice `Error at offset P of L bytes`, this
 * throws {@link UnserializeError} with that text and `offset` = P (empty input: offset 0, message
 * `Empty input`). Non-fatal diagnostics (e.g. `Numerical result out of range`) go to
 * `options.onDiagnostic` with PHP's exact text. Use {@link unserializePhp} for the false-returning form.
 */
export function unserialize(data: Uint8Array | string, options?: UnserializeOptions): PhpValue {
  const bytes = toBytes(data);
  const sink = options?.onDiagnostic;
  const settings: UnserializerSettings = options === undefined ? DEFAULT_SETTINGS : unserializerSettings(options, 'unserialize', sink);
  if (bytes.length === 0) throw new UnserializeError('Empty input', 0, 0);
  const u = new Unserializer(
    bytes,
    sink === undefined
      ? settings
      : {
          allowedClasses: settings.allowedClasses ?? null,
          maxDepth: settings.maxDepth ?? 4096,
          onDiagnostic: (level, message, raw) => sink(level, raw ? message : `unserialize(): ${message}`),
        },
  );
  const holder = new PhpArray();
  if (!u.parseInto(holder, 0)) {
    throw new UnserializeError(MESSAGES.ERROR_AT_OFFSET(u.pos, bytes.length), u.pos, bytes.length);
  }
  const v = holder.getExact(0);
  return v === undefined ? null : v;
}
