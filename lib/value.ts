/**
 * @module value
 * The PHP value model: every value that can appear in PHP session data, lossless both ways.
 *
 * | PHP            | TypeScript                                                           |
 * | -------------- | -------------------------------------------------------------------- |
 * | null           | `null`                                                               |
 * | bool           | `boolean`                                                            |
 * | int            | `number` (a safe integer) or `bigint` (outside ±(2^53−1), int64 only) |
 * | float          | `number` that is not an integer, or {@link PhpFloat} for integral floats (`d:1;`, `d:-0;`) |
 * | string         | `string` when the bytes are valid UTF-8, else {@link PhpBytes}        |
 * | array          | {@link PhpArray} (ordered map, PHP key normalisation)                |
 * | object         | {@link PhpObject} (class name, properties with mangled names)        |
 * | Serializable   | {@link PhpSerializable} (`C:` payload kept verbatim)                 |
 * | enum case      | {@link PhpEnum}                                                      |
 *
 * PHP references (`&`, `R:` on the wire) are {@link PhpReference} boxes stored inside arrays and
 * objects; `get()` reads through them and `set()` writes through them, as PHP does.
 *
 * Long file: the value classes and the JS conversions call each other (PhpArray#set converts plain
 * JS data with toPhp, toJS()/toJSON() use toJs); one module holds them without an import cycle.
 */

import { arrayInternals, DeferredSlot } from './array-internals.ts';
import { KeyIndex, MAX_RESERVE } from './key-index.ts';

/** Largest and smallest PHP int (64-bit builds). */
export const PHP_INT_MAX = 9223372036854775807n;
export const PHP_INT_MIN = -9223372036854775808n;

/** A PHP string that is not valid UTF-8: raw bytes, kept exactly. */
export class PhpBytes {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  /** The bytes as a Latin-1 string (one char per byte), handy for comparisons and map keys. */
  toBinaryString(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString(
      'latin1',
    );
  }
  equals(other: PhpBytes): boolean {
    return Buffer.compare(this.bytes, other.bytes) === 0;
  }
  toString(): string {
    return Buffer.from(this.bytes).toString('utf8');
  }
}

/** A PHP float whose value is integral (`1.0`, `-0.0`, `1.0E+25`), which a plain number would turn into an int. */
export class PhpFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
  valueOf(): number {
    return this.value;
  }
}

/** A PHP reference (`$b = &$a`): one slot shared by several array elements or properties. */
export class PhpReference {
  value: PhpValue;
  constructor(value: PhpValue) {
    this.value = value;
  }
}

/** A PHP enum case (`E:7:"Foo:Bar";`). Two cases with the same names are the same PHP value. */
export class PhpEnum {
  readonly className: string;
  readonly caseName: string;
  constructor(className: string, caseName: string) {
    this.className = className;
    this.caseName = caseName;
  }
}

/** An object of a class implementing Serializable (`C:` on the wire); its payload is kept verbatim. */
export class PhpSerializable {
  readonly className: string;
  readonly data: string | PhpBytes;
  constructor(className: string, data: string | PhpBytes) {
    this.className = className;
    this.data = data;
  }
}

/** Property visibility, as PHP mangles it in serialized names. */
export type Visibility = 'public' | 'protected' | 'private';

/** Any PHP value. */
export type PhpValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PhpBytes
  | PhpFloat
  | PhpArray
  | PhpObject
  | PhpSerializable
  | PhpEnum;

/** An array key: an int (number, or bigint outside the safe range) or a string (UTF-8 or bytes). */
export type PhpKey = number | bigint | string | PhpBytes;

/** Plain JS input accepted by {@link PhpArray.from} and {@link toPhp}. */
export type JsInput =
  | PhpValue
  | PhpReference
  | undefined
  | readonly JsInput[]
  | ReadonlyMap<PhpKey, JsInput>
  | { readonly [key: string]: JsInput };

// A JS string decoded from valid UTF-8 never holds a lone surrogate, so this prefix cannot clash
// with a real string key; it marks the internal map key of a binary (non-UTF-8) string key.
const BYTES_KEY_PREFIX = '\uD800';

type MapKey = number | bigint | string;

