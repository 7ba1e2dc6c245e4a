/**
 * @module handlers/shared/memcache/ketama
 * Server choice as libmemcached makes it for php-memcached's session handler: with
 * `memcached.sess_consistent_hash` on, a ketama continuum; off, modula over the server list.
 *
 * Continuum (read from libmemcached's update_continuum/dispatch_host, checked against PHP in
 * spec/memcache): each server contributes points named `host-i` when its port is 11211, else
 * `host:port-i`. Plain `ketama` gives 100 points per server, each point the key hash of its name;
 * `ketama_weighted` gives floor(weight share * 160 * servers / 4) * 4 points, four per MD5 digest.
 * A key goes to the first point whose value is >= the key's hash (wrapping to the first point).
 */
import { keyBytes, md5, md5Word, oneAtATime } from './hash.ts';

export interface KetamaServer {
  host: string;
  port: number;
  weight: number;
}

export type LibmemcachedDistribution = 'ketama' | 'ketama_weighted' | 'modula';

interface Point {
  value: number;
  index: number;
}

export class LibmemcachedSelector {
  readonly #points: Point[] = [];
  readonly #servers: readonly KetamaServer[];
  readonly #distribution: LibmemcachedDistribution;

  constructor(servers: readonly KetamaServer[], distribution: LibmemcachedDistribution) {
    this.#servers = servers;
    this.#distribution = distribution;
    if (distribution !== 'modula' && servers.length > 1) this.#build();
  }

  /** The key hash libmemcached applies: MD5 (first word) for weighted ketama, one-at-a-time otherwise. */
  hash(key: string | Uint8Array): number {
    const b = keyBytes(key);
    return this.#distribution === 'ketama_weighted' ? md5Word(md5(b), 0) : oneAtATime(b);
  }

  /** Index into the server list for `key` (the key as hashed: without the namespace prefix). */
  select(key: string | Uint8Array): number {
    const n = this.#servers.length;
    if (n <= 1) return 0;
    const h = this.hash(key);
    if (this.#distribution === 'modula') return h % n;
    const pts = this.#points;
    let lo = 0;
    let hi = pts.length;
    while (lo < hi) {
      const mid = lo + ((hi - lo) >> 1);
      if (pts[mid]!.value < h) lo = mid + 1;
      else hi = mid;
    }
    return (lo === pts.length ? pts[0]! : pts[lo]!).index;
  }

  #build(): void {
    const servers = this.#servers;
    const weighted = this.#distribution === 'ketama_weighted';
    const totalWeight = servers.reduce((s, x) => s + (x.weight > 0 ? x.weight : 1), 0);
    servers.forEach((srv, index) => {
      let count = 100;
      if (weighted) {
        const pct = (srv.weight > 0 ? srv.weight : 1) / totalWeight;
        count = Math.floor((pct * 160) / 4 * servers.length + 0.0000000001) * 4;
      }
      const perHash = weighted ? 4 : 1;
      for (let i = 0; i < count / perHash; i++) {
        const name = srv.port === 11211 ? `${srv.host}-${i}` : `${srv.host}:${srv.port}-${i}`;
        if (weighted) {
          const d = md5(keyBytes(name));
          for (let x = 0; x < 4; x++) this.#points.push({ value: md5Word(d, x), index });
        } else {
          this.#points.push({ value: oneAtATime(keyBytes(name)), index });
        }
      }
    });
    this.#points.sort((a, b) => a.value - b.value);
  }
}
