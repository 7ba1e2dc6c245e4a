/**
 * @module serializers/serialize
 * PHP 8.2's `serialize()` (ext/standard/var.c), ported to the value model of lib/value.ts: the
 * exact bytes PHP writes, with `r:`/`R:` slots numbered as PHP numbers them, so decoded graphs
 * (cycles included) re-encode byte for byte. {@link Serializer} is exported so that session
 * serializers can share one slot table across several top-level values.
 *
 * Long file: one writer class (php_var_serialize_intern and its helpers); slightly over the limit.
 */
import { SerializeError } from '../lib/errors.ts';
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
import { doubleToShortest } from '../lib/zend/index.ts';
import { DeferredSlot } from '../lib/array-internals.ts';
import { arrayInternals } from './internal.ts';
import { asciiLower, BINARY_NAME_PREFIX, INCOMPLETE_CLASS, INCOMPLETE_CLASS_LC, isObjectValue, isWellFormed, MAGIC_MEMBER, nameBytes } from './var-common.ts';

// ---------------------------------------------------------------------------------------------
// Floats: zend_gcvt with serialize_precision = -1
// ---------------------------------------------------------------------------------------------

/** Formats a double as PHP 8.2 does with serialize_precision = -1 (`0.1`, `1.0E+25`, `-0`, `INF`); lib/zend's one implementation. */
export const formatFloat: (v: number) => string = doubleToShortest;

// ---------------------------------------------------------------------------------------------
// serialize()
// ---------------------------------------------------------------------------------------------

const utf8Encoder = new TextEncoder();
const COLON = Buffer.from(':');

/** Strings at least this long are written by one native UTF-8 encode rather than a JS loop. */
const NATIVE_WRITE_MIN = 24;

type WriteBuffer = Buffer & { utf8Write?: (s: string, offset: number) => number };
const HAS_UTF8_WRITE = typeof (Buffer.alloc(0) as WriteBuffer).utf8Write === 'function';
/** Buffer's native UTF-8 encode of s at offset (the caller has made room); returns the bytes written. */
function utf8Write(buf: Buffer, s: string, offset: number): number {
  return HAS_UTF8_WRITE ? (buf as WriteBuffer).utf8Write!(s, offset) : buf.write(s, offset, 'utf8');
}

function decimalDigits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Frames below this depth are searched directly for recursion; deeper ones through a Set. */
const SHALLOW = 32;

interface WriteFrame {
  struc: PhpArray | PhpObject;
  /** The slots being written (see serializers/internal.ts), the next position and the end. */
  arr: PhpArray;
  vals: readonly (PhpValue | PhpReference)[];
  /** null: packed list, or keys that need converting (binary keys) are read through keyAt(). */
  keys: readonly (number | bigint | string)[] | null;
  bytesKeys: boolean;
  i: number;
  /** An incomplete-class object whose `__PHP_Incomplete_Class_Name` has not been skipped yet. */
  incomplete: boolean;
  /** The array to drop from the recursion-protection set when this frame closes. */
  active: PhpArray | null;
  /** Writes a slot still deferred (lazy decoding; {@link Serializer.writeArrayWith}); null elsewhere. */
  deferred: ((i: number, d: DeferredSlot) => void) | null;
}

const HOLE = arrayInternals.HOLE;
const NO_SLOTS: readonly (PhpValue | PhpReference)[] = [];

/**
 * The initial output buffer size: the last result's length plus 1/8, at least 256 bytes and at most
 * SIZE_HINT_MAX (below Buffer's pool limit, so the first buffer comes from the shared pool).
 */
let sizeHint = 256;
const SIZE_HINT_MAX = 4000;

/**
 * One PHP serialize context (php_serialize_data_t): a growing output buffer plus the slot counter
 * and identity table. Session serializers call {@link Serializer.writeValue} once per top-level
 * value so slot numbers continue across keys, exactly as PHP shares one context per encode.
 */
