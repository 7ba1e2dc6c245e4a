/**
 * @module spec/memcache/frames
 * The memcache client's reply parser (handlers/shared/memcache/frames.ts) fed as a socket with
 * `onread` feeds it: each read goes into the buffer the reader hands out (its read buffer, or the
 * rest of a large body's own buffer) and takes at most what has arrived. Replies must come out
 * whole, in order and unaliased whatever the arrival chunking (every split point, byte by byte,
 * fast-check over chunkings and buffer sizes), a cut stream must deliver exactly the replies
 * before the cut, and broken headers must stop the stream before any body is allocated.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SIZES, MAX_BODY, releaseValue, ReplyReader, requestHead, type Reply, type ReaderSizes, type StreamFault } from '../../handlers/shared/memcache/frames.ts';

const SEED = 0x6d633134;

interface Frame {
  opcode: number;
  opaque: number;
  status: number;
  extras: Buffer;
  key: Buffer;
  value: Buffer;
}

function frameBytes(f: Frame): Buffer {
  const h = Buffer.alloc(24);
  h[0] = 0x81;
  h[1] = f.opcode;
  h.writeUInt16BE(f.key.length, 2);
  h[4] = f.extras.length;
  h.writeUInt16BE(f.status, 6);
  h.writeUInt32BE(f.extras.length + f.key.length + f.value.length, 8);
  h.writeUInt32BE(f.opaque, 12);
  h.writeUInt32BE(0x01020304, 20);
  return Buffer.concat([h, f.extras, f.key, f.value]);
}

/** A reader whose sink expects `frames` in order and records what it gets. */
function harness(frames: readonly Frame[], sizes?: ReaderSizes) {
  const got: Reply[] = [];
  const faults: { kind: StreamFault; detail: string }[] = [];
  const reader = new ReplyReader(
    {
      expects: (opcode, opaque) => {
        const f = frames[got.length];
        return f !== undefined && f.opcode === opcode && f.opaque === opaque;
      },
      reply: (r) => got.push(r),
      fault: (kind, detail) => faults.push({ kind, detail }),
    },
    sizes,
  );
  return { reader, got, faults };
}

/**
 * Delivers `arrivals` as a socket would: each arrival is read in pieces, each piece into the
 * buffer the reader hands out and no larger than it (nor than what is left of the arrival).
 * Returns the largest buffer the reader handed out.
 */
function feed(reader: ReplyReader, arrivals: readonly Buffer[]): number {
  let largest = 0;
  for (const a of arrivals) {
    for (let off = 0; off < a.length; ) {
      const buf = reader.nextRead();
      expect(buf.length).toBeGreaterThan(0);
      largest = Math.max(largest, buf.length);
      const n = Math.min(buf.length, a.length - off);
      buf.set(a.subarray(off, off + n), 0);
      off += n;
      reader.onRead(n, buf);
    }
  }
  return largest;
}

function splitAt(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts, stream.length]) {
    if (c > prev) out.push(stream.subarray(prev, c));
    prev = Math.max(prev, c);
  }
  return out;
}

function expectReplies(got: readonly Reply[], frames: readonly Frame[]): void {
  expect(got.length).toBe(frames.length);
  got.forEach((r, i) => {
    const f = frames[i]!;
    expect({ opcode: r.opcode, opaque: r.opaque, status: r.status }).toEqual({ opcode: f.opcode, opaque: f.opaque, status: f.status });
    expect(r.flags).toBe(f.extras.length >= 4 ? f.extras.readUInt32BE(0) : 0);
    expect(r.value.equals(f.value), `value of reply ${i} (${f.value.length} bytes)`).toBe(true);
  });
}

const pattern = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff));
const flags = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};

/** A small get, a large get (its body beyond the read buffer and the preallocation), a delete. */
function threeReplies(big: number): Frame[] {
  return [
    { opcode: 0x00, opaque: 1, status: 0, extras: flags(0xdeadbeef), key: Buffer.alloc(0), value: Buffer.from('a small value') },
    { opcode: 0x00, opaque: 2, status: 0, extras: flags(7), key: Buffer.from('k'), value: pattern(big, 2) },
    { opcode: 0x04, opaque: 3, status: 1, extras: Buffer.alloc(0), key: Buffer.alloc(0), value: Buffer.from('Not found') },
  ];
}

