/**
 * @module handlers/memcached
 * `session.save_handler = memcached`: the php-memcached (3.x) extension's session handler, on the
 * same servers, keys, flags, expiries and lock as PHP, so PHP and Node share live sessions.
 *
 * Layout (checked against PHP in spec/memcache): data under `<sess_prefix><id>` (flags 0), lock
 * under `<sess_prefix>lock.<id>` = "1" (flags 0). Server choice hashes the key WITHOUT the prefix
 * (libmemcached's namespace is not hashed), so an id's data and lock may live on different servers.
 * Expiry: gc_maxlifetime, made absolute when above 30 days; the lock expires after
 * sess_lock_expire, else max_execution_time (session_engine.max_execution_time here, default 30
 * as under php-cgi/php-fpm, so a lock always expires).
 *
 * Requests of one process for the same session queue in the process (handlers/shared/lock-queue.ts): only the head
 * polls the server with `add`, the others wait for it, at most as long as PHP's retries would.
 */
import type { ModuleIniEntry, SaveHandler, SaveHandlerContext, SaveHandlerModule } from '../lib/handler.ts';
import { keepsLockOnWrite } from './shared/lock-hold.ts';
import { serverLockQueue, takeQueueSlot, tryTakeQueueSlot, type KeyedQueue, type QueueSlot } from './shared/lock-queue.ts';
import { ReadLease } from './shared/read-lease.ts';
import { releaseValue } from './shared/memcache/frames.ts';
import { connectionEpoch, connectionFor, MemcacheIoError, type Item, type MemcacheConnection } from './shared/memcache/client.ts';
import { atolIni, boolIni, intIni, plainBytes, REALTIME_MAXDELTA, sleep, unixNow } from './shared/memcache/common.ts';
import { LibmemcachedSelector, type LibmemcachedDistribution } from './shared/memcache/ketama.ts';
import { parseLibmemcachedServers, type LibmemcachedServer } from './shared/memcache/save-path.ts';

/**
 * This engine's stand-in for PHP's max_execution_time, which php-memcached's lock expiry falls back
 * to when memcached.sess_lock_expire is 0. The engine limits no running time, so without it every
 * lock would be stored for ever (as under PHP's CLI, where max_execution_time is 0) and a process
 * killed while holding one would leave its session locked for good. Default: 30, what php-cgi and
 * php-fpm report with no php.ini; only positive values are accepted, so every lock expires.
 */
export const MAX_EXECUTION_TIME = 'session_engine.max_execution_time';

/** The memcached.sess_* directives with php-memcached 3.2's defaults (all PHP_INI_ALL). */
export const memcachedIni: readonly ModuleIniEntry[] = [
  ['memcached.sess_locking', '1'],
  ['memcached.sess_lock_wait_min', '150'],
  ['memcached.sess_lock_wait_max', '150'],
  ['memcached.sess_lock_retries', '5'],
  ['memcached.sess_lock_expire', '0'],
  ['memcached.sess_binary_protocol', '1'],
  ['memcached.sess_consistent_hash', '1'],
  ['memcached.sess_consistent_hash_type', 'ketama'],
  ['memcached.sess_number_of_replicas', '0'],
  ['memcached.sess_randomize_replica_read', '0'],
  ['memcached.sess_remove_failed_servers', '0'],
  ['memcached.sess_server_failure_limit', '0'],
  ['memcached.sess_connect_timeout', '0'],
  ['memcached.sess_sasl_username', ''],
  ['memcached.sess_sasl_password', ''],
  ['memcached.sess_persistent', '0'],
  ['memcached.sess_prefix', 'memc.sess.key.'],
  ['memcached.sess_lock_wait', 'not set'],
  ['memcached.sess_lock_max_wait', 'not set'],
].map(([name, dflt]) => ({
  name: name!,
  default: dflt!,
  changeable: 'PHP_INI_ALL' as const,
  ...(name === 'memcached.sess_consistent_hash_type'
    ? { validate: (v: string) => (v === 'ketama' || v === 'ketama_weighted' ? undefined : 'memcached.sess_consistent_hash_type must be ketama or ketama_weighted') }
    : name === 'memcached.sess_prefix'
      ? {
          validate: (v: string) =>
            v.length > 250
              ? 'memcached.sess_prefix too long (max: 250)'
              : /[\x00-\x20\x7f]/.test(v)
                ? 'memcached.sess_prefix cannot contain whitespace or control characters'
                : undefined,
        }
      : {}),
}));