export class Serializer {
  #buf: Buffer;
  #pos = 0;
  /** PHP's data->n: the number of slots used so far. */
  #n = 0;
  /** Objects and references already written → their slot. */
  #seen: Map<object | string, number> | null = null;
  /** Arrays currently being written below the root (PHP's recursion protection). */
  #activeDeep: Set<PhpArray> | null = null;
  /** How many slots hold each reference box (PHP's refcount), computed on first need. */
  #holders: Map<PhpReference, number> | null = null;
  readonly #roots: readonly (PhpValue | PhpReference)[] | (() => Iterable<PhpValue | PhpReference>);
  /** Containers being written (php_var_serialize_nested_data frames). */
  readonly #stack: WriteFrame[] = [];

  /** `roots` lists every top-level value this context will write (used to count reference holders). */
  /** `initial`: the first buffer's size, or the buffer to write into (it grows into a new one when too small). */
  constructor(roots: readonly (PhpValue | PhpReference)[] | (() => Iterable<PhpValue | PhpReference>), initial: number | Buffer = sizeHint) {
    this.#buf = typeof initial === 'number' ? Buffer.allocUnsafe(initial) : initial;
    this.#roots = roots;
  }

  /** The bytes written so far. */
  result(): Buffer {
    // The next output is likely about as long as this one (the same session written again).
    sizeHint = this.#pos < 256 ? 256 : this.#pos < SIZE_HINT_MAX ? this.#pos + (this.#pos >> 3) : SIZE_HINT_MAX;
    if (this.#buf.length > 4096 && this.#buf.length > this.#pos * 2) return Buffer.from(this.#buf.subarray(0, this.#pos));
    return this.#buf.subarray(0, this.#pos);
  }

  get length(): number {
    return this.#pos;
  }

  #ensure(extra: number): void {
    const need = this.#pos + extra;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  /** Appends an ASCII string. */
  writeAscii(s: string): void {
    const len = s.length;
    this.#ensure(len);
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; i < len; i++) buf[pos++] = s.charCodeAt(i);
    this.#pos = pos;
  }

