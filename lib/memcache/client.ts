/**
 * @module memcache/client
 * One memcached server, spoken to through memjs (binary protocol, pipelined over one socket).
 *
 * memjs gives the connection, framing, request/response matching and timeouts; its high-level
 * helpers always write flags 0, cannot incr without creating, and log to the console, so this
 * wrapper builds each request with memjs' own `makeRequestBuffer` and sends it with
 * `Client.perform`, then reads the binary status itself. That is the only protocol code here:
 * the 24-byte request header and the extras layout of get/set/add/incr/delete/touch.
 *
 * Connections are shared per address within the process (like PHP's persistent connections);
 * server selection is the caller's (see ketama.ts, pecl-ring.ts), never memjs'.
 */
import { createRequire } from 'node:module';
import { errorText } from '../zend/index.ts';

/** The parts of memjs (CommonJS, untyped here) this wrapper uses. */
interface MemjsModule {
  Server: new (host: string, port: number | string, user?: string, pass?: string, options?: object) => unknown;
  Client: new (servers: unknown[], options?: object) => unknown;
  Utils: { makeRequestBuffer(opcode: number, key: string | Buffer, extras: Buffer, value: Buffer | string, opaque: number): Buffer };
}
const memjs = createRequire(import.meta.url)('memjs') as MemjsModule;

/** A failure talking to a server, with the kind libmemcached/pecl memcache would see. */
export class MemcacheIoError extends Error {
  /** `connect`: refused, unreachable, unknown host; `timeout`; `server`: an unexpected status. */
  readonly kind: 'connect' | 'timeout' | 'server';
  /** The OS error text ("Connection refused") when there is one. */
  readonly detail: string;
  constructor(kind: 'connect' | 'timeout' | 'server', detail: string) {
    super(`${kind}: ${detail}`);
    this.kind = kind;
    this.detail = detail;
  }
  override get name(): string {
    return 'MemcacheIoError';
  }
}

export interface Item {
  value: Buffer;
  flags: number;
}

/** Where a server lives: TCP host/port or a unix socket path. */
export interface ServerAddress {
  host: string;
  port: number;
  /** Unix socket path; when set, host/port are only names. */
  socketPath?: string;
}

const OP_GET = 0x00;
const OP_SET = 0x01;
const OP_ADD = 0x02;
const OP_DELETE = 0x04;
const OP_INCREMENT = 0x05;
const OP_TOUCH = 0x1c;

const STATUS_OK = 0x00;
const STATUS_NOT_FOUND = 0x01;
const STATUS_EXISTS = 0x02;
const STATUS_NOT_STORED = 0x05;

interface MemjsResponse {
  header: { status: number; opaque: number };
  extras: Buffer;
  val: Buffer;
}

interface MemjsClientLike {
  perform(key: string, request: Buffer, seq: number, cb: (err: unknown, res: MemjsResponse | null) => void, retries?: number): void;
  incrSeq(): void;
  seq: number;
  close(): void;
  servers: { error(err: unknown): void }[];
}


/** The connection failures reported with their strerror()/gai_strerror() text. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

function classify(err: unknown): MemcacheIoError {
  if (err instanceof MemcacheIoError) return err;
  const e = err as { code?: string; message?: string } | string | undefined;
  if (typeof e === 'string') return new MemcacheIoError('connect', e);
  const code = e?.code ?? '';
  const text = CONNECT_CODES.has(code) ? errorText(code) : undefined;
  if (text !== undefined) return new MemcacheIoError('connect', text);
  const msg = e?.message ?? String(err);
  if (/timed out/i.test(msg)) return new MemcacheIoError('timeout', msg);
  return new MemcacheIoError('connect', msg);
}

export interface ConnectionOptions {
  /** Per-request deadline in ms (the socket timeout). */
  timeoutMs: number;
}

/** One server. Every method rejects with {@link MemcacheIoError} on a transport failure. */
export class MemcacheConnection {
  readonly address: ServerAddress;
  readonly #client: MemjsClientLike;
  readonly #timeoutMs: number;