/**
 * How long, in ms, php-memcached sleeps in all when every lock attempt fails: `retries` waits,
 * the first `waitMin`, each next one doubled up to `waitMax`.
 */
export function lockWaitBudget(waitMin: number, waitMax: number, retries: number): number {
  let total = 0;
  let wait = waitMin;
  for (let r = retries; r > 0; r--) {
    total += Math.max(0, wait);
    const next = Math.min(waitMax, wait * 2);
    // Once the wait stops changing, the rest is a product (retries may be in the millions).
    if (next === wait) return total + (r - 1) * Math.max(0, wait);
    wait = next;
  }
  return total;
}

/** The session.save_path's parse, connections and continua, kept per save_path text (not parsed per request). */
interface ServerPlan {
  servers: LibmemcachedServer[];
  /** The server list as a queue-key part. */
  serverList: string;
  /** Each server as libmemcached names it in errors (`host:port`, or the socket path). */
  names: string[];
  /** Continua per distribution. */
  selectors: Map<LibmemcachedDistribution, LibmemcachedSelector>;
  /** The shared connections per timeout, as of {@link connectionEpoch}. */
  conns: Map<number, MemcacheConnection[]>;
  epoch: number;
  /** The in-process queue in front of the locks on these servers. */
  queue: KeyedQueue;
}

const plans = new Map<string, ServerPlan>();

/** The plan for `savePath`, or null when libmemcached parses no server out of it. */
function planFor(savePath: string): ServerPlan | null {
  let plan = plans.get(savePath);
  if (plan === undefined) {
    const servers = parseLibmemcachedServers(savePath);
    if (!servers) return null;
    if (plans.size > 64) plans.clear();
    const names = servers.map((x) => x.socketPath ?? `${x.host}:${x.port}`);
    const serverList = names.join(',');
    plan = { servers, serverList, names, selectors: new Map(), conns: new Map(), epoch: connectionEpoch(), queue: serverLockQueue('memcached', serverList) };
    plans.set(savePath, plan);
  }
  return plan;
}

function selectorFor(plan: ServerPlan, distribution: LibmemcachedDistribution): LibmemcachedSelector {
  let sel = plan.selectors.get(distribution);
  if (sel === undefined) {
    sel = new LibmemcachedSelector(plan.servers, distribution);
    plan.selectors.set(distribution, sel);
  }
  return sel;
}

function connectionsFor(plan: ServerPlan, timeoutMs: number): MemcacheConnection[] {
  if (plan.epoch !== connectionEpoch()) {
    plan.conns.clear();
    plan.epoch = connectionEpoch();
  }
  let conns = plan.conns.get(timeoutMs);
  if (conns === undefined) {
    conns = plan.servers.map((s) => connectionFor({ host: s.host, port: s.port, ...(s.socketPath ? { socketPath: s.socketPath } : {}) }, timeoutMs));
    plan.conns.set(timeoutMs, conns);
  }
  return conns;
}

/** libmemcached's retry_timeout: a failed server is skipped for 2 s. */
const SERVER_RETRY_MS = 2000;

/** libmemcached's texts for the failures this port can meet. */
const STRERROR = {
  connect: 'CONNECTION FAILURE',
  lookup: 'getaddrinfo() or getnameinfo() HOSTNAME LOOKUP FAILURE',
  disabled: 'SERVER HAS FAILED AND IS DISABLED UNTIL TIMED RETRY',
  timeout: 'A TIMEOUT OCCURRED',
  server: 'UNKNOWN READ FAILURE',
} as const;

