/**
 * @module spec/redis/reply-reader
 * The redis client's reply reader (handlers/redis/reply-reader.ts) fed as a socket with `onread`
 * feeds it, its chunks decoded by ioredis' own decoder: the same bytes and replies in any chunking,
 * a large bulk reply passed on in one piece (so ioredis hands it out as a view, not joined), and no
 * chunk ever written again after it was passed on (a session's lazy $_SESSION keeps spans into the
 * bytes read until its request ends), unless its value was given back (releaseReply): then only
 * a buffer whose bytes nothing can still read is read into again.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Decoder, RESP_TYPES } from 'ioredis/built/resp/decoder.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SIZES, releaseReply, ReplyReader, type ReaderSizes } from '../../handlers/redis/reply-reader.ts';

const SEED = 0x72656431;

type Val = { t: 'simple' | 'error'; s: string } | { t: 'int'; n: number } | { t: 'bulk'; b: Buffer } | { t: 'null' } | { t: 'array'; items: Val[] };

function encode(v: Val, out: Buffer[]): void {
  switch (v.t) {
    case 'simple':
      out.push(Buffer.from(`+${v.s}\r\n`));
      break;
    case 'error':
      out.push(Buffer.from(`-${v.s}\r\n`));
      break;
    case 'int':
      out.push(Buffer.from(`:${v.n}\r\n`));
      break;
    case 'null':
      out.push(Buffer.from('$-1\r\n'));
      break;
    case 'bulk':
      out.push(Buffer.from(`$${v.b.length}\r\n`), v.b, Buffer.from('\r\n'));
      break;
    case 'array':
      out.push(Buffer.from(`*${v.items.length}\r\n`));
      for (const i of v.items) encode(i, out);
      break;
  }
}

/** A reply as a comparable string (bulk strings by length and hash: 140 KB values stay cheap to compare). */
function shape(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return `i${v}`;
  if (Buffer.isBuffer(v)) return `b${v.length}:${createHash('sha1').update(v).digest('hex')}`;
  if (Array.isArray(v)) return `[${v.map(shape).join(',')}]`;
  if (v instanceof Error) return `e${v.message}`;
  return `?${String(v)}`;
}

function expectedShape(v: Val): string {
  switch (v.t) {
    case 'simple':
      return shape(Buffer.from(v.s));
    case 'error':
      return `e${v.s}`;
    case 'int':
      return `i${v.n}`;
    case 'null':
      return 'null';
    case 'bulk':
      return shape(v.b);
    case 'array':
      return `[${v.items.map(expectedShape).join(',')}]`;
  }
}

/** Bytes with CR LF, `$` and `*` in them: what a framing mistake would trip on. */
const pattern = (n: number, seed: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = [0x0d, 0x0a, 0x24, 0x2a, (i * 31 + seed) & 0xff][(i + seed) % 5]!;
  return b;
};

interface Run {
  chunks: Buffer[];
  snapshots: Buffer[];
  replies: unknown[];
  /** Bytes given to each read. */
  reads: number[];
  /** What ioredis' decoder threw (it then drops the connection). */
  faults: unknown[];
}

/**
 * Feeds `stream` to a reader as a socket would, each read taking at most the next of `readSizes`
 * and never crossing one of `boundaries` (where a server that answers one command at a time pauses).
 */
function run(stream: Buffer, readSizes: readonly number[], sizes: ReaderSizes = DEFAULT_SIZES, boundaries: readonly number[] = []): Run {
  const r: Run = { chunks: [], snapshots: [], replies: [], reads: [], faults: [] };
  const decoder = new Decoder({
    getTypeMapping: () => ({ [RESP_TYPES.SIMPLE_STRING]: Buffer, [RESP_TYPES.BLOB_STRING]: Buffer }),
    onReply: (v: unknown) => r.replies.push(v),
    onErrorReply: (e: unknown) => r.replies.push(e),
    onPush: () => {
      throw new Error('push');
    },
  });
  const reader = new ReplyReader((chunk) => {
    r.chunks.push(chunk);
    r.snapshots.push(Buffer.from(chunk));
    try {
      decoder.write(chunk);
    } catch (e) {
      r.faults.push(e);
    }
  }, sizes);
  for (let pos = 0, i = 0; pos < stream.length; i++) {
    const into = reader.nextRead();
    expect(into.length).toBeGreaterThan(0);
    const stop = boundaries.find((b) => b > pos) ?? stream.length;
    const n = Math.min(into.length, readSizes[i % readSizes.length]!, stop - pos);
    stream.copy(into, 0, pos, pos + n);
    // What lies past the bytes read is stale in a real read buffer: never to be framed.
    into.fill(0x24, n);
    reader.onRead(n);
    r.reads.push(n);
    pos += n;
  }
  return r;
}

