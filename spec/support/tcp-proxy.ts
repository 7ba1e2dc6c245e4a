/**
 * @module spec/support/tcp-proxy
 * A small TCP proxy for fault tests, in front of a real server (memcached, redis): clients connect
 * to the proxy's port, every connection is relayed to the target, and one armed fault at a time is
 * applied to the server-to-client byte stream (the replies), counted in bytes from the moment it
 * was armed, over all connections:
 *
 * - `cut`: forward `at` more bytes, then `hang` (swallow the rest and keep the connection open, so
 *   the client's timeout has to act), `close` (FIN) or `reset` (RST, see below);
 * - `garbage`: insert `bytes` at offset `at`, then carry on relaying;
 * - `delay`: from the next reply byte on, hold the replies for `ms`, then deliver them in order;
 * - `reset-request`: reset the connection that sends the next request, before it reaches the server.
 *
 * A fault fires once and is then disarmed (`fired` counts them). `bytesDown` counts the reply
 * bytes relayed since `resetCounters()`, to learn how long a clean exchange is before cutting it
 * at every offset.
 *
 * For faults these cannot describe (a reply cut at the n-th kilobyte of one large value, an
 * event-loop stall once a given request's reply is in the client's socket), a test passes
 * {@link ProxyTaps}: its own look at each chunk, before any armed fault.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Blocks the event loop for `ms` (a stalled process: timers late, replies unread in the socket). */
export function busyWait(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    /* the event loop is stalled */
  }
}

export type ProxyFault =
  | { kind: 'cut'; at: number; then: 'hang' | 'close' | 'reset' }
  | { kind: 'garbage'; at: number; bytes: Uint8Array }
  | { kind: 'delay'; ms: number }
  | { kind: 'reset-request' };

/**
 * A test's own hooks on the byte streams. Each gets a chunk and the client's socket, and returns
 * true when it has dealt with the chunk itself (written it, dropped it, reset the client): the
 * proxy then neither forwards it nor applies an armed fault to it.
 */
export interface ProxyTaps {
  /** A chunk of requests from a client, before it goes to the server. */
  request?(chunk: Buffer, client: Socket): boolean;
  /** A chunk of replies from the server, before it goes to the client. */
  reply?(chunk: Buffer, client: Socket): boolean;
}

interface Relay {
  client: Socket;
  upstream: Socket;
  /** Replies are swallowed (a `hang` cut). */
  hung: boolean;
  /** Replies held back by a `delay`, and whether one is in progress. */
  held: Buffer[] | null;
}

export class TcpProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #targetHost: string;
  readonly #targetPort: number;
  readonly #relays = new Set<Relay>();
  readonly #taps: ProxyTaps;
  #fault: ProxyFault | null = null;
  /** Reply bytes relayed since the fault was armed. */
  #sinceArmed = 0;
  /** Faults that fired. */
  fired = 0;
  /** Reply bytes relayed since resetCounters(). */
  bytesDown = 0;
  /** Connections accepted since start. */
  connections = 0;
  /** Reply bytes swallowed by `hang` cuts. */
  swallowed = 0;

  private constructor(server: Server, port: number, targetHost: string, targetPort: number, taps: ProxyTaps) {
    this.#server = server;
    this.#taps = taps;
    this.port = port;
    this.#targetHost = targetHost;
    this.#targetPort = targetPort;
  }

  /** Starts a proxy on a free port of 127.0.0.1, relaying to `targetHost:targetPort`. */
  static async start(targetPort: number, targetHost = '127.0.0.1', taps: ProxyTaps = {}): Promise<TcpProxy> {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const a = server.address();
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
    const proxy = new TcpProxy(server, port, targetHost, targetPort, taps);
    server.on('connection', (c) => proxy.#accept(c));
    return proxy;
  }

  /** `127.0.0.1:<port>` */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Arms one fault (replacing any armed one); offsets count from now. */
  arm(fault: ProxyFault): void {
    this.#fault = fault;
    this.#sinceArmed = 0;
  }

  disarm(): void {
    this.#fault = null;
  }

  get armed(): boolean {
    return this.#fault !== null;
  }

  resetCounters(): void {
    this.bytesDown = 0;
  }

  /** Drops every relayed connection (as a server restart would). */
  dropAll(): void {
    for (const r of this.#relays) {
      r.client.destroy();
      r.upstream.destroy();
    }
    this.#relays.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.connections++;
    const upstream = connect(this.#targetPort, this.#targetHost);
    const relay: Relay = { client, upstream, hung: false, held: null };
    this.#relays.add(relay);
    const end = (): void => {
      this.#relays.delete(relay);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    // The server closing: the client gets what was relayed, then FIN.
    upstream.on('close', () => {
      this.#relays.delete(relay);
      client.end();
    });
    client.on('data', (chunk: Buffer) => {
      if (this.#taps.request?.(chunk, client) === true) return;
      if (this.#fault?.kind === 'reset-request') {
        this.#fault = null;
        this.fired++;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => this.#down(relay, chunk));
  }

  /** One chunk of replies from the server, through the armed fault. */
  #down(relay: Relay, chunk: Buffer): void {
    if (relay.hung) {
      this.swallowed += chunk.length;
      return;
    }
    if (relay.held !== null) {
      relay.held.push(chunk);
      return;
    }
    if (this.#taps.reply?.(chunk, relay.client) === true) return;
    const fault = this.#fault;
    if (fault === null || fault.kind === 'reset-request') {
      this.#forward(relay, chunk);
      return;
    }
    if (fault.kind === 'delay') {
      this.#fault = null;
      this.fired++;
      relay.held = [chunk];
      setTimeout(() => {
        const held = relay.held ?? [];
        relay.held = null;
        for (const c of held) this.#forward(relay, c);
      }, fault.ms);
      return;
    }
    const room = fault.at - this.#sinceArmed;
    if (chunk.length <= room) {
      this.#sinceArmed += chunk.length;
      this.#forward(relay, chunk);
      return;
    }
    this.#fault = null;
    this.fired++;
    const before = chunk.subarray(0, Math.max(0, room));
    if (before.length > 0) this.#forward(relay, before);
    if (fault.kind === 'garbage') {
      relay.client.write(fault.bytes);
      this.#forward(relay, chunk.subarray(before.length));
      return;
    }
    switch (fault.then) {
      case 'hang':
        relay.hung = true;
        this.swallowed += chunk.length - before.length;
        return;
      case 'close':
        relay.upstream.destroy();
        relay.client.end();
        return;
      case 'reset':
        // RST (SO_LINGER 0): bytes still in the send buffer may be dropped, so the client gets at
        // most the bytes before the cut. Node 20 sends a FIN instead when the reset follows the
        // socket's last read closely (seen on Linux 6.x), so the client may see an end instead of
        // ECONNRESET; either way nothing after the cut arrives.
        relay.hung = true;
        relay.client.resetAndDestroy();
        relay.upstream.destroy();
        return;
    }
  }

  #forward(relay: Relay, chunk: Buffer): void {
    this.bytesDown += chunk.length;
    relay.client.write(chunk);
  }
}
