/**
 * @module handlers/redis/reply-reader
 * Where the redis client's socket reads its replies (`net.connect({ onread })`, see
 * connector.ts), so that a large bulk reply (a session) is received where it then stays.
 *
 * Without it, a 140 KB GET reply cost 280 KB of fresh external memory: Node allocates each socket
 * read (three or four 64 KB chunks), and ioredis' decoder joins the chunks into a new Buffer. Here
 * the socket asks the reader where to read next ({@link ReplyReader.nextRead}) and reports how
 * many bytes landed there ({@link ReplyReader.onRead}); the reader finds the reply boundaries
 * (RESP framing only: it builds no values) and passes the bytes on to ioredis' decoder as chunks
 * ({@link ChunkSink}):
 *
 * - a bulk string of {@link VIEW_MIN} bytes or more whose header is read is received, header and
 *   all, in one buffer with room for it: the chunk passed on is a view of that buffer, so the
 *   decoder hands out the value as a view of it (no join, no copy), and the buffer is then given
 *   away with it: the next read gets a fresh buffer, sized for a reply that large, so the same
 *   session read again lands in one buffer at once;
 * - what else a read brings (small replies, and the parts of a large value above
 *   {@link PREALLOC_MAX}) is copied out of the read buffer, which is then read into again; from
 *   {@link VIEW_MIN} bytes in one read (many replies at once) it is passed on as a view of the
 *   buffer instead, which then goes with it, as Node's own reads would.
 *
 * No chunk passed on is written again while it may be referenced: a copy is never reused, and a
 * buffer a view was taken of is read into again only once given back (below). That matters: a session's lazy $_SESSION keeps spans into the bytes
 * read until its request ends, and the engine's validated-bytes cache keeps them across requests
 * (spec/redis/reply-reader.test.ts checks every chunk against its bytes at the end of the stream).
 *
 * Bytes the framing does not understand are passed on as copies from there on: ioredis' decoder
 * then reports the protocol error, as it would have without the reader.
 *
 * A buffer given away can come back (issue #16: a fresh 140 KB buffer a cycle is external memory
 * V8 frees only after a GC, and its pressure brings mark-compacts). When a large bulk string
 * completes, it is passed on as a chunk of its own (what came before and after it in the buffer,
 * under {@link VIEW_MIN} bytes each, is passed on as copies): ioredis' decoder hands its value out
 * as a view of that chunk (`subarray`) and keeps no other view of the buffer (it keeps slices of a
 * chunk only while a value spans chunks, and this chunk ends where the value's CRLF ends). The
 * value's holder may then give it back ({@link releaseReply}: the redis module, once the engine
 * released the bytes read() returned): the buffer becomes the reader's spare, the next fresh read
 * buffer. Only the last buffer lent so, once, for exactly its value's bytes.
 */

/** The buffer each reader lent last (a large value's chunk), by its memory. */
const lentBuffers = new WeakMap<ArrayBufferLike, ReplyReader>();

/**
 * Gives back the value of a large bulk reply (the exact bytes ioredis handed out): the caller
 * guarantees nothing references them, or any view of their buffer, any more. Anything else (a
 * value from a buffer not lent alone, one given back already, bytes of another buffer) is ignored.
 * Returns whether the buffer was taken back.
 */
export function releaseReply(value: Uint8Array): boolean {
  const reader = lentBuffers.get(value.buffer);
  return reader !== undefined && reader.reclaim(value);
}

/** A bulk string from this size is received into a buffer of its own and passed on as a view of it. */
export const VIEW_MIN = 16 * 1024;
/** The largest reply whose buffer is sized from its header; a longer one is passed on as copies (ioredis joins them). */
export const PREALLOC_MAX = 1024 * 1024;
/** Node's own socket read size: the read buffer while no large reply was seen. */
export const READ_SIZE = 64 * 1024;
/** Room for the replies before a large one in the same read (the lock's `+OK` before the GET's). */
const HEAD_ROOM = 4096;
/** `$`, a sign, 19 digits and CRLF: a longer length line is not RESP. */
const MAX_LENGTH_LINE = 23;

/** The reader's sizes (tests use small ones to cut replies everywhere). */
export interface ReaderSizes {
  /** The read buffer while no large reply was seen (READ_SIZE). */
  readSize: number;
  /** VIEW_MIN. */
  viewMin: number;
  /** PREALLOC_MAX. */
  preallocMax: number;
  /** Room kept before a large reply in a fresh read buffer. */
  headRoom: number;
}

export const DEFAULT_SIZES: ReaderSizes = { readSize: READ_SIZE, viewMin: VIEW_MIN, preallocMax: PREALLOC_MAX, headRoom: HEAD_ROOM };