  writeByte(b: number): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = b;
  }

  writeBytes(bytes: Uint8Array): void {
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  /**
   * Appends the raw bytes of a string value (no `s:` framing): the UTF-8 of a JS string (as
   * Buffer.from(s, 'utf8') encodes it) or the bytes of a PhpBytes. Returns the number of bytes written.
   */
  writeRaw(s: string | PhpBytes): number {
    if (typeof s !== 'string') {
      this.writeBytes(s.bytes);
      return s.bytes.length;
    }
    const len = s.length;
    this.#ensure(len * 3);
    const buf = this.#buf;
    const start = this.#pos;
    if (len < NATIVE_WRITE_MIN) {
      let pos = start;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[pos++] = c;
      }
      if (i === len) {
        this.#pos = pos;
        return len;
      }
    }
    const n = utf8Write(buf, s, start);
    this.#pos = start + n;
    return n;
  }

  /**
   * Appends an already serialized value verbatim: bytes [s, e) of src, which hold `slots` values
   * (no objects, enums or references), so that later slot numbers continue as if it was written.
   */
  writeVerbatim(src: Uint8Array, s: number, e: number, slots: number): void {
    this.writeBytes(src.subarray(s, e));
    this.#n += slots;
  }

  /** Overwrites the byte at `offset` (already written). */
  setByte(offset: number, b: number): void {
    if (offset < 0 || offset >= this.#pos) throw new RangeError(`offset ${offset} is outside the ${this.#pos} bytes written`);
    this.#buf[offset] = b;
  }

  /** Drops everything written after the first `length` bytes. */
  truncate(length: number): void {
    if (length < 0 || length > this.#pos) throw new RangeError(`cannot truncate ${this.#pos} bytes to ${length}`);
    this.#pos = length;
  }

  /** Writes `s:<len>:"<bytes>";` for a JS string (UTF-8) or PhpBytes. */
  #writeString(s: string | PhpBytes): void {
    if (typeof s !== 'string') {
      const b = s.bytes;
      this.writeAscii(`s:${b.length}:"`);
      this.writeBytes(b);
      this.writeAscii('";');
      return;
    }
    const len = s.length;
    if (len >= NATIVE_WRITE_MIN) {
      this.#writeLongString(s, len);
      return;
    }
    // Fast path: write as ASCII, falling back if a non-ASCII character turns up.
    this.#ensure(len + 24);
    const start = this.#pos;
    this.#tagInt(0x73, len, 0x3a);
    const buf = this.#buf;
    let pos = this.#pos;
    buf[pos++] = 0x22;
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      buf[pos++] = c;
    }
    if (i === len) {
      buf[pos++] = 0x22;
      buf[pos++] = 0x3b;
      this.#pos = pos;
      return;
    }
    this.#pos = start;
    if (!isWellFormed(s)) {
      throw new SerializeError('Cannot serialize a JS string containing a lone UTF-16 surrogate; use PhpBytes for raw bytes');
    }
    const blen = Buffer.byteLength(s, 'utf8');
    this.writeAscii(`s:${blen}:"`);
    this.#ensure(blen + 2);
    this.#pos += this.#buf.write(s, this.#pos, 'utf8');
    this.#buf[this.#pos++] = 0x22;
    this.#buf[this.#pos++] = 0x3b;
  }

  /**
   * A longer string: one native UTF-8 write straight after a header that assumes it is ASCII
   * (byte length = s.length); when it was not, the header is redone for the real byte length.
   */
  #writeLongString(s: string, len: number): void {
    this.#ensure(len * 3 + 48);
    const buf = this.#buf;
    const start = this.#pos;
    this.#tagInt(0x73, len, 0x3a);
    let body = this.#pos + 1;
    buf[this.#pos] = 0x22;
    const written = utf8Write(buf, s, body);
    if (written !== len) {
      this.#pos = start;
      if (!isWellFormed(s)) {
        throw new SerializeError('Cannot serialize a JS string containing a lone UTF-16 surrogate; use PhpBytes for raw bytes');
      }
      // s:<digits of written>:" — at least as long as the header written above.
      const newBody = start + 4 + decimalDigits(written);
      if (newBody !== body) buf.copyWithin(newBody, body, body + written);
      this.#tagInt(0x73, written, 0x3a);
      buf[this.#pos] = 0x22;
      body = newBody;
    }
    let pos = body + written;
    buf[pos++] = 0x22;
    buf[pos++] = 0x3b;
    this.#pos = pos;
  }

  /**
   * Writes `d:<v>;` for a non-integral number. Values with at most four decimals below 1e11 are
   * written from their digits directly: if round(|v|·10^k) / 10^k === |v| for the smallest such k,
   * that k-decimal number is the shortest decimal that reads back as v (any two decimals of at most
   * k places differ by at least 10^-k, more than the spacing of doubles below 1e11), which is what
   * formatFloat() writes. Everything else goes through formatFloat().
   */
  #writeDouble(v: number): void {
    const a = v < 0 ? -v : v;
    if (a >= 1e-4 && a < 1e11) {
      let p = 10;
      for (let k = 1; k <= 4; k++, p *= 10) {
        const m = Math.round(a * p);
        if (m / p !== a) continue;
        const ip = Math.floor(a);
        let frac = m - ip * p;
        if (frac <= 0 || frac >= p) break;
        let fd = k;
        while (frac % 10 === 0) {
          frac /= 10;
          fd--;
        }
        this.#ensure(40);
        const buf = this.#buf;
        this.#tagInt(0x64, v < 0 ? -ip : ip, 0x2e);
        if (v < 0 && ip === 0) {
          // -0.x: #tagInt wrote "d:0." — insert the sign.
          const pos = this.#pos;
          buf[pos - 2] = 0x2d;
          buf[pos - 1] = 0x30;
          buf[pos] = 0x2e;
          this.#pos = pos + 1;
        }
        let pos = this.#pos + fd;
        this.#pos = pos + 1;
        buf[pos] = 0x3b;
        for (let i = 0; i < fd; i++) {
          const q = Math.floor(frac / 10);
          buf[--pos] = 0x30 + (frac - q * 10);
          frac = q;
        }
        return;
      }
    }
    this.writeAscii(`d:${formatFloat(v)};`);
  }

  /**
   * Writes `<tag>:<n><end>` for a safe integer n (digits written directly, no string built).
   * The caller has ensured room for 24 bytes.
   */
  #tagInt(tag: number, n: number, end: number): void {
    const buf = this.#buf;
    let pos = this.#pos;
    buf[pos++] = tag;
    buf[pos++] = 0x3a;
    if (n < 0) {
      buf[pos++] = 0x2d;
      n = -n;
    }
    if (n < 10) {
      buf[pos++] = 0x30 + n;
    } else {
      let digits = 1;
      for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
      let i = pos + digits;
      pos = i;
      while (n >= 10) {
        const q = Math.floor(n / 10);
        buf[--i] = 0x30 + (n - q * 10);
        n = q;
      }
      buf[--i] = 0x30 + n;
    }
    buf[pos++] = end;
    this.#pos = pos;
  }

  #writeKey(k: PhpKey): void {
    if (typeof k === 'number') {
      this.#ensure(24);
      this.#tagInt(0x69, k, 0x3b);
    } else if (typeof k === 'bigint') {
      this.writeAscii(`i:${k};`);
    } else {
      this.#writeString(k);
    }
  }

  #holderCount(box: PhpReference): number {
    if (this.#holders === null) {
      const holders = new Map<PhpReference, number>();
      const visited = new Set<object>();
      const stack: (PhpArray | PhpObject)[] = [];
      const visitInner = (v: PhpValue): void => {
        if ((v instanceof PhpArray || v instanceof PhpObject) && !visited.has(v)) {
          visited.add(v);
          stack.push(v);
        }
      };
      const visit = (v: PhpValue | PhpReference): void => {
        if (v instanceof PhpReference) {
          const c = holders.get(v);
          holders.set(v, (c ?? 0) + 1);
          if (c === undefined) visitInner(v.value);
        } else {
          visitInner(v);
        }
      };
      const roots = this.#roots;
      for (const r of typeof roots === 'function' ? roots() : roots) visit(r);
      while (stack.length > 0) {
        const v = stack.pop()!;
        (v instanceof PhpArray ? v : v.properties).forEachSlot((_k, s) => visit(s));
      }
      this.#holders = holders;
    }
    return this.#holders.get(box) ?? 1;
  }

  /** php_add_var_hash: returns the earlier slot of this object/reference, or 0. */
  #addVarHash(v: PhpValue | PhpReference): number {
    this.#n += 1;
    const isRef = v instanceof PhpReference;
    let key: object | string;
    if (isRef) {
      key = isObjectValue(v.value) ? v.value : v;
    } else if (isObjectValue(v)) {
      key = v;
    } else {
      return 0;
    }
    // An enum case is one object per PHP process: equal PhpEnum values are the same instance.
    if (key instanceof PhpEnum) key = `${asciiLower(key.className)}\0${key.caseName}`;
    const seen = (this.#seen ??= new Map());
    const found = seen.get(key);
    if (found !== undefined) {
      if (isRef) this.#n -= 1;
      return found;
    }
    seen.set(key, this.#n);
    return 0;
  }

  /** Writes one top-level value (php_var_serialize). */
  writeValue(v: PhpValue | PhpReference): void {
    // Containers are written with an explicit stack, not recursion, so nesting depth is bounded
    // only by memory (PHP accepts 4096 levels by default; the JS call stack would not).
    const base = this.#stack.length;
    this.#intern(v, null);
    this.#drain(base);
  }

  /**
   * Writes `arr` as one top-level array, as {@link writeValue} does, except that its slots may
   * still be deferred (php_serialize's root after a lazy decode): each of those goes to
   * `deferred(i, d)` (slot i), which writes it, instead of being built.
   */
  writeArrayWith(arr: PhpArray, deferred: (i: number, d: DeferredSlot) => void): void {
    const base = this.#stack.length;
    this.#n += 1;
    this.#ensure(25);
    this.#tagInt(0x61, arr.size, 0x3a);
    this.#buf[this.#pos++] = 0x7b;
    const bytesKeys = arrayInternals.hasBytesKeys(arr);
    this.#stack.push({
      struc: arr,
      arr,
      vals: arrayInternals.rawVals(arr) as readonly (PhpValue | PhpReference)[],
      keys: bytesKeys ? null : arrayInternals.keys(arr),
      bytesKeys,
      i: 0,
      incomplete: false,
      active: null,
      deferred,
    });
    this.#drain(base);
  }

  /** Writes the elements of open containers until the stack is back at `base`. */
  #drain(base: number): void {
    const stack = this.#stack;
    outer: while (stack.length > base) {
      const f = stack[stack.length - 1]!;
      const vals = f.vals;
      const keys = f.keys;
      const n = vals.length;
      let i = f.i;
      // Elements are written in this inner loop until one opens a container.
      while (i < n) {
        let d = vals[i] as PhpValue | PhpReference;
        if (d === HOLE) {
          i++;
          continue;
        }
        const k: PhpKey = keys === null ? (f.bytesKeys ? arrayInternals.keyAt(f.arr, i) : i) : keys[i]!;
        i++;
        if (f.incomplete && k === MAGIC_MEMBER) {
          f.incomplete = false;
          continue;
        }
        if (typeof k === 'number') {
          this.#ensure(24);
          this.#tagInt(0x69, k, 0x3b);
        } else {
          this.#writeKey(k);
        }
        // Plain scalars: one slot each, written here.
        if (typeof d === 'string') {
          this.#n += 1;
          this.#writeString(d);
          continue;
        }
        if (typeof d === 'number' && Number.isSafeInteger(d)) {
          this.#n += 1;
          this.#ensure(24);
          this.#tagInt(0x69, d, 0x3b);
          continue;
        }
        f.i = i;
        if (f.deferred !== null && (d as unknown) instanceof DeferredSlot) {
          f.deferred(i - 1, d as unknown as DeferredSlot);
          if (stack[stack.length - 1] !== f) continue outer;
          continue;
        }
        if (d instanceof PhpReference && this.#holderCount(d) === 1) d = d.value;
        if (d instanceof PhpArray) {
          if (d === f.struc || this.#isActive(d)) {
            this.#n += 1; // php_add_var_hash(struc) on the container: counts a slot
            this.writeAscii('N;');
          } else {
            if (stack.length >= SHALLOW) (this.#activeDeep ??= new Set()).add(d);
            this.#intern(d, d);
          }
        } else {
          this.#intern(d, null);
        }
        if (stack[stack.length - 1] !== f) continue outer;
      }
      f.i = i;
      this.writeByte(0x7d);
      if (f.active !== null && stack.length > SHALLOW) this.#activeDeep!.delete(f.active);
      stack.pop();
    }
  }

  /** True when array `d` is being written further up (PHP's recursion protection). */
  #isActive(d: PhpArray): boolean {
    const stack = this.#stack;
    const n = stack.length < SHALLOW ? stack.length : SHALLOW;
    for (let i = 0; i < n; i++) if (stack[i]!.active === d) return true;
    return this.#activeDeep !== null && this.#activeDeep.has(d);
  }

  /** Writes a scalar, or the header of a container and pushes its frame. */
  #intern(v: PhpValue | PhpReference, active: PhpArray | null): void {
    // Scalars and arrays only take a slot; references and objects go through the identity table.
    if (typeof v !== 'object' || v === null || v instanceof PhpArray || v instanceof PhpFloat || v instanceof PhpBytes) {
      this.#n += 1;
      this.#write(v, active);
      return;
    }
    const already = this.#addVarHash(v);
    if (already !== 0) {
      this.writeAscii(v instanceof PhpReference ? `R:${already};` : `r:${already};`);
      return;
    }
    this.#write(v instanceof PhpReference ? v.value : v, active);
  }

  /** Writes a value (slot accounting already done). */
  #write(v: PhpValue | PhpReference, active: PhpArray | null): void {
    switch (typeof v) {
      case 'string':
        this.#writeString(v);
        return;
      case 'number':
        if (Number.isSafeInteger(v)) {
          this.#ensure(24);
          this.#tagInt(0x69, v, 0x3b);
        } else {
          this.#writeDouble(v);
        }
        return;
      case 'boolean':
        this.writeAscii(v ? 'b:1;' : 'b:0;');
        return;
      case 'bigint':
        if (v > PHP_INT_MAX || v < PHP_INT_MIN) {
          throw new SerializeError(`Cannot serialize int ${v}: outside PHP's 64-bit range`);
        }
        this.writeAscii(`i:${v};`);
        return;
      case 'object':
        break;
      default:
        throw new SerializeError(`Cannot serialize a JS ${typeof v} as a PHP value`);
    }
    if (v === null) {
      this.writeAscii('N;');
    } else if (v instanceof PhpArray) {
      this.#ensure(25);
      this.#tagInt(0x61, v.size, 0x3a);
      this.#buf[this.#pos++] = 0x7b;
      this.#pushFrame(v, v, false, active);
    } else if (v instanceof PhpFloat) {
      this.writeAscii(`d:${formatFloat(v.value)};`);
    } else if (v instanceof PhpBytes) {
      this.#writeString(v);
    } else if (v instanceof PhpObject) {
      let name = v.className;
      const incomplete = name.toLowerCase() === INCOMPLETE_CLASS_LC;
      if (incomplete) {
        const stored = v.properties.getExact(MAGIC_MEMBER);
        name =
          typeof stored === 'string'
            ? stored
            : stored instanceof PhpBytes
              ? BINARY_NAME_PREFIX + stored.toBinaryString()
              : INCOMPLETE_CLASS;
      }
      let count = v.properties.size;
      if (incomplete && count > 0) count--;
      this.#writeClassName('O', name);
      this.writeAscii(`${count}:{`);
      this.#pushFrame(v, v.properties, incomplete, null, count === 0);
    } else if (v instanceof PhpSerializable) {
      this.#writeClassName('C', v.className);
      const data = typeof v.data === 'string' ? utf8Encoder.encode(v.data) : v.data.bytes;
      this.writeAscii(`${data.length}:{`);
      this.writeBytes(data);
      this.writeByte(0x7d);
    } else if (v instanceof PhpEnum) {
      const body = Buffer.concat([nameBytes(v.className), COLON, nameBytes(v.caseName)]);
      this.writeAscii(`E:${body.length}:"`);
      this.writeBytes(body);
      this.writeAscii('";');
    } else {
      throw new SerializeError(
        `Cannot serialize ${Object.prototype.toString.call(v)}: not a PHP value (use toPhp() for plain JS data)`,
      );
    }
  }

  #pushFrame(struc: PhpArray | PhpObject, arr: PhpArray, incomplete: boolean, active: PhpArray | null, empty = false): void {
    const bytesKeys = arrayInternals.hasBytesKeys(arr);
    this.#stack.push({
      struc,
      arr,
      vals: empty ? NO_SLOTS : arrayInternals.vals(arr),
      keys: bytesKeys ? null : arrayInternals.keys(arr),
      bytesKeys,
      i: 0,
      incomplete,
      active,
      deferred: null,
    });
  }

  #writeClassName(tag: 'O' | 'C', name: string): void {
    const bytes = nameBytes(name);
    this.writeAscii(`${tag}:${bytes.length}:"`);
    this.writeBytes(bytes);
    this.writeAscii('":');
  }
}

/**
 * PHP 8.2 `serialize()`: the exact bytes PHP writes (serialize_precision = -1).
 * Throws {@link SerializeError} for a value PHP's format cannot hold (a bigint outside int64, a JS
 * string with a lone surrogate, a non-PHP JS object).
 */
export function serialize(value: PhpValue): Buffer {
  const s = new Serializer([value]);
  s.writeValue(value);
  return s.result();
}
