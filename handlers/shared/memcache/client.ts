/**
 * @module handlers/shared/memcache/client
 * One memcached server, spoken to in the binary protocol, pipelined over one socket.
 *
 * memjs provides the socket (its `Server`: connect, keep-alive, unix sockets), the request frames
 * (`Utils.makeRequestBuffer`) and the frame parser (`Utils.parseMessage`). Its high-level calls
 * always write flags 0, cannot incr without creating, and log to the console, so the get/set/add/
 * incr/delete/touch extras are built here and the binary status is read here.
 *
 * What memjs 1.3.2 gets wrong, and how this wrapper handles it:
 * - After a timeout or socket error, `Server.error()` drops the socket but keeps the half-received
 *   bytes of the cut reply in `responseBuffer`; the next socket's replies are then parsed after
 *   them, out of frame, and every later request to that server times out (or is answered with
 *   bytes of another reply). Its own request timeout only `end()`s the old socket, which keeps
 *   delivering the late reply into the same buffer. Here a connection is a *generation*: one
 *   memjs `Server` with one socket and one reply buffer. Any failure (timeout, socket error, peer
 *   close with requests pending, a reply that is not the next expected frame) retires the whole
 *   generation: its socket is destroyed, every request in flight on it is rejected with a typed
 *   {@link MemcacheIoError}, and the next request opens a new generation. A broken connection is
 *   never reused.
 * - memjs matches replies by opaque and silently drops any it cannot match; here replies must
 *   arrive in request order (memcached answers non-quiet requests in order) with magic 0x81, the
 *   request's opcode and opaque, else the generation is retired.
 * - memjs times out on timers, and Node runs expired timers before it reads sockets: after the
 *   event loop was busy for longer than the timeout, a reply that arrived meanwhile is declared
 *   late. Here a request times out on the reply: only after the server sent nothing for the
 *   timeout while the loop was free to read it (the silence clock in `Generation`).
 *
 * Connections are shared per address within the process (like PHP's persistent connections);
 * server selection is the caller's (see ketama.ts, pecl-ring.ts).
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { errorText } from '../../../lib/zend/index.ts';

/** The parts of memjs (CommonJS, untyped here) this wrapper uses. */
interface MemjsServer {
  _socket?: Socket;
  responseBuffer: Buffer;
  sock(sasl: boolean, go: (s: Socket) => void): void;
  error(err: unknown): void;
  responseHandler(data: Buffer): void;
}
interface MemjsHeader {
  magic: number;
  opcode: number;
  keyLength: number;
  extrasLength: number;
  status: number;
  totalBodyLength: number;
  opaque: number;
}
interface MemjsResponse {
  header: MemjsHeader;
  extras: Buffer;
  val: Buffer;
}
interface MemjsModule {
  Server: new (host: string, port: number | string, user?: string, pass?: string, options?: object) => MemjsServer;
  Utils: {
    makeRequestBuffer(opcode: number, key: string | Buffer, extras: Buffer, value: Buffer | string, opaque: number): Buffer;
    parseMessage(buf: Buffer): MemjsResponse | false;
  };
}
const memjs = createRequire(import.meta.url)('memjs') as MemjsModule;

/** A failure talking to a server, with the kind libmemcached/pecl memcache would see. */
export class MemcacheIoError extends Error {
  /**
   * `connect`: refused, reset, closed, unreachable, unknown host; `timeout`: no reply in time;
   * `server`: an unexpected status; `protocol`: bytes that are not the reply expected next.
   */
  readonly kind: 'connect' | 'timeout' | 'server' | 'protocol';
  /** The OS error text ("Connection refused") when there is one. */
  readonly detail: string;
  constructor(kind: 'connect' | 'timeout' | 'server' | 'protocol', detail: string) {
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

const RESPONSE_MAGIC = 0x81;
/** memcached's own item size cap is 1 MB by default (-I up to 1 GB); a larger length is garbage. */
const MAX_BODY = 1024 * 1024 * 1024 + 1024;


/** The connection failures reported with their strerror()/gai_strerror() text. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

const TIMED_OUT = 'socket timed out waiting on response.';

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
  /**
   * How long the server may stay silent (ms) while a request waits: counted from the request's
   * write or the last byte received, and only decided once the event loop has read the socket.
   */
  timeoutMs: number;
}

interface Pending {
  opcode: number;
  opaque: number;
  /** When the request was handed to the socket; undefined while it waits for the batch write. */
  sentAt: number | undefined;
  resolve(r: MemjsResponse): void;
  reject(e: MemcacheIoError): void;
}

/** Silence is measured in ticks of timeout / TICKS_PER_TIMEOUT; a late tick counts as one tick. */
const TICKS_PER_TIMEOUT = 4;

/**
 * One socket's life: a memjs Server, the requests written to it in order, and their deadline.
 * Retired at the first failure; never used again after that.
 */
class Generation {
  readonly #server: MemjsServer;
  readonly #timeoutMs: number;
  readonly #onRetire: (g: Generation) => void;
  readonly #pending: Pending[] = [];
  #queued: Buffer[] = [];
  #retired: MemcacheIoError | null = null;
  /** Bytes received so far (progress, for the silence clock). */
  #bytesIn = 0;
  /** How long the server has been silent while requests waited, counting only time the loop was free. */
  #silentMs = 0;
  #lastTick = 0;
  /** #bytesIn at the last tick (or when the clock was restarted). */
  #bytesAtTick = 0;
  #ticker: NodeJS.Timeout | null = null;
  /**
   * Set when the last reply came and nothing waits: the ticker then stays (unref'd) until its next
   * tick instead of being cleared, so one request after another does not create and clear an
   * interval per round trip; a request sent meanwhile restarts the silence clock.
   */
  #idle = false;

