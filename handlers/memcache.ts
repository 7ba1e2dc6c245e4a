/**
 * @module handlers/memcache
 * `session.save_handler = memcache`: the pecl memcache (4.x/8.x) extension's session handler.
 *
 * Layout (checked against PHP in spec/memcache): data under `<id>` with flags 0, or zlib-compressed
 * with flag 2 when at least memcache.compress_threshold bytes and the result saves >= 20%;
 * absolute expiry time() + gc_maxlifetime. Lock under `<id>.lock`: an integer (flags 0x0300),
 * taken by `incr` reaching 1 or by `add 1`, expiring after memcache.lock_timeout seconds, and
 * released by write() setting it to 0 (close() does not release it). When the lock cannot be had
 * within 2 * lock_timeout seconds, read() carries on with an empty session, as PHP does.
 *
 * With several servers each session is written to memcache.session_redundancy of them, walking
 * the hash ring with `<id>-0`, `<id>-1`, ...; reads walk the same order.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { ModuleIniEntry, SaveHandler, SaveHandlerContext, SaveHandlerModule } from '../lib/handler.ts';
import { connectionFor, type MemcacheConnection } from '../lib/memcache/client.ts';
import { iniInt, iniStr, sleep, unixNow } from '../lib/memcache/common.ts';
import { PeclSelector } from '../lib/memcache/pecl-ring.ts';
import { cStrtol } from '../lib/zend/index.ts';
import { parsePeclSavePath, type PeclServerSpec } from '../lib/memcache/save-path.ts';

/** A whole-string integer as strtol reads it (leading blanks allowed, nothing after the digits). */
function strictInt(v: string): number | null {
  const r = cStrtol(v, 10);
  return r.end > 0 && r.end === v.length ? Number(r.value) : null;
}

/** pecl memcache's "must be a positive integer" check (`min` 1, or 0 for compress_threshold). */
function positive(reportedName: string, min: number) {
  return (v: string): string | undefined => {
    const n = strictInt(v);
    return n !== null && n >= min ? undefined : `${reportedName} must be a positive integer ('${v}' given)`;
  };
}

function oneOf(name: string, values: readonly string[]) {
  return (v: string): string | undefined =>
    values.includes(v.toLowerCase()) ? undefined : `${name} must be in set {${values.join(', ')}} ('${v}' given)`;
}

/**
 * The memcache.* directives the session handler depends on, with pecl memcache 4.0.5's defaults
 * and its refusal texts (checked with ini_set() in PHP; note session_redundancy reports itself as
 * memcache.redundancy, as PHP does).
 */
export const memcacheIni: readonly ModuleIniEntry[] = (
  [
    ['memcache.allow_failover', '1', undefined],
    ['memcache.max_failover_attempts', '20', positive('memcache.max_failover_attempts', 1)],
    ['memcache.default_port', '11211', undefined],
    ['memcache.chunk_size', '32768', positive('memcache.chunk_size', 1)],
    ['memcache.protocol', 'ascii', oneOf('memcache.protocol', ['ascii', 'binary'])],
    ['memcache.hash_strategy', 'consistent', oneOf('memcache.hash_strategy', ['standard', 'consistent'])],
    ['memcache.hash_function', 'crc32', oneOf('memcache.hash_function', ['crc32', 'fnv'])],
    ['memcache.redundancy', '1', positive('memcache.redundancy', 1)],
    ['memcache.session_redundancy', '2', positive('memcache.redundancy', 1)],
    ['memcache.compress_threshold', '20000', positive('memcache.compress_threshold', 0)],
    ['memcache.lock_timeout', '15', positive('memcache.lock_timeout', 1)],
    ['memcache.session_save_path', '', undefined],
    ['memcache.session_prefix_static_key', '', (v: string) => (v.includes('.') ? 'memcache.session_prefix_static_key cannot have dot inside (.)' : undefined)],
  ] as const
).map(([name, dflt, validate]) => ({
  name,
  default: dflt,
  changeable: 'PHP_INI_ALL' as const,
  ...(validate ? { validate } : {}),
}));

const MMC_COMPRESSED = 0x02;
const MMC_TYPE_LONG = 0x0300;
/** Flags that make a stored value something other than a plain string. */
const NON_STRING = 0x0f01;
const MAX_KEY_LEN = 250;
const LOCK_RELEASED = new TextEncoder().encode('0');
/** The ASCII protocol's SERVER_ERROR lines pecl memcache reports, by binary status. */
const SERVER_ERRORS: Record<number, string> = {
  0x03: 'SERVER_ERROR object too large for cache',
};

