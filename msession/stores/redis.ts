/**
 * @module msession/stores/redis
 * Enumeration for `session.save_handler = redis` and `rediscluster` (phpredis): sessions live under
 * `<prefix><id>` (default `PHPREDIS_SESSION:`, `PHPREDIS_CLUSTER_SESSION:` for a cluster), their
 * locks under `<prefix><id>_LOCK`. Listing is `SCAN <cursor> MATCH <prefix>* COUNT 500` on every
 * server of the save path (every master of a cluster), one batch in memory at a time. Limits
 * (README, "msession"): SCAN guarantees every key present for the whole scan is returned, but a
 * key may come twice (rehashing) and keys written or deleted during the scan may or may not
 * appear; with several servers in a redis save path an id is listed once per server holding it.
 * Reads for scans are plain GETs, without PHP's lock, pipelined: one round trip per SCAN page
 * (a redis node: one pipeline; a cluster: ioredis' auto-pipelining, one per master). Its own connections (ioredis), closed by close().
 */
import { Cluster, Redis, ReplyError, type RedisOptions } from 'ioredis';
import type { SaveHandlerContext } from '../../lib/handler.ts';
import { isValidSessionKey } from '../../handlers/files.ts';
import { connectCluster } from '../../handlers/redis/cluster-connect.ts';
import { parseClusterSavePath, parseRedisSavePath } from '../../handlers/redis/save-path.ts';
import type { RedisEndpoint } from '../../handlers/redis/client.ts';
import { MsessionError, checkAborted } from '../errors.ts';
import type { PeekResult, ScanOptions, SessionStore } from './types.ts';

const SCAN_COUNT = 500;
/** A server silent this long while a reply is due ends the call (phpredis' read_timeout, else PHP's 60 s). */
const DEFAULT_REPLY_TIMEOUT_MS = 60_000;
const LOCK_SUFFIX = '_LOCK';

/** One server to scan and read, with the key prefix its sessions carry. */
interface Node {
  name: string;
  client: Redis;
  prefix: string;
}

type Opts = RedisOptions & { replyMapping: 'legacy' };

const BASE: Opts = {
  replyMapping: 'legacy',
  lazyConnect: true,
  enableOfflineQueue: true,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
  enableReadyCheck: false,
};

function endpointOptions(ep: RedisEndpoint): Opts {
  const o: Opts = { ...BASE, db: ep.database >= 0 ? ep.database : 0, connectTimeout: Math.min(ep.connectTimeoutMs || 10_000, 2 ** 31 - 1), commandTimeout: Math.min(ep.readTimeoutMs || DEFAULT_REPLY_TIMEOUT_MS, 2 ** 31 - 1) };
  if (ep.scheme === 'unix') o.path = ep.path!;
  else {
    o.host = ep.host;
    o.port = ep.port;
  }
  if (ep.scheme === 'tls' || ep.scheme === 'ssl') o.tls = { servername: ep.host };
  if (ep.user !== undefined) o.username = ep.user;
  if (ep.pass !== undefined) o.password = ep.pass;
  return o;
}

/** `*`, `?`, `[`, `]` and `\` are MATCH pattern characters: escaped so the prefix matches literally. */
export function matchPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
}

/** Failures reach the caller as rejected commands (typed there); the 'error' events add nothing. */
function quiet<T extends Redis | Cluster>(client: T): T {
  client.on('error', () => {});
  return client;
}

function scanError(node: Node, e: unknown): MsessionError {
  return new MsessionError('ERR_MSESSION_SCAN', `msession: redis ${node.name} failed mid-scan: ${(e as Error).message ?? String(e)}`, { cause: e });
}

/** Streams the session ids one server holds, a SCAN page at a time: `_LOCK` keys and non-ids skipped. */
async function* scanNodePages(node: Node, opts: ScanOptions): AsyncGenerator<string[]> {
  let cursor = '0';
  const pattern = matchPattern(node.prefix);
  do {
    checkAborted(opts.signal);
    let reply: [string, string[]];
    try {
      reply = await node.client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
    } catch (e) {
      throw scanError(node, e);
    }
    cursor = reply[0];
    const ids: string[] = [];
    for (const key of reply[1]) {
      if (!key.startsWith(node.prefix) || key.endsWith(LOCK_SUFFIX)) continue;
      const id = key.slice(node.prefix.length);
      if (isValidSessionKey(id)) ids.push(id);
    }
    if (ids.length > 0) yield ids;
  } while (cursor !== '0');
}