const INT_KEY_RE = /^(?:0|-?[1-9][0-9]*)$/;

/** Normalises a JS integer: a bigint in the safe range becomes a number. */
export function normalizeInt(n: number | bigint): number | bigint {
  if (typeof n === 'bigint' && n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(n);
  }
  return n;
}

/**
 * PHP's array key normalisation (ZEND_HANDLE_NUMERIC_STR): a string that is a canonical decimal
 * int within the 64-bit range becomes that int; `"05"`, `"+5"`, `"-0"`, `"1.5"` stay strings.
 */
export function normalizeKey(key: PhpKey | boolean | null): PhpKey {
  if (typeof key === 'string') {
    if (key.length <= 20 && INT_KEY_RE.test(key)) {
      const big = BigInt(key);
      if (big >= PHP_INT_MIN && big <= PHP_INT_MAX) return normalizeInt(big);
    }
    return key;
  }
  if (typeof key === 'number') {
    if (!Number.isSafeInteger(key)) {
      throw new TypeError(`PHP array keys must be integers or strings, got ${key}`);
    }
    return key === 0 ? 0 : key; // fold -0
  }
  if (typeof key === 'bigint') {
    if (key < PHP_INT_MIN || key > PHP_INT_MAX) {
      throw new RangeError(`PHP int key out of 64-bit range: ${key}`);
    }
    return normalizeInt(key);
  }
  if (typeof key === 'boolean') return key ? 1 : 0;
  if (key === null) return '';
  return key;
}

function mapKey(key: PhpKey): MapKey {
  if (key instanceof PhpBytes) return BYTES_KEY_PREFIX + key.toBinaryString();
  return key;
}

type Slot = PhpValue | PhpReference;

/** Marks a deleted slot (PHP's IS_UNDEF bucket); never a PHP value. */
const HOLE = Object.freeze({ hole: true }) as unknown as Slot;

/** Hashed arrays up to this many slots are searched linearly; larger ones build a Map index. */
const LINEAR_MAX = 16;

/**
 * A PHP array: an ordered map with int and string keys. Insertion order is kept; setting an
 * existing key keeps its position. Keys are normalised as PHP does (`"5"` → `5`) unless set with
 * {@link PhpArray.setExact}. Plain data only: `__proto__` and `constructor` are ordinary keys.
 */
export class PhpArray implements Iterable<[PhpKey, PhpValue]> {
  // Storage, as PHP's own HashTable: slots in insertion order in #vals (deleted ones are HOLE),
  // their keys in #keys, or #keys === null while the array is a packed list (key of slot i is i).
  // The key → position index is only built when a large hashed array is searched by key.
  // Binary string keys are stored under their internal map key; their PhpBytes are kept aside.
  #vals: Slot[] = [];
  #keys: MapKey[] | null = null;
  #index: KeyIndex | null = null;
  #holes = 0;
  /** Live iterations (compaction waits for them to finish). */
  #iterating = 0;
  #bytesKeys: Map<string, PhpBytes> | null = null;
  #nextIndex = 0;
  /** Slots holding a DeferredSlot (lazy session decoding): resolved before any read of them. */
  #deferred = 0;
  /** Keys the array is expected to reach (a decoder's hint): what its key index is first sized for. */
  #expected = 0;

