/**
 * @module handlers/redis/client
 * Redis connections for the `redis` and `rediscluster` session modules, through ioredis.
 *
 * Connections are shared per process, one per (address, database, credentials, timeouts), as
 * phpredis' persistent connections are per worker; {@link closeRedisConnections} closes them all.
 * An idle connection does not keep the process alive: its socket is ref'd only while a command is
 * in flight. A connection that failed or was lost is never reused: the next command on it opens a
 * fresh socket (ioredis' own reconnect loop is off, as phpredis does not retry in the background).
 *
 * Replies are read as Buffers (session data is bytes). A reply wait ends after the read timeout;
 * the timer that says so lets one turn of socket I/O run first, so an event loop stalled past the
 * deadline does not report a timeout for a reply that already arrived (issue #10 item 4).
 */
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { connectCluster } from './cluster-connect.ts';
import { bufferCommand, coalesceWrites, leanCommandsAllowed, lowerName, writeCommand } from './commands.ts';
import { capture, captured, QueuedCommand, type IoredisInternals } from './queued-command.ts';
import { ReadInPlaceConnector } from './connector.ts';
import type { RedisReply } from './reply.ts';
import { tlsConnectOptions, tlsWarnings, type TlsSettings } from './tls.ts';

export type { TlsSettings } from './tls.ts';

/** Why talking to a server failed, in the terms phpredis reports. */
export class RedisIoError extends Error {
  /**
   * `connect`: the connection could not be opened (refused, unreachable, unknown host, connect
   * timeout); `lost`: the connection broke while a command was in flight; `timeout`: no reply
   * within the read timeout; `reply`: the server answered with an error (`-ERR ...`).
   */
  readonly kind: 'connect' | 'lost' | 'timeout' | 'reply';
  /** The OS error code (ECONNREFUSED, ENOTFOUND, ...) or the server's error text. */
  readonly detail: string;
  /** What PHP's stream layer prints for this failure (TLS set-up and handshake), in order. */
  phpWarnings: { message: string; raw: boolean }[] = [];
  constructor(kind: RedisIoError['kind'], detail: string, options?: { cause?: unknown }) {
    super(`${kind}: ${detail}`, options);
    this.kind = kind;
    this.detail = detail;
  }
  override get name(): string {
    return 'RedisIoError';
  }
}

/** Where and how to reach one server (a save_path entry after parsing). */
export interface RedisEndpoint {
  /** `tcp`, `unix`, or a TLS transport (`tls`, `ssl`, `tlsv1.2`...; see `tls`). */
  scheme: string;
  host: string;
  port: number;
  /** Unix socket path when scheme is `unix`. */
  path?: string;
  /** SELECT on connect; -1: leave the server's default. */
  database: number;
  user?: string;
  pass?: string;
  /** Connect timeout (phpredis `timeout`, seconds → ms). */
  connectTimeoutMs: number;
  /** Reply timeout (phpredis `read_timeout`; 0 means PHP's default_socket_timeout, 60 s). */
  readTimeoutMs: number;
  /** Set for the TLS transports (`tls://`, `ssl://`, `tlsv1.2://`...). */
  tls?: TlsSettings;
  /**
   * phpredis' `retry_interval`: a connection found closed before a command is reopened up to 10
   * times, the first attempt after a random 0..retry_interval and each next one after
   * retry_interval. 5.3.7 hands the number to usleep() as it is, so the unit is microseconds.
   */
  retryInterval?: number;
  /** `persistent_id` of a persistent connection: connections with different ids are not shared. */
  persistentId?: string;
}

/** redis_check_eof's attempts to reopen a connection that was found closed. */
const RECONNECT_ATTEMPTS = 10;

export type { RedisReply } from './reply.ts';

type Args = (string | Buffer | number)[];

/**
 * Runs `p`, failing with a `timeout` RedisIoError once nothing has arrived on the connection for
 * `ms` (phpredis' read_timeout bounds each wait for bytes, not the whole reply: a large reply that
 * keeps arriving never times out). `lastData()` is when the socket last received bytes. When the
 * timer fires it first lets one turn of socket I/O run, so an event loop stalled past the deadline
 * does not time out a reply that is already in the socket.
 */
