/**
 * @module handlers/rediscluster
 * `session.save_handler = rediscluster`: phpredis 5.3.7's Redis Cluster session handler.
 *
 * save_path is a query string: `seed[]=host:port&seed[]=...&timeout=&read_timeout=&failover=
 * none|error|distribute&persistent=&auth=&prefix=` (default prefix `PHPREDIS_CLUSTER_SESSION:`).
 * Keys `<prefix><id>` hold the raw encoded session, written with SETEX for gc_maxlifetime seconds
 * on the master of the key's slot (CRC16 of the whole key, as Redis Cluster defines it); reads may
 * go to replicas with `failover=distribute`. MOVED/ASK redirections and slot-map changes are
 * followed by the client (ioredis' Cluster).
 *
 * As in 5.3.7 there is no locking, no create_sid (PHP's generator), no validate_sid (every id is
 * accepted under use_strict_mode) and no update_timestamp (lazy_write rewrites the data); gc is
 * Redis' own expiry.
 */
import type { SaveHandler, SaveHandlerContext, SaveHandlerModule } from '../lib/handler.ts';
import { PhpException } from '../lib/errors.ts';
import { opensslCaIni, opensslIni, sessionTtl } from './redis.ts';
import { redisClusterConnection, RedisIoError, type RedisClusterConnection, type RedisReply } from './redis/client.ts';
import { parseClusterSavePath } from './redis/save-path.ts';

export { closeRedisConnections } from './redis/client.ts';

/** A RedisClusterException, as phpredis throws it when no node of the cluster can be used. */
export class RedisClusterException extends PhpException {
  override get name(): string {
    return 'RedisClusterException';
  }
}

/** PHP's default_socket_timeout, used when the path sets no timeout. */
const DEFAULT_SOCKET_TIMEOUT_SEC = 60;
/**
 * With no `timeout`, phpredis retries an unreachable slot until the cluster reports CLUSTERDOWN,
 * without limit (a busy loop forever when it never does); here the wait ends after 10 s.
 */
const UNBOUNDED_WAIT_CAP_MS = 10_000;

class RedisClusterSessionHandler implements SaveHandler {
  readonly name = 'rediscluster';
  readonly #ctx: SaveHandlerContext;
  #conn: RedisClusterConnection | null = null;
  #prefix = '';
  /** How long a command may look for a reachable node (phpredis' `timeout`; here never unbounded). */
  #waitMs = UNBOUNDED_WAIT_CAP_MS;

  constructor(ctx: SaveHandlerContext) {
    this.#ctx = ctx;
  }

  async open(savePath: string): Promise<boolean> {
    const r = parseClusterSavePath(savePath, opensslIni(this.#ctx));
    for (const w of r.warnings) this.#ctx.diagnostic('E_WARNING', w);
    if (!r.ok) return false;
    const p = r.path;
    const conn = redisClusterConnection({
      seeds: p.seeds,
      ...(p.user !== undefined ? { user: p.user } : {}),
      ...(p.pass !== undefined ? { pass: p.pass } : {}),
      connectTimeoutMs: (p.timeoutSec > 0 ? p.timeoutSec : DEFAULT_SOCKET_TIMEOUT_SEC) * 1000,
      readTimeoutMs: (p.readTimeoutSec > 0 ? p.readTimeoutSec : DEFAULT_SOCKET_TIMEOUT_SEC) * 1000,
      scaleReads: p.failover === 'distribute' ? 'all' : 'master',
      tls: p.tls,
    });
    try {
      // cluster_map_keyspace: the slot map must be loaded from a seed before the session opens.
      await conn.call('PING');
    } catch (e) {
      if (!(e instanceof RedisIoError) || e.kind !== 'reply') {
        throw new RedisClusterException("Couldn't map cluster keyspace using any provided seed", { cause: e });
      }
    }
    this.#conn = conn;
    this.#prefix = p.prefix;
    this.#waitMs = p.timeoutSec > 0 ? p.timeoutSec * 1000 : UNBOUNDED_WAIT_CAP_MS;
    return true;
  }

  /**
   * cluster_send_command: a reply, or an error reply phpredis only records (the call fails
   * quietly). Like phpredis, a node that cannot be reached is retried (the client refreshes the
   * slot map and follows MOVED/ASK) until the cluster answers, says CLUSTERDOWN, or `timeout`
   * passes; those end in PHP's RedisClusterException.
   */
  async #cmd(command: string, ...args: (string | Buffer | number)[]): Promise<{ reply: RedisReply } | { failed: RedisIoError }> {
    const deadline = Date.now() + this.#waitMs;
    for (;;) {
      try {
        return { reply: await this.#conn!.call(command, ...args) };
      } catch (e) {
        if (!(e instanceof RedisIoError)) throw e;
        if (/CLUSTERDOWN/.test(e.detail)) throw new RedisClusterException('The Redis Cluster is down (CLUSTERDOWN)', { cause: e });
        if (e.kind === 'reply' && !/Too many Cluster redirections|Connection is closed/.test(e.detail)) return { failed: e };
        if (Date.now() >= deadline) throw new RedisClusterException('Timed out attempting to find data in the correct node!', { cause: e });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  close(): boolean {
    this.#conn = null;
    return true;
  }

  async read(id: string): Promise<Uint8Array | false> {
    const r = await this.#cmd('GET', this.#prefix + id);
    if ('failed' in r) return false;
    return Buffer.isBuffer(r.reply) ? new Uint8Array(r.reply) : new Uint8Array(0);
  }

  async write(id: string, data: Uint8Array): Promise<boolean> {
    const ttl = sessionTtl(this.#ctx);
    const r = await this.#cmd('SETEX', this.#prefix + id, ttl, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    // phpredis accepts any reply that is not an error.
    return 'reply' in r;
  }

  async destroy(id: string): Promise<boolean> {
    const r = await this.#cmd('DEL', this.#prefix + id);
    return 'reply' in r;
  }

  gc(): number {
    return -1;
  }
}

export const redisClusterModule: SaveHandlerModule = {
  name: 'rediscluster',
  ini: opensslCaIni,
  create: (ctx) => new RedisClusterSessionHandler(ctx),
};