  static {
    arrayInternals.vals = (a) => {
      if (a.#deferred !== 0) a.#resolveAll();
      return a.#vals;
    };
    arrayInternals.rawVals = (a) => a.#vals;
    arrayInternals.putDeferred = (a, key, d) => {
      a.replaceExact(key, d as unknown as Slot);
      a.#deferred++;
    };
    arrayInternals.resolveAt = (a, i) => a.#resolve(i);
    arrayInternals.reserve = (a, n) => {
      a.#expected = Math.min(n, MAX_RESERVE);
      if (a.#index !== null) a.#index.reserve(a.#keys!, n);
    };
    arrayInternals.keys = (a) => a.#keys;
    arrayInternals.keyAt = (a, i) => a.#keyAt(i);
    arrayInternals.hasBytesKeys = (a) => a.#bytesKeys !== null;
    (arrayInternals as { HOLE: unknown }).HOLE = HOLE;
  }

  /** Builds the value of deferred slot pos and stores it there. */
  #resolve(pos: number): Slot {
    const d = this.#vals[pos] as unknown as DeferredSlot;
    const v = d.resolve() as Slot;
    this.#vals[pos] = v;
    this.#deferred--;
    return v;
  }

  #resolveAll(): void {
    const vals = this.#vals;
    for (let i = 0; i < vals.length && this.#deferred !== 0; i++) if (vals[i] instanceof DeferredSlot) this.#resolve(i);
  }

  /** Replaces slot pos (a deferred slot stops counting). */
  #overwrite(pos: number, value: Slot): void {
    if (this.#deferred !== 0 && this.#vals[pos] instanceof DeferredSlot) this.#deferred--;
    this.#vals[pos] = value;
  }

  #keyAt(i: number): PhpKey {
    const keys = this.#keys;
    if (keys === null) return i;
    const mk = keys[i]!;
    if (this.#bytesKeys !== null && typeof mk === 'string') return this.#bytesKeys.get(mk) ?? mk;
    return mk;
  }

  #mapKey(key: PhpKey): MapKey {
    if (key instanceof PhpBytes) {
      const mk = mapKey(key);
      (this.#bytesKeys ??= new Map()).set(mk, key);
      return mk;
    }
    return key;
  }

  /** Position of map key mk, or -1. */
  #find(mk: MapKey): number {
    const keys = this.#keys;
    const vals = this.#vals;
    if (keys === null) {
      return typeof mk === 'number' && mk >= 0 && mk < vals.length && Math.floor(mk) === mk ? mk : -1;
    }
    const index = this.#index;
    if (index !== null) return index.get(keys, mk);
    const n = keys.length;
    if (n <= LINEAR_MAX) {
      for (let i = 0; i < n; i++) if (keys[i] === mk && vals[i] !== HOLE) return i;
      return -1;
    }
    return this.#buildIndex().get(keys, mk);
  }

  #buildIndex(): KeyIndex {
    const keys = this.#keys!;
    const vals = this.#vals;
    const index = new KeyIndex(Math.max(vals.length - this.#holes, this.#expected));
    for (let i = 0; i < keys.length; i++) if (vals[i] !== HOLE) index.add(keys, keys[i]!, i);
    this.#index = index;
    return index;
  }

  /** Turns a packed list into the hashed form. */
  #unpack(): MapKey[] {
    const n = this.#vals.length;
    const keys = new Array<MapKey>(n);
    for (let i = 0; i < n; i++) keys[i] = i;
    this.#keys = keys;
    return keys;
  }

