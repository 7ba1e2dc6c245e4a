/**
 * @module handlers/shared/memcache/client
 * One memcached server, spoken to in the binary protocol, pipelined over one socket.
 *
 * The socket, the request frames and the reply parser are this module's own (memjs 1.3.2, used
 * before, is described in README "memcache and memcached modules": what it got wrong is why the
 * rules below exist).
 * - A connection is a *generation*: one socket and its parser state. Any failure (timeout, socket
 *   error, peer close with requests pending, a reply that is not the next expected frame) retires
 *   the whole generation: its socket is destroyed, every request in flight on it is rejected with
 *   a typed {@link MemcacheIoError}, and the next request opens a new generation. A broken
 *   connection is never reused, and no byte of a cut reply is ever parsed with the next socket's.
 * - Replies must arrive in request order (memcached answers non-quiet requests in order) with magic
 *   0x81, the request's opcode and opaque, else the generation is retired (checked on the header,
 *   before the body is received).
 * - A request times out on the reply, not on a timer: only after the server sent nothing for the
 *   timeout while the loop was free to read it (the silence clock in `Generation`).
 * - Large values are not copied on the way: a reply body that does not fit in the read buffer is
 *   received into one buffer sized from its header, the socket reading straight into it (`onread`
 *   with a buffer per read); a request's value goes to the socket as it was given, next to its
 *   header, in one vectored write (cork/uncork), never concatenated.
 *
 * Connections are shared per address within the process (like PHP's persistent connections);
 * server selection is the caller's (see ketama.ts, pecl-ring.ts).
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { errorText } from '../../../lib/zend/index.ts';
import { ReplyReader, requestHead, type ExtrasWriter, type Reply } from './frames.ts';

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
  resolve(r: Reply): void;
  reject(e: MemcacheIoError): void;
}

/** Silence is measured in ticks of timeout / TICKS_PER_TIMEOUT; a late tick counts as one tick. */
const TICKS_PER_TIMEOUT = 4;

/** Values up to this size are copied into their request's header buffer (one write part). */
const INLINE_VALUE = 1024;

/** A batch of header buffers up to this size is joined into one write. */
const JOIN_MAX = 64 * 1024;

/**
 * One socket's life: the socket, the requests written to it in order, the reply being parsed and
 * the silence clock. Retired at the first failure; never used again after that.
 */