  constructor(address: ServerAddress, opts: ConnectionOptions, onRetire: (g: Generation) => void) {
    this.#timeoutMs = opts.timeoutMs;
    this.#onRetire = onRetire;
    // memjs' own timers are switched off (a day); deadlines are kept here.
    const options = { timeout: 86_400, conntimeout: 86_400, keepAlive: true, logger: { log: () => undefined } };
    // net.connect(path) is how memjs' Server reaches a unix socket: it passes (port, host) on.
    const server = new memjs.Server(address.host, address.socketPath ?? address.port, undefined, undefined, options);
    this.#server = server;
    const memjsError = server.error.bind(server);
    server.error = (err: unknown): void => {
      memjsError(err);
      this.retire(classify(err));
    };
    server.responseHandler = (data: Buffer): void => this.#onData(data);
    const seen = new WeakSet<Socket>();
    this.#watch = (s: Socket): void => {
      if (seen.has(s)) return;
      seen.add(s);
      // memjs forgets pending requests when the peer closes without an error.
      s.once('close', () => this.retire(new MemcacheIoError('connect', 'Connection closed by peer')));
    };
  }

  readonly #watch: (s: Socket) => void;

  get retired(): boolean {
    return this.#retired !== null;
  }

  /** Queues one request; requests of one event-loop turn go out in one socket write. */
  send(opcode: number, opaque: number, frame: Buffer): Promise<MemjsResponse> {
    if (this.#retired) return Promise.reject(this.#retired);
    return new Promise((resolve, reject) => {
      this.#pending.push({ opcode, opaque, sentAt: undefined, resolve, reject });
      this.#queued.push(frame);
      if (this.#queued.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#queued;
    this.#queued = [];
    if (this.#retired || batch.length === 0) return;
    const now = performance.now();
    for (const p of this.#pending) p.sentAt ??= now;
    const blob = batch.length === 1 ? batch[0]! : Buffer.concat(batch);
    this.#server.sock(false, (s) => {
      if (this.#retired) return;
      s.write(blob);
    });
    const s = this.#server._socket;
    if (s) {
      this.#watch(s);
      // An idle pooled connection must not keep the process alive; the deadline timer does that
      // while a request waits.
      s.unref();
    }
    this.#arm();
  }

  /** memjs' responseHandler, replaced: frames are checked against the request expected next. */
  #onData(data: Buffer): void {
    if (this.#retired) return;
    this.#bytesIn += data.length;
    const server = this.#server;
    let buf = server.responseBuffer.length === 0 ? data : Buffer.concat([server.responseBuffer, data]);
    for (;;) {
      if (buf.length > 0 && buf[0] !== RESPONSE_MAGIC) return this.retire(new MemcacheIoError('protocol', `invalid reply magic 0x${buf[0]!.toString(16)}`));
      if (buf.length >= 24) {
        const total = buf.readUInt32BE(8);
        if (total > MAX_BODY || total < buf.readUInt16BE(2) + buf[4]!) return this.retire(new MemcacheIoError('protocol', 'invalid reply length'));
      }
      const r = memjs.Utils.parseMessage(buf);
      if (!r) break;
      buf = buf.subarray(24 + r.header.totalBodyLength);
      const head = this.#pending.shift();
      if (!head || r.header.opaque !== head.opaque || r.header.opcode !== head.opcode) {
        if (head) this.#pending.unshift(head);
        return this.retire(new MemcacheIoError('protocol', 'reply out of order'));
      }
      head.resolve({ header: r.header, extras: Buffer.from(r.extras), val: Buffer.from(r.val) });
    }
    // Keep only the unparsed tail (a view of a fresh buffer, never of memjs' old one).
    server.responseBuffer = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    if (this.#pending.length === 0 && this.#ticker !== null && !this.#idle) {
      this.#idle = true;
      this.#ticker.unref();
    }
  }

  /**
   * The silence clock. A request times out when its server sent nothing for timeoutMs while the
   * event loop was free to read the reply, not after timeoutMs on a timer: Node runs expired
   * timers before it reads sockets, so after the loop was busy (a long synchronous decode, GC,
   * CPU starvation) a plain timer fires although the reply is waiting in the socket. So silence is
   * counted in ticks of timeoutMs/4 while requests are in flight; a tick that fires late credits
   * only its planned length (the stall itself is not counted), any byte received resets the
   * count, and when the count reaches timeoutMs the decision waits for setImmediate, i.e. until
   * the poll phase has read every readable socket. A stall therefore costs at most one tick of
   * the budget, and a dead or hung server still times out after about timeoutMs of free loop time.
   */
  #arm(): void {
    if (this.#pending.length === 0 || this.#pending[0]!.sentAt === undefined) return;
    if (this.#ticker !== null && !this.#idle) return;
    this.#silentMs = 0;
    this.#lastTick = performance.now();
    this.#bytesAtTick = this.#bytesIn;
    if (this.#ticker !== null) {
      // Idle since the last reply: the same ticker times the new requests.
      this.#idle = false;
      this.#ticker.ref();
      return;
    }
    const tickMs = Math.max(1, this.#timeoutMs / TICKS_PER_TIMEOUT);
    this.#ticker = setInterval(() => {
      if (this.#idle) return this.#disarm();
      const now = performance.now();
      if (this.#bytesIn !== this.#bytesAtTick) this.#silentMs = 0;
      else this.#silentMs += Math.min(now - this.#lastTick, tickMs);
      this.#lastTick = now;
      this.#bytesAtTick = this.#bytesIn;
      if (this.#silentMs + 0.5 < this.#timeoutMs) return;
      setImmediate(() => {
        if (this.#retired || this.#pending.length === 0) return;
        if (this.#bytesIn !== this.#bytesAtTick) {
          this.#silentMs = 0;
          this.#bytesAtTick = this.#bytesIn;
          return;
        }
        this.retire(new MemcacheIoError('timeout', TIMED_OUT));
      });
    }, tickMs);
  }

  #disarm(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = null;
    this.#idle = false;
  }

  /** Ends this generation: the socket is destroyed and every request on it fails with `err`. */
  retire(err: MemcacheIoError): void {
    if (this.#retired) return;
    this.#retired = err;
    this.#disarm();
    this.#queued = [];
    const s = this.#server._socket;
    this.#server.responseBuffer = Buffer.alloc(0);
    if (s) {
      delete this.#server._socket;
      s.destroy();
    }
    this.#onRetire(this);
    for (const p of this.#pending.splice(0)) p.reject(err);
  }
}

/** One server. Every method rejects with {@link MemcacheIoError} on a transport failure. */
export class MemcacheConnection {
  readonly address: ServerAddress;
  readonly #opts: ConnectionOptions;
  #gen: Generation | null = null;
  #seq = 0;

  constructor(address: ServerAddress, opts: ConnectionOptions) {
    this.address = address;
    this.#opts = opts;
  }

  #send(opcode: number, key: string | Buffer, extras: Buffer, value: Buffer | string): Promise<MemjsResponse> {
    if (!this.#gen || this.#gen.retired) {
      this.#gen = new Generation(this.address, this.#opts, (g) => {
        if (this.#gen === g) this.#gen = null;
      });
    }
    this.#seq = (this.#seq + 1) >>> 0;
    return this.#gen.send(opcode, this.#seq, memjs.Utils.makeRequestBuffer(opcode, key, extras, value, this.#seq));
  }

  /** The item, or null when the key does not exist. */
  async get(key: string): Promise<Item | null> {
    const r = await this.#send(OP_GET, key, Buffer.alloc(0), '');
    if (r.header.status === STATUS_NOT_FOUND) return null;
    if (r.header.status !== STATUS_OK) throw new MemcacheIoError('server', `status ${r.header.status}`);
    const flags = r.extras.length >= 4 ? r.extras.readUInt32BE(0) : 0;
    return { value: r.val, flags };
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

  /** Closes the socket; requests still in flight fail; a later request opens a new one. */
  close(): void {
    this.#gen?.retire(new MemcacheIoError('connect', 'Connection closed'));
    this.#gen = null;
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