/** Receives the reply stream's bytes, in order, as chunks that are never written again. */
export type ChunkSink = (chunk: Buffer) => void;

const enum State {
  /** At the first byte of a reply or of an element. */
  Type,
  /** In a line (`+`, `-`, `:`, `*` and RESP3's line types): up to its LF. */
  Line,
  /** In the length line of a bulk string (`$`, RESP3's `!` and `=`). */
  Length,
  /** In a bulk string's body and CRLF passed on as copies. */
  Skip,
  /** In a large bulk string received where it lies: until `frameEnd`. */
  Frame,
  /** Not RESP: everything is passed on as copies. */
  Fault,
}

/** Whether a type byte starts a length-prefixed string. */
const isLengthType = (b: number): boolean => b === 0x24 || b === 0x21 || b === 0x3d;

export class ReplyReader {
  readonly #sink: ChunkSink;
  readonly #sizes: ReaderSizes;
  #buf: Buffer;
  /** The size of a fresh read buffer: READ_SIZE, or room for the largest reply received in place. */
  #readSize: number;
  /** Bytes [0, #end) of #buf are read; [#start, #end) not passed on yet; #pos is the next byte to frame. */
  #start = 0;
  #end = 0;
  #pos = 0;
  #state = State.Type;
  /** Where the current length line or frame starts. */
  #tokenStart = 0;
  #frameEnd = 0;
  /** Body bytes (and CRLF) left in State.Skip. */
  #skip = 0;
  #length = 0;
  #digits = 0;
  #negative = false;
  #cr = false;
  /** The end of the last large bulk string completed in #buf and not passed on yet (0: none). */
  #viewTo = 0;
  /** Where that bulk string's length line starts, and its value's length. */
  #viewFrom = 0;
  #viewLength = 0;
  /** The length of the large bulk string being received (State.Frame). */
  #frameLength = 0;
  /** The buffer lent last with a large value alone in its chunk, and where the value lies in it. */
  #lent: Buffer | null = null;
  #lentAt = 0;
  #lentLength = 0;
  /** A lent buffer given back: the next fresh read buffer, when its size fits. */
  #spare: Buffer | null = null;

  constructor(sink: ChunkSink, sizes: ReaderSizes = DEFAULT_SIZES) {
    this.#sink = sink;
    this.#sizes = sizes;
    // Room for a length line cut by a read, and more.
    this.#readSize = Math.max(sizes.readSize, 2 * MAX_LENGTH_LINE);
    // Never from Buffer's shared pool: the reader writes into its buffers.
    this.#buf = Buffer.allocUnsafeSlow(this.#readSize);
  }

  /** Where the socket reads next. */
  nextRead(): Buffer {
    return this.#buf.subarray(this.#end);
  }

  /** `n` bytes were read into the buffer {@link nextRead} returned. */
  onRead(n: number): void {
    this.#end += n;
    this.#frame();
    this.#flush();
  }

