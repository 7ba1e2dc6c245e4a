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
 * Requests of one process for the same session queue in the process (handlers/shared/lock-queue.ts): only the head
 * polls the server, with PHP's whole budget, so the unlocked fallback happens only against other
 * processes, where PHP's would. A request still queued after 2 * lock_timeout fails its read
 * (PHP's "Failed to read session data" warning, session_start() false) instead.
 *
 * With several servers each session is written to memcache.session_redundancy distinct servers,
 * walking the hash ring with `<id>-0`, `<id>-1`, ... (a server met again is passed over, so the walk
 * goes on until it has found that many, or every server). read() walks the same order but stops at
 * the first server where it gets the lock: the data there, or an empty session when that server
 * has none. That is the installed pecl memcache (4.0.5.2 for PHP 8, Debian): it does not go on to
 * the replica when the first server lost the item (it reads empty and then overwrites both), and
 * never takes a second lock on a server it already locked. Checked with php-cgi and strace in
 * spec/memcache/placement.test.ts. Servers that fail are skipped in both walks.
 *
 * A server that fails is left out for the rest of the request, and the write succeeds when one
 * server stored the session: pecl memcache's write returns SUCCESS with no warning when one of
 * its session_redundancy servers fails (checked with PHP against a server that resets or hangs on
 * the write), and so does this handler. Because PHP says nothing, each server failure and each
 * write that reached fewer servers than intended is published on the diagnostics channel
 * {@link MEMCACHE_CHANNEL} instead (subscribe with node:diagnostics_channel).
 */
import { channel } from 'node:diagnostics_channel';
import { deflateSync, inflateSync } from 'node:zlib';
import type { ModuleIniEntry, SaveHandler, SaveHandlerContext, SaveHandlerModule } from '../lib/handler.ts';
import { keepsLockOnWrite } from './shared/lock-hold.ts';
import { serverLockQueue, takeQueueSlot, tryTakeQueueSlot, type KeyedQueue, type QueueSlot } from './shared/lock-queue.ts';
import { ReadLease } from './shared/read-lease.ts';
import { releaseValue } from './shared/memcache/frames.ts';
import { connectionEpoch, connectionFor, MemcacheIoError, type MemcacheConnection } from './shared/memcache/client.ts';
import { atolIni, intIni, plainBytes, sleep, unixNow } from './shared/memcache/common.ts';
import { PeclSelector } from './shared/memcache/pecl-ring.ts';
import { cStrtol } from '../lib/zend/index.ts';
import { parsePeclSavePath, type PeclServerSpec } from './shared/memcache/save-path.ts';

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
const LOCK_TAKEN = new TextEncoder().encode('1');
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

/**
 * Reverses {@link packSessionValue}; null when the item is not a string PHP would accept. The
 * bytes are not copied: an uncompressed value comes back over the same memory.
 */
export function unpackSessionValue(value: Uint8Array, flags: number): Uint8Array | null {
  if ((flags & NON_STRING) !== 0) return null;
  if (flags & MMC_COMPRESSED && value.length > 0) {
    try {
      return plainBytes(inflateSync(value));
    } catch {
      return null;
    }
  }
  return plainBytes(value);
}

/** Name of the node:diagnostics_channel on which this handler reports what PHP keeps silent. */
export const MEMCACHE_CHANNEL = 'php-session-engine:memcache';
const reports = channel(MEMCACHE_CHANNEL);

/** A server failed during a request; pecl memcache leaves it out for the rest of the request. */
export interface MemcacheServerFailure {
  type: 'server-failure';
  /** `host:port` or the unix socket path. */
  server: string;
  error: MemcacheIoError;
}

/**
 * write() stored the session on fewer servers than it walked for (session_redundancy, at most
 * the number of servers): the `failed` ones failed now or earlier in the request. `written` is
 * what write() returned (true when any server stored it, as in PHP).
 */
export interface MemcacheReplicaLost {
  type: 'replica-lost';
  key: string;
  /** Servers the session should be on. */
  wanted: number;
  stored: string[];
  failed: string[];
  written: boolean;
}

/** What {@link MEMCACHE_CHANNEL} carries. */
export type MemcacheReport = MemcacheServerFailure | MemcacheReplicaLost;

/** The parse of a save path (with its default port), its connections and rings, kept per path text. */
interface ServerPlan {
  defaultPort: number;
  servers: PeclServerSpec[];
  /** The server list as a queue-key part (`host:port,...`). */
  serverList: string;
  /** Rings per hash strategy and function. */
  selectors: Map<string, PeclSelector>;
  /** The shared connections, as of {@link connectionEpoch}. */
  conns: MemcacheConnection[] | null;
  epoch: number;
  /** The in-process queue in front of the locks on these servers. */
  queue: KeyedQueue;
}

const plans = new Map<string, ServerPlan>();

/** The plan for `path`, or the parse's failure (not kept). */
function planFor(path: string, defaultPort: number): ServerPlan | { ok: false; warning?: string } {
  let plan = plans.get(path);
  if (plan === undefined || plan.defaultPort !== defaultPort) {
    const r = parsePeclSavePath(path, defaultPort);
    if (!r.ok) return r;
    if (plans.size > 64) plans.clear();
    const serverList = r.servers.map((x) => x.socketPath ?? `${x.host}:${x.port}`).join(',');
    plan = { defaultPort, servers: r.servers, serverList, selectors: new Map(), conns: null, epoch: connectionEpoch(), queue: serverLockQueue('memcache', serverList) };
    plans.set(path, plan);
  }
  return plan;
}

/** The numeric directives, read per call where pecl memcache reads them (see IniRead). */
const INI = {
  defaultPort: intIni('memcache.default_port', 11211),
  maxFailoverAttempts: atolIni('memcache.max_failover_attempts', 20),
  lockTimeout: atolIni('memcache.lock_timeout', 15),
  sessionRedundancy: atolIni('memcache.session_redundancy', 2),
  compressThreshold: atolIni('memcache.compress_threshold', 20000),
};

/** Bound on a ring walk's candidate keys (see #walk); real rings find every server long before. */
const WALK_LIMIT = 10_000;

/** mmc_prepare_key_ex: prefix + id, bytes <= 0x20 become '_', at most 250 bytes. */
function prepareKey(id: string, prefix: string): string {
  let k = prefix + id;
  if (/[\x00-\x20]/.test(k)) k = k.replace(/[\x00-\x20]/g, '_');
  return k.length > MAX_KEY_LEN ? k.slice(0, MAX_KEY_LEN) : k;
}

class MemcacheSessionHandler implements SaveHandler {
  readonly name = 'memcache';
  /** write() awaits every server's reply, i.e. after the last byte of the value left. */
  readonly forgetsWrittenData = true;
  readonly #ctx: SaveHandlerContext;
  #servers: PeclServerSpec[] = [];
  #conns: MemcacheConnection[] = [];
  #selector: PeclSelector | null = null;
  /** Servers that failed during this request (pecl marks them failed for retry_interval). */
  readonly #failed = new Set<number>();
  /** The bytes read() returned last, for release(). */
  readonly #lease = new ReadLease(releaseValue);
  /** The in-process queue in front of the locks on this request's servers. */
  #queue: KeyedQueue | null = null;
  /** This request's place in the in-process queue for its session's lock (handlers/shared/lock-queue.ts). */
  #slot: QueueSlot | null = null;

  constructor(ctx: SaveHandlerContext) {
    this.#ctx = ctx;
  }

  open(savePath: string): boolean {
    const ctx = this.#ctx;
    const own = ctx.ini('memcache.session_save_path') ?? '';
    const plan = planFor(own !== '' ? own : savePath, INI.defaultPort.get(ctx));
    if (!('servers' in plan)) {
      if (plan.warning) ctx.diagnostic('E_WARNING', plan.warning);
      return false;
    }
    this.#servers = plan.servers;
    this.#queue = plan.queue;
    const strategy = (ctx.ini('memcache.hash_strategy') ?? 'consistent').toLowerCase() === 'standard' ? 'standard' : 'consistent';
    const fn = (ctx.ini('memcache.hash_function') ?? 'crc32').toLowerCase() === 'fnv' ? 'fnv' : 'crc32';
    const selKey = strategy === 'standard' ? (fn === 'fnv' ? 'standard fnv' : 'standard crc32') : fn === 'fnv' ? 'consistent fnv' : 'consistent crc32';
    let sel = plan.selectors.get(selKey);
    if (!sel) {
      sel = new PeclSelector(plan.servers, strategy, fn);
      plan.selectors.set(selKey, sel);
    }
    this.#selector = sel;
    if (plan.conns === null || plan.epoch !== connectionEpoch()) {
      plan.conns = plan.servers.map((s) =>
        connectionFor({ host: s.host, port: s.port, ...(s.socketPath ? { socketPath: s.socketPath } : {}) }, Math.max(1, Math.round(s.timeoutSec * 1000))),
      );
      plan.epoch = connectionEpoch();
    }
    this.#conns = plan.conns;
    return true;
  }

  /** mmc_pool_find_next: the next server in the failover sequence not in `skip` (failed ones included). */
  #findNext(key: string, skip: readonly number[], state: { last: number }): number {
    const max = INI.maxFailoverAttempts.get(this.#ctx);
    // One server: every candidate key lands on it (no key to build and hash).
    const single = this.#servers.length <= 1;
    let s: number;
    do {
      s = single ? 0 : this.#selector!.select(`${key}-${state.last}`);
      state.last++;
    } while (skip.includes(s) && state.last < max);
    return s;
  }

  #serverName(idx: number): string {
    const s = this.#servers[idx]!;
    return s.socketPath ?? `${s.host}:${s.port}`;
  }

  /**
   * Awaits an op started on server `idx` (a client call, which never throws before it returns its
   * promise); a transport failure marks the server failed for the rest of the request.
   */
  async #try<T>(idx: number, op: Promise<T>): Promise<T | undefined> {
    try {
      return await op;
    } catch (e) {
      this.#failed.add(idx);
      if (reports.hasSubscribers) {
        const error = e instanceof MemcacheIoError ? e : new MemcacheIoError('connect', String(e));
        reports.publish({ type: 'server-failure', server: this.#serverName(idx), error } satisfies MemcacheServerFailure);
      }
      return undefined;
    }
  }

  /**
   * PS_CLOSE_FUNC(memcache) leaves the server lock alone (write() released it, or it expires);
   * this request's place in the in-process queue goes to the next request here.
   */
  close(): boolean {
    this.#slot?.release();
    this.#slot = null;
    return true;
  }

  /**
   * Waits for the head of this process's queue for `lockKey` in `queue`, at most PHP's whole lock budget
   * (2 * lock_timeout); false when that ran out. The head alone polls the server; requests
   * behind it never do, so they cannot use up their budget against each other. A request that
   * already holds the place (session_reset reads again) keeps it.
   */
  #enterQueue(queue: KeyedQueue, lockKey: string, lockTimeout: number): true | Promise<boolean> {
    const slot = this.#slot;
    if (slot !== null && slot.held && slot.queue === queue && slot.key === lockKey) return true;
    this.#slot?.release();
    // A free key is taken at once, without a promise.
    this.#slot = tryTakeQueueSlot(queue, lockKey);
    if (this.#slot !== null) return true;
    return takeQueueSlot(queue, lockKey, lockTimeout * 2000).then((s) => (this.#slot = s) !== null);
  }

  release(data: Uint8Array): void {
    this.#lease.release(data);
  }

  async read(id: string): Promise<Uint8Array | false> {
    const ctx = this.#ctx;
    const key = prepareKey(id, ctx.ini('memcache.session_prefix_static_key') ?? '');
    const lockKey = `${key}.lock`;
    const lockTimeout = INI.lockTimeout.get(ctx);
    const redundancy = INI.sessionRedundancy.get(ctx);
    const n = this.#servers.length;
    // A request that waited its whole budget behind others of this process fails loudly (the
    // engine warns "Failed to read session data"); PHP's silent unlocked read is kept for the head
    // of the queue, which meets only other processes, as a PHP process would.
    const entered = this.#enterQueue(this.#queue!, lockKey, lockTimeout);
    if (entered !== true && !(await entered)) return false;
    // The server lock lives lock_timeout seconds at most (less when incr took it from the record
    // write() left); so does this request's claim on the queue.
    try {
      return await this.#readLocked(key, lockKey, lockTimeout, redundancy, n);
    } finally {
      this.#slot?.leaseFor(lockTimeout * 1000);
    }
  }

  /**
   * The rest of PS_READ_FUNC(memcache): PHP's lock loop, with the whole budget for the head. A
   * server that failed (observed in PHP, spec/memcache/pool: the hash strategy does not fail over;
   * a dead server takes its place in the skip list) is skipped; the first server that grants the
   * lock answers the read, with an empty session when it has no item.
   */
  async #readLocked(key: string, lockKey: string, lockTimeout: number, redundancy: number, n: number): Promise<Uint8Array> {
    const skip: number[] = [];
    const state = { last: 0 };
    let backoffUs = 5000;
    let remainingUs = lockTimeout * 1_000_000 * 2;
    let rounds = 0;
    do {
      const prev = state.last;
      const idx = this.#findNext(key, skip, state);
      if (this.#failed.has(idx)) {
        if (!skip.includes(idx)) skip.push(idx);
        continue;
      }
      // PHP pipelines the three requests to one server; so do we.
      // (In one write; #try never rejects.)
      const c = this.#conns[idx]!;
      const incrP = this.#try(idx, c.incr(lockKey, 1));
      const addedP = this.#try(idx, c.add(lockKey, LOCK_TAKEN, MMC_TYPE_LONG, lockTimeout));
      const itemP = this.#try(idx, c.get(key));
      const incr = await incrP;
      const added = await addedP;
      const item = await itemP;
      if (incr === 1n || added === true) {
        const bytes = item ? unpackSessionValue(item.value, item.flags) : null;
        // Uncompressed, the bytes are the reply's own memory: release() may give it back.
        return bytes === null ? new Uint8Array(0) : bytes.buffer === item!.value.buffer ? this.#lease.hold(bytes, item!.value) : bytes;
      }
      // Lock not granted (held elsewhere, or the server failed just now): back off and ask the
      // same server again; a failed one then goes to the skip list.
      state.last = prev;
      await sleep(backoffUs / 1000);
      remainingUs -= backoffUs;
      backoffUs = Math.min(backoffUs * 2, 1_000_000);
    } while (skip.length < redundancy && skip.length < n && remainingUs > 0 && ++rounds < WALK_LIMIT);
    return new Uint8Array(0);
  }

  /** The servers a write/destroy goes to: up to session_redundancy, walking the ring. */
  #targets(key: string): number[] {
    return this.#walk(key).targets;
  }

  /**
   * The ring walk of write/destroy: `wanted` distinct servers (session_redundancy, at most all of
   * them), of which `targets` are not failed. As mmc_queue_push, a server met again does not count,
   * so the walk goes on past the failover attempts, one candidate key at a time, until it finds
   * another server (PHP sends the write again to the repeated server meanwhile; the stored state is
   * the same). A ring where no other server ever comes up would keep PHP looping; the walk gives up
   * after a bound no real ring reaches.
   */
  #walk(key: string): { targets: number[]; wanted: number } {
    const redundancy = INI.sessionRedundancy.get(this.#ctx);
    const n = this.#servers.length;
    const skip: number[] = [];
    const out: number[] = [];
    const state = { last: 0 };
    for (let round = 0; skip.length < redundancy && skip.length < n && round < WALK_LIMIT; round++) {
      const idx = this.#findNext(key, skip, state);
      if (skip.includes(idx)) continue;
      skip.push(idx);
      if (!this.#failed.has(idx)) out.push(idx);
    }
    return { targets: out, wanted: skip.length };
  }

  async write(id: string, data: Uint8Array, maxLifetime: number): Promise<boolean> {
    const ctx = this.#ctx;
    const key = prepareKey(id, ctx.ini('memcache.session_prefix_static_key') ?? '');
    const exp = unixNow(ctx) + maxLifetime;
    const lockTimeout = INI.lockTimeout.get(ctx);
    const packed = packSessionValue(data, INI.compressThreshold.get(ctx));
    const walk = this.#walk(key);
    const keepLock = keepsLockOnWrite(this);
    const results = await Promise.all(
      walk.targets.map(async (idx) => {
        const c = this.#conns[idx]!;
        const dP = this.#try(idx, c.set(key, packed.bytes, packed.flags, exp));
        // msession's lock() writes and keeps the lock: its release comes with unlock()'s write.
        const lP = keepLock ? 0 : this.#try(idx, c.set(`${key}.lock`, LOCK_RELEASED, MMC_TYPE_LONG, lockTimeout));
        const d = await dP;
        const l = await lP;
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
    const written = results.some(Boolean);
    const stored = walk.targets.filter((_, i) => results[i]);
    if (stored.length < walk.wanted && reports.hasSubscribers) {
      const failed = [...new Set([...walk.targets.filter((_, i) => !results[i]), ...this.#failed])];
      reports.publish({
        type: 'replica-lost',
        key,
        wanted: walk.wanted,
        stored: stored.map((i) => this.#serverName(i)),
        failed: failed.map((i) => this.#serverName(i)),
        written,
      } satisfies MemcacheReplicaLost);
    }
    return written;
  }

  async destroy(id: string): Promise<boolean> {
    const key = prepareKey(id, this.#ctx.ini('memcache.session_prefix_static_key') ?? '');
    const results = await Promise.all(
      this.#targets(key).map(async (idx) => {
        const c = this.#conns[idx]!;
        const dP = this.#try(idx, c.delete(key));
        const lP = this.#try(idx, c.delete(`${key}.lock`));
        const d = await dP;
        const l = await lP;
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
