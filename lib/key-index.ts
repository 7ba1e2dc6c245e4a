/**
 * @module key-index
 * The key → position index of a large hashed PhpArray (lib/value.ts), built the way PHP's own
 * HashTable is (Zend/zend_hash.c): separate chaining over the array's slots in insertion order.
 * A bucket array holds, per bucket, the first position of its chain; two arrays parallel to the
 * PhpArray's key array hold each position's 32-bit hash and the next position in its chain.
 *
 * Why not a Map: a V8 Map keeps its entries in chained buckets that point at the key objects, so
 * each lookup in a large Map reads three or four unrelated cache lines; at a million keys a
 * lookup costs about five times what it costs at ten thousand, which made decoding a session of
 * 1M keys ~13× slower than PHP (bench/session-scale.ts).
 *
 * Why chaining and PHP's hash: string keys are hashed as PHP hashes them (DJB "times 33", over the
 * UTF-16 code units here), integer keys are their own hash, and the bucket is taken from the low
 * bits. Keys that differ only in their last characters (k000000, k000001, …) then land in
 * neighbouring buckets, and a run of them inserted in order touches a few cache lines instead of
 * one random line each; the hash and next arrays are written in position order. With open
 * addressing the same hash forms long probe runs; with chains, neighbours do not interfere.
 *
 * Keys are compared with `===` (numbers, bigints, strings: the map keys of lib/value.ts), and only
 * when the 32-bit hashes agree. The hash is unseeded, as PHP's: colliding keys are easy to craft.
 * So whatever the input, a chain walk longer than {@link MAX_CHAIN} switches that index to a JS
 * Map (V8's seeded hash) for good: crafted keys cost at most MAX_CHAIN comparisons per
 * operation before that, never a quadratic table.
 */

export type IndexKey = number | bigint | string;

/**
 * Chain length after which the index gives up and becomes a Map. Buckets are at most half full
 * (as PHP's: twice as many buckets as slots), so the longest chain of well-spread hashes at 1M keys
 * is ~8; honest keys do not reach it.
 */
export const MAX_CHAIN = 32;

const MIN_BUCKETS = 32;

/**
 * The most keys a size hint ({@link KeyIndex.reserve}) makes room for: a table sized beyond the
 * CPU cache costs more to fill from the start than to grow, as measured at 1M keys
 * (bench/session-scale.ts); smaller ones skip their regrowing rounds.
 */
export const MAX_RESERVE = 1 << 15;
const TWO32 = 4294967296;

