/**
 * @module handlers/redis
 * `session.save_handler = redis`: phpredis 5.3.7's `redis` session handler (Debian's php-redis),
 * on the same servers, keys, values, TTLs and lock as PHP, so PHP and Node share live sessions.
 *
 * Layout (checked against PHP in spec/redis): the session is the raw encoded bytes under
 * `<prefix><id>` (prefix `PHPREDIS_SESSION:` unless the server's `prefix=` says otherwise), written
 * with SETEX for session.gc_maxlifetime seconds, touched with EXPIRE, checked with EXISTS, removed
 * with DEL; gc is Redis' own expiry. The server for an id: the id's first four bytes as a
 * little-endian uint32, modulo the total weight, walked over the servers in reverse order of the
 * save_path; no failover.
 *
 * Locking (`redis.session.locking_enabled`, off by default): `SET <key>_LOCK <secret> NX [PX ms]`
 * retried `lock_retries` times `lock_wait_time` µs apart; released by a compare-and-delete script
 * (EVALSHA, then EVAL), so a lock that expired and was taken by another request is never deleted
 * by its former owner. As in 5.3.7, a lock not obtained is a notice and the read goes on, but the
 * write is then refused. The secret is unique per request (PHP uses `hostname|pid`). Same-id
 * requests of this process queue in-process first, so only one of them polls Redis.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ModuleIniEntry, SaveHandler, SaveHandlerContext, SaveHandlerModule } from '../lib/handler.ts';
import { keepsLockOnWrite } from './shared/lock-hold.ts';
import { sessionLockQueue } from './shared/lock-queue.ts';
import { PhpException } from '../lib/errors.ts';
import { MAX_EXECUTION_TIME } from './memcached.ts';
import { redisConnection, RedisIoError, type RedisConnection, type RedisReply } from './redis/client.ts';
import { iniCInt, iniLong } from './redis/conf.ts';
import { releaseReply } from './redis/reply-reader.ts';
import { ReadLease } from './shared/read-lease.ts';
import { cachedRedisSavePath, type PoolMember } from './redis/save-path.ts';

export { opensslIni } from './redis/save-path.ts';

export { closeRedisConnections } from './redis/client.ts';

/** The redis.session.* directives with phpredis 5.3.7's defaults (PHP_INI_ALL, no validation). */
export const redisIni: readonly ModuleIniEntry[] = [
  ['redis.session.locking_enabled', '0'],
  ['redis.session.lock_expire', '0'],
  ['redis.session.lock_retries', '10'],
  ['redis.session.lock_wait_time', '2000'],
].map(([name, dflt]) => ({ name: name!, default: dflt!, changeable: 'PHP_INI_ALL' as const }));

/**
 * ext/openssl's CA locations (PHP_INI_PERDIR, empty by default), read by PHP's TLS transports
 * when no stream option names a CA: registered by both redis modules for their `tls://` paths.
 */
export const opensslCaIni: readonly ModuleIniEntry[] = ['openssl.cafile', 'openssl.capath'].map((name) => ({ name, default: '', changeable: 'PHP_INI_PERDIR' as const }));

const LOCK_RELEASE_LUA = 'if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end';
const LOCK_RELEASE_SHA = 'b70c2384248f88e6b75b9f89241a180f856ad852';
const INT_MAX = 2147483647;
/** php-fpm's max_execution_time: the lock TTL when lock_expire is 0 and session_engine.max_execution_time is unknown. */
export const DEFAULT_LOCK_EXPIRE_SEC = 30;

/** A RedisException, as phpredis throws it for a broken connection or a fatal server error. */
export class RedisException extends PhpException {
  override get name(): string {
    return 'RedisException';
  }
}

/** session_gc_maxlifetime() of redis_session.c: the TTL, with phpredis' notices. */
export function sessionTtl(ctx: SaveHandlerContext): number {
  const value = iniLong(ctx, 'session.gc_maxlifetime');
  if (value > INT_MAX) {
    ctx.diagnostic('E_NOTICE', 'session.gc_maxlifetime overflows INT_MAX, truncating.');
    return INT_MAX;
  }
  if (value <= 0) {
    ctx.diagnostic('E_NOTICE', 'session.gc_maxlifetime is <= 0, defaulting to 1440 seconds');
    return 1440;
  }
  return value;
}