/**
 * One GET's outcome in a batch: a redis error reply (e.g. WRONGTYPE: a key that is no string) is
 * that session's own error; anything else (connection lost, timeout) is the store failing.
 */
function batchResult(where: string, id: string, err: unknown, v: Buffer | null | undefined): PeekResult {
  if (err === null || err === undefined) return v === null || v === undefined ? null : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (err instanceof ReplyError) return new MsessionError('ERR_MSESSION_READ', `msession: ${where}: GET of session ${id} failed: ${(err as Error).message}`, { id, cause: err });
  throw new MsessionError('ERR_MSESSION_SCAN', `msession: ${where} failed mid-scan: ${(err as Error).message ?? String(err)}`, { cause: err });
}

function nodesStore(module: string, nodes: () => Promise<Node[]>, close: () => Promise<void>): SessionStore {
  const checkId = (id: string): void => {
    if (!isValidSessionKey(id)) throw new MsessionError('ERR_MSESSION_BAD_ID', `msession: the ${module} module rejects session id "${id}"`, { id });
  };
  const wrap = async <T>(node: Node, what: string, id: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw new MsessionError('ERR_MSESSION_READ', `msession: redis ${node.name}: ${what} of session ${id} failed: ${(e as Error).message ?? String(e)}`, { id, cause: e });
    }
  };
  /** The node holding the session (the first that has it), or null. */
  const holder = async (id: string): Promise<Node | null> => {
    checkId(id);
    for (const n of await nodes()) {
      if ((await wrap(n, 'EXISTS', id, () => n.client.exists(n.prefix + id))) > 0) return n;
    }
    return null;
  };
  return {
    module,
    async *ids(opts = {}) {
      for (const n of await nodes()) for await (const page of scanNodePages(n, opts)) yield* page;
    },
    async *idBatches(opts = {}) {
      for (const n of await nodes()) yield* scanNodePages(n, opts);
    },
    async peekMany(ids) {
      for (const id of ids) checkId(id);
      const out: PeekResult[] = ids.map(() => null);
      // Like peek(): the first server holding the session answers; the rest are asked for the others.
      let todo = ids.map((_, i) => i);
      for (const n of await nodes()) {
        if (todo.length === 0) break;
        const p = n.client.pipeline();
        for (const i of todo) p.getBuffer(n.prefix + ids[i]!);
        let replies: [Error | null, unknown][] | null;
        try {
          replies = await p.exec();
        } catch (e) {
          throw scanError(n, e);
        }
        if (replies === null) throw scanError(n, new Error('pipeline discarded'));
        const next: number[] = [];
        todo.forEach((i, k) => {
          const [err, v] = replies[k] ?? [new Error('no reply'), null];
          const r = batchResult(`redis ${n.name}`, ids[i]!, err, v as Buffer | null);
          if (r === null) next.push(i);
          else out[i] = r;
        });
        todo = next;
      }
      return out;
    },
    async peek(id) {
      checkId(id);
      for (const n of await nodes()) {
        const v = await wrap(n, 'GET', id, () => n.client.getBuffer(n.prefix + id));
        if (v !== null) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      }
      return null;
    },
    async ttl(id) {
      checkId(id);
      for (const n of await nodes()) {
        const t = await wrap(n, 'TTL', id, () => n.client.ttl(n.prefix + id));
        if (t === -2) continue;
        return t === -1 ? Infinity : t;
      }
      return null;
    },
    async setTtl(id, seconds) {
      checkId(id);
      let found = false;
      for (const n of await nodes()) {
        if ((await wrap(n, 'EXPIRE', id, () => n.client.expire(n.prefix + id, seconds))) === 1) found = true;
      }
      return found;
    },
    async lockInfo(id) {
      checkId(id);
      for (const n of await nodes()) {
        const t = await wrap(n, 'PTTL', id, () => n.client.pttl(n.prefix + id + LOCK_SUFFIX));
        if (t === -2) continue;
        return { locked: true, expiresIn: t < 0 ? Infinity : t / 1000 };
      }
      return { locked: false };
    },
    async size(id) {
      const n = await holder(id);
      if (n === null) return null;
      return wrap(n, 'STRLEN', id, () => n.client.strlen(n.prefix + id));
    },
    close,
  };
}