  /** Finds the reply boundaries in [#pos, #end). */
  #frame(): void {
    const buf = this.#buf;
    const end = this.#end;
    let pos = this.#pos;
    while (pos < end) {
      switch (this.#state) {
        case State.Type: {
          const t = buf[pos]!;
          this.#tokenStart = pos++;
          if (isLengthType(t)) {
            this.#state = State.Length;
            this.#length = 0;
            this.#digits = 0;
            this.#negative = false;
            this.#cr = false;
          } else this.#state = State.Line;
          break;
        }
        case State.Line:
          while (pos < end && buf[pos] !== 0x0a) pos++;
          if (pos < end) {
            pos++;
            this.#state = State.Type;
          }
          break;
        case State.Length: {
          const c = buf[pos++]!;
          if (this.#cr) {
            if (c !== 0x0a) this.#state = State.Fault;
            else this.#lengthRead(pos);
          } else if (c === 0x0d && this.#digits > 0) this.#cr = true;
          else if (c === 0x2d && this.#digits === 0 && !this.#negative) this.#negative = true;
          else if (c >= 0x30 && c <= 0x39 && this.#digits < 15) {
            this.#length = this.#length * 10 + (c - 0x30);
            this.#digits++;
          } else this.#state = State.Fault;
          if (this.#state === State.Length && pos - this.#tokenStart > MAX_LENGTH_LINE) this.#state = State.Fault;
          break;
        }
        case State.Skip: {
          const k = Math.min(this.#skip, end - pos);
          pos += k;
          this.#skip -= k;
          if (this.#skip === 0) this.#state = State.Type;
          break;
        }
        case State.Frame:
          if (end >= this.#frameEnd) {
            pos = this.#viewTo = this.#frameEnd;
            this.#viewFrom = this.#tokenStart;
            this.#viewLength = this.#frameLength;
            this.#state = State.Type;
          } else pos = end;
          break;
        case State.Fault:
          pos = end;
          break;
      }
    }
    this.#pos = pos;
  }

  /** A bulk string's length line ended just before `pos`. */
  #lengthRead(pos: number): void {
    if (this.#negative) {
      // $-1: a null, no body.
      this.#state = State.Type;
      return;
    }
    const body = this.#length + 2;
    const frame = pos - this.#tokenStart + body;
    const sizes = this.#sizes;
    if (this.#length >= sizes.viewMin && frame <= sizes.preallocMax) {
      this.#state = State.Frame;
      this.#frameEnd = this.#tokenStart + frame;
      this.#frameLength = this.#length;
      if (frame + sizes.headRoom > this.#readSize) this.#readSize = frame + sizes.headRoom;
    } else {
      this.#state = State.Skip;
      this.#skip = body;
    }
  }

  /** Passes on what is framed, and sets up the buffer for the next read. */
  #flush(): void {
    const buf = this.#buf;
    // A length line or a large frame not complete yet stays here; the rest goes on.
    const held = this.#state === State.Length || this.#state === State.Frame ? this.#tokenStart : this.#end;
    let given = false;
    if (held > this.#start) {
      const from = this.#viewFrom;
      const to = this.#viewTo;
      const viewMin = this.#sizes.viewMin;
      if (to > this.#start && from - this.#start < viewMin && held - to < viewMin) {
        // A large bulk string is complete in it, with little before and after it: passed on as
        // a view of its own (the rest as copies), the buffer goes with it, and can come back.
        if (from > this.#start) this.#sink(Buffer.from(buf.subarray(this.#start, from)));
        this.#lend(buf, to - 2 - this.#viewLength, this.#viewLength);
        this.#sink(buf.subarray(from, to));
        if (held > to) this.#sink(Buffer.from(buf.subarray(to, held)));
        given = true;
      } else if (to > this.#start || held - this.#start >= viewMin) {
        // A large bulk string is complete in it among more, or many small replies came in one
        // read: passed on as a view, and the buffer goes with it, for good (cheaper than copying
        // that much out).
        this.#sink(buf.subarray(this.#start, held));
        given = true;
      } else this.#sink(Buffer.from(buf.subarray(this.#start, held)));
    }
    this.#viewTo = 0;
    this.#start = held;
    if (given || (this.#state === State.Frame && this.#frameEnd > buf.length)) {
      // A fresh buffer: the old one was given away, or the frame begun does not fit in it.
      const size = this.#state === State.Frame ? Math.max(this.#readSize, this.#frameEnd - held + this.#sizes.headRoom) : this.#readSize;
      const next = this.#fresh(size);
      buf.copy(next, 0, held, this.#end);
      this.#buf = next;
      this.#shift(held);
    } else if (held === this.#end) this.#shift(held);
    else if (this.#state === State.Length && held > 0) {
      // A length line cut by the read: moved to the front (at most MAX_LENGTH_LINE bytes).
      buf.copyWithin(0, held, this.#end);
      this.#shift(held);
    }
    // (A large frame that fits where it began keeps being read in place.)
  }

  /** `buf` goes with the chunk passed on next, where the value of `length` bytes at `at` is all ioredis can hand out of it. */
  #lend(buf: Buffer, at: number, length: number): void {
    if (this.#lent !== null) lentBuffers.delete(this.#lent.buffer);
    this.#lent = buf;
    this.#lentAt = at;
    this.#lentLength = length;
    lentBuffers.set(buf.buffer, this);
  }

  /** `value` is free (see {@link releaseReply}): the buffer lent last becomes the spare when `value` is its value. */
  reclaim(value: Uint8Array): boolean {
    const lent = this.#lent;
    if (lent === null || value.buffer !== lent.buffer || value.byteOffset !== lent.byteOffset + this.#lentAt || value.byteLength !== this.#lentLength) return false;
    lentBuffers.delete(lent.buffer);
    this.#lent = null;
    this.#spare = lent;
    return true;
  }

  /** A buffer to read into of at least `size` bytes: the spare when it is not more than twice that, else a new one. */
  #fresh(size: number): Buffer {
    const spare = this.#spare;
    if (spare !== null && spare.length >= size && spare.length <= 2 * size) {
      this.#spare = null;
      return spare;
    }
    // Never from Buffer's shared pool: the reader writes into its buffers.
    return Buffer.allocUnsafeSlow(size);
  }

  /** Buffers given back and not read into again yet (tests). */
  get hasSpare(): boolean {
    return this.#spare !== null;
  }

  /** The bytes from `by` on now start at 0. */
  #shift(by: number): void {
    this.#start -= by;
    this.#end -= by;
    this.#pos -= by;
    this.#tokenStart -= by;
    this.#frameEnd -= by;
  }
}
