/**
 * @module handlers/shared/memcache/frames
 * The memcached binary protocol's frames, as the client (client.ts) writes and reads them: the
 * request header, and the reply stream parsed as the socket reads it.
 *
 * The reader is built for `net.connect({ onread })`: the socket asks it where to read next
 * ({@link ReplyReader.nextRead}) and tells it how many bytes landed there
 * ({@link ReplyReader.onRead}). Replies are parsed in the read buffer. A small value is copied
 * out (the buffer is reused by the next read). A large value (from {@link VIEW_MIN} bytes) whose
 * whole reply fits in the read buffer stays where the socket put it: the value is a view of the
 * read buffer, which is then given away with it, and the next read gets a fresh buffer. A body
 * that does not fit is received straight into one buffer of its own, sized from the header (the
 * part that came with the header copied once, never joined chunk by chunk), and the next read
 * buffer is sized for a body that large: a session read again and again (the same size each
 * time) is then received without any copy.
 *
 * A value handed out in the read buffer can be given back ({@link releaseValue}) once its holder
 * provably keeps no reference to it (the engine, after it decoded or copied the bytes it read:
 * SaveHandler.release): that buffer then becomes the reader's spare, and the next read buffer the
 * reader needs is the spare instead of a fresh allocation. So a large session read again and
 * again ping-pongs between two buffers and allocates none (a fresh ArrayBuffer a cycle is
 * external memory V8 frees only after a GC, and its pressure brings scavenges and mark-compacts:
 * README, issue #16). Only the exact value object last handed out can be given back, once.
 */

/** A reply, as the request waiting for it gets it. */
export interface Reply {
  opcode: number;
  opaque: number;
  status: number;
  /** The item's flags: the first 4 bytes of the extras (0 when there are fewer). */
  flags: number;
  /**
   * The value (the body after extras and key): a buffer of its own, or a view of one that holds
   * only this reply's body; never a view of the read buffer.
   */
  value: Buffer;
}

/** Why the reply stream cannot be parsed on: the bytes are not the reply expected next. */
export type StreamFault = 'magic' | 'length' | 'order';

/** What the reader reports to its connection. */
export interface ReplySink {
  /** Whether a reply with this opcode and opaque is the one expected next (checked on its header). */
  expects(opcode: number, opaque: number): boolean;
  reply(r: Reply): void;
  /** The stream is broken: nothing more is parsed; `detail` names the offending byte or field. */
  fault(kind: StreamFault, detail: string): void;
}

export const REQUEST_MAGIC = 0x80;
export const RESPONSE_MAGIC = 0x81;
/** memcached's own item size cap is 1 MB by default (-I up to 1 GB); a larger length is garbage. */
export const MAX_BODY = 1024 * 1024 * 1024 + 1024;

export interface ReaderSizes {
  /** The buffer the socket reads into while no large body is being received. */
  readBuffer: number;
  /**
   * A body up to this size gets its buffer at once, from the header's length; a larger one starts
   * here and doubles as its bytes arrive, so a garbage or hostile length costs at most twice the
   * bytes actually received.
   */
  bodyPrealloc: number;
}

/** 64 KB reads (Node's own size); bodies up to memcached's default item limit (1 MB) preallocated. */
export const DEFAULT_SIZES: ReaderSizes = { readBuffer: 64 * 1024, bodyPrealloc: 1024 * 1024 + 1024 };

const EMPTY = Buffer.alloc(0);

/** The values handed out in a read buffer not given back yet, and their reader. */
const lent = new WeakMap<Uint8Array, ReplyReader>();

/**
 * Gives back a value a {@link ReplyReader} handed out as a view of its read buffer: the caller
 * guarantees that nothing references the value, or any view of its bytes, any more. Anything else
 * (a value copied out, a value given back already, any other array) is ignored. Returns whether
 * the buffer was taken back.
 */
export function releaseValue(value: Uint8Array): boolean {
  const reader = lent.get(value);
  if (reader === undefined) return false;
  lent.delete(value);
  return reader.reclaim(value);
}

/**
 * A value from this size on is handed out as a view of the read buffer it arrived in (the buffer
 * then goes with it); a smaller one is copied out and the read buffer kept.
 */
export const VIEW_MIN = 16 * 1024;
/** Room for the replies and the header that come before a large body in one read (a lock's `add` reply, the `get` header). */
const HEAD_ROOM = 4096;

