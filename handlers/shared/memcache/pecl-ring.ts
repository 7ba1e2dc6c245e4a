/**
 * @module handlers/shared/memcache/pecl-ring
 * Server choice as the pecl memcache extension makes it (memcache.hash_strategy and
 * memcache.hash_function), checked against PHP in spec/memcache.
 *
 * - `consistent` (default): every server adds weight * 160 points, point i hashed from
 *   `host:port-i`; the ring is sorted and sampled into 1024 buckets (bucket b = first point
 *   >= b * floor(0xffffffff / 1024)); a key goes to bucket hash(key) % 1024.
 * - `standard`: each server occupies `weight` slots in list order; a key goes to slot
 *   h % slots with h = (hash(key) >> 16) & 0x7fff (0 counts as 1).
 * The session handler never hashes the bare key: its n-th candidate server is the one for
 * `<key>-<n>` (n = 0, 1, ...), skipping servers already used, at most max_failover_attempts tries
 * (handlers/memcache.ts).
 */
import { crc32, fnv1a32, keyBytes } from './hash.ts';

export type PeclHashStrategy = 'consistent' | 'standard';
export type PeclHashFunction = 'crc32' | 'fnv';

export interface PeclServer {
  host: string;
  port: number;
  weight: number;
}

const POINTS_PER_WEIGHT = 160;
const BUCKETS = 1024;

export class PeclSelector {
  readonly #hash: (b: Uint8Array) => number;
  readonly #strategy: PeclHashStrategy;
  readonly #count: number;
  /** consistent: server index per bucket; standard: server index per weight slot. */
  readonly #table: number[] = [];

  constructor(servers: readonly PeclServer[], strategy: PeclHashStrategy, hash: PeclHashFunction) {
    this.#hash = hash === 'fnv' ? fnv1a32 : crc32;
    this.#strategy = strategy;
    this.#count = servers.length;
    if (strategy === 'standard') {
      servers.forEach((s, i) => {
        for (let w = 0; w < s.weight; w++) this.#table.push(i);
      });
    } else if (servers.length > 1) {
      const points: { point: number; index: number }[] = [];
      servers.forEach((s, index) => {
        for (let i = 0; i < s.weight * POINTS_PER_WEIGHT; i++) {
          points.push({ point: this.#hash(keyBytes(`${s.host}:${s.port}-${i}`)), index });
        }
      });
      points.sort((a, b) => a.point - b.point);
      const step = Math.floor(0xffffffff / BUCKETS);
      for (let b = 0; b < BUCKETS; b++) this.#table.push(findPoint(points, (step * b) >>> 0));
    }
  }

  hash(key: string | Uint8Array): number {
    return this.#hash(keyBytes(key));
  }

  /** Server index for a key as hashed (no failover). */
  select(key: string | Uint8Array): number {
    if (this.#count <= 1) return 0;
    const h = this.hash(key);
    if (this.#strategy === 'standard') return this.#table[standardHash(h) % this.#table.length]!;
    return this.#table[h % BUCKETS]!;
  }
}

function standardHash(h: number): number {
  const v = (h >>> 16) & 0x7fff;
  return v === 0 ? 1 : v;
}

/** pecl memcache's ring search: the first point >= value, wrapping to the first. */
function findPoint(points: readonly { point: number; index: number }[], value: number): number {
  let lo = 0;
  let hi = points.length - 1;
  for (;;) {
    if (value <= points[lo]!.point || value > points[hi]!.point) return points[lo]!.index;
    const mid = lo + ((hi - lo) >> 1);
    if (value <= points[mid]!.point && value > (mid ? points[mid - 1]!.point : 0)) return points[mid]!.index;
    if (points[mid]!.point < value) lo = mid + 1;
    else hi = mid - 1;
  }
}