  constructor(address: ServerAddress, opts: ConnectionOptions) {
    this.address = address;
    this.#timeoutMs = opts.timeoutMs;
    const options = {
      retries: 1,
      timeout: opts.timeoutMs / 1000,
      conntimeout: opts.timeoutMs / 1000,
      failover: false,
      logger: { log: () => undefined },
      keepAlive: true,
    };
    // net.connect(path) is how memjs' Server reaches a unix socket: it passes (port, host) on.
    const server = new memjs.Server(address.host, address.socketPath ?? address.port, undefined, undefined, options) as {
      write(blob: Buffer): void;
      _socket?: { unref(): void };
    };
    // memjs writes every request with its own socket write (one syscall each). Requests issued in
    // the same turn of the event loop are joined into one write: pipelining in one packet.
    const writeOne = server.write.bind(server);
    let queued: Buffer[] = [];
    server.write = (blob: Buffer): void => {
      queued.push(blob);
      if (queued.length === 1) {
        setImmediate(() => {
          const batch = queued;
          queued = [];
          writeOne(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
          // An idle pooled connection must not keep the process alive; a pending request's own
          // deadline timer does that while it waits.
          server._socket?.unref();
        });
      }
    };
    this.#client = new memjs.Client([server], options) as unknown as MemjsClientLike;
  }

  #send(opcode: number, key: string | Buffer, extras: Buffer, value: Buffer | string): Promise<MemjsResponse> {
    const c = this.#client;
    c.incrSeq();
    const seq = c.seq;
    const req = memjs.Utils.makeRequestBuffer(opcode, key, extras, value, seq);
    return new Promise((resolve, reject) => {
      let done = false;
      // memjs drops pending callbacks when a peer closes cleanly; this deadline guarantees an answer.
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        c.servers[0]?.error(new Error('socket timed out waiting on response.'));
        reject(new MemcacheIoError('timeout', 'socket timed out waiting on response.'));
      }, this.#timeoutMs + 50);
      c.perform(typeof key === 'string' ? key : key.toString('latin1'), req, seq, (err, res) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err || !res) reject(classify(err));
        else resolve(res);
      }, 1);
    });
  }

  /** The item, or null when the key does not exist. */
  async get(key: string): Promise<Item | null> {
    const r = await this.#send(OP_GET, key, Buffer.alloc(0), '');
    if (r.header.status === STATUS_NOT_FOUND) return null;
    if (r.header.status !== STATUS_OK) throw new MemcacheIoError('server', `status ${r.header.status}`);
    const flags = r.extras.length >= 4 ? r.extras.readUInt32BE(0) : 0;
    return { value: Buffer.from(r.val), flags };
  }

  #storeExtras(flags: number, exptime: number): Buffer {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(flags >>> 0, 0);
    b.writeUInt32BE(exptime >>> 0, 4);
    return b;
  }

  /** set: the binary status, 0 when stored (3 = too large, 0x82 = out of memory). */
  async set(key: string, value: Uint8Array, flags: number, exptime: number): Promise<number> {
    const r = await this.#send(OP_SET, key, this.#storeExtras(flags, exptime), Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    return r.header.status;
  }

  /** add: true when stored, false when the key exists (or the server did not store it). */
  async add(key: string, value: Uint8Array | string, flags: number, exptime: number): Promise<boolean> {
    const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const r = await this.#send(OP_ADD, key, this.#storeExtras(flags, exptime), v);
    if (r.header.status === STATUS_OK) return true;
    if (r.header.status === STATUS_EXISTS || r.header.status === STATUS_NOT_STORED) return false;
    return false;
  }

  /** incr by `delta` without creating the key: the new value, or null when the key is missing / not numeric. */
  async incr(key: string, delta: number): Promise<bigint | null> {
    const extras = Buffer.alloc(20);
    extras.writeBigUInt64BE(BigInt(delta), 0);
    extras.writeBigUInt64BE(0n, 8);
    extras.writeUInt32BE(0xffffffff, 16); // "do not create"
    const r = await this.#send(OP_INCREMENT, key, extras, '');
    if (r.header.status !== STATUS_OK) return null;
    return r.val.length >= 8 ? r.val.readBigUInt64BE(0) : null;
  }

  /** delete: true when deleted, false when it did not exist. */
  async delete(key: string): Promise<boolean> {
    const r = await this.#send(OP_DELETE, key, Buffer.alloc(0), '');
    return r.header.status === STATUS_OK;
  }

  /** touch: true when the key exists and got the new expiry. */
  async touch(key: string, exptime: number): Promise<boolean> {
    const e = Buffer.alloc(4);
    e.writeUInt32BE(exptime >>> 0, 0);
    const r = await this.#send(OP_TOUCH, key, e, '');
    return r.header.status === STATUS_OK;
  }

  close(): void {
    this.#client.close();
  }
}

const shared = new Map<string, MemcacheConnection>();

/** The process-wide connection to `address` (created on first use). */
export function connectionFor(address: ServerAddress, timeoutMs: number): MemcacheConnection {
  const id = `${address.socketPath ?? `${address.host}:${address.port}`}#${timeoutMs}`;
  let c = shared.get(id);
  if (!c) {
    c = new MemcacheConnection(address, { timeoutMs });
    shared.set(id, c);
  }
  return c;
}

/** Closes every shared connection (tests, graceful shutdown). */
export function closeAllConnections(): void {
  for (const c of shared.values()) c.close();
  shared.clear();
}