/** The first four bytes of a key as a native (little-endian) uint32; missing bytes read as 0. */
function keyPosition(key: string): number {
  let pos = 0;
  for (let i = 3; i >= 0; i--) pos = pos * 256 + (i < key.length ? key.charCodeAt(i) & 0xff : 0);
  return pos;
}

/**
 * A lock secret unique to this request: PHP's `hostname|pid`, then a per-request suffix (a
 * counter and a random tag drawn once per process, so no two requests of any process share it).
 * The host name is read once per process, not per request.
 */
const secretBase = `${hostname()}|${process.pid}|`;
const secretTag = randomBytes(6).toString('hex');
let secretSeq = 0;
function newSecret(): string {
  secretSeq = (secretSeq + 1) % 0x7fffffff;
  return `${secretBase}${secretSeq.toString(36)}.${secretTag}`;
}

const sleepUs = (us: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, us) / 1000));

/** IS_REDIS_OK: the +OK status reply (ioredis hands status replies over as Buffers here). */
const isOk = (r: RedisReply): boolean => (Buffer.isBuffer(r) ? r.length === 2 && r[0] === 0x4f && r[1] === 0x4b : r === 'OK');

/** PHP's text for a failed host lookup (php_network_getaddresses). */
function lookupWarning(host: string, e: RedisIoError): string | null {
  if (e.kind !== 'connect') return null;
  if (e.detail === 'ENOTFOUND') return `php_network_getaddresses: getaddrinfo for ${host} failed: Name or service not known`;
  if (e.detail === 'EAI_AGAIN') return `php_network_getaddresses: getaddrinfo for ${host} failed: Temporary failure in name resolution`;
  return null;
}

type CmdResult = { reply: RedisReply } | { failed: RedisIoError };

const toReply = (reply: RedisReply): CmdResult => ({ reply });

/** A Lua script and its SHA1, run with EVALSHA and, if the server lacks it, EVAL. */
interface Script {
  lua: string;
  sha: string;
}

const script = (lua: string): Script => ({ lua, sha: createHash('sha1').update(lua).digest('hex') });

/**
 * The last write of a locked request and its unlock in one step: SETEX KEYS[1] ARGV[1] ARGV[2]
 * and DEL KEYS[2] (the lock) only while the lock holds ARGV[3]; nil otherwise. A failing SETEX
 * aborts the script before the DEL, so the lock is then released by close() as usual.
 */
const CHECKED_SETEX_UNLOCK = script(
  'if redis.call("get",KEYS[2]) == ARGV[3] then redis.call("setex",KEYS[1],ARGV[1],ARGV[2]) redis.call("del",KEYS[2]) return 1 else return false end',
);

/** The in-process lock queue's key prefix for a server (its address and database). */
const queuePrefixes = new WeakMap<PoolMember, string>();
function queuePrefix(m: PoolMember): string {
  let p = queuePrefixes.get(m);
  if (p === undefined) {
    p = `redis\n${m.label}:${m.endpoint.port}/${m.endpoint.database}\n`;
    queuePrefixes.set(m, p);
  }
  return p;
}

interface LockStatus {
  isLocked: boolean;
  sessionKey: string | null;
  lockKey: string | null;
  secret: string | null;
  /** The server the lock was taken on (where it is released). */
  member: PoolMember | null;
  /** Whether the lock was set with an expiry (then a write first checks it is still ours). */
  expiring: boolean;
  /** Leaves this process' queue for the lock key. */
  leaveQueue: (() => void) | null;
}

class RedisSessionHandler implements SaveHandler {
  readonly name = 'redis';
  /**
   * write() settles only once its command (SETEX, or the checked-SETEX script) settled, and then
   * nothing reads `data` again (lib/session/bytes-pool.ts may encode a later session into it):
   * - a reply (OK or an error) comes after the server read the whole command, so the socket had
   *   written its last byte; ioredis' Command object still holds the argument but never sends it
   *   again: the offline queue is off (a command on a socket not ready is refused unsent),
   *   ioredis never reconnects (retryStrategy null) and autoResendUnfulfilledCommands is off, so
   *   no queued command is ever resent; a BufferCommand never goes into an ioredis Pipeline;
   * - without a reply (timeout, a cut connection, a stream ioredis cannot parse), the connection
   *   is dropped and its socket destroyed before the command's failure reaches this module
   *   (client.ts RedisConnection #drop): libuv writes nothing more of it once it is closed.
   *   (ioredis' own disconnect only ends the socket, which keeps writing what is queued.)
   */
  readonly forgetsWrittenData = true;
  readonly #ctx: SaveHandlerContext;
  #members: PoolMember[] = [];
  #totalWeight = 0;
  readonly #lock: LockStatus = { isLocked: false, sessionKey: null, lockKey: null, secret: null, member: null, expiring: false, leaveQueue: null };
  /**
   * RedisSock status per server for this request, as phpredis keeps it: connected on first use;
   * a connection that breaks afterwards raises RedisException("Connection lost") and the server
   * is failed for the rest of the request.
   */
  readonly #state = new Map<PoolMember, 'ready' | 'failed'>();
  /** The bytes read() returned last, for release(). */
  readonly #lease = new ReadLease(releaseReply);
  /** The RedisException phpredis would have set during the current call (thrown when it returns). */
  #exception: RedisException | null = null;

