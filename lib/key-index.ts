/**
 * @module key-index
 * The key → position index of a large hashed PhpArray (lib/value.ts), built the way PHP's own
 * HashTable is: one flat table of (position, hash) pairs searched by open addressing, instead of
 * a JS Map.
 *
 * Why not a Map: a V8 Map keeps its entries in chained buckets that point at the key objects, so
 * each lookup in a large Map reads three or four unrelated cache lines; at a million keys a
 * lookup costs about five times what it costs at ten thousand, which made decoding a session of
 * 1M keys ~13× slower than PHP (bench/session-scale.ts). Here a probe reads one 8-byte pair from
 * an Int32Array and compares the key itself only when the 32-bit hashes agree: one cache line per
 * lookup, as in PHP, so a large array costs what PHP's costs (both slow down ~3× per key from 1k
 * to 1M keys, once the table no longer fits in the cache).
 *
 * Keys are compared with `===` (numbers, bigints, strings: the map keys of lib/value.ts). String
 * hashes are seeded per process. Whatever the input, an operation that has to probe more than
 * {@link MAX_PROBE} entries (keys crafted to collide, or any other pathology) switches that index
 * to a JS Map for good, so the worst case is V8's seeded Map, never a quadratic table.
 */

export type IndexKey = number | bigint | string;

/**
 * Probe length after which the table gives up and becomes a Map. At load ≤ 1/2 the longest probe
 * of random hashes is ~3·ln(n) (47 measured at 8M keys), so honest keys never reach it.
 */
export const MAX_PROBE = 128;

const MIN_CAPACITY = 32;

/**
 * The most keys a size hint ({@link KeyIndex.reserve}) makes room for: a table sized beyond the
 * CPU cache costs more to fill from the start (every insert a cache miss) than to grow, as
 * measured at 1M keys (bench/session-scale.ts); smaller ones skip their regrowing rounds.
 */
export const MAX_RESERVE = 1 << 15;
const TWO32 = 4294967296;
/** Per-process string hash seed (odd, nonzero). */
const SEED = ((Math.random() * TWO32) | 1) >>> 0;

/** A 32-bit hash of a map key (before the table's own mixing). */
function hashKey(k: IndexKey): number {
  if (typeof k === 'string') {
    // FNV-1a over the UTF-16 code units, seeded.
    let h = SEED ^ k.length;
    for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
    // murmur3 fmix32, so that the high bits used by the table depend on every character.
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return h ^ (h >>> 16);
  }
  if (typeof k === 'number') {
    // A safe integer: int32 values hash to themselves, larger ones fold their two halves.
    return (k | 0) === k ? k : (k >>> 0) ^ ((k / TWO32) | 0) ^ 0x5bd1e995;
  }
  return Number(BigInt.asIntN(32, k)) ^ Number(BigInt.asIntN(32, k >> 32n)) ^ 0x27d4eb2d;
}

/**
 * Positions of live keys in a PhpArray's key array. The caller passes that key array to every
 * call (the index holds positions only); `add` is only called for a key known to be absent.
 */
export class KeyIndex {
  /** (position + 1, hash) pairs; position 0 = empty, -1 = deleted. */
  #table: Int32Array;
  #mask: number;
  /** 32 − log2(capacity): Fibonacci hashing takes the top bits of hash × 2^32/φ. */
  #shift: number;
  /** Entries in the table, deleted ones included (they end probe sequences no sooner than live ones). */
  #used = 0;
  #live = 0;
  /** Set when the table gave up (see MAX_PROBE): from then on the index is this Map. */
  #map: Map<IndexKey, number> | null = null;
  /** The key of the last get() and its hash: add() after a missed get() (an insert) hashes once. */
  #lastKey: IndexKey | undefined = undefined;
  #lastHash = 0;

  constructor(expected = 0) {
    const cap = capacityFor(expected);
    this.#table = new Int32Array(cap * 2);
    this.#mask = cap - 1;
    this.#shift = 32 - Math.log2(cap);
  }

  /** Number of keys indexed. */
  get size(): number {
    return this.#map !== null ? this.#map.size : this.#live;
  }

  /** True once the table has given up and the index is a Map (see {@link MAX_PROBE}). */
  get usesMap(): boolean {
    return this.#map !== null;
  }