class Generation {
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  readonly #onRetire: (g: Generation) => void;
  readonly #pending: Pending[] = [];
  /** Write parts queued for the next flush (headers, and values too large to copy). */
  #queued: Uint8Array[] = [];
  /** The bytes in #queued, and whether a value too large to copy is among them. */
  #queuedBytes = 0;
  #queuedApart = false;
  #retired: MemcacheIoError | null = null;
  /** The reply stream's parser (frames.ts); it also says where the socket reads next. */
  readonly #reader: ReplyReader;
  /** #flush, made once (setImmediate's callback for each batch). */
  readonly #flushSoon = (): void => this.#flush();

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
    this.#reader = new ReplyReader({
      expects: (opcode, opaque) => this.#pending[0]?.opcode === opcode && this.#pending[0].opaque === opaque,
      reply: (r) => this.#pending.shift()!.resolve(r),
      fault: (_kind, detail) => this.retire(new MemcacheIoError('protocol', detail)),
    });
    // The socket reads where the reader says: a large reply body straight into its own buffer.
    const onread = { buffer: (): Uint8Array => this.#reader.nextRead(), callback: (n: number, buf: Uint8Array): boolean => this.#onRead(n, buf) };
    const s =
      address.socketPath !== undefined
        ? connect({ path: address.socketPath, onread })
        : connect({ host: address.host, port: address.port, onread, noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 });
    this.#socket = s;
    // An idle pooled connection must not keep the process alive; the silence ticker does that
    // while a request waits.
    s.unref();
    s.on('error', (err) => this.retire(classify(err)));
    // A peer that closes without an error still fails every request waiting on it.
    s.on('close', () => this.retire(new MemcacheIoError('connect', 'Connection closed by peer')));
  }

  get retired(): boolean {
    return this.#retired !== null;
  }

  /**
   * Queues one request (its header, and its value when that is not inside the header); requests
   * of one event-loop turn go out in one vectored socket write. `value` is written as it is: it
   * must not change until the request settles.
   */
  send(opcode: number, opaque: number, head: Buffer, value: Uint8Array | null): Promise<Reply> {
    if (this.#retired) return Promise.reject(this.#retired);
    return new Promise((resolve, reject) => {
      this.#pending.push({ opcode, opaque, sentAt: undefined, resolve, reject });
      if (this.#queued.length === 0) setImmediate(this.#flushSoon);
      this.#queued.push(head);
      this.#queuedBytes += head.byteLength;
      if (value !== null) {
        this.#queued.push(value);
        this.#queuedBytes += value.byteLength;
        this.#queuedApart = true;
      }
    });
  }

  #flush(): void {
    const parts = this.#queued;
    const bytes = this.#queuedBytes;
    const apart = this.#queuedApart;
    this.#queuedBytes = 0;
    this.#queuedApart = false;
    if (this.#retired || parts.length === 0) return;
    const now = performance.now();
    for (const p of this.#pending) p.sentAt ??= now;
    const s = this.#socket;
    if (parts.length === 1) s.write(parts[0]!);
    else if (!apart && bytes <= JOIN_MAX) {
      // Headers (with their small values) only: joined, they leave as one plain write, without
      // the stream's corked-write bookkeeping.
      s.write(Buffer.concat(parts, bytes));
    } else {
      // Corked writes leave as one writev(2); no part is copied.
      s.cork();
      for (const p of parts) s.write(p);
      s.uncork();
    }
    // The stream keeps the parts, not the array: it takes the next batch.
    parts.length = 0;
    this.#arm();
  }

  /** `n` bytes were read into `buf` (the reader's). Always true: go on reading. */
  #onRead(n: number, buf: Uint8Array): true {
    if (this.#retired) return true;
    this.#bytesIn += n;
    this.#reader.onRead(n, buf);
    if (this.#pending.length === 0 && this.#ticker !== null && !this.#idle) {
      this.#idle = true;
      this.#ticker.unref();
    }
    return true;
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
    this.#socket.destroy();
    this.#onRetire(this);
    for (const p of this.#pending.splice(0)) p.reject(err);
  }
}

/** set/add extras: flags and expiry. */
const storeExtras: ExtrasWriter = (b, at, flags, exptime) => {
  b.writeUInt32BE(flags >>> 0, at);
  b.writeUInt32BE(exptime >>> 0, at + 4);
};
/** touch extras: the expiry. */
const touchExtras: ExtrasWriter = (b, at, exptime) => {
  b.writeUInt32BE(exptime >>> 0, at);
};
/** incr extras: delta, initial value 0, and expiry 0xffffffff ("do not create"). */
const incrExtras: ExtrasWriter = (b, at, delta) => {
  b.writeBigUInt64BE(BigInt(delta), at);
  b.writeBigUInt64BE(0n, at + 8);
  b.writeUInt32BE(0xffffffff, at + 16);
};

// The replies as the commands return them (module-level: no closure per request).
function itemOf(r: Reply): Item | null {
  if (r.status === STATUS_NOT_FOUND) return null;
  if (r.status !== STATUS_OK) throw new MemcacheIoError('server', `status ${r.status}`);
  return { value: r.value, flags: r.flags };
}
const statusOf = (r: Reply): number => r.status;
const isOk = (r: Reply): boolean => r.status === STATUS_OK;
const counterOf = (r: Reply): bigint | null => (r.status === STATUS_OK && r.value.length >= 8 ? r.value.readBigUInt64BE(0) : null);

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

  /**
   * Sends one request: a header buffer holding the 24-byte header, `extras` (filled in by the
   * caller through `fill`), the key and a small value; a larger value goes out as its own write
   * part, uncopied (it must not change until the request settles).
   */
  #send(opcode: number, key: string, extrasLength: number, fill: ExtrasWriter | null, value: Uint8Array | null, a = 0, b = 0): Promise<Reply> {
    if (!this.#gen || this.#gen.retired) {
      this.#gen = new Generation(this.address, this.#opts, (g) => {
        if (this.#gen === g) this.#gen = null;
      });
    }
    this.#seq = (this.#seq + 1) >>> 0;
    const valueLength = value === null ? 0 : value.byteLength;
    const inline = value !== null && valueLength <= INLINE_VALUE;
    const head = requestHead(opcode, this.#seq, key, extrasLength, fill, valueLength, inline ? value : null, a, b);
    return this.#gen.send(opcode, this.#seq, head, inline ? null : value);
  }

  /**
   * Sends one request and maps its reply with `then` (a module-level function). Never throws: a
   * failure before the request is queued rejects the promise, as every failure does.
   */
  #request<T>(opcode: number, key: string, extrasLength: number, fill: ExtrasWriter | null, value: Uint8Array | null, a: number, b: number, then: (r: Reply) => T): Promise<T> {
    try {
      return this.#send(opcode, key, extrasLength, fill, value, a, b).then(then);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The item, or null when the key does not exist. The value is the caller's to keep. */
  get(key: string): Promise<Item | null> {
    return this.#request(OP_GET, key, 0, null, null, 0, 0, itemOf);
  }

  /**
   * set: the binary status, 0 when stored (3 = too large, 0x82 = out of memory). `value` is written
   * without a copy: it must not change until the promise settles.
   */
  set(key: string, value: Uint8Array, flags: number, exptime: number): Promise<number> {
    return this.#request(OP_SET, key, 8, storeExtras, value, flags, exptime, statusOf);
  }

  /** add: true when stored, false when the key exists (or the server did not store it). */
  add(key: string, value: Uint8Array | string, flags: number, exptime: number): Promise<boolean> {
    const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
    // Stored: OK; EXISTS, NOT_STORED or any other status: not stored.
    return this.#request(OP_ADD, key, 8, storeExtras, v, flags, exptime, isOk);
  }

  /** incr by `delta` without creating the key: the new value, or null when the key is missing / not numeric. */
  incr(key: string, delta: number): Promise<bigint | null> {
    return this.#request(OP_INCREMENT, key, 20, incrExtras, null, delta, 0, counterOf);
  }

  /** delete: true when deleted, false when it did not exist. */
  delete(key: string): Promise<boolean> {
    return this.#request(OP_DELETE, key, 0, null, null, 0, 0, isOk);
  }

  /** touch: true when the key exists and got the new expiry. */
  touch(key: string, exptime: number): Promise<boolean> {
    return this.#request(OP_TOUCH, key, 4, touchExtras, null, exptime, 0, isOk);
  }

  /** Closes the socket; requests still in flight fail; a later request opens a new one. */
  close(): void {
    this.#gen?.retire(new MemcacheIoError('connect', 'Connection closed'));
    this.#gen = null;
  }
}

const shared = new Map<string, MemcacheConnection>();
/** Counts closeAllConnections() calls: connections remembered from before one are not the shared ones any more. */
let sharedEpoch = 0;

/** Changes whenever closeAllConnections() drops the shared connections (for callers that keep them). */
export function connectionEpoch(): number {
  return sharedEpoch;
}

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
  sharedEpoch++;
}