/** pecl memcache's value packing: zlib (flag 2) when large enough and saving at least 20%. */
export function packSessionValue(data: Uint8Array, threshold: number): { bytes: Uint8Array; flags: number } {
  if (threshold > 0 && data.length >= threshold) {
    const room = Math.floor(data.length * (1 - 0.2));
    const z = deflateSync(data);
    if (z.length <= room) return { bytes: z, flags: MMC_COMPRESSED };
  }
  return { bytes: data, flags: 0 };
}

/** Reverses {@link packSessionValue}; null when the item is not a string PHP would accept. */
export function unpackSessionValue(value: Uint8Array, flags: number): Uint8Array | null {
  if ((flags & NON_STRING) !== 0) return null;
  if (flags & MMC_COMPRESSED && value.length > 0) {
    try {
      return new Uint8Array(inflateSync(value));
    } catch {
      return null;
    }
  }
  return new Uint8Array(value);
}

/** Rings are built once per server list and hash settings, not per request. */
const selectors = new Map<string, PeclSelector>();

/** mmc_prepare_key_ex: prefix + id, bytes <= 0x20 become '_', at most 250 bytes. */
function prepareKey(id: string, prefix: string): string {
  let k = '';
  for (const ch of prefix + id) k += ch.charCodeAt(0) <= 0x20 ? '_' : ch;
  return k.length > MAX_KEY_LEN ? k.slice(0, MAX_KEY_LEN) : k;
}

class MemcacheSessionHandler implements SaveHandler {
  readonly name = 'memcache';
  readonly #ctx: SaveHandlerContext;
  #servers: PeclServerSpec[] = [];
  #conns: MemcacheConnection[] = [];
  #selector: PeclSelector | null = null;
  /** Servers that failed during this request (pecl marks them failed for retry_interval). */
  readonly #failed = new Set<number>();

  constructor(ctx: SaveHandlerContext) {
    this.#ctx = ctx;
  }