/** A failed call to a server (what a call returns instead of its value). */
class Failure {
  constructor(
    /** memcached_strerror() text. */
    readonly code: string,
    /** memcached_last_error_message() text. */
    readonly message: string,
  ) {}
}

/** The item, null when missing, or the failure. */
type GetResult = Item | null | Failure;

/** The value of the lock key (flags 0). */
const LOCK_VALUE = new Uint8Array([0x31]);
/** createSid()'s placeholder value. */
const NO_VALUE = new Uint8Array(0);

/** The directives read per call, where php-memcached reads them (see {@link IniRead}). */
const INI = {
  locking: boolIni('memcached.sess_locking', true),
  consistentHash: boolIni('memcached.sess_consistent_hash', true),
  connectTimeout: intIni('memcached.sess_connect_timeout', 0),
  waitMin: intIni('memcached.sess_lock_wait_min', 150),
  waitMax: intIni('memcached.sess_lock_wait_max', 150),
  retries: intIni('memcached.sess_lock_retries', 5),
  lockExpire: intIni('memcached.sess_lock_expire', 0),
  maxExecutionTime: atolIni(MAX_EXECUTION_TIME, 30),
  removeFailed: boolIni('memcached.sess_remove_failed_servers', false),
  replicas: intIni('memcached.sess_number_of_replicas', 0),
  failureLimit: intIni('memcached.sess_server_failure_limit', 0),
};

/**
 * The keys of one session id under the current prefix and servers: computed once per id, not per
 * call (a request uses the same id from its read to its write).
 */
interface IdKeys {
  id: string;
  /** `<prefix><id>` and its server. */
  data: string;
  dataIdx: number;
  /** `lock.<id>` (the key as hashed), `<prefix>lock.<id>` and its server. */
  lockHash: string;
  lock: string;
  lockIdx: number;
}

class MemcachedSessionHandler implements SaveHandler {
  readonly name = 'memcached';
  /** The client sends the value as given and settles only after the reply, i.e. after its last byte left. */
  readonly forgetsWrittenData = true;
  readonly #ctx: SaveHandlerContext;
  #plan: ServerPlan | null = null;
  #conns: MemcacheConnection[] = [];
  #selector: LibmemcachedSelector | null = null;
  #prefix = '';
  /** The keys of the last id used (reset by open: the prefix or servers may change). */
  #keys: IdKeys | null = null;
  /** The id whose lock this request holds on the server, if any. */
  #lockedId: string | null = null;
  /** This request's place in the in-process queue for its session's lock (handlers/shared/lock-queue.ts). */
  #slot: QueueSlot | null = null;
  /** Per "memcached_st" (one per request, like PHP's non-persistent handle): server index -> failed until. */
  readonly #failedUntil = new Map<number, number>();
  /** The bytes read() returned last, for release(). */
  readonly #lease = new ReadLease(releaseValue);

  constructor(ctx: SaveHandlerContext) {
    this.#ctx = ctx;
  }

  open(savePath: string): boolean {
    const ctx = this.#ctx;
    if (savePath.includes('PERSISTENT=')) {
      ctx.diagnostic('E_WARNING', 'failed to parse session.save_path: PERSISTENT is replaced by memcached.sess_persistent = On');
      return false;
    }
    const plan = planFor(savePath);
    if (!plan) {
      ctx.diagnostic('E_WARNING', 'failed to parse session.save_path');
      return false;
    }
    let distribution: LibmemcachedDistribution = 'modula';
    if (INI.consistentHash.get(ctx)) {
      distribution = ctx.ini('memcached.sess_consistent_hash_type') === 'ketama_weighted' ? 'ketama_weighted' : 'ketama';
    }
    this.#plan = plan;
    this.#selector = selectorFor(plan, distribution);
    const connectMs = INI.connectTimeout.get(ctx);
    // libmemcached's defaults: 4 s connect timeout, 5 s poll timeout; one deadline covers both here.
    this.#conns = connectionsFor(plan, connectMs > 0 ? connectMs : 4000);
    this.#prefix = ctx.ini('memcached.sess_prefix') ?? 'memc.sess.key.';
    this.#keys = null;
    return true;
  }