/** phpredis `redis`: every server of the save path, each with its own `prefix=`. */
export function redisStore(savePath: string, _ctx: SaveHandlerContext): SessionStore {
  const parsed = parseRedisSavePath(savePath);
  if (!parsed.ok || parsed.members.length === 0) throw new MsessionError('ERR_MSESSION_OPEN', `msession: cannot parse redis session.save_path "${savePath}"`);
  const nodes: Node[] = parsed.members.map((m) => ({ name: m.label, prefix: m.prefix, client: quiet(new Redis(endpointOptions(m.endpoint))) }));
  return nodesStore(
    'redis',
    async () => nodes,
    async () => {
      for (const n of nodes) n.client.disconnect();
    },
  );
}

/** phpredis `rediscluster`: SCAN on every master (the cluster's slots, each key once). */
export function redisClusterStore(savePath: string, _ctx: SaveHandlerContext): SessionStore {
  const parsed = parseClusterSavePath(savePath);
  if (!parsed.ok || parsed.path.seeds.length === 0) throw new MsessionError('ERR_MSESSION_OPEN', `msession: cannot parse rediscluster session.save_path "${savePath}"`);
  const p = parsed.path;
  const { retryStrategy: _r, enableOfflineQueue: _q, ...rest } = BASE;
  const redisOptions: Omit<Opts, 'retryStrategy' | 'enableOfflineQueue'> = { ...rest, connectTimeout: p.timeoutSec > 0 ? Math.max(1, Math.round(p.timeoutSec * 1000)) : 10_000, commandTimeout: Math.round(p.readTimeoutSec * 1000) || DEFAULT_REPLY_TIMEOUT_MS };
  if (p.user !== undefined) redisOptions.username = p.user;
  if (p.pass !== undefined) redisOptions.password = p.pass;
  if (p.tls) redisOptions.tls = {};
  const cluster = quiet(new Cluster(p.seeds, { lazyConnect: true, enableOfflineQueue: true, enableAutoPipelining: true, clusterRetryStrategy: () => null, redisOptions }));
  let ready: Promise<Node[]> | null = null;
  const masters = (): Promise<Node[]> => {
    ready ??= (async () => {
      try {
        await connectCluster(cluster);
      } catch (e) {
        ready = null;
        throw new MsessionError('ERR_MSESSION_SCAN', `msession: cannot reach the redis cluster (${p.seeds.map((s) => `${s.host}:${s.port}`).join(', ')}): ${(e as Error).message}`, { cause: e });
      }
      return cluster.nodes('master').map((client) => ({ name: `${client.options.host}:${client.options.port}`, prefix: p.prefix, client }));
    })();
    return ready;
  };
  const store = nodesStore('rediscluster', masters, async () => {
    cluster.disconnect();
  });
  // Reads go through the cluster client (slot routing), not a guessed master.
  return {
    ...store,
    async peekMany(ids) {
      for (const id of ids) if (!isValidSessionKey(id)) throw new MsessionError('ERR_MSESSION_BAD_ID', `msession: the rediscluster module rejects session id "${id}"`, { id });
      await masters();
      // Auto-pipelining: the GETs of one tick go out as one pipeline per master.
      const settled = await Promise.allSettled(ids.map((id) => cluster.getBuffer(p.prefix + id)));
      return settled.map((r, i) => (r.status === 'fulfilled' ? batchResult('rediscluster', ids[i]!, null, r.value) : batchResult('rediscluster', ids[i]!, r.reason, null)));
    },
    async peek(id) {
      if (!isValidSessionKey(id)) return store.peek(id);
      await masters();
      try {
        const v = await cluster.getBuffer(p.prefix + id);
        return v === null ? null : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      } catch (e) {
        throw new MsessionError('ERR_MSESSION_READ', `msession: rediscluster: GET of session ${id} failed: ${(e as Error).message}`, { id, cause: e });
      }
    },
  };
}