/** A 32-bit hash of a map key: PHP's (zend_inline_hash_func for strings, the value for integers). */
function hashKey(k: IndexKey): number {
  if (typeof k === 'string') {
    let h = 5381;
    for (let i = 0; i < k.length; i++) h = (Math.imul(h, 33) + k.charCodeAt(i)) | 0;
    return h;
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
  /** Per bucket: 1 + the first position of its chain, 0 = empty. */
  #buckets: Int32Array;
  /** log2 of the bucket count. */
  #bits: number;
  /** Per position: 1 + the next position in its chain, -1 = end of chain, 0 = not indexed. */
  #next: Int32Array;
  /** Per position: the key's hash. */
  #hashes: Int32Array;
  #live = 0;
  /** Set when the index gave up (see MAX_CHAIN): from then on the index is this Map. */
  #map: Map<IndexKey, number> | null = null;
  /** The key of the last get() and its hash: add() after a missed get() (an insert) hashes once. */
  #lastKey: IndexKey | undefined = undefined;
  #lastHash = 0;

  constructor(expected = 0) {
    const n = bucketsFor(expected);
    this.#buckets = new Int32Array(n);
    this.#bits = Math.log2(n);
    this.#next = new Int32Array(n >>> 1);
    this.#hashes = new Int32Array(n >>> 1);
  }

  /** Number of keys indexed. */
  get size(): number {
    return this.#map !== null ? this.#map.size : this.#live;
  }

  /** True once the index has given up and is a Map (see {@link MAX_CHAIN}). */
  get usesMap(): boolean {
    return this.#map !== null;
  }

  /** The position of key k (keys[position] === k), or -1. */
  get(keys: readonly IndexKey[], k: IndexKey): number {
    if (this.#map !== null) return this.#map.get(k) ?? -1;
    const h = hashKey(k);
    this.#lastKey = k;
    this.#lastHash = h;
    const next = this.#next;
    const hashes = this.#hashes;
    let e = this.#buckets[bucketOf(h, this.#bits)]!;
    for (let n = 0; e > 0; n++) {
      const p = e - 1;
      if (hashes[p] === h && keys[p] === k) return p;
      if (n === MAX_CHAIN) {
        this.#toMap(keys);
        return this.#map!.get(k) ?? -1;
      }
      e = next[p]!;
    }
    return -1;
  }

  /**
   * Makes room for `expected` keys in all, up to {@link MAX_RESERVE} (a hint: the index does not
   * regrow before it holds that many). Nothing changes when it already has room, or when the
   * index has given up.
   */
  reserve(keys: readonly IndexKey[], expected: number): void {
    const n = bucketsFor(Math.min(expected, MAX_RESERVE));
    if (this.#map !== null || n <= this.#buckets.length) return;
    this.#rehash(keys.length, n);
  }

  /** Records that k (absent) is at pos. */
  add(keys: readonly IndexKey[], k: IndexKey, pos: number): void {
    if (this.#map !== null) {
      this.#map.set(k, pos);
      return;
    }
    const h = k === this.#lastKey ? this.#lastHash : hashKey(k);
    this.#lastKey = undefined;
    if (pos >= this.#next.length) this.#grow(pos);
    if ((this.#live + 1) * 2 > this.#buckets.length) this.#rehash(Math.max(keys.length, pos + 1), this.#buckets.length * 2);
    const b = bucketOf(h, this.#bits);
    const head = this.#buckets[b]!;
    this.#next[pos] = head === 0 ? -1 : head;
    this.#hashes[pos] = h;
    this.#buckets[b] = pos + 1;
    this.#live++;
  }

  /** Forgets key k, which is at pos. */
  delete(keys: readonly IndexKey[], k: IndexKey, pos: number): void {
    if (this.#map !== null) {
      this.#map.delete(k);
      return;
    }
    const next = this.#next;
    if (pos >= next.length || next[pos] === 0) return;
    const b = bucketOf(this.#hashes[pos]!, this.#bits);
    let e = this.#buckets[b]!;
    let prev = -1;
    for (let n = 0; e > 0; n++) {
      const p = e - 1;
      if (p === pos) {
        const after = next[p]!;
        if (prev < 0) this.#buckets[b] = after > 0 ? after : 0;
        else next[prev] = after;
        next[p] = 0;
        this.#live--;
        return;
      }
      if (n === MAX_CHAIN) {
        this.#toMap(keys);
        this.#map!.delete(k);
        return;
      }
      prev = p;
      e = next[p]!;
    }
  }

  /** Makes the per-position arrays hold position pos. */
  #grow(pos: number): void {
    let len = this.#next.length * 2;
    while (len <= pos) len *= 2;
    const next = new Int32Array(len);
    next.set(this.#next);
    const hashes = new Int32Array(len);
    hashes.set(this.#hashes);
    this.#next = next;
    this.#hashes = hashes;
  }

  /**
   * Relinks every indexed position below `positions` into a bucket array at least `min` large,
   * doubled while it would be more than half full. Positions are relinked from the last to the
   * first, so each chain keeps ascending positions, and the writes go in position order.
   */
  #rehash(positions: number, min: number): void {
    let n = Math.max(min, this.#buckets.length);
    while (this.#live * 2 > n) n *= 2;
    const buckets = new Int32Array(n);
    const bits = Math.log2(n);
    const next = this.#next;
    const hashes = this.#hashes;
    for (let p = Math.min(positions, next.length) - 1; p >= 0; p--) {
      if (next[p] === 0) continue;
      const b = bucketOf(hashes[p]!, bits);
      const head = buckets[b]!;
      next[p] = head === 0 ? -1 : head;
      buckets[b] = p + 1;
    }
    this.#buckets = buckets;
    this.#bits = bits;
  }

  /** Replaces the index by a Map of the indexed positions. */
  #toMap(keys: readonly IndexKey[]): void {
    const map = new Map<IndexKey, number>();
    const next = this.#next;
    for (let p = 0; p < next.length && p < keys.length; p++) if (next[p] !== 0) map.set(keys[p]!, p);
    this.#map = map;
    this.#buckets = new Int32Array(0);
    this.#next = new Int32Array(0);
    this.#hashes = new Int32Array(0);
  }
}

/**
 * The bucket of hash h among 2^bits: its low bits (as PHP's), XORed with a Fibonacci hash of the
 * bits above them, so integer keys a power of two apart do not share a few buckets. Hashes that
 * differ only in their low bits (the same bits above) stay in one aligned block of buckets.
 */
function bucketOf(h: number, bits: number): number {
  return (h ^ (Math.imul(h >>> bits, 0x9e3779b1) >>> (32 - bits))) & ((1 << bits) - 1);
}

/** The bucket count for `expected` keys: a power of two, at most half full. */
function bucketsFor(expected: number): number {
  let n = MIN_BUCKETS;
  while (n < expected * 2) n *= 2;
  return n;
}
