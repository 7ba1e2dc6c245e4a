/**
 * @module session/validated
 * The validated-bytes cache of lazy decoding (SessionEngineOptions.validatedCacheBytes). The
 * validation of a session payload is a pure function of the serializer, the bytes and
 * unserialize_max_depth. The engine keeps, per session (module, save path, id, serializer,
 * max depth), the bytes it last validated cleanly or last wrote, with what the validation found
 * (serializers/lazy.ts). When the bytes read next are byte-for-byte the same, the decode takes
 * that result instead of scanning them again: a Buffer compare instead of a parse. Any other
 * bytes (written by PHP, another process, another engine) are validated as usual.
 *
 * Bounded by the bytes of the payloads it holds (plus a fixed allowance per session),
 * least recently used first out. One cache per engine, so engines never share entries.
 */
import type { ValidatedSession, ValidatedSlot } from '../serializer.ts';
import type { BytesPool, Lease } from './bytes-pool.ts';

/** Default bound of the cache (SessionEngineOptions.validatedCacheBytes). */
export const DEFAULT_VALIDATED_CACHE_BYTES = 32 * 1024 * 1024;
/** What an entry costs beyond its payload bytes (key, entry table, LazyEntry objects), roughly. */
const ENTRY_OVERHEAD = 512;

/**
 * One session's entry: in the Map under its key from its first set() to its eviction, and in the
 * recency list (least recently used first).
 */
interface Held {
  readonly key: string;
  v: ValidatedSession;
  cost: number;
  /** The slot's count on v.bytes when they are the engine's pooled encoder output (bytes-pool.ts). */
  lease: Lease | undefined;
  older: Held | undefined;
  newer: Held | undefined;
}

export class ValidatedCache {
  /**
   * Recency is an intrusive doubly linked list through the entries, moved on each access; the Map
   * gains a key at its session's first set() and loses it only at eviction. A Map kept in
   * recency order (a delete and a set on every read and write) has its table rebuilt again and
   * again; V8 keeps a rebuilt table, its entries and a link to its successor alive for iterators,
   * so once one table is in the old generation every later table and the sessions' validations
   * in them survive each young-generation collection: ~0.5 KB promoted a request.
   */
  readonly #map = new Map<string, Held>();
  #oldest: Held | undefined;
  #newest: Held | undefined;
  #bytes = 0;
  /** `pool`: the engine's encoder buffers; a slot holding one counts as its owner. */
  constructor(
    readonly limit: number,
    readonly pool?: BytesPool,
  ) {}

  /** Bytes accounted for now (payloads plus the per-session allowance). */
  get size(): number {
    return this.#bytes;
  }

  /** Sessions held. */
  get count(): number {
    return this.#map.size;
  }

  get(key: string): ValidatedSession | undefined {
    const h = this.#map.get(key);
    if (h === undefined) return undefined;
    this.#touch(h);
    return h.v;
  }

  set(key: string, v: ValidatedSession): void {
    const cost = v.bytes.length + key.length + ENTRY_OVERHEAD;
    if (cost > this.limit) {
      this.delete(key);
      return;
    }
    const lease = this.pool?.hold(v.bytes);
    // Entries pointing into the bytes reach sessions through later hits: the buffer stays theirs.
    if (lease !== undefined && v.spans === true) lease.pin();
    const h = this.#map.get(key);
    if (h === undefined) {
      const added: Held = { key, v, cost, lease, older: this.#newest, newer: undefined };
      if (this.#newest === undefined) this.#oldest = added;
      else this.#newest.newer = added;
      this.#newest = added;
      this.#map.set(key, added);
    } else {
      this.#bytes -= h.cost;
      h.lease?.drop();
      h.v = v;
      h.cost = cost;
      h.lease = lease;
      this.#touch(h);
    }
    this.#bytes += cost;
    // The entry just set is the newest and fits alone: the loop stops before it.
    while (this.#bytes > this.limit && this.#oldest !== undefined) this.#drop(this.#oldest);
  }

  delete(key: string): void {
    const h = this.#map.get(key);
    if (h !== undefined) this.#drop(h);
  }

  /** Makes `h` the most recently used. */
  #touch(h: Held): void {
    if (h === this.#newest) return;
    this.#unlink(h);
    h.older = this.#newest;
    h.newer = undefined;
    this.#newest!.newer = h; // h was not the newest, so there is one
    this.#newest = h;
  }

  #unlink(h: Held): void {
    const { older, newer } = h;
    if (older === undefined) this.#oldest = newer;
    else older.newer = newer;
    if (newer === undefined) this.#newest = older;
    else newer.older = older;
    h.older = undefined;
    h.newer = undefined;
  }

  #drop(h: Held): void {
    this.#unlink(h);
    this.#map.delete(h.key);
    this.#bytes -= h.cost;
    h.lease?.drop();
    h.lease = undefined;
  }

  /** The slot of one session; `missed`: its get() answers undefined (the caller compared already). */
  slot(key: string, missed = false): ValidatedSlot {
    return missed ? new MissedSlot(this, key) : new CacheSlot(this, key);
  }
}

/** One session's place in a {@link ValidatedCache}. */
class CacheSlot implements ValidatedSlot {
  constructor(
    readonly cache: ValidatedCache,
    readonly key: string,
  ) {}

  get(): ValidatedSession | undefined {
    return this.cache.get(this.key);
  }

  set(v: ValidatedSession): void {
    this.cache.set(this.key, v);
  }
}

/** A slot whose bytes the caller has compared already and found different: it only takes the new validation. */
class MissedSlot extends CacheSlot {
  override get(): undefined {
    return undefined;
  }
}

/**
 * A request's memo of its session's slot: the key is rebuilt only when one of the settings it is
 * made of changed (a new id, another save path), not on each of the read, decode and write.
 */
export interface SlotMemo {
  readonly module: string;
  readonly savePath: string;
  readonly id: string;
  readonly serializer: string;
  readonly maxDepth: number;
  readonly key: string;
  readonly slot: ValidatedSlot;
}

/**
 * The cache key of a session: every setting that decides which bytes are read and how they are
 * validated. NUL cannot occur in a module name, a serializer name or a session id.
 */
export function validatedKey(module: string, savePath: string, id: string, serializer: string, maxDepth: number): string {
  return `${module}\0${serializer}\0${maxDepth}\0${id}\0${savePath}`;
}