/** The reply stream of one connection, parsed as it is read. */
export class ReplyReader {
  readonly #sink: ReplySink;
  readonly #prealloc: number;
  /** The smallest read buffer (ReaderSizes.readBuffer). */
  readonly #minRead: number;
  /** The buffer the socket reads into while no large body is being received. */
  #readBuffer: Buffer;
  /** The size of the next read buffer: large enough for the last large body, in place. */
  #capacity: number;
  /** The read buffer was given away (a value is a view of it) or outgrown: the next read gets a new one. */
  #replace = false;
  /** The last value handed out as a view of a read buffer, and that buffer (for {@link reclaim}). */
  #lentValue: Buffer | null = null;
  #lentBuffer: Buffer | null = null;
  /** A read buffer given back: the next read buffer, when it is large enough. */
  #spare: Buffer | null = null;
  /** The read buffer the large body being received is a view of; null when it has a buffer of its own. */
  #bodyIn: Buffer | null = null;
  /** A reply header split across reads: its first #headFill bytes. */
  readonly #head = Buffer.allocUnsafe(24);
  #headFill = 0;
  /** The large body being received: its buffer (capacity), and the bytes in it. */
  #body: Buffer | null = null;
  #bodyFill = 0;
  /** The fields of the header of the reply being received. */
  #opcode = 0;
  #opaque = 0;
  #status = 0;
  #extrasLength = 0;
  /** extras + key: where the value starts in the body. */
  #valueAt = 0;
  #bodyLength = 0;
  #broken = false;

  constructor(sink: ReplySink, sizes: ReaderSizes = DEFAULT_SIZES) {
    this.#sink = sink;
    this.#prealloc = sizes.bodyPrealloc;
    this.#minRead = sizes.readBuffer;
    this.#capacity = sizes.readBuffer;
    this.#readBuffer = Buffer.allocUnsafe(sizes.readBuffer);
  }