  /** The position of key k (keys[position] === k), or -1. */
  get(keys: readonly IndexKey[], k: IndexKey): number {
    if (this.#map !== null) return this.#map.get(k) ?? -1;
    const h = hashKey(k);
    this.#lastKey = k;
    this.#lastHash = h;
    const t = this.#table;
    const mask = this.#mask;
    let i = Math.imul(h, 0x9e3779b1) >>> this.#shift;
    for (let n = 0; n <= MAX_PROBE; n++) {
      const p = t[2 * i]!;
      if (p === 0) return -1;
      if (p > 0 && t[2 * i + 1] === h && keys[p - 1] === k) return p - 1;
      i = (i + 1) & mask;
    }
    this.#toMap(keys);
    return this.#map!.get(k) ?? -1;
  }

  /**
   * Makes room for `expected` keys in all, up to {@link MAX_RESERVE} (a hint: the table does not
   * regrow before it holds that many). Nothing changes when it already has room, or when the
   * table has given up.
   */
  reserve(keys: readonly IndexKey[], expected: number): void {
    const cap = capacityFor(Math.min(expected, MAX_RESERVE));
    if (this.#map !== null || cap <= this.#mask + 1) return;
    if (!this.#rehash(cap)) this.#toMap(keys);
  }

  /** Records that k (absent) is at pos. */
  add(keys: readonly IndexKey[], k: IndexKey, pos: number): void {
    if (this.#map !== null) {
      this.#map.set(k, pos);
      return;
    }
    if ((this.#used + 1) * 2 > this.#mask + 1 && !this.#rehash()) {
      this.#toMap(keys);
      this.#map!.set(k, pos);
      return;
    }
    const h = k === this.#lastKey ? this.#lastHash : hashKey(k);
    this.#lastKey = undefined;
    if (!this.#insert(h, pos)) {
      this.#toMap(keys);
      this.#map!.set(k, pos);
      return;
    }
    this.#live++;
  }

  /** Forgets key k, which is at pos. */
  delete(keys: readonly IndexKey[], k: IndexKey, pos: number): void {
    if (this.#map !== null) {
      this.#map.delete(k);
      return;
    }
    const h = hashKey(k);
    const t = this.#table;
    const mask = this.#mask;
    let i = Math.imul(h, 0x9e3779b1) >>> this.#shift;
    for (let n = 0; n <= MAX_PROBE; n++) {
      const p = t[2 * i]!;
      if (p === 0) return;
      if (p === pos + 1) {
        t[2 * i] = -1;
        this.#live--;
        return;
      }
      i = (i + 1) & mask;
    }
    this.#toMap(keys);
    this.#map!.delete(k);
  }

  /** Puts (pos, h) in the first free entry of h's probe sequence; false when that is too far. */
  #insert(h: number, pos: number): boolean {
    if (!place(this.#table, this.#mask, this.#shift, h, pos)) return false;
    this.#used++;
    return true;
  }

  /**
   * Rebuilds the table for the live entries (dropping deleted ones), at least `min` entries large,
   * doubled while it would be more than 1/4 live. False (nothing changed) when an entry does not
   * fit within MAX_PROBE.
   */
  #rehash(min = this.#mask + 1): boolean {
    const old = this.#table;
    let cap = Math.max(min, this.#mask + 1);
    while (this.#live * 4 > cap) cap *= 2;
    const t = new Int32Array(cap * 2);
    const mask = cap - 1;
    const shift = 32 - Math.log2(cap);
    for (let j = 0; j < old.length; j += 2) {
      const p = old[j]!;
      if (p > 0 && !place(t, mask, shift, old[j + 1]!, p - 1)) return false;
    }
    this.#table = t;
    this.#mask = mask;
    this.#shift = shift;
    this.#used = this.#live;
    return true;
  }

  /** Replaces the table by a Map of the live entries. */
  #toMap(keys: readonly IndexKey[]): void {
    const map = new Map<IndexKey, number>();
    const t = this.#table;
    for (let j = 0; j < t.length; j += 2) if (t[j]! > 0) map.set(keys[t[j]! - 1]!, t[j]! - 1);
    this.#map = map;
    this.#table = new Int32Array(0);
  }
}

/** The table size for `expected` keys: a power of two, at most half full. */
function capacityFor(expected: number): number {
  let cap = MIN_CAPACITY;
  while (cap < expected * 2) cap *= 2;
  return cap;
}

/** Stores (pos, h) in the first free entry of h's probe sequence in table t; false when that is beyond MAX_PROBE. */
function place(t: Int32Array, mask: number, shift: number, h: number, pos: number): boolean {
  let i = Math.imul(h, 0x9e3779b1) >>> shift;
  for (let n = 0; n <= MAX_PROBE; n++) {
    if (t[2 * i] === 0) {
      t[2 * i] = pos + 1;
      t[2 * i + 1] = h;
      return true;
    }
    i = (i + 1) & mask;
  }
  return false;
}