  #keysFor(id: string): IdKeys {
    let k = this.#keys;
    if (k === null || k.id !== id) {
      const prefix = this.#prefix;
      const lockHash = `lock.${id}`;
      const lock = prefix + lockHash;
      k = {
        id,
        data: prefix + id,
        dataIdx: this.#selector!.select(id),
        lockHash,
        lock,
        lockIdx: this.#selector!.select(lockHash),
      };
      this.#keys = k;
    }
    return k;
  }

  /** The failure when server `idx` is marked failed (libmemcached's retry_timeout), else null. */
  #disabled(idx: number): Failure | null {
    const until = this.#failedUntil.get(idx);
    if (until !== undefined && Date.now() < until) {
      return new Failure(STRERROR.disabled, `${STRERROR.disabled},  host: ${this.#plan!.names[idx]}`);
    }
    return null;
  }

  /** Marks server `idx` failed after `e` (libmemcached's failed-server bookkeeping); the failure to report. */
  #fail(idx: number, e: unknown): Failure {
    const hostport = this.#plan!.names[idx]!;
    const err = e instanceof MemcacheIoError ? e : new MemcacheIoError('connect', String(e));
    this.#failedUntil.set(idx, Date.now() + SERVER_RETRY_MS);
    if (err.kind === 'connect' && /Name or service|name resolution/.test(err.detail)) {
      return new Failure(STRERROR.lookup, `${STRERROR.lookup},  host: ${hostport}`);
    }
    if (err.kind === 'timeout') {
      return new Failure(STRERROR.timeout, `${STRERROR.timeout},  host: ${hostport}`);
    }
    // PHP prints libmemcached's handle address and source line here; the address is not reproducible.
    return new Failure(STRERROR.connect, `(0x0) ${STRERROR.connect}(${err.detail}),  host: ${hostport} -> ./src/libmemcached/io.cc:145`);
  }

  /** Awaits `op`, started on server `idx`: its value, or the failure it ended in. */
  async #settle<T>(idx: number, op: Promise<T>): Promise<T | Failure> {
    try {
      return await op;
    } catch (e) {
      return this.#fail(idx, e);
    }
  }

  // One method per command on server `idx` (no closure per call): the reply, or the failure; a
  // server marked failed is not asked.

  #get(idx: number, key: string): Promise<GetResult> | Failure {
    return this.#disabled(idx) ?? this.#settle(idx, this.#conns[idx]!.get(key));
  }

  #add(idx: number, key: string, value: Uint8Array, exp: number): Promise<boolean | Failure> | Failure {
    return this.#disabled(idx) ?? this.#settle(idx, this.#conns[idx]!.add(key, value, 0, exp));
  }

  #set(idx: number, key: string, value: Uint8Array, exp: number): Promise<number | Failure> | Failure {
    return this.#disabled(idx) ?? this.#settle(idx, this.#conns[idx]!.set(key, value, 0, exp));
  }

  #delete(idx: number, key: string): Promise<boolean | Failure> | Failure {
    return this.#disabled(idx) ?? this.#settle(idx, this.#conns[idx]!.delete(key));
  }

  #adjust(expiration: number): number {
    return expiration <= REALTIME_MAXDELTA ? expiration : unixNow(this.#ctx) + expiration;
  }

  /**
   * Seconds a lock lives: sess_lock_expire, else max_execution_time as php-memcached does, here
   * {@link MAX_EXECUTION_TIME} (never 0, so no lock outlives its holder for ever).
   */
  #lockSeconds(): number {
    const ctx = this.#ctx;
    const lockExpire = INI.lockExpire.get(ctx);
    if (lockExpire > 0) return lockExpire;
    return Math.max(1, INI.maxExecutionTime.get(ctx));
  }

  #lockExpiration(): number {
    return this.#adjust(this.#lockSeconds());
  }

  #sessionExpiration(maxLifetime: number): number {
    return maxLifetime > 0 ? this.#adjust(maxLifetime) : 0;
  }

  /**
   * Takes the lock. When the lock and the data live on the same server, each `add` is followed on
   * the same connection by the data `get` (memcached answers in order, so the get runs after the
   * add): the get of the attempt that won the lock is the read PHP would make next, one round trip
   * sooner. Returns whether the lock is held: the prefetched read (undefined when none was made),
   * or false.
   *
   * Requests of this process for the same lock first queue here (handlers/shared/lock-queue.ts); only the head
   * sends `add`s, with PHP's whole retry schedule. A request still queued when that schedule's
   * total wait has passed fails as a PHP process whose retries all failed does.
   */
  async #lock(k: IdKeys): Promise<GetResult | undefined | false> {
    const ctx = this.#ctx;
    let wait = INI.waitMin.get(ctx);
    const waitMax = INI.waitMax.get(ctx);
    let retries = INI.retries.get(ctx);
    const entered = this.#enterQueue(this.#plan!.queue, k.lock, lockWaitBudget(wait, waitMax, retries));
    if (entered !== true && !(await entered)) return false;
    const sameServer = k.lockIdx === k.dataIdx;
    const exp = this.#lockExpiration();
    let locked = false;
    let data: GetResult | undefined;
    do {
      // Both requests leave in one write; neither promise rejects (failures are values).
      const added = this.#add(k.lockIdx, k.lock, LOCK_VALUE, exp);
      const got = sameServer ? this.#get(k.dataIdx, k.data) : undefined;
      const r = await added;
      const g = got === undefined ? undefined : await got;
      if (r === true) {
        locked = true;
        this.#lockedId = k.id;
        data = g;
      } else if (r === false) {
        if (retries > 0) {
          await sleep(Math.max(0, wait));
          wait = Math.min(waitMax, wait * 2);
        }
      } else {
        ctx.diagnostic('E_WARNING', `Failed to write session lock: ${r.code}`);
      }
    } while (!locked && retries-- > 0);
    if (!locked) {
      this.#leaveQueue();
      return false;
    }
    // The server drops the lock after this long; the next request here need not wait longer.
    this.#slot?.leaseFor(this.#lockSeconds() * 1000);
    return data;
  }

  /**
   * Waits (at most `waitMs`) for the head of this process's queue for `lockKey` in `queue`. A free
   * key is taken at once, without a promise (true); otherwise the wait's promise.
   */
  #enterQueue(queue: KeyedQueue, lockKey: string, waitMs: number): true | Promise<boolean> {
    // session_reset() reads again while this request holds the lock: it keeps its place and meets
    // its own lock on the server, as PHP does.
    const slot = this.#slot;
    if (slot !== null && slot.held && slot.queue === queue && slot.key === lockKey) return true;
    this.#leaveQueue();
    this.#slot = tryTakeQueueSlot(queue, lockKey);
    if (this.#slot !== null) return true;
    return takeQueueSlot(queue, lockKey, waitMs).then((s) => (this.#slot = s) !== null);
  }

  #leaveQueue(): void {
    this.#slot?.release();
    this.#slot = null;
  }

  async #unlock(): Promise<void> {
    const id = this.#lockedId;
    this.#lockedId = null;
    try {
      if (id !== null) {
        // Under the prefix and servers of now, as libmemcached applies its namespace per command.
        const k = this.#keysFor(id);
        await this.#delete(k.lockIdx, k.lock);
      }
    } finally {
      this.#leaveQueue();
    }
  }

  async close(): Promise<boolean> {
    await this.#unlock();
    return true;
  }

  async read(id: string): Promise<Uint8Array | false> {
    const ctx = this.#ctx;
    const k = this.#keysFor(id);
    let prefetched: GetResult | undefined;
    if (INI.locking.get(ctx)) {
      const lock = await this.#lock(k);
      if (lock === false) {
        ctx.diagnostic('E_WARNING', 'Unable to clear session lock record');
        return false;
      }
      prefetched = lock;
    }
    const r = prefetched !== undefined ? prefetched : await this.#get(k.dataIdx, k.data);
    if (r instanceof Failure) {
      ctx.diagnostic('E_WARNING', `error getting session from memcached: ${r.message}`);
      return false;
    }
    return r !== null ? this.#lease.hold(plainBytes(r.value), r.value) : new Uint8Array(0);
  }

  release(data: Uint8Array): void {
    this.#lease.release(data);
  }

  async write(id: string, data: Uint8Array, maxLifetime: number): Promise<boolean> {
    const ctx = this.#ctx;
    const k = this.#keysFor(id);
    const exp = this.#sessionExpiration(maxLifetime);
    let retries = 1;
    if (INI.removeFailed.get(ctx)) {
      const replicas = INI.replicas.get(ctx);
      const limit = INI.failureLimit.get(ctx);
      retries = 1 + replicas * (limit + 1);
    }
    // With no failover retries and the lock on the data's server, the write and the lock's release
    // go out together, one round trip: memcached answers in order, so the lock goes only after the
    // data is stored. PHP always closes right after writing, so no other client can tell; close()
    // has nothing left to release. (msession's lock() keeps the lock across writes: not merged.)
    const lockedId = this.#lockedId;
    const withUnlock = retries === 1 && lockedId !== null && !keepsLockOnWrite(this) && this.#keysFor(lockedId).lockIdx === k.dataIdx;
    do {
      const set = this.#set(k.dataIdx, k.data, data, exp);
      // Neither promise rejects: #unlock's delete returns its failure, and it leaves the queue in any case.
      const unlocked = withUnlock ? this.#unlock() : undefined;
      const r = await set;
      if (unlocked !== undefined) await unlocked;
      if (r === 0) return true;
      // A value the server refuses (too large) leaves libmemcached's last error at "SUCCESS": PHP
      // prints exactly that.
      ctx.diagnostic('E_WARNING', `error saving session to memcached: ${r instanceof Failure ? r.message : 'SUCCESS'}`);
    } while (--retries > 0);
    return false;
  }

  async destroy(id: string): Promise<boolean> {
    const k = this.#keysFor(id);
    await this.#delete(k.dataIdx, k.data);
    await this.#unlock();
    return true;
  }

  gc(): number {
    // PHP's handler returns SUCCESS without a count: session_gc() then returns false.
    return -1;
  }

  async createSid(): Promise<string | null> {
    for (let i = 0; i < 3; i++) {
      const sid = this.#ctx.createId();
      const exp = this.#lockExpiration();
      const r = await this.#add(this.#selector!.select(sid), this.#prefix + sid, NO_VALUE, exp);
      if (r === true) return sid;
    }
    return null;
  }

  async validateSid(id: string): Promise<boolean> {
    const k = this.#keysFor(id);
    const r = await this.#get(k.dataIdx, k.data);
    return r !== null && !(r instanceof Failure);
  }

  async updateTimestamp(id: string, _data: Uint8Array, maxLifetime: number): Promise<boolean> {
    // PHP only fails on MEMCACHED_FAILURE; a missing key or a dead server still reports success.
    const k = this.#keysFor(id);
    const exp = this.#sessionExpiration(maxLifetime);
    await (this.#disabled(k.dataIdx) ?? this.#settle(k.dataIdx, this.#conns[k.dataIdx]!.touch(k.data, exp)));
    return true;
  }
}

/** The directives this engine adds for the memcached module (see php.ini.sample). */
export const memcachedEngineIni: readonly ModuleIniEntry[] = [
  {
    name: MAX_EXECUTION_TIME,
    default: '30',
    changeable: 'PHP_INI_ALL',
    validate: (v) => (/^\s*[1-9]\d*\s*$/.test(v) ? undefined : `${MAX_EXECUTION_TIME} must be a positive number of seconds; "${v}" given`),
  },
];

export const memcachedModule: SaveHandlerModule = {
  name: 'memcached',
  ini: [...memcachedIni, ...memcachedEngineIni],
  create: (ctx) => new MemcachedSessionHandler(ctx),
};