describe('memcache reply reader', () => {
  const small: ReaderSizes = { readBuffer: 64, bodyPrealloc: 1024 };

  it('a stream split into two arrivals at every byte offset gives every reply whole', () => {
    const frames = threeReplies(3000);
    const stream = Buffer.concat(frames.map(frameBytes));
    for (let k = 0; k <= stream.length; k++) {
      const h = harness(frames, small);
      feed(h.reader, splitAt(stream, [k]));
      expect(h.faults, `split at ${k}`).toEqual([]);
      expectReplies(h.got, frames);
    }
  });

  it('a stream arriving byte by byte, and all at once, gives every reply whole', () => {
    const frames = threeReplies(3000);
    const stream = Buffer.concat(frames.map(frameBytes));
    for (const arrivals of [splitAt(stream, Array.from({ length: stream.length }, (_, i) => i)), [stream]]) {
      const h = harness(frames, small);
      feed(h.reader, arrivals);
      expect(h.faults).toEqual([]);
      expectReplies(h.got, frames);
    }
  });

  it('default sizes: a 140 KB value split at 1 KB steps and around the 64 KB read buffer arrives whole, read straight into its own buffer', () => {
    const frames = threeReplies(140 * 1024);
    const stream = Buffer.concat(frames.map(frameBytes));
    const edge = DEFAULT_SIZES.readBuffer;
    const cuts = [...Array.from({ length: Math.ceil(stream.length / 1024) }, (_, i) => i * 1024), ...[1, 23, 24, 25, 60, 61].flatMap((d) => [edge - d, edge + d])];
    for (const k of cuts) {
      const h = harness(frames, DEFAULT_SIZES);
      const largest = feed(h.reader, splitAt(stream, [k, k + 300, k + 70_000]));
      expect(h.faults, `split at ${k}`).toEqual([]);
      expectReplies(h.got, frames);
      // The large body went into a buffer of its own: the socket was handed the rest of it.
      expect(largest).toBeGreaterThan(edge);
    }
  });

  it('a large value read again and again stays where the socket put it: after the first, no byte of it is copied and it takes one read', () => {
    // The locked memcached cycle: the lock's `add` reply, then the 140 KB session's `get` reply,
    // arriving together; five times over, as five requests would read them.
    const cycle = (n: number): Frame[] => [
      { opcode: 0x02, opaque: 2 * n + 1, status: 0, extras: Buffer.alloc(0), key: Buffer.alloc(0), value: Buffer.alloc(0) },
      { opcode: 0x00, opaque: 2 * n + 2, status: 0, extras: flags(0), key: Buffer.alloc(0), value: pattern(140 * 1024, n) },
    ];
    const frames = [0, 1, 2, 3, 4].flatMap(cycle);
    const h = harness(frames, DEFAULT_SIZES);
    /** Where the feeder (the socket) wrote each piece. */
    const writes: { buffer: ArrayBufferLike; start: number; end: number }[] = [];
    const readsPerCycle: number[] = [];
    for (let n = 0; n < 5; n++) {
      const arrival = Buffer.concat(cycle(n).map(frameBytes));
      let reads = 0;
      for (let off = 0; off < arrival.length; reads++) {
        const buf = h.reader.nextRead();
        const k = Math.min(buf.length, arrival.length - off);
        buf.set(arrival.subarray(off, off + k), 0);
        writes.push({ buffer: buf.buffer, start: buf.byteOffset, end: buf.byteOffset + k });
        off += k;
        h.reader.onRead(k, buf);
      }
      readsPerCycle.push(reads);
    }
    expect(h.faults).toEqual([]);
    expectReplies(h.got, frames);
    const values = h.got.filter((r) => r.opcode === 0x00).map((r) => r.value);
    // Each value after the first lies inside one piece the socket wrote, in the same memory.
    const inPlace = values.map((v) => writes.some((w) => w.buffer === v.buffer && w.start <= v.byteOffset && v.byteOffset + v.length <= w.end));
    expect(inPlace.slice(1)).toEqual([true, true, true, true]);
    expect(readsPerCycle.slice(1)).toEqual([1, 1, 1, 1]);
    // No two values share memory (each read buffer went with its value).
    expect(new Set(values.map((v) => v.buffer)).size).toBe(values.length);
  });

  it('a large value given back is read into again (no buffer allocated per value), and only that exact value, once', () => {
    const get = (n: number, size: number): Frame => ({ opcode: 0x00, opaque: n + 1, status: 0, extras: flags(0), key: Buffer.alloc(0), value: pattern(size, n) });
    // Given back at once, every time: after the first two, every value lies in one of two buffers.
    const frames = Array.from({ length: 8 }, (_, n) => get(n, 140 * 1024));
    const h = harness(frames, DEFAULT_SIZES);
    const memory = new Set<ArrayBufferLike>();
    for (let n = 0; n < frames.length; n++) {
      feed(h.reader, [frameBytes(frames[n]!)]);
      const v = h.got[n]!.value;
      expect(Buffer.compare(v, frames[n]!.value)).toBe(0);
      if (n >= 2) memory.add(v.buffer);
      // The first came in a buffer of its own (larger than the 64 KB read buffer): not the reader's to take back.
      expect(releaseValue(v)).toBe(n > 0);
      // Once only: the same value again, a copy of it or another view of its memory are ignored.
      expect(releaseValue(v)).toBe(false);
      expect(releaseValue(Buffer.from(v))).toBe(false);
      expect(releaseValue(new Uint8Array(v.buffer, v.byteOffset, v.length))).toBe(false);
    }
    // One buffer here (each value is given back before the next read is asked for); a socket asks
    // for the next read buffer as soon as a read is parsed, so there it is two in turn.
    expect(memory.size).toBeLessThanOrEqual(2);
  });

  it('fast-check: values given back in any order, any number of times, never have a value still held overwritten', () => {
    // Each step delivers the next reply (a large value read in place, a large one through its own
    // buffer, a small one copied out, in any chunking), or gives back a value (held or not,
    // maybe again); every value never given back must keep its bytes to the end.
    const sizes = [20 * 1024, 140 * 1024, 100, 70 * 1024, 2 * 1024 * 1024];
    const step = fc.oneof(
      fc.record({ kind: fc.constant('get' as const), size: fc.constantFrom(...sizes), chunk: fc.integer({ min: 1, max: 200_000 }) }),
      fc.record({ kind: fc.constant('release' as const), which: fc.nat(), twice: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const frames: Frame[] = [];
        const plan = steps.map((s) => (s.kind === 'get' ? { ...s, frame: frames[frames.push({ opcode: 0x00, opaque: frames.length + 1, status: 0, extras: flags(0), key: Buffer.alloc(0), value: pattern(s.size, frames.length) }) - 1]! } : s));
        const h = harness(frames, DEFAULT_SIZES);
        const released = new Set<number>();
        for (const s of plan) {
          if (s.kind === 'get') {
            const bytes = frameBytes(s.frame);
            const pieces: Buffer[] = [];
            for (let off = 0; off < bytes.length; off += s.chunk) pieces.push(bytes.subarray(off, off + s.chunk));
            feed(h.reader, pieces);
          } else if (h.got.length > 0) {
            const i = s.which % h.got.length;
            releaseValue(h.got[i]!.value);
            if (s.twice) releaseValue(h.got[i]!.value);
            released.add(i);
          }
        }
        expect(h.faults).toEqual([]);
        expect(h.got.length).toBe(frames.length);
        for (let i = 0; i < frames.length; i++) if (!released.has(i)) expect(Buffer.compare(h.got[i]!.value, frames[i]!.value)).toBe(0);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('a stream cut at every byte offset delivers exactly the replies completed before the cut', () => {
    const frames = threeReplies(3000);
    const bytes = frames.map(frameBytes);
    const stream = Buffer.concat(bytes);
    const ends = bytes.map((_, i) => bytes.slice(0, i + 1).reduce((s, b) => s + b.length, 0));
    for (let cut = 0; cut < stream.length; cut++) {
      const h = harness(frames, small);
      feed(h.reader, [stream.subarray(0, cut)]);
      expect(h.faults).toEqual([]);
      const complete = ends.filter((e) => e <= cut).length;
      expectReplies(h.got, frames.slice(0, complete));
    }
  });

  it('fast-check: any replies, any arrival chunking, any buffer sizes: the same replies, in order, none aliasing the read buffer', () => {
    const frameArb = fc.record({
      opcode: fc.constantFrom(0x00, 0x01, 0x02, 0x04, 0x05, 0x1c),
      status: fc.constantFrom(0, 1, 2, 5, 0x81),
      extras: fc.constantFrom(0, 4, 8, 20).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
      key: fc.uint8Array({ maxLength: 20 }),
      valueLength: fc.oneof({ weight: 3, arbitrary: fc.nat(100) }, { weight: 2, arbitrary: fc.nat(5000) }, { weight: 1, arbitrary: fc.nat(40_000) }),
    });
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 8192 }),
        (specs, chunks, readBuffer, bodyPrealloc) => {
          const frames: Frame[] = specs.map((s, i) => ({
            opcode: s.opcode,
            opaque: i + 1,
            status: s.status,
            extras: Buffer.from(s.extras),
            key: Buffer.from(s.key),
            value: pattern(s.valueLength, i),
          }));
          const stream = Buffer.concat(frames.map(frameBytes));
          const cuts: number[] = [];
          for (let pos = 0, i = 0; pos < stream.length; i++) cuts.push((pos += chunks[i % chunks.length]!));
          const h = harness(frames, { readBuffer, bodyPrealloc });
          feed(h.reader, splitAt(stream, cuts));
          expect(h.faults).toEqual([]);
          // Checked after every read is done: a value that were a view of the read buffer would
          // have been overwritten by the reads after it.
          expectReplies(h.got, frames);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('a wrong first byte, a body shorter than its key and extras, and a reply out of order break the stream at once', () => {
    const ok: Frame = { opcode: 0x00, opaque: 1, status: 0, extras: flags(1), key: Buffer.alloc(0), value: Buffer.from('v') };
    const good = frameBytes(ok);

    let h = harness([ok], small);
    feed(h.reader, [Buffer.from([0x80])]);
    expect(h.faults).toEqual([{ kind: 'magic', detail: 'invalid reply magic 0x80' }]);

    const short = Buffer.from(good);
    short.writeUInt32BE(3, 8); // extras alone are 4 bytes
    h = harness([ok], small);
    feed(h.reader, [short.subarray(0, 24)]);
    expect(h.faults.map((f) => f.kind)).toEqual(['length']);

    const wrongOpaque = Buffer.from(good);
    wrongOpaque.writeUInt32BE(2, 12);
    h = harness([ok], small);
    feed(h.reader, [wrongOpaque.subarray(0, 24)]);
    expect(h.faults).toEqual([{ kind: 'order', detail: 'reply out of order' }]);

    // Nothing is parsed after a fault, not even a good reply.
    feed(h.reader, [good]);
    expect(h.got).toEqual([]);
    expect(h.faults.length).toBe(1);
  });

  it('a length above the limit is refused on its header; a huge length within it costs only the preallocation until its bytes arrive', () => {
    const f: Frame = { opcode: 0x00, opaque: 1, status: 0, extras: Buffer.alloc(0), key: Buffer.alloc(0), value: Buffer.alloc(0) };
    const header = frameBytes(f);
    header.writeUInt32BE(MAX_BODY + 1, 8);
    let h = harness([f], small);
    feed(h.reader, [header]);
    expect(h.faults.map((x) => x.kind)).toEqual(['length']);
    expect(h.reader.nextRead().length).toBe(small.readBuffer);

    header.writeUInt32BE(MAX_BODY, 8);
    h = harness([f], small);
    feed(h.reader, [header, Buffer.alloc(100, 1)]);
    expect(h.faults).toEqual([]);
    expect(h.reader.nextRead().length).toBe(small.bodyPrealloc - 100);
    // It grows with the bytes received: 5,000 more bytes, a buffer of at most twice that.
    feed(h.reader, [Buffer.alloc(5000, 2)]);
    expect(h.reader.nextRead().length).toBeLessThanOrEqual(2 * 5100);
    expect(h.got).toEqual([]);
  });
});

describe('memcache request header', () => {
  it('lays out header, extras, key and an inline value; a value sent apart counts in the body length', () => {
    const head = requestHead(0x01, 0x01020304, 'memc.sess.key.é', 8, (h, at, a) => h.writeUInt32BE(a, at), 3, Buffer.from('xyz'), 0xabcdef01);
    const key = Buffer.from('memc.sess.key.é');
    expect(head.length).toBe(24 + 8 + key.length + 3);
    expect([head[0], head[1], head.readUInt16BE(2), head[4], head[5], head.readUInt16BE(6)]).toEqual([0x80, 0x01, key.length, 8, 0, 0]);
    expect(head.readUInt32BE(8)).toBe(8 + key.length + 3);
    expect(head.readUInt32BE(12)).toBe(0x01020304);
    expect(head.subarray(16, 24).equals(Buffer.alloc(8))).toBe(true);
    expect(head.readUInt32BE(24)).toBe(0xabcdef01);
    expect(head.subarray(32, 32 + key.length).equals(key)).toBe(true);
    expect(head.subarray(32 + key.length).toString()).toBe('xyz');

    const apart = requestHead(0x01, 9, 'k', 0, null, 200_000, null);
    expect(apart.length).toBe(25);
    expect(apart.readUInt32BE(8)).toBe(1 + 200_000);
  });
});