  /** Appends a new slot (the key is known to be absent) and advances nextIndex. */
  #append(mk: MapKey, value: Slot): void {
    const vals = this.#vals;
    let keys = this.#keys;
    if (keys === null) {
      if (mk === vals.length) {
        vals.push(value);
        if (mk >= this.#nextIndex) this.#nextIndex = mk + 1;
        return;
      }
      keys = this.#unpack();
    }
    const pos = vals.length;
    keys.push(mk);
    vals.push(value);
    if (this.#index !== null) this.#index.add(keys, mk, pos);
    if (typeof mk === 'number') {
      if (mk >= this.#nextIndex) this.#nextIndex = mk + 1;
    } else if (typeof mk === 'bigint' && mk >= BigInt(this.#nextIndex)) {
      this.#nextIndex = mk === PHP_INT_MAX ? Number.MAX_SAFE_INTEGER : Number(mk) + 1;
    }
  }

  /** Removes the slot at pos. */
  #remove(pos: number): void {
    const vals = this.#vals;
    if (this.#keys === null) {
      if (pos === vals.length - 1) {
        vals.pop();
        return;
      }
      this.#unpack();
    }
    const keys = this.#keys!;
    if (this.#index !== null) this.#index.delete(keys, keys[pos]!, pos);
    if (this.#bytesKeys !== null && typeof keys[pos] === 'string') this.#bytesKeys.delete(keys[pos] as string);
    this.#overwrite(pos, HOLE);
    this.#holes++;
    if (pos === vals.length - 1) {
      // Trailing holes can simply go.
      while (vals.length > 0 && vals[vals.length - 1] === HOLE && this.#iterating === 0) {
        vals.pop();
        keys.pop();
        this.#holes--;
      }
    }
    if (this.#holes > 8 && this.#holes * 2 > vals.length && this.#iterating === 0) this.#compact();
  }

  #compact(): void {
    const vals = this.#vals;
    const keys = this.#keys!;
    const nv: Slot[] = [];
    const nk: MapKey[] = [];
    for (let i = 0; i < vals.length; i++) {
      if (vals[i] !== HOLE) {
        nv.push(vals[i]!);
        nk.push(keys[i]!);
      }
    }
    this.#vals = nv;
    this.#keys = nk;
    this.#holes = 0;
    this.#index = null;
  }

  /** Builds an array from a JS array, Map, plain object or iterable of pairs (recursively). */
  static from(input: JsInput | Iterable<readonly [PhpKey, JsInput]>): PhpArray {
    if (input instanceof PhpArray) return input;
    const out = new PhpArray();
    if (Array.isArray(input)) {
      for (const v of input) out.push(toPhp(v as JsInput));
    } else if (input instanceof Map) {
      for (const [k, v] of input as ReadonlyMap<PhpKey, JsInput>) out.set(k, toPhp(v));
    } else if (input !== null && typeof input === 'object' && Symbol.iterator in input) {
      for (const [k, v] of input as Iterable<readonly [PhpKey, JsInput]>) out.set(k, toPhp(v));
    } else if (input !== null && typeof input === 'object' && isPlainObject(input)) {
      for (const k of Object.keys(input)) {
        out.set(k, toPhp((input as { [key: string]: JsInput })[k]));
      }
    } else {
      throw new TypeError('PhpArray.from() takes an array, a Map, a plain object or pairs');
    }
    return out;
  }

  /** Number of elements (PHP count()). */
  get size(): number {
    return this.#vals.length - this.#holes;
  }

  /** The key the next push() will use (PHP's nNextFreeElement). */
  get nextIndex(): number {
    return this.#nextIndex;
  }

  has(key: PhpKey): boolean {
    return this.#find(mapKey(normalizeKey(key))) >= 0;
  }

  /** The value at key (read through references), or undefined when absent. */
  get(key: PhpKey): PhpValue | undefined {
    return this.getExact(normalizeKey(key));
  }

  /** Like get() but without key normalisation (for string keys such as "5" kept by session decoding). */
  getExact(key: PhpKey): PhpValue | undefined {
    const pos = this.#find(mapKey(key));
    if (pos < 0) return undefined;
    const v = this.#deferred !== 0 && this.#vals[pos] instanceof DeferredSlot ? this.#resolve(pos) : this.#vals[pos]!;
    return v instanceof PhpReference ? v.value : v;
  }

  /** The stored slot: a value or the PhpReference box shared with other slots. */
  getSlot(key: PhpKey): PhpValue | PhpReference | undefined {
    const pos = this.#find(mapKey(key));
    if (pos < 0) return undefined;
    return this.#deferred !== 0 && this.#vals[pos] instanceof DeferredSlot ? this.#resolve(pos) : this.#vals[pos];
  }

  /**
   * Sets key to value (normalising the key). Writing to a reference slot writes through it. Plain JS
   * data (objects, arrays, Maps, Uint8Array, undefined) is converted here as {@link toPhp} does; a
   * value PHP cannot hold (a function, a symbol, a class instance such as Date) throws a TypeError
   * now, so it cannot fail the whole session write later.
   */
  set(key: PhpKey, value: PhpValue | PhpReference): this {
    return this.setExact(normalizeKey(key), checkedValue(value));
  }

  /** Sets without normalising a string key: `"5"` stays a string key (PHP session decoding does this). */
  setExact(key: PhpKey, value: PhpValue | PhpReference): this {
    if (typeof key === 'string' || key instanceof PhpBytes) {
      // keep as given
    } else {
      key = normalizeKey(key);
    }
    const mk = this.#mapKey(key);
    const pos = this.#find(mk);
    if (pos >= 0) {
      const existing = this.#vals[pos]!;
      if (existing instanceof PhpReference && !(value instanceof PhpReference)) {
        existing.value = value;
      } else {
        this.#overwrite(pos, value);
      }
      return this;
    }
    this.#append(mk, value);
    return this;
  }

  /** Replaces the slot itself (breaking a reference) rather than writing through it. */
  setSlot(key: PhpKey, value: PhpValue | PhpReference): this {
    const k = normalizeKey(key);
    const pos = this.#find(mapKey(k));
    if (pos >= 0) this.#overwrite(pos, value);
    else this.setExact(k, value);
    return this;
  }

  /**
   * Stores `value` in the slot for `key` exactly as given (no key normalisation, no write-through):
   * an existing slot keeps its position but its content, reference box included, is replaced.
   * This is what PHP's zend_hash_update does and what the unserializer needs.
   */
  replaceExact(key: PhpKey, value: PhpValue | PhpReference): this {
    let mk: MapKey;
    if (typeof key === 'number') {
      const vals = this.#vals;
      // Appending to a packed list (the common case while decoding lists).
      if (this.#keys === null && key === vals.length) {
        vals.push(value);
        if (key >= this.#nextIndex) this.#nextIndex = key + 1;
        return this;
      }
      if (!Number.isSafeInteger(key)) key = normalizeKey(key) as number; // throws for a non-integer
      mk = key === 0 ? 0 : key;
      // An int key at or past nextIndex cannot be present.
      if (mk >= this.#nextIndex) {
        this.#append(mk, value);
        return this;
      }
    } else if (typeof key === 'string' || typeof key === 'bigint') {
      mk = key;
    } else {
      mk = this.#mapKey(key);
    }
    const pos = this.#find(mk);
    if (pos >= 0) this.#overwrite(pos, value);
    else this.#append(mk, value);
    return this;
  }

  /** The raw slots in order as `[key, slot]` pairs (boxes not unwrapped). For codecs. */
  rawEntries(): IterableIterator<[PhpKey, PhpValue | PhpReference]> {
    return this.slots();
  }

  /** Calls fn for every slot in order, with raw slots (PhpReference boxes not unwrapped). Faster than slots(). */
  forEachSlot(fn: (key: PhpKey, value: PhpValue | PhpReference) => void): void {
    if (this.#deferred !== 0) this.#resolveAll();
    this.#iterating++;
    try {
      const vals = this.#vals;
      for (let i = 0; i < vals.length; i++) {
        const v = vals[i]!;
        if (v !== HOLE) fn(this.#keyAt(i), v);
      }
    } finally {
      this.#iterating--;
    }
  }

  /** Appends with the next integer key (PHP `$a[] = v`); returns the key used. */
  push(value: PhpValue | PhpReference): number {
    const k = this.#nextIndex;
    this.setExact(k, checkedValue(value));
    return k;
  }

  delete(key: PhpKey): boolean {
    return this.deleteExact(normalizeKey(key));
  }

  /** Deletes without key normalisation. */
  deleteExact(key: PhpKey): boolean {
    const pos = this.#find(mapKey(key));
    if (pos < 0) return false;
    this.#remove(pos);
    return true;
  }

  clear(): void {
    if (this.#iterating === 0) {
      this.#vals = [];
    } else {
      // Let running iterations see the array as empty.
      for (let i = 0; i < this.#vals.length; i++) this.#vals[i] = HOLE;
      this.#vals = [];
    }
    this.#keys = null;
    this.#index = null;
    this.#holes = 0;
    this.#bytesKeys = null;
    this.#nextIndex = 0;
    this.#deferred = 0;
    this.#expected = 0;
  }

  /** Walks the live slots in order; the storage may change meanwhile (as a Map iterator allows). */
  *#walk(): Generator<number, void, undefined> {
    this.#iterating++;
    try {
      for (let i = 0; i < this.#vals.length; i++) {
        if (this.#vals[i] !== HOLE) yield i;
      }
    } finally {
      this.#iterating--;
    }
  }

  *keys(): IterableIterator<PhpKey> {
    for (const i of this.#walk()) yield this.#keyAt(i);
  }

  *values(): IterableIterator<PhpValue> {
    if (this.#deferred !== 0) this.#resolveAll();
    for (const i of this.#walk()) {
      const v = this.#vals[i]!;
      yield v instanceof PhpReference ? v.value : v;
    }
  }

  *entries(): IterableIterator<[PhpKey, PhpValue]> {
    if (this.#deferred !== 0) this.#resolveAll();
    for (const i of this.#walk()) {
      const v = this.#vals[i]!;
      yield [this.#keyAt(i), v instanceof PhpReference ? v.value : v];
    }
  }

  /** Entries with their raw slots (PhpReference boxes not unwrapped): what serialize() walks. */
  *slots(): IterableIterator<[PhpKey, PhpValue | PhpReference]> {
    if (this.#deferred !== 0) this.#resolveAll();
    for (const i of this.#walk()) yield [this.#keyAt(i), this.#vals[i]!];
  }

  [Symbol.iterator](): IterableIterator<[PhpKey, PhpValue]> {
    return this.entries();
  }

  /** A shallow copy (PHP array assignment copies; references stay shared, as in PHP). */
  clone(): PhpArray {
    const out = new PhpArray();
    // Deferred slots are copied as they are: each array resolves its own into a new value.
    out.#deferred = this.#deferred;
    if (this.#holes === 0) {
      out.#vals = this.#vals.slice();
      out.#keys = this.#keys === null ? null : this.#keys.slice();
    } else {
      const vals: Slot[] = [];
      const keys: MapKey[] = [];
      for (let i = 0; i < this.#vals.length; i++) {
        if (this.#vals[i] !== HOLE) {
          vals.push(this.#vals[i]!);
          keys.push(this.#keys![i]!);
        }
      }
      out.#vals = vals;
      out.#keys = keys;
    }
    if (this.#bytesKeys !== null) out.#bytesKeys = new Map(this.#bytesKeys);
    out.#nextIndex = this.#nextIndex;
    return out;
  }

  /**
   * Converts to plain JS: a list (array) when the keys are exactly 0..n-1 in order, else an object
   * with a null prototype. Objects become `{ __class, ...props }`; see {@link toJs}.
   */
  toJS(): unknown {
    return toJs(this);
  }

  /**
   * JSON.stringify() support: as {@link toJS} (a list becomes a JSON array, other arrays objects),
   * with what JSON cannot hold made JSON-safe: bigints as decimal strings, binary strings and byte
   * keys as Latin-1 strings, NAN/INF as null (JSON's own rule).
   */
  toJSON(): unknown {
    return jsonSafe(toJs(this));
  }
}

function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v !== null && typeof v === 'object') {
    const out = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(v)) out[k] = jsonSafe((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** A value for set()/push(): PHP values pass, plain JS data is converted, anything else throws now. */
function checkedValue(value: PhpValue | PhpReference): PhpValue | PhpReference {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol' && value !== undefined)) return value;
  if (
    value instanceof PhpArray ||
    value instanceof PhpReference ||
    value instanceof PhpObject ||
    value instanceof PhpBytes ||
    value instanceof PhpFloat ||
    value instanceof PhpEnum ||
    value instanceof PhpSerializable
  ) {
    return value;
  }
  const v = value as unknown;
  if (v === undefined || v instanceof Uint8Array || Array.isArray(v) || v instanceof Map || (typeof v === 'object' && isPlainObject(v as object))) {
    return toPhp(v as JsInput);
  }
  const what = typeof v === 'object' ? ((v as { constructor?: { name?: string } }).constructor?.name ?? 'object') : typeof v;
  throw new TypeError(`PhpArray: a ${what} is not a PHP value (store plain data: numbers, strings, booleans, null, arrays, plain objects, Maps)`);
}

/** A PHP object: class name and ordered properties keyed by their serialized (mangled) names. */
export class PhpObject {
  /**
   * The class name as written on the wire. A name that is not valid UTF-8 is held as `'\uD800'`
   * followed by its bytes as Latin-1 characters (see BINARY_NAME_PREFIX in serializers/var.ts).
   */
  className: string;
  /** Properties keyed exactly as on the wire: `name`, `\0*\0name` (protected), `\0Class\0name` (private). */
  readonly properties: PhpArray;

  constructor(className = 'stdClass', properties?: PhpArray | Record<string, JsInput>) {
    this.className = className;
    this.properties = properties === undefined ? new PhpArray() : PhpArray.from(properties);
  }

  /** Mangled name of a property: PHP's zend_mangle_property_name. */
  static mangle(name: string, visibility: Visibility = 'public', declaringClass?: string): string {
    if (visibility === 'public') return name;
    if (visibility === 'protected') return `\0*\0${name}`;
    return `\0${declaringClass ?? ''}\0${name}`;
  }

  /** Splits a mangled name into its visibility, declaring class and bare name. */
  static unmangle(mangled: string): { name: string; visibility: Visibility; declaringClass?: string } {
    if (mangled.length > 0 && mangled.charCodeAt(0) === 0) {
      const end = mangled.indexOf('\0', 1);
      if (end > 0) {
        const cls = mangled.slice(1, end);
        const name = mangled.slice(end + 1);
        if (cls === '*') return { name, visibility: 'protected' };
        return { name, visibility: 'private', declaringClass: cls };
      }
    }
    return { name: mangled, visibility: 'public' };
  }

  /** Reads a property by bare name, whatever its visibility. */
  get(name: string): PhpValue | undefined {
    for (const [k, v] of this.properties) {
      if (typeof k === 'string' && PhpObject.unmangle(k).name === name) return v;
    }
    return undefined;
  }

  /** Sets a property (public unless told otherwise); an existing property of that name keeps its visibility. */
  set(name: string, value: PhpValue, visibility?: Visibility, declaringClass?: string): this {
    if (visibility === undefined) {
      for (const k of this.properties.keys()) {
        if (typeof k === 'string' && PhpObject.unmangle(k).name === name) {
          this.properties.setExact(k, value);
          return this;
        }
      }
      visibility = 'public';
    }
    this.properties.setExact(
      PhpObject.mangle(name, visibility, declaringClass ?? this.className),
      value,
    );
    return this;
  }
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Converts plain JS input to a PHP value: arrays, Maps and plain objects become PhpArray;
 * `undefined` becomes null; PHP value classes pass through.
 */
export function toPhp(input: JsInput): PhpValue {
  if (input === undefined || input === null) return null;
  switch (typeof input) {
    case 'boolean':
    case 'string':
      return input;
    case 'number':
      return input;
    case 'bigint':
      return normalizeInt(input);
    default:
      break;
  }
  if (
    input instanceof PhpArray ||
    input instanceof PhpObject ||
    input instanceof PhpBytes ||
    input instanceof PhpFloat ||
    input instanceof PhpEnum ||
    input instanceof PhpSerializable
  ) {
    return input;
  }
  if (input instanceof PhpReference) return input.value;
  if (input instanceof Uint8Array) return new PhpBytes(input);
  return PhpArray.from(input);
}

/**
 * Converts a PHP value to plain JS for convenience (lossy: float/int distinction, references and
 * visibility are dropped). Arrays with keys 0..n-1 become JS arrays, other arrays null-prototype
 * objects, objects `{ __class: name, ...props }` with bare property names.
 */
export function toJs(value: PhpValue, seen = new Set<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof PhpFloat) return value.value;
  if (value instanceof PhpBytes) return value.bytes;
  if (value instanceof PhpEnum) return `${value.className}::${value.caseName}`;
  if (value instanceof PhpSerializable) return { __class: value.className, __data: value.data };
  if (seen.has(value)) return undefined;
  seen.add(value);
  try {
    if (value instanceof PhpArray) {
      let i = 0;
      let isList = true;
      for (const k of value.keys()) {
        if (k !== i++) {
          isList = false;
          break;
        }
      }
      if (isList) return [...value.values()].map((v) => toJs(v, seen));
      const out = Object.create(null) as Record<string, unknown>;
      for (const [k, v] of value) {
        out[k instanceof PhpBytes ? k.toBinaryString() : String(k)] = toJs(v, seen);
      }
      return out;
    }
    const out = Object.create(null) as Record<string, unknown>;
    out['__class'] = value.className;
    for (const [k, v] of value.properties) {
      const name = typeof k === 'string' ? PhpObject.unmangle(k).name : String(k);
      out[name] = toJs(v, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