  constructor(ctx: SaveHandlerContext) {
    this.#ctx = ctx;
  }

  open(savePath: string): boolean {
    const r = cachedRedisSavePath(savePath, this.#ctx);
    for (const w of r.warnings) this.#ctx.diagnostic('E_WARNING', w);
    if (!r.ok) return false;
    this.#members = r.members;
    this.#totalWeight = r.totalWeight;
    return true;
  }

  /**
   * redis_pool_get_sock: the member for `key`, connected; null when it cannot connect. A member
   * already connected in this request is returned as is (no promise, no await).
   */
  #sock(key: string): PoolMember | null | Promise<PoolMember | null> {
    const total = this.#totalWeight >>> 0;
    if (total === 0) return null;
    const pos = keyPosition(key) % total;
    let i = 0;
    for (const m of this.#members) {
      if (pos >= i && pos < i + m.weight) {
        const state = this.#state.get(m);
        if (state === 'ready') return m;
        if (state === 'failed') return null;
        // The process' connection is already up (a persistent connection, as phpredis reuses it):
        // nothing to wait for.
        if (this.#conn(m).connected) {
          this.#state.set(m, 'ready');
          return m;
        }
        return this.#connect(m);
      }
      i += m.weight;
    }
    return null;
  }

  async #connect(m: PoolMember): Promise<PoolMember | null> {
    try {
      await this.#conn(m).open();
      this.#state.set(m, 'ready');
      return m;
    } catch (e) {
      if (e instanceof RedisIoError) {
        for (const w of e.phpWarnings) this.#ctx.diagnostic('E_WARNING', w.message, w.raw);
        const w = lookupWarning(m.endpoint.host, e);
        if (w !== null) this.#ctx.diagnostic('E_WARNING', w);
      }
      return null;
    }
  }

  #conn(m: PoolMember): RedisConnection {
    return redisConnection(m.endpoint);
  }

  /**
   * redis_sock_read after a command: the reply, or null where phpredis' reader returns NULL (an
   * error reply or a broken connection). Errors phpredis throws for become a RedisException.
   */
  #cmd(m: PoolMember, command: string, ...args: (string | Buffer | number)[]): Promise<CmdResult> {
    return this.#conn(m).send(command, args).then(toReply, (e: unknown) => this.#failed(m, e));
  }

  /** A failed command: PHP's RedisException where phpredis throws one, and the failure. */
  #failed(m: PoolMember, e: unknown): CmdResult {
    if (!(e instanceof RedisIoError)) throw e;
    if (e.kind === 'reply') {
      // redis_error_throw: plain ERR and a few known codes are returned; others throw.
      const msg = e.detail;
      const quiet = (msg.startsWith('ERR') && !msg.startsWith('ERR AUTH')) || /^(NOSCRIPT|NOQUORUM|NOGOODSLAVE|WRONGTYPE|BUSYGROUP|NOGROUP)/.test(msg);
      if (!quiet) this.#exception ??= new RedisException(msg);
    } else if (this.#state.get(m) !== 'failed') {
      // redis_check_eof / redis_sock_gets on a connection that was up: the reconnect failed.
      this.#state.set(m, 'failed');
      const ep = m.endpoint;
      const host = ep.scheme === 'unix' ? ep.path! : `${ep.scheme}://${m.label}`;
      this.#exception ??= new RedisException(e.kind === 'timeout' ? `read error on connection to ${host}:${ep.port}` : 'Connection lost');
    }
    return { failed: e };
  }

  /** EVALSHA, then EVAL when the server does not have the script yet. */
  async #script(m: PoolMember, sc: Script, keys: string[], args: (string | Buffer | number)[]): Promise<CmdResult> {
    const r = await this.#cmd(m, 'EVALSHA', sc.sha, keys.length, ...keys, ...args);
    if ('failed' in r && r.failed.kind === 'reply' && r.failed.detail.startsWith('NOSCRIPT')) return this.#cmd(m, 'EVAL', sc.lua, keys.length, ...keys, ...args);
    return r;
  }

  /**
   * lock_acquire. With `prefetch`, each SET NX is followed on the same connection by a GET of that
   * key (Redis answers in order, so the GET runs after the SET): the GET of the attempt that won
   * the lock is the read PHP makes next, one round trip sooner. Returns whether the lock is held
   * (or not needed) and, when it was taken here, that prefetched reply.
   */
  async #acquire(m: PoolMember, prefetch?: string): Promise<{ locked: boolean; data?: CmdResult }> {
    const ctx = this.#ctx;
    const lock = this.#lock;
    if (lock.isLocked || iniLong(ctx, 'redis.session.locking_enabled') === 0) return { locked: true };
    let waitUs = iniCInt(ctx, 'redis.session.lock_wait_time');
    if (waitUs === 0) waitUs = 2000;
    let retries = iniCInt(ctx, 'redis.session.lock_retries');
    if (retries === 0) retries = 10;
    let expiry = iniCInt(ctx, 'redis.session.lock_expire');
    // max_execution_time, as phpredis reads it: the engine's stand-in (30 s by default, never 0),
    // so no lock outlives a killed holder for ever.
    if (expiry === 0) expiry = iniCInt(ctx, MAX_EXECUTION_TIME) || DEFAULT_LOCK_EXPIRE_SEC;
    lock.lockKey = `${lock.sessionKey!}_LOCK`;
    lock.secret = newSecret();
    lock.member = m;
    lock.expiring = expiry > 0;
    const args: (string | number)[] = [lock.lockKey, lock.secret, 'NX'];
    if (expiry > 0) args.push('PX', Math.imul(expiry, 1000));
    const attempts = retries === -1 ? Infinity : retries + 1;
    if (attempts <= 0) return { locked: false };

    // Same-id requests of this process wait here, so only the queue's head polls Redis. A waiter
    // has PHP's whole budget (retries × lock_wait_time) and only the attempts it has left.
    const started = Date.now();
    const budgetMs = retries === -1 ? Infinity : (retries * waitUs) / 1000;
    const qkey = queuePrefix(m) + lock.lockKey;
    // The lock key is free in this process (the usual case): taken at once, without a promise turn.
    let leave = sessionLockQueue.tryAcquire(qkey);
    if (leave === null) {
      try {
        leave = await sessionLockQueue.acquire(qkey, started + budgetMs, () => new Error('lock wait'));
      } catch {
        return { locked: false };
      }
    }
    const waitedAttempts = Math.floor(((Date.now() - started) * 1000) / waitUs);
    const left = Math.max(1, attempts - waitedAttempts);
    for (let i = 0; i < left; i++) {
      const [r, data] = await Promise.all([this.#cmd(m, 'SET', ...args), prefetch === undefined ? undefined : this.#cmd(m, 'GET', prefetch)]);
      if ('reply' in r && isOk(r.reply)) {
        lock.isLocked = true;
        lock.leaveQueue = leave;
        return data === undefined ? { locked: true } : { locked: true, data };
      }
      // A network problem ends the loop at once; a lock held by someone else is retried.
      if ('failed' in r && r.failed.kind !== 'reply') break;
      if (i + 1 < left) await sleepUs(waitUs);
    }
    leave();
    return { locked: false };
  }

  /** write_allowed. */
  async #writeAllowed(m: PoolMember): Promise<boolean> {
    const ctx = this.#ctx;
    const lock = this.#lock;
    if (iniLong(ctx, 'redis.session.locking_enabled') === 0) return true;
    // phpredis checks only an explicit lock_expire, trusting max_execution_time otherwise; Node
    // has no max_execution_time, so every expiring lock is checked before writing.
    if (lock.isLocked && lock.expiring) {
      const r = await this.#cmd(lock.member ?? m, 'GET', lock.lockKey!);
      lock.isLocked = 'reply' in r && Buffer.isBuffer(r.reply) && r.reply.toString('latin1') === lock.secret;
      if (!lock.isLocked) {
        ctx.diagnostic('E_WARNING', 'Failed to refresh session lock');
        this.#leaveQueue();
      }
    }
    return lock.isLocked;
  }

  #leaveQueue(): void {
    const leave = this.#lock.leaveQueue;
    this.#lock.leaveQueue = null;
    leave?.();
  }

  /** lock_release: EVALSHA, then EVAL; a warning when neither got a reply. */
  async #release(m: PoolMember): Promise<void> {
    const lock = this.#lock;
    for (const [cmd, script] of [
      ['EVALSHA', LOCK_RELEASE_SHA],
      ['EVAL', LOCK_RELEASE_LUA],
    ] as const) {
      if (!lock.isLocked) break;
      const r = await this.#cmd(m, cmd, script, 1, lock.lockKey!, lock.secret!);
      if ('reply' in r) lock.isLocked = false;
    }
    if (lock.isLocked) this.#ctx.diagnostic('E_WARNING', 'Failed to release session lock');
    this.#leaveQueue();
  }

  async close(): Promise<boolean> {
    try {
      return await this.#close();
    } finally {
      this.#rethrow();
    }
  }

  async #close(): Promise<boolean> {
    const lock = this.#lock;
    try {
      // phpredis picks the release server by the prefixed key (with several servers, often not the
      // one holding the lock); the lock is released where it was taken.
      if (lock.sessionKey !== null && lock.isLocked && lock.member !== null) await this.#release(lock.member);
    } finally {
      this.#leaveQueue();
      lock.isLocked = false;
      lock.sessionKey = null;
    }
    return true;
  }

  async read(id: string): Promise<Uint8Array | false> {
    try {
      return await this.#read(id);
    } finally {
      this.#rethrow();
    }
  }

  async #read(id: string): Promise<Uint8Array | false> {
    if (id.length === 0) return false;
    const s = this.#sock(id);
    const m = s instanceof Promise ? await s : s;
    if (m === null) return false;
    const key = m.prefix + id;
    this.#lock.sessionKey = key;
    let data: CmdResult | undefined;
    if (!this.#lock.isLocked && iniLong(this.#ctx, 'redis.session.locking_enabled') !== 0) {
      const lock = await this.#acquire(m, key);
      if (!lock.locked) this.#ctx.diagnostic('E_NOTICE', 'Acquire of session lock was not successful');
      data = lock.data;
    }
    const r = data ?? (await this.#cmd(m, 'GET', key));
    if ('failed' in r) return false;
    // The reply is a view of the socket's chunk: a view of it, no copy (given back by release()).
    if (!Buffer.isBuffer(r.reply)) return new Uint8Array(0);
    return this.#lease.hold(new Uint8Array(r.reply.buffer, r.reply.byteOffset, r.reply.byteLength));
  }

  /**
   * The engine keeps no view of the bytes read() returned last: their read buffer goes back to
   * the connection's reply reader (reply-reader.ts releaseReply), which takes it only when that
   * buffer held this value alone and is the one it lent last; once.
   */
  release(data: Uint8Array): void {
    this.#lease.release(data);
  }

  async write(id: string, data: Uint8Array, _maxLifetime: number): Promise<boolean> {
    try {
      return await this.#write(id, data);
    } finally {
      this.#rethrow();
    }
  }

  async #write(id: string, data: Uint8Array): Promise<boolean> {
    if (id.length === 0) return false;
    const s = this.#sock(id);
    const m = s instanceof Promise ? await s : s;
    if (m === null) return false;
    const ttl = sessionTtl(this.#ctx);
    const value = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const lock = this.#lock;
    const locking = iniLong(this.#ctx, 'redis.session.locking_enabled') !== 0;
    if (locking && lock.isLocked && lock.expiring && lock.member === m && !keepsLockOnWrite(this)) {
      // write_allowed, SETEX and lock_release in one step: a script that writes and unlocks only
      // while the lock holds our secret (phpredis sends GET, compares, SETEX, then the release
      // script from close: three round trips, and not atomic). PHP always closes right after
      // the write (php_session_save_current_state), so no other client can tell the difference.
      // (msession's lock() writes and keeps the lock: it marks its handler, see shared/lock-hold.)
      const r = await this.#script(m, CHECKED_SETEX_UNLOCK, [m.prefix + id, lock.lockKey!], [ttl, value, lock.secret!]);
      if ('reply' in r && r.reply === null) {
        lock.isLocked = false;
        this.#ctx.diagnostic('E_WARNING', 'Failed to refresh session lock');
        this.#leaveQueue();
        return false;
      }
      if ('failed' in r && r.failed.kind !== 'reply') {
        lock.isLocked = false;
        this.#ctx.diagnostic('E_WARNING', 'Failed to refresh session lock');
        return false;
      }
      if ('reply' in r && r.reply === 1) {
        lock.isLocked = false;
        this.#leaveQueue();
        return true;
      }
      return false;
    }
    if (locking && !(await this.#writeAllowed(m))) return false;
    const r = await this.#cmd(m, 'SETEX', m.prefix + id, ttl, value);
    return 'reply' in r && isOk(r.reply);
  }

  destroy(id: string): Promise<boolean> {
    return this.#throwing(() => this.#destroy(id));
  }

  async #destroy(id: string): Promise<boolean> {
    const s = this.#sock(id);
    const m = s instanceof Promise ? await s : s;
    if (m === null) return false;
    if (this.#lock.isLocked) await this.#release(this.#lock.member ?? m);
    else this.#leaveQueue();
    const r = await this.#cmd(m, 'DEL', m.prefix + id);
    return 'reply' in r && (r.reply === 0 || r.reply === 1);
  }

  /**
   * Runs one handler call; a RedisException phpredis would have raised is thrown when it ends.
   * (read, write and close, once a request each, do the same inline: no closures per call.)
   */
  #throwing<T>(body: () => Promise<T>): Promise<T> {
    let p: Promise<T>;
    try {
      p = body();
    } catch (e) {
      p = Promise.reject(e);
    }
    return p.then(
      (v) => {
        this.#rethrow();
        return v;
      },
      (e: unknown) => {
        this.#rethrow();
        throw e;
      },
    );
  }

  /** Throws the RedisException set during the call that just ended, if any. */
  #rethrow(): void {
    const e = this.#exception;
    this.#exception = null;
    if (e !== null) throw e;
  }

  gc(): number {
    // PHP's handler returns SUCCESS without a count: session_gc() then returns false.
    return -1;
  }

  createSid(): Promise<string | null> {
    return this.#throwing(() => this.#createSid());
  }

  async #createSid(): Promise<string | null> {
    const ctx = this.#ctx;
    for (let retries = 3; retries-- > 0; ) {
      const sid = ctx.createId();
      const s = this.#sock(sid);
      const m = s instanceof Promise ? await s : s;
      if (m === null) {
        ctx.diagnostic('E_NOTICE', 'Redis not available while creating session_id');
        return ctx.createId();
      }
      this.#lock.sessionKey = m.prefix + sid;
      if ((await this.#acquire(m)).locked) return sid;
      this.#lock.sessionKey = null;
    }
    ctx.diagnostic('E_NOTICE', 'Acquiring session lock failed while creating session_id');
    return null;
  }

  validateSid(id: string): Promise<boolean> {
    return this.#throwing(() => this.#validateSid(id));
  }

  async #validateSid(id: string): Promise<boolean> {
    if (id.length === 0) return false;
    const s = this.#sock(id);
    const m = s instanceof Promise ? await s : s;
    if (m === null) return false;
    const r = await this.#cmd(m, 'EXISTS', m.prefix + id);
    return 'reply' in r && r.reply === 1;
  }

  updateTimestamp(id: string, _data: Uint8Array, _maxLifetime: number): Promise<boolean> {
    return this.#throwing(() => this.#updateTimestamp(id));
  }

  async #updateTimestamp(id: string): Promise<boolean> {
    if (id.length === 0) return false;
    const s = this.#sock(id);
    const m = s instanceof Promise ? await s : s;
    if (m === null) return false;
    const r = await this.#cmd(m, 'EXPIRE', m.prefix + id, sessionTtl(this.#ctx));
    // Any one-digit integer reply succeeds (":0" for a missing key too), as in phpredis.
    return 'reply' in r && (r.reply === 0 || r.reply === 1);
  }
}

export const redisModule: SaveHandlerModule = {
  name: 'redis',
  ini: [...redisIni, ...opensslCaIni],
  create: (ctx) => new RedisSessionHandler(ctx),
};