  open(savePath: string): boolean {
    const ctx = this.#ctx;
    const own = iniStr(ctx, 'memcache.session_save_path', '');
    const r = parsePeclSavePath(own !== '' ? own : savePath, iniInt(ctx, 'memcache.default_port', 11211));
    if (!r.ok) {
      if (r.warning) ctx.diagnostic('E_WARNING', r.warning);
      return false;
    }
    this.#servers = r.servers;
    const strategy = iniStr(ctx, 'memcache.hash_strategy', 'consistent').toLowerCase() === 'standard' ? 'standard' : 'consistent';
    const fn = iniStr(ctx, 'memcache.hash_function', 'crc32').toLowerCase() === 'fnv' ? 'fnv' : 'crc32';
    const cacheKey = `${strategy}\n${fn}\n${r.servers.map((x) => `${x.host}:${x.port}*${x.weight}`).join(',')}`;
    let sel = selectors.get(cacheKey);
    if (!sel) {
      if (selectors.size > 64) selectors.clear();
      sel = new PeclSelector(r.servers, strategy, fn);
      selectors.set(cacheKey, sel);
    }
    this.#selector = sel;
    this.#conns = r.servers.map((s) =>
      connectionFor({ host: s.host, port: s.port, ...(s.socketPath ? { socketPath: s.socketPath } : {}) }, Math.max(1, Math.round(s.timeoutSec * 1000))),
    );
    return true;
  }

  /**
   * The server for one candidate key; -1 when it is down. Observed in PHP (spec/memcache/pool):
   * the session handler does not fail over inside the hash strategy; a dead server simply takes a
   * place in the skip list, so with one of three servers down most sessions live on one server.
   */
  #findServer(key: string): number {
    const idx = this.#selector!.select(key);
    return this.#failed.has(idx) ? -1 : idx;
  }

  /** mmc_pool_find_next: the next server in the failover sequence not in `skip`. */
  #findNext(key: string, skip: number[], state: { last: number }): number {
    const max = iniInt(this.#ctx, 'memcache.max_failover_attempts', 20);
    let s: number;
    do {
      s = this.#findServer(`${key}-${state.last}`);
      state.last++;
    } while (skip.includes(s) && state.last < max);
    return s;
  }

  /** Runs an op; a transport failure marks the server failed for the rest of the request. */
  async #try<T>(idx: number, op: (c: MemcacheConnection) => Promise<T>): Promise<T | undefined> {
    try {
      return await op(this.#conns[idx]!);
    } catch {
      this.#failed.add(idx);
      return undefined;
    }
  }

  close(): boolean {
    return true;
  }

  async read(id: string): Promise<Uint8Array | false> {
    const ctx = this.#ctx;
    const key = prepareKey(id, iniStr(this.#ctx, 'memcache.session_prefix_static_key', ''));
    const lockKey = `${key}.lock`;
    const lockTimeout = iniInt(ctx, 'memcache.lock_timeout', 15);
    const redundancy = iniInt(ctx, 'memcache.session_redundancy', 2);
    const n = this.#servers.length;
    const skip: number[] = [];
    const state = { last: 0 };
    let backoffUs = 5000;
    let remainingUs = lockTimeout * 1_000_000 * 2;
    do {
      const prev = state.last;
      const idx = this.#findNext(key, skip, state);
      if (idx < 0 || this.#failed.has(idx)) {
        skip.push(idx);
        continue;
      }
      // PHP pipelines the three requests to one server; so do we.
      const [incr, added, item] = await Promise.all([
        this.#try(idx, (c) => c.incr(lockKey, 1)),
        this.#try(idx, (c) => c.add(lockKey, '1', MMC_TYPE_LONG, lockTimeout)),
        this.#try(idx, (c) => c.get(key)),
      ]);
      if (incr === 1n || added === true) {
        const data = item ? unpackSessionValue(item.value, item.flags) : null;
        if (data) return data;
        skip.push(idx);
        if (skip.length === n && skip.length < redundancy) return new Uint8Array(0);
      } else {
        state.last = prev;
        await sleep(backoffUs / 1000);
        remainingUs -= backoffUs;
        backoffUs = Math.min(backoffUs * 2, 1_000_000);
      }
    } while (skip.length < redundancy && skip.length < n && remainingUs > 0);
    return new Uint8Array(0);
  }

  /** The servers a write/destroy goes to: up to session_redundancy, walking the ring. */
  #targets(key: string): number[] {
    const redundancy = iniInt(this.#ctx, 'memcache.session_redundancy', 2);
    const n = this.#servers.length;
    const skip: number[] = [];
    const out: number[] = [];
    const state = { last: 0 };
    do {
      const idx = this.#findNext(key, skip, state);
      skip.push(idx);
      if (idx >= 0 && !this.#failed.has(idx)) out.push(idx);
    } while (skip.length < redundancy && skip.length < n);
    return out;
  }

  async write(id: string, data: Uint8Array, maxLifetime: number): Promise<boolean> {
    const ctx = this.#ctx;
    const key = prepareKey(id, iniStr(this.#ctx, 'memcache.session_prefix_static_key', ''));
    const exp = unixNow(ctx) + maxLifetime;
    const lockTimeout = iniInt(ctx, 'memcache.lock_timeout', 15);
    const packed = packSessionValue(data, iniInt(ctx, 'memcache.compress_threshold', 20000));
    const results = await Promise.all(
      this.#targets(key).map(async (idx) => {
        const [d, l] = await Promise.all([
          this.#try(idx, (c) => c.set(key, packed.bytes, packed.flags, exp)),
          this.#try(idx, (c) => c.set(`${key}.lock`, LOCK_RELEASED, MMC_TYPE_LONG, lockTimeout)),
        ]);
        for (const status of [d, l]) {
          const text = status === undefined ? undefined : SERVER_ERRORS[status];
          if (text) {
            const srv = this.#servers[idx]!;
            this.#ctx.diagnostic('E_NOTICE', `Server ${srv.host} (tcp ${srv.port}, udp ${srv.udpPort}) failed with: ${text} (${status})`);
          }
        }
        return d === 0 && l === 0;
      }),
    );
    return results.some(Boolean);
  }

  async destroy(id: string): Promise<boolean> {
    const key = prepareKey(id, iniStr(this.#ctx, 'memcache.session_prefix_static_key', ''));
    const results = await Promise.all(
      this.#targets(key).map(async (idx) => {
        const [d, l] = await Promise.all([this.#try(idx, (c) => c.delete(key)), this.#try(idx, (c) => c.delete(`${key}.lock`))]);
        return d !== undefined && l !== undefined;
      }),
    );
    return results.some(Boolean);
  }

  gc(): number {
    // PHP's handler returns SUCCESS without a count: session_gc() then returns false.
    return -1;
  }
}

export const memcacheModule: SaveHandlerModule = {
  name: 'memcache',
  ini: memcacheIni,
  create: (ctx) => new MemcacheSessionHandler(ctx),
};