function withDeadline<T>(p: Promise<T>, ms: number, lastData: () => number = () => 0): Promise<T> {
  if (!(ms > 0) || !Number.isFinite(ms)) return p;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout;
    const arm = (delay: number): void => {
      timer = setTimeout(() => {
        // Timers run before the poll phase: let pending socket reads land before deciding.
        setImmediate(() => {
          if (done) return;
          const idle = Date.now() - lastData();
          if (idle < ms) return arm(ms - idle);
          done = true;
          reject(new RedisIoError('timeout', `no reply within ${ms} ms`));
        });
      }, delay);
    };
    arm(ms);
    p.then(
      (v) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function classify(e: unknown, connecting: boolean): RedisIoError {
  if (e instanceof RedisIoError) return e;
  const err = e as { name?: string; code?: string; message?: string };
  if (err?.name === 'ReplyError') return new RedisIoError('reply', String(err.message), { cause: e });
  const code = err?.code ?? err?.message ?? String(e);
  return new RedisIoError(connecting ? 'connect' : 'lost', code, { cause: e });
}

/**
 * ioredis ends a socket and destroys it only `disconnectTimeout` (2 s) later if no 'close' came,
 * on a ref'd timer; a socket that had already failed never emits 'close' again, so closing such a
 * client would hold the process for 2 s. Nothing is pending when we disconnect: destroy at once.
 * (A runtime option of ioredis' connectors, not in its RedisOptions type.)
 */
const FAST_DISCONNECT = { disconnectTimeout: 0 } as object;

/** The socket ioredis connected (net.Socket or tls.TLSSocket). */
interface Refable {
  ref(): void;
  unref(): void;
}

/** One ioredis client of a RedisConnection and what the read-timeout watchdog knows of it. */
interface LiveClient {
  client: Redis;
  /** Commands sent on it and not yet answered (Redis answers in order). */
  pending: number;
  /** When `pending` last went from 0 to 1, and when the socket last received bytes (ms). */
  busySince: number;
  lastData: number;
  watchdog: NodeJS.Timeout | null;
  /** Set when the watchdog dropped it: its commands then fail as timeouts. */
  timedOut: boolean;
}

/** One shared connection to one server. */
export class RedisConnection {
  readonly endpoint: RedisEndpoint;
  #live: LiveClient | null = null;
  #connecting: Promise<LiveClient> | null = null;
  #inFlight = 0;
  #closed = false;
  /** Whether a socket was ever up: a command finding none then reconnects with retries. */
  #everReady = false;

  constructor(endpoint: RedisEndpoint) {
    this.endpoint = endpoint;
  }

  #options(): RedisOptions & { replyMapping: 'legacy' } {
    const ep = this.endpoint;
    const o: RedisOptions & { replyMapping: 'legacy' } = {
      replyMapping: 'legacy',
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      disableClientInfo: true,
      protocol: 2,
      maintNotifications: 'disabled',
      connectTimeout: Math.min(ep.connectTimeoutMs, 2 ** 31 - 1),
      db: ep.database >= 0 ? ep.database : 0,
      ...FAST_DISCONNECT,
    };
    if (ep.scheme === 'unix') o.path = ep.path!;
    else {
      o.host = ep.host;
      o.port = ep.port;
    }
    if (ep.tls !== undefined) o.tls = tlsConnectOptions(ep.tls, ep.host);
    // Plain sockets read replies where the reader chooses (a large bulk reply in place, no join).
    else o.Connector = ReadInPlaceConnector;
    if (ep.pass !== undefined) o.password = ep.pass;
    if (ep.user !== undefined) o.username = ep.user;
    return o;
  }

  /** The connected client; opens a new socket when there is none (or the last one ended). */
  #ready(): Promise<LiveClient> {
    const live = this.#live;
    if (live !== null && live.client.status === 'ready') return Promise.resolve(live);
    if (this.#connecting !== null) return this.#connecting;
    if (this.#closed) return Promise.reject(new RedisIoError('connect', 'connection closed by closeRedisConnections()'));
    live?.client.disconnect();
    let options: RedisOptions & { replyMapping: 'legacy' };
    try {
      options = this.#options();
    } catch (e) {
      return Promise.reject(this.#connectError(e));
    }
    const client = new Redis(options);
    // Errors surface through the command that needs the connection; the event must not crash.
    // The socket's own error (ENOTFOUND, ECONNREFUSED...) is what connect() failing means.
    let socketError: unknown;
    client.on('error', (e: unknown) => {
      socketError ??= e;
    });
    const next: LiveClient = { client, pending: 0, busySince: 0, lastData: 0, watchdog: null, timedOut: false };
    this.#live = next;
    const p = client.connect().then(
      () => {
        this.#connecting = null;
        this.#everReady = true;
        coalesceWrites(client);
        (client as unknown as { stream?: NodeJS.EventEmitter }).stream?.on('data', () => {
          next.lastData = Date.now();
        });
        return next;
      },
      (e: unknown) => {
        this.#connecting = null;
        if (this.#live === next) this.#live = null;
        if (client.status !== 'end') client.disconnect();
        const cause = (socketError as { code?: string } | undefined)?.code !== undefined ? socketError : e;
        throw this.#connectError(cause);
      },
    );
    this.#connecting = p;
    return p;
  }

  /** A failed connect as a RedisIoError, with PHP's TLS warnings when the TLS layer failed. */
  #connectError(cause: unknown): RedisIoError {
    const err = classify(cause, true);
    const tls = this.endpoint.tls;
    if (tls !== undefined) err.phpWarnings = tlsWarnings(cause, tls, this.endpoint.host) ?? [];
    return err;
  }

  #stream(): Refable | undefined {
    return (this.#live?.client as unknown as { stream?: Refable } | undefined)?.stream;
  }

  /** Whether a socket is up and has not been seen closing (what the next command will use). */
  get connected(): boolean {
    return this.#live !== null && this.#connecting === null && this.#live.client.status === 'ready';
  }

  /**
   * redis_sock_server_open: resolves once connected (at once when already connected, without a
   * round trip); rejects with a `connect` RedisIoError.
   */
  async open(): Promise<void> {
    this.#inFlight++;
    try {
      await this.#ready();
    } catch (e) {
      throw classify(e, true);
    } finally {
      if (--this.#inFlight === 0) this.#stream()?.unref();
    }
  }

  /**
   * Sends one command and resolves with its reply (bulk strings as Buffers). Rejects with a
   * RedisIoError: `connect`, `lost`, `timeout`, or `reply` for a `-ERR`-style answer.
   */
  call(command: string, ...args: Args): Promise<RedisReply> {
    return this.send(command, args);
  }

  /** {@link call} with the arguments in an array (which must not change until the reply arrived). */
  send(command: string, args: Args): Promise<RedisReply> {
    const live = this.#live;
    if (live !== null && this.#connecting === null && live.client.status === 'ready') return this.#send(live, command, args);
    return this.#connectAndSend(command, args);
  }

  /**
   * A command on a connection that is not up. When it was up before (a closed socket found
   * before sending, as redis_check_eof finds it), it is reopened with phpredis' retries; a first
   * connect (open()) is tried once, as redis_sock_server_open does.
   */
  async #connectAndSend(command: string, args: Args): Promise<RedisReply> {
    let live: LiveClient | undefined;
    const reconnect = this.#everReady;
    const interval = Math.max(0, this.endpoint.retryInterval ?? 0);
    this.#inFlight++;
    this.#stream()?.ref();
    try {
      for (let attempt = 0; live === undefined; attempt++) {
        if (reconnect && interval > 0) {
          // redis_default_backoff: the first delay is random in [0, interval], then interval.
          const us = attempt === 0 ? Math.floor(Math.random() * (interval + 1)) : interval;
          if (us > 0) await new Promise((r) => setTimeout(r, us / 1000));
        }
        try {
          live = await this.#ready();
        } catch (e) {
          if (!reconnect || attempt + 1 >= RECONNECT_ATTEMPTS || this.#closed) throw classify(e, true);
        }
      }
    } finally {
      if (--this.#inFlight === 0) this.#stream()?.unref();
    }
    return this.#send(live, command, args);
  }

  /**
   * Sends one command on a connected client: written here and queued on ioredis' connection as a
   * {@link QueuedCommand} (one promise per command, no ioredis Command, no async frame around it);
   * through ioredis' sendCommand when its socket is not writable (it then refuses the command as
   * it always did) or someone traces ioredis' commands.
   */
  #send(live: LiveClient, command: string, args: Args): Promise<RedisReply> {
    if (this.#inFlight++ === 0) (live.client as unknown as { stream?: Refable }).stream?.ref();
    if (live.pending++ === 0) {
      live.busySince = Date.now();
      this.#arm(live, this.endpoint.readTimeoutMs);
    }
    const client = live.client as unknown as IoredisInternals<LiveClient>;
    const stream = client.stream;
    if (stream !== undefined && stream.writable && stream._writableState?.ended !== true && client.maintenanceManager?.isWritePaused() !== true && leanCommandsAllowed()) {
      const promise = new Promise<RedisReply>(capture);
      const resolve = captured.resolve!;
      const reject = captured.reject!;
      const name = lowerName(command);
      try {
        writeCommand(stream, name, args);
      } catch (e) {
        this.#failed(live, e, reject);
        return promise;
      }
      client.commandQueue.push(new QueuedCommand<LiveClient>(name, args, client.condition?.select, live, this.#onReply, this.#onFailed, resolve, reject));
      return promise;
    }
    let sent: Promise<RedisReply>;
    try {
      sent = bufferCommand(live.client, command, args);
    } catch (e) {
      sent = Promise.reject(e);
    }
    return sent.then(
      (reply) => {
        this.#settled(live);
        return reply;
      },
      (e: unknown) => new Promise<RedisReply>((_, reject) => this.#failed(live, e, reject)),
    );
  }

  /** A command of `live` answered (one function per connection, not a closure per command). */
  readonly #onReply = (live: LiveClient): void => this.#settled(live);
  readonly #onFailed = (live: LiveClient, e: unknown, reject: (e: unknown) => void): void => this.#failed(live, e, reject);

  /** A command of `live` failed: rejects with its RedisIoError, dropping the connection unless the server answered. */
  #failed(live: LiveClient, e: unknown, reject: (e: unknown) => void): void {
    let err = classify(e, false);
    if (live.timedOut && err.kind !== 'reply') err = new RedisIoError('timeout', `no reply within ${this.endpoint.readTimeoutMs} ms`, { cause: e });
    // A timed-out or broken connection is dropped: its late replies must never answer a
    // later command, and the next command connects afresh.
    else if (err.kind !== 'reply') this.#drop(live);
    this.#settled(live);
    reject(err);
  }

  /** A command of `live` got its answer (or failed). */
  #settled(live: LiveClient): void {
    live.pending--;
    if (--this.#inFlight === 0) this.#stream()?.unref();
  }

  #drop(live: LiveClient): void {
    if (this.#live === live) this.#live = null;
    if (live.watchdog !== null) clearTimeout(live.watchdog);
    live.watchdog = null;
    live.client.disconnect();
    // ioredis ends the socket, which goes on writing what is queued (a session's bytes whose
    // write already failed, which the engine may then reuse: handlers/redis.ts forgetsWrittenData);
    // destroyed now, it writes nothing more.
    (live.client as unknown as { stream?: { destroy(): void } }).stream?.destroy();
  }

  /**
   * The read timeout, one timer per connection rather than one per command: it fails the
   * commands in flight once nothing has arrived on the socket for `ms` since the oldest of them
   * was sent (phpredis' read_timeout bounds each wait for bytes, not the whole reply: a large
   * reply that keeps arriving never times out). When the timer fires it first lets one turn of
   * socket I/O run, so an event loop stalled past the deadline does not time out a reply that is
   * already in the socket.
   */
  #arm(live: LiveClient, delay: number): void {
    const ms = this.endpoint.readTimeoutMs;
    if (live.watchdog !== null || !(ms > 0) || !Number.isFinite(ms)) return;
    live.watchdog = setTimeout(() => {
      // Timers run before the poll phase: let pending socket reads land before deciding.
      setImmediate(() => {
        live.watchdog = null;
        if (live.pending === 0 || live.timedOut) return;
        const idle = Date.now() - Math.max(live.lastData, live.busySince);
        if (idle < ms) return this.#arm(live, ms - idle);
        live.timedOut = true;
        this.#drop(live);
      });
    }, delay);
    // The socket holds the process while commands are in flight; the timer never does.
    live.watchdog.unref();
  }

  close(): void {
    this.#closed = true;
    const live = this.#live;
    this.#live = null;
    if (live !== null) this.#drop(live);
  }
}

const connections = new Map<string, RedisConnection>();

const endpointKeys = new WeakMap<RedisEndpoint, string>();

function endpointKey(ep: RedisEndpoint): string {
  let k = endpointKeys.get(ep);
  if (k === undefined) {
    k = JSON.stringify([ep.scheme, ep.host, ep.port, ep.path ?? '', ep.database, ep.user ?? null, ep.pass ?? null, ep.connectTimeoutMs, ep.readTimeoutMs, ep.tls ?? null, ep.retryInterval ?? 0, ep.persistentId ?? null]);
    endpointKeys.set(ep, k);
  }
  return k;
}

/** The process-wide connection for an endpoint (created on first use, connected lazily). */
export function redisConnection(ep: RedisEndpoint): RedisConnection {
  const key = endpointKey(ep);
  let c = connections.get(key);
  if (c === undefined) {
    c = new RedisConnection(ep);
    connections.set(key, c);
  }
  return c;
}

/** A Redis Cluster client shared per (seeds, options), as phpredis caches its cluster handles. */
export interface ClusterSpec {
  seeds: { host: string; port: number }[];
  user?: string;
  pass?: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** Where reads go: `master`, or `all` (distribute) / `slave` (error). */
  scaleReads: 'master' | 'slave' | 'all';
  tls: TlsSettings | null;
}

export class RedisClusterConnection {
  readonly spec: ClusterSpec;
  #cluster: Cluster | null = null;
  #connecting: Promise<Cluster> | null = null;
  #closed = false;

  constructor(spec: ClusterSpec) {
    this.spec = spec;
  }

  #ready(): Promise<Cluster> {
    const c = this.#cluster;
    if (c !== null && c.status === 'ready') return Promise.resolve(c);
    if (this.#connecting !== null) return this.#connecting;
    if (this.#closed) return Promise.reject(new RedisIoError('connect', 'connection closed by closeRedisConnections()'));
    c?.disconnect();
    const s = this.spec;
    const redisOptions: NonNullable<ClusterOptions['redisOptions']> & { replyMapping: 'legacy' } = {
      replyMapping: 'legacy',
      connectTimeout: Math.min(s.connectTimeoutMs, 2 ** 31 - 1),
      maxRetriesPerRequest: 0,
      disableClientInfo: true,
      protocol: 2,
      enableReadyCheck: false,
      ...FAST_DISCONNECT,
      ...(s.pass !== undefined ? { password: s.pass } : {}),
      ...(s.user !== undefined ? { username: s.user } : {}),
      ...(s.tls !== null ? { tls: tlsConnectOptions(s.tls, '') } : {}),
    };
    const cluster = new Cluster(s.seeds as ClusterNode[], {
      lazyConnect: true,
      enableOfflineQueue: true,
      enableReadyCheck: true,
      scaleReads: s.scaleReads,
      maxRedirections: 16,
      // A dead master: refresh the slot map and retry for a while (a replica may be promoted);
      // the session handler decides how long to keep trying. CLUSTERDOWN is reported at once,
      // as phpredis does.
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 0,
      retryDelayOnTryAgain: 100,
      clusterRetryStrategy: (times) => (times > 3 ? null : 100 * times),
      slotsRefreshTimeout: Math.min(Math.max(1000, s.connectTimeoutMs), 10_000),
      redisOptions,
    });
    cluster.on('error', () => {});
    this.#cluster = cluster;
    const p = connectCluster(cluster).then(
      () => {
        this.#connecting = null;
        return cluster;
      },
      (e: unknown) => {
        this.#connecting = null;
        cluster.disconnect();
        throw classify(e, true);
      },
    );
    this.#connecting = p;
    return p;
  }

  async call(command: string, ...args: Args): Promise<RedisReply> {
    let cluster: Cluster;
    try {
      cluster = await this.#ready();
    } catch (e) {
      throw classify(e, true);
    }
    try {
      return (await withDeadline(bufferCommand(cluster, command, args), this.spec.readTimeoutMs)) as RedisReply;
    } catch (e) {
      throw classify(e, false);
    }
  }

  close(): void {
    this.#closed = true;
    const c = this.#cluster;
    this.#cluster = null;
    c?.disconnect();
  }
}

const clusters = new Map<string, RedisClusterConnection>();

export function redisClusterConnection(spec: ClusterSpec): RedisClusterConnection {
  const key = JSON.stringify(spec);
  let c = clusters.get(key);
  if (c === undefined) {
    c = new RedisClusterConnection(spec);
    clusters.set(key, c);
  }
  return c;
}

/**
 * Closes every Redis connection this process opened for sessions (both modules). Call it at
 * shutdown (engine.shutdown() does); a later session request opens new connections.
 */
export function closeRedisConnections(): void {
  for (const c of connections.values()) c.close();
  for (const c of clusters.values()) c.close();
  connections.clear();
  clusters.clear();
}
