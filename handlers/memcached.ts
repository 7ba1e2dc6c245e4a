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
import { iniScope } from '../lib/ini/scope.ts';
import { keepsLockOnWrite } from './shared/lock-hold.ts';
import { serverLockQueue, takeQueueSlot, type QueueSlot } from './shared/lock-queue.ts';
import { ReadLease } from './shared/read-lease.ts';
import { releaseValue } from './shared/memcache/frames.ts';
import { connectionFor, MemcacheIoError, type Item, type MemcacheConnection } from './shared/memcache/client.ts';
import { plainBytes, REALTIME_MAXDELTA, sleep, unixNow } from './shared/memcache/common.ts';
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

/** Continua are built once per (save_path, distribution), not per request. */
const selectors = new Map<string, LibmemcachedSelector>();
function selectorFor(savePath: string, servers: LibmemcachedServer[], distribution: LibmemcachedDistribution): LibmemcachedSelector {
  const key = `${distribution}\n${savePath}`;
  let sel = selectors.get(key);
  if (!sel) {
    if (selectors.size > 64) selectors.clear();
    sel = new LibmemcachedSelector(servers, distribution);
    selectors.set(key, sel);
  }
  return sel;
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

type GetResult = { ok: true; value: Item | null } | { ok: false; failure: Failure };

interface Failure {
  /** memcached_strerror() text. */
  code: string;
  /** memcached_last_error_message() text. */
  message: string;
}

class MemcachedSessionHandler implements SaveHandler {
  readonly name = 'memcached';
  /** The client sends the value as given and settles only after the reply, i.e. after its last byte left. */
  readonly forgetsWrittenData = true;
  readonly #ctx: SaveHandlerContext;
  #servers: LibmemcachedServer[] = [];
  #conns: MemcacheConnection[] = [];
  #selector: LibmemcachedSelector | null = null;
  #prefix = '';
  #lockKey: string | null = null;
  /** The server list as a queue-key part. */
  #serverList = '';
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
    const servers = parseLibmemcachedServers(savePath);
    if (!servers) {
      ctx.diagnostic('E_WARNING', 'failed to parse session.save_path');
      return false;
    }
    let distribution: LibmemcachedDistribution = 'modula';
    if (iniScope(ctx).bool('memcached.sess_consistent_hash', true)) {
      distribution = iniScope(ctx).string('memcached.sess_consistent_hash_type', 'ketama') === 'ketama_weighted' ? 'ketama_weighted' : 'ketama';
    }
    this.#servers = servers;
    this.#serverList = servers.map((x) => x.socketPath ?? `${x.host}:${x.port}`).join(',');
    this.#selector = selectorFor(savePath, servers, distribution);
    const connectMs = iniScope(ctx).int('memcached.sess_connect_timeout', 0);
    // libmemcached's defaults: 4 s connect timeout, 5 s poll timeout; one deadline covers both here.
    const timeoutMs = connectMs > 0 ? connectMs : 4000;
    this.#conns = servers.map((s) => connectionFor({ host: s.host, port: s.port, ...(s.socketPath ? { socketPath: s.socketPath } : {}) }, timeoutMs));
    this.#prefix = iniScope(ctx).string('memcached.sess_prefix', 'memc.sess.key.');
    return true;
  }

  /** Runs `op` on the server for `hashKey`, with libmemcached's failed-server bookkeeping. */
  async #on<T>(hashKey: string, op: (c: MemcacheConnection) => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; failure: Failure }> {
    const idx = this.#selector!.select(hashKey);
    const srv = this.#servers[idx]!;
    const hostport = srv.socketPath ?? `${srv.host}:${srv.port}`;
    const until = this.#failedUntil.get(idx);
    if (until !== undefined && Date.now() < until) {
      return { ok: false, failure: { code: STRERROR.disabled, message: `${STRERROR.disabled},  host: ${hostport}` } };
    }
    try {
      return { ok: true, value: await op(this.#conns[idx]!) };
    } catch (e) {
      const err = e instanceof MemcacheIoError ? e : new MemcacheIoError('connect', String(e));
      this.#failedUntil.set(idx, Date.now() + SERVER_RETRY_MS);
      if (err.kind === 'connect' && /Name or service|name resolution/.test(err.detail)) {
        return { ok: false, failure: { code: STRERROR.lookup, message: `${STRERROR.lookup},  host: ${hostport}` } };
      }
      if (err.kind === 'timeout') {
        return { ok: false, failure: { code: STRERROR.timeout, message: `${STRERROR.timeout},  host: ${hostport}` } };
      }
      // PHP prints libmemcached's handle address and source line here; the address is not reproducible.
      return {
        ok: false,
        failure: { code: STRERROR.connect, message: `(0x0) ${STRERROR.connect}(${err.detail}),  host: ${hostport} -> ./src/libmemcached/io.cc:145` },
      };
    }
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
    const lockExpire = iniScope(ctx).int('memcached.sess_lock_expire', 0);
    if (lockExpire > 0) return lockExpire;
    return Math.max(1, Number(iniScope(ctx).atol(MAX_EXECUTION_TIME, 30n)));
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
   * sooner. Returns whether the lock is held and, if so, that prefetched read.
   *
   * Requests of this process for the same lock first queue here (handlers/shared/lock-queue.ts); only the head
   * sends `add`s, with PHP's whole retry schedule. A request still queued when that schedule's
   * total wait has passed fails as a PHP process whose retries all failed does.
   */
  async #lock(id: string): Promise<{ locked: boolean; data?: GetResult }> {
    const ctx = this.#ctx;
    const key = `lock.${id}`;
    let wait = iniScope(ctx).int('memcached.sess_lock_wait_min', 150);
    const waitMax = iniScope(ctx).int('memcached.sess_lock_wait_max', 150);
    let retries = iniScope(ctx).int('memcached.sess_lock_retries', 5);
    if (!(await this.#enterQueue(`memcached\n${this.#serverList}\n${this.#prefix}${key}`, lockWaitBudget(wait, waitMax, retries)))) {
      return { locked: false };
    }
    const sameServer = this.#selector!.select(key) === this.#selector!.select(id);
    const exp = this.#lockExpiration();
    let locked = false;
    let data: GetResult | undefined;
    do {
      const [r, got] = await Promise.all([
        this.#on(key, (c) => c.add(this.#prefix + key, '1', 0, exp)),
        sameServer ? this.#getData(id) : undefined,
      ]);
      if (r.ok && r.value) {
        locked = true;
        this.#lockKey = key;
        data = got;
      } else if (r.ok) {
        if (retries > 0) {
          await sleep(Math.max(0, wait));
          wait = Math.min(waitMax, wait * 2);
        }
      } else {
        ctx.diagnostic('E_WARNING', `Failed to write session lock: ${r.failure.code}`);
      }
    } while (!locked && retries-- > 0);
    if (locked) {
      // The server drops the lock after this long; the next request here need not wait longer.
      this.#slot?.leaseFor(this.#lockSeconds() * 1000);
    } else {
      this.#leaveQueue();
    }
    return data === undefined ? { locked } : { locked, data };
  }

  /** Waits (at most `waitMs`) for the head of this process's queue for `queueKey`. */
  async #enterQueue(queueKey: string, waitMs: number): Promise<boolean> {
    // session_reset() reads again while this request holds the lock: it keeps its place and meets
    // its own lock on the server, as PHP does.
    if (this.#slot?.held === true && this.#slot.key === queueKey) return true;
    this.#leaveQueue();
    this.#slot = await takeQueueSlot(serverLockQueue, queueKey, waitMs);
    return this.#slot !== null;
  }

  #leaveQueue(): void {
    this.#slot?.release();
    this.#slot = null;
  }

  #getData(id: string): Promise<GetResult> {
    return this.#on(id, (c) => c.get(this.#prefix + id));
  }

  async #unlock(): Promise<void> {
    const key = this.#lockKey;
    this.#lockKey = null;
    try {
      if (key !== null) await this.#on(key, (c) => c.delete(this.#prefix + key));
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
    let prefetched: GetResult | undefined;
    if (iniScope(ctx).bool('memcached.sess_locking', true)) {
      const lock = await this.#lock(id);
      if (!lock.locked) {
        ctx.diagnostic('E_WARNING', 'Unable to clear session lock record');
        return false;
      }
      prefetched = lock.data;
    }
    const r = prefetched ?? (await this.#getData(id));
    if (!r.ok) {
      ctx.diagnostic('E_WARNING', `error getting session from memcached: ${r.failure.message}`);
      return false;
    }
    return r.value ? this.#lease.hold(plainBytes(r.value.value), r.value.value) : new Uint8Array(0);
  }

  release(data: Uint8Array): void {
    this.#lease.release(data);
  }

  async write(id: string, data: Uint8Array, maxLifetime: number): Promise<boolean> {
    const ctx = this.#ctx;
    const exp = this.#sessionExpiration(maxLifetime);
    let retries = 1;
    if (iniScope(ctx).bool('memcached.sess_remove_failed_servers', false)) {
      const replicas = iniScope(ctx).int('memcached.sess_number_of_replicas', 0);
      const limit = iniScope(ctx).int('memcached.sess_server_failure_limit', 0);
      retries = 1 + replicas * (limit + 1);
    }
    // With no failover retries and the lock on the data's server, the write and the lock's release
    // go out together, one round trip: memcached answers in order, so the lock goes only after the
    // data is stored. PHP always closes right after writing, so no other client can tell; close()
    // has nothing left to release. (msession's lock() keeps the lock across writes: not merged.)
    const lockKey = this.#lockKey;
    const withUnlock = retries === 1 && lockKey !== null && !keepsLockOnWrite(this) && this.#selector!.select(lockKey) === this.#selector!.select(id);
    do {
      const set = this.#on(id, (c) => c.set(this.#prefix + id, data, 0, exp));
      const r = withUnlock ? (await Promise.all([set, this.#unlock()]))[0] : await set;
      if (r.ok && r.value === 0) return true;
      // A value the server refuses (too large) leaves libmemcached's last error at "SUCCESS": PHP
      // prints exactly that.
      ctx.diagnostic('E_WARNING', `error saving session to memcached: ${r.ok ? 'SUCCESS' : r.failure.message}`);
    } while (--retries > 0);
    return false;
  }

  async destroy(id: string): Promise<boolean> {
    await this.#on(id, (c) => c.delete(this.#prefix + id));
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
      const r = await this.#on(sid, (c) => c.add(this.#prefix + sid, '', 0, exp));
      if (r.ok && r.value) return sid;
    }
    return null;
  }

  async validateSid(id: string): Promise<boolean> {
    const r = await this.#on(id, (c) => c.get(this.#prefix + id));
    return r.ok && r.value !== null;
  }

  async updateTimestamp(id: string, _data: Uint8Array, maxLifetime: number): Promise<boolean> {
    // PHP only fails on MEMCACHED_FAILURE; a missing key or a dead server still reports success.
    await this.#on(id, (c) => c.touch(this.#prefix + id, this.#sessionExpiration(maxLifetime)));
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