/** The checks every run must pass, made after the whole stream was read. */
function expectIntact(r: Run, stream: Buffer, values: Val[]): void {
  expect(r.faults).toEqual([]);
  expect(Buffer.concat(r.chunks).equals(stream)).toBe(true);
  // No chunk was written after it was passed on (a reused read buffer would show here).
  r.chunks.forEach((c, i) => expect(c.equals(r.snapshots[i]!), `chunk ${i} changed after it was passed on`).toBe(true));
  expect(r.replies.map(shape)).toEqual(values.map(expectedShape));
}

/** The decoded bulk strings of a reply (`v` as expected, `d` as decoded), in order. */
function bulks(v: Val, d: unknown, out: Buffer[] = []): Buffer[] {
  if (v.t === 'bulk' && Buffer.isBuffer(d)) out.push(d);
  else if (v.t === 'array' && Array.isArray(d)) v.items.forEach((item, i) => bulks(item, d[i], out));
  return out;
}

/** Whether `b` lies inside one chunk passed on (a view of it, not a join of several). */
const inOneChunk = (chunks: Buffer[], b: Buffer): boolean =>
  chunks.some((c) => c.buffer === b.buffer && b.byteOffset >= c.byteOffset && b.byteOffset + b.length <= c.byteOffset + c.length);