  /** Where the next read goes: the rest of the large body being received, else the read buffer. Never empty. */
  nextRead(): Uint8Array {
    if (this.#body !== null) return this.#body.subarray(this.#bodyFill);
    if (this.#replace) {
      this.#replace = false;
      const spare = this.#spare;
      this.#spare = null;
      // The spare when it holds the next body in place and is not much larger than needed.
      this.#readBuffer = spare !== null && spare.length >= this.#capacity && spare.length <= 2 * this.#capacity ? spare : Buffer.allocUnsafe(this.#capacity);
    }
    return this.#readBuffer;
  }

  /** Buffers allocated for reads so far (tests: a read buffer given back is read into again). */
  get readBuffer(): Buffer {
    return this.#readBuffer;
  }

  /** `value` (see {@link releaseValue}) is free: its read buffer becomes the spare when it is the last one lent. */
  reclaim(value: Uint8Array): boolean {
    if (value !== this.#lentValue || this.#lentBuffer === null) return false;
    this.#spare = this.#lentBuffer;
    this.#lentValue = null;
    this.#lentBuffer = null;
    return true;
  }

  /** `value` is a view of read buffer `buf`, which goes with it. */
  #lend(value: Buffer, buf: Buffer): Buffer {
    this.#lentValue = value;
    this.#lentBuffer = buf;
    lent.set(value, this);
    return value;
  }

  /** `n` (> 0) bytes were read into `buf`, the buffer {@link nextRead} returned last. */
  onRead(n: number, buf: Uint8Array): void {
    if (this.#broken) return;
    if (buf === this.#readBuffer) this.#parse(this.#readBuffer, n);
    else this.#bodyBytes(n);
  }

  /** Parses `src[0, end)`: whole replies, then the start of a header or of a large body. */
  #parse(src: Buffer, end: number): void {
    let pos = 0;
    while (pos < end && !this.#broken) {
      if (this.#headFill > 0 || end - pos < 24) {
        if (this.#headFill === 0 && src[pos] !== RESPONSE_MAGIC) return this.#fault('magic', `invalid reply magic 0x${src[pos]!.toString(16)}`);
        const n = Math.min(24 - this.#headFill, end - pos);
        src.copy(this.#head, this.#headFill, pos, pos + n);
        this.#headFill += n;
        pos += n;
        if (this.#headFill < 24) return;
        this.#headFill = 0;
        if (!this.#header(this.#head, 0)) return;
      } else {
        if (!this.#header(src, pos)) return;
        pos += 24;
      }
      const total = this.#bodyLength;
      if (end - pos >= total) {
        // The whole body is here: a small value is copied out of the read buffer, a large one
        // stays in it and the read buffer goes with it.
        const flags = this.#extrasLength >= 4 ? src.readUInt32BE(pos) : 0;
        const length = total - this.#valueAt;
        let value: Buffer = EMPTY;
        if (length >= VIEW_MIN) {
          value = this.#lend(src.subarray(pos + this.#valueAt, pos + total), src);
          this.#replace = true;
          this.#sizeFor(total);
        } else if (length > 0) {
          value = Buffer.from(src.subarray(pos + this.#valueAt, pos + total));
        }
        pos += total;
        this.#complete(flags, value);
      } else if (pos + total <= src.length && total - this.#valueAt >= VIEW_MIN) {
        // The rest of the body fits in the read buffer after what is here: the socket reads it
        // there (the body is a view of the read buffer, which goes with the value).
        this.#body = src.subarray(pos, pos + total);
        this.#bodyIn = src;
        this.#bodyFill = end - pos;
        this.#replace = true;
        this.#sizeFor(total);
        return;
      } else {
        // The rest of the body goes from the socket straight into a buffer of its own.
        // (Room for at least one byte more than is here: the next read must have somewhere to go.)
        const body = Buffer.allocUnsafe(total <= this.#prealloc ? total : Math.max(this.#prealloc, end - pos + 1));
        src.copy(body, 0, pos, end);
        this.#body = body;
        this.#bodyIn = null;
        this.#bodyFill = end - pos;
        // The next read buffer holds a body this large in place.
        if (total - this.#valueAt >= VIEW_MIN && this.#sizeFor(total) > this.#readBuffer.length) this.#replace = true;
        return;
      }
    }
  }

  /**
   * Sizes the next read buffer for a large body of `total` bytes after a few replies (the last
   * large body decides, so the buffer follows the session size down as well as up), within the
   * preallocation limit; returns the size.
   */
  #sizeFor(total: number): number {
    if (total <= this.#prealloc) this.#capacity = Math.max(this.#minRead, total + HEAD_ROOM);
    return this.#capacity;
  }

  /** Checks and keeps the 24-byte reply header at `h[at]`; false when the stream is broken. */
  #header(h: Buffer, at: number): boolean {
    if (h[at] !== RESPONSE_MAGIC) {
      this.#fault('magic', `invalid reply magic 0x${h[at]!.toString(16)}`);
      return false;
    }
    const keyLength = h.readUInt16BE(at + 2);
    const extrasLength = h[at + 4]!;
    const total = h.readUInt32BE(at + 8);
    if (total > MAX_BODY || total < keyLength + extrasLength) {
      this.#fault('length', 'invalid reply length');
      return false;
    }
    const opcode = h[at + 1]!;
    const opaque = h.readUInt32BE(at + 12);
    if (!this.#sink.expects(opcode, opaque)) {
      this.#fault('order', 'reply out of order');
      return false;
    }
    this.#opcode = opcode;
    this.#opaque = opaque;
    this.#status = h.readUInt16BE(at + 6);
    this.#extrasLength = extrasLength;
    this.#valueAt = extrasLength + keyLength;
    this.#bodyLength = total;
    return true;
  }

  /** `n` bytes were read straight into the large body being received. */
  #bodyBytes(n: number): void {
    const body = this.#body!;
    this.#bodyFill += n;
    if (this.#bodyFill === this.#bodyLength) {
      this.#body = null;
      const value = body.subarray(this.#valueAt);
      // In place in the read buffer: that buffer went with the value (its whole allocation).
      if (this.#bodyIn !== null) this.#lend(value, this.#bodyIn);
      this.#bodyIn = null;
      this.#complete(this.#extrasLength >= 4 ? body.readUInt32BE(0) : 0, value);
    } else if (this.#bodyFill === body.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.#bodyLength, body.length * 2));
      body.copy(grown, 0, 0, this.#bodyFill);
      this.#body = grown;
    }
  }

  #complete(flags: number, value: Buffer): void {
    this.#sink.reply({ opcode: this.#opcode, opaque: this.#opaque, status: this.#status, flags, value });
  }

  #fault(kind: StreamFault, detail: string): void {
    this.#broken = true;
    this.#body = null;
    this.#bodyIn = null;
    this.#sink.fault(kind, detail);
  }
}

/**
 * Writes a request's extras into its header buffer `head` from offset `at`, from the two numbers
 * passed with the request (a module-level function: no closure per request).
 */
export type ExtrasWriter = (head: Buffer, at: number, a: number, b: number) => void;

/**
 * A request's header buffer: the 24-byte header, the extras (written by `fill` with `a` and `b`),
 * the key (UTF-8) and, when `inlineValue`, the value. `valueLength` is the whole value's length
 * either way.
 */
export function requestHead(
  opcode: number,
  opaque: number,
  key: string,
  extrasLength: number,
  fill: ExtrasWriter | null,
  valueLength: number,
  inlineValue: Uint8Array | null,
  a = 0,
  b = 0,
): Buffer {
  const keyLength = Buffer.byteLength(key);
  const head = Buffer.allocUnsafe(24 + extrasLength + keyLength + (inlineValue === null ? 0 : inlineValue.byteLength));
  head[0] = REQUEST_MAGIC;
  head[1] = opcode;
  head.writeUInt16BE(keyLength, 2);
  head[4] = extrasLength;
  head[5] = 0; // data type
  head.writeUInt16BE(0, 6); // vbucket
  head.writeUInt32BE(extrasLength + keyLength + valueLength, 8);
  head.writeUInt32BE(opaque, 12);
  // CAS, and extras `fill` leaves alone (a loop: Buffer#fill's argument checks cost more here).
  for (let i = 16, end = 24 + extrasLength; i < end; i++) head[i] = 0;
  if (fill !== null) fill(head, 24, a, b);
  head.write(key, 24 + extrasLength);
  if (inlineValue !== null) head.set(inlineValue, 24 + extrasLength + keyLength);
  return head;
}