describe('redis reply reader', () => {
  it('a 140 KB session read again and again: after the first, each reply arrives in one read, where it then stays (no copy, no join)', () => {
    const session = pattern(143_360, 7);
    const values: Val[] = [];
    for (let i = 0; i < 6; i++) values.push({ t: 'simple', s: 'OK' }, { t: 'bulk', b: session });
    const out: Buffer[] = [];
    const perReply: Buffer[] = [];
    for (const v of values) {
      const parts: Buffer[] = [];
      encode(v, parts);
      perReply.push(Buffer.concat(parts));
      out.push(...parts);
    }
    // The socket hands over each reply as it comes (the server answers one command at a time).
    const stream = Buffer.concat(out);
    const boundaries = perReply.map((_, i) => perReply.slice(0, i + 1).reduce((n, b) => n + b.length, 0));
    const r = run(stream, [1 << 30], DEFAULT_SIZES, boundaries);
    expectIntact(r, stream, values);
    const gets = r.replies.filter((_, i) => i % 2 === 1) as Buffer[];
    // The first GET's first read is 64 KB, the rest goes into a buffer sized from its header;
    // from the second GET on, one read a reply.
    const getLength = perReply[1]!.length;
    expect(r.reads.slice(0, 3)).toEqual([5, 65_536, getLength - 65_536]);
    expect(r.reads.slice(3)).toEqual(Array.from({ length: 5 }, () => [5, getLength]).flat());
    for (const g of gets) expect(inOneChunk(r.chunks, g)).toBe(true);
    // Each value has its buffer to itself: none is read into again.
    expect(new Set(gets.map((g) => g.buffer)).size).toBe(gets.length);
  });

  it('a large reply that comes in 64 KB reads is still passed on in one piece, and ioredis does not join it', () => {
    const values: Val[] = [{ t: 'simple', s: 'OK' }, { t: 'bulk', b: pattern(300_000, 3) }, { t: 'int', n: 1 }, { t: 'bulk', b: pattern(70_000, 4) }];
    const out: Buffer[] = [];
    for (const v of values) encode(v, out);
    const stream = Buffer.concat(out);
    const r = run(stream, [65_536]);
    expectIntact(r, stream, values);
    for (const b of [r.replies[1], r.replies[3]] as Buffer[]) expect(inOneChunk(r.chunks, b)).toBe(true);
  });

  it('a reply larger than PREALLOC_MAX, and bytes that are not RESP, are passed on unchanged for ioredis to join or reject', () => {
    const values: Val[] = [{ t: 'bulk', b: pattern(DEFAULT_SIZES.preallocMax + 10, 1) }, { t: 'simple', s: 'OK' }];
    const out: Buffer[] = [];
    for (const v of values) encode(v, out);
    const stream = Buffer.concat(out);
    expectIntact(run(stream, [65_536]), stream, values);

    for (const garbage of ['$12x\r\n', '$\r\n', '$99999999999999999999\r\nabc', '$-\r\n', `$${'1'.repeat(30)}`]) {
      const bytes = Buffer.concat([Buffer.from('+OK\r\n'), Buffer.from(garbage), pattern(2000, 2)]);
      const r = run(bytes, [7, 100]);
      expect(Buffer.concat(r.chunks).equals(bytes)).toBe(true);
      r.chunks.forEach((c, i) => expect(c.equals(r.snapshots[i]!)).toBe(true));
    }
  });

  it('fast-check: any replies, any read sizes, any reader sizes: the same bytes and replies, large bulk strings never joined, no chunk written again', () => {
    const val: fc.Arbitrary<Val> = fc.letrec<{ v: Val }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.record({ t: fc.constant('simple' as const), s: fc.stringMatching(/^[A-Za-z0-9 ]{0,12}$/) }),
        fc.record({ t: fc.constant('error' as const), s: fc.stringMatching(/^ERR [a-z ]{0,10}$/) }),
        fc.record({ t: fc.constant('int' as const), n: fc.integer({ min: -1000, max: 100000 }) }),
        fc.constant({ t: 'null' as const }),
        fc
          .tuple(fc.oneof(fc.nat(20), fc.nat(400), fc.nat(3000)), fc.nat(255))
          .map(([n, seed]): Val => ({ t: 'bulk', b: pattern(n, seed) })),
        fc.record({ t: fc.constant('array' as const), items: fc.array(tie('v'), { maxLength: 4 }) }),
      ),
    })).v;
    fc.assert(
      fc.property(
        fc.array(val, { minLength: 1, maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }),
        fc.record({ readSize: fc.integer({ min: 1, max: 600 }), viewMin: fc.integer({ min: 0, max: 500 }), preallocMax: fc.integer({ min: 0, max: 4000 }), headRoom: fc.integer({ min: 0, max: 64 }) }),
        (values, readSizes, sizes) => {
          const out: Buffer[] = [];
          for (const v of values) encode(v, out);
          const stream = Buffer.concat(out);
          const r = run(stream, readSizes, sizes);
          expectIntact(r, stream, values);
          // A bulk string the reader receives in place reaches ioredis in one piece: its value is a
          // view of a chunk passed on, not a join.
          for (const b of values.flatMap((v, i) => bulks(v, r.replies[i]))) {
            const frame = String(b.length).length + 3 + b.length + 2;
            if (b.length >= sizes.viewMin && b.length > 0 && frame <= sizes.preallocMax) expect(inOneChunk(r.chunks, b)).toBe(true);
          }
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('fast-check: every bulk value given back as soon as ioredis hands it out: the replies are intact when handed out, and given-back buffers are read into again', () => {
    const val: fc.Arbitrary<Val> = fc.oneof(
      fc.record({ t: fc.constant('simple' as const), s: fc.stringMatching(/^[A-Za-z0-9 ]{0,12}$/) }),
      fc.record({ t: fc.constant('int' as const), n: fc.integer({ min: -1000, max: 100000 }) }),
      fc.tuple(fc.oneof(fc.nat(40), fc.nat(400), fc.nat(3000)), fc.nat(255)).map(([n, seed]): Val => ({ t: 'bulk', b: pattern(n, seed) })),
      fc.record({ t: fc.constant('array' as const), items: fc.array(fc.tuple(fc.nat(400), fc.nat(255)).map(([n, seed]): Val => ({ t: 'bulk', b: pattern(n, seed) })), { maxLength: 3 }) }),
    );
    let reclaimed = 0;
    let reused = 0;
    fc.assert(
      fc.property(
        fc.array(val, { minLength: 1, maxLength: 14 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }),
        fc.record({ readSize: fc.integer({ min: 1, max: 600 }), viewMin: fc.integer({ min: 1, max: 500 }), preallocMax: fc.integer({ min: 0, max: 4000 }), headRoom: fc.integer({ min: 0, max: 64 }) }),
        (values, readSizes, sizes) => {
          const out: Buffer[] = [];
          for (const v of values) encode(v, out);
          const stream = Buffer.concat(out);
          // Each reply as it was when handed out; then its bulk values are given back (the engine
          // copied them), whole replies and array elements alike (only a lent one is taken back).
          const seen: string[] = [];
          const given = new Set<ArrayBufferLike>();
          const decoder = new Decoder({
            getTypeMapping: () => ({ [RESP_TYPES.SIMPLE_STRING]: Buffer, [RESP_TYPES.BLOB_STRING]: Buffer }),
            onReply: (v: unknown) => {
              seen.push(shape(v));
              for (const b of Buffer.isBuffer(v) ? [v] : Array.isArray(v) ? v : [])
                if (Buffer.isBuffer(b) && releaseReply(b)) {
                  given.add(b.buffer);
                  reclaimed++;
                }
            },
            onErrorReply: (e: unknown) => seen.push(shape(e)),
            onPush: () => {
              throw new Error('push');
            },
          });
          const chunks: Buffer[] = [];
          const snapshots: Buffer[] = [];
          const reader = new ReplyReader((chunk) => {
            chunks.push(chunk);
            snapshots.push(Buffer.from(chunk));
            decoder.write(chunk);
          }, sizes);
          for (let pos = 0, i = 0; pos < stream.length; i++) {
            const into = reader.nextRead();
            if (given.has(into.buffer)) reused++;
            const n = Math.min(into.length, readSizes[i % readSizes.length]!, stream.length - pos);
            stream.copy(into, 0, pos, pos + n);
            into.fill(0x24, n);
            reader.onRead(n);
            pos += n;
          }
          expect(Buffer.concat(snapshots).equals(stream)).toBe(true);
          expect(seen).toEqual(values.map(expectedShape));
          // Only chunks of buffers given back were written again.
          chunks.forEach((c, i) => {
            if (!given.has(c.buffer)) expect(c.equals(snapshots[i]!), `chunk ${i} changed after it was passed on`).toBe(true);
          });
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
    // Not vacuous: buffers were given back and read into again.
    expect(reclaimed).toBeGreaterThan(50);
    expect(reused).toBeGreaterThan(50);
  });
});
