/**
 * @module spec/memcache/large-values
 * Large values through the memcache client's socket (handlers/shared/memcache/client.ts): replies
 * whose body is received into a buffer of its own (beyond the 64 KB read buffer, and beyond the
 * 1 MB preallocation, where it grows), dribbled by the fake server in uneven pieces, pipelined
 * between small replies, and cut at the read buffer's and the header's edges: the cut request
 * fails, the next one on the same connection gets the whole value. Values written go out beside
 * their header without a copy: the server stores exactly the bytes given.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcacheConnection } from '../../handlers/shared/memcache/client.ts';
import { startFakeMemcached, type Deliver, type FakeMemcached } from './fake-server.ts';
import { failure } from './support.ts';

const OP_GET = 0x00;

const pattern = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + seed + (i >> 10)) & 0xff));

/** Writes `bytes` in pieces of the given sizes (cycled), one event-loop turn apart. */
async function dribble(bytes: Buffer, socket: Socket, sizes: readonly number[]): Promise<void> {
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    socket.write(bytes.subarray(pos, pos + n));
    pos += n;
    await new Promise((r) => setImmediate(r));
  }
}

describe('memcache client: large values', () => {
  let fake: FakeMemcached;
  beforeAll(async () => {
    fake = await startFakeMemcached();
  });
  afterAll(async () => {
    await fake.close();
  });
  /** Runs `body` on a new connection to the fake server; every reply goes out whole again after it. */
  async function withConnection(body: (c: MemcacheConnection) => Promise<void>): Promise<void> {
    const c = new MemcacheConnection({ host: '127.0.0.1', port: fake.port }, { timeoutMs: 5000 });
    try {
      await body(c);
    } finally {
      fake.deliver = null;
      c.close();
    }
  }
  /** From now on, get replies are written in pieces of `sizes`. */
  const dribbleGets = (sizes: readonly number[]): void => {
    fake.deliver = (r) => (r.opcode === OP_GET ? dribble(r.bytes, r.socket, sizes) : false);
  };

  it('values of 0 B to 3 MB, set then read back in uneven pieces, arrive byte for byte', () =>
    withConnection(async (c) => {
      const sizes = [0, 1, 1024, 1025, 65_535, 65_536, 65_537, 140 * 1024, 1024 * 1024 + 1024, 1024 * 1024 + 1025, 3 * 1024 * 1024];
      for (const [i, size] of sizes.entries()) {
        const v = pattern(size, i);
        fake.deliver = null;
        expect(await c.set(`v${i}`, v, 0x1234, 0)).toBe(0);
        dribbleGets([7, 24, 1000, 65_536, 17, 200_000]);
        const got = await c.get(`v${i}`);
        expect(got?.flags).toBe(0x1234);
        expect(got?.value.length, `${size} B`).toBe(size);
        expect(got?.value.equals(v), `${size} B`).toBe(true);
      }
    }));

  it('a large reply pipelined between small ones: each request gets its own reply', () =>
    withConnection(async (c) => {
      const big = pattern(300_000, 9);
      await Promise.all([c.set('small-a', Buffer.from('A'), 1, 0), c.set('big', big, 2, 0), c.set('small-b', Buffer.from('BB'), 3, 0)]);
      dribbleGets([5000, 3]);
      const [a, b, d, missing] = await Promise.all([c.get('small-a'), c.get('big'), c.get('small-b'), c.get('nothing')]);
      expect([a?.value.toString(), a?.flags]).toEqual(['A', 1]);
      expect(b?.flags).toBe(2);
      expect(b?.value.equals(big)).toBe(true);
      expect([d?.value.toString(), d?.flags]).toEqual(['BB', 3]);
      expect(missing).toBeNull();
    }));

  it('a 200 KB reply cut at the header and read-buffer edges, then closed: the get fails, the next one gets the whole value', () =>
    withConnection(async (c) => {
      const big = pattern(200_000, 3);
      expect(await c.set('big', big, 0, 0)).toBe(0);
      const total = 24 + 4 + big.length;
      for (const cut of [1, 23, 24, 25, 28, 29, 65_535, 65_536, 65_537, 131_072, total - 1]) {
        let done = false;
        const d: Deliver = (r) => {
          if (done || r.opcode !== OP_GET) return false;
          done = true;
          void dribble(r.bytes.subarray(0, cut), r.socket, [65_536]).then(() => r.socket.destroy());
          return true;
        };
        fake.deliver = d;
        expect(await failure(c.get('big')), `cut at ${cut}`).toBe('connect');
        fake.deliver = null;
        const again = await c.get('big');
        expect(again?.value.equals(big), `after the cut at ${cut}`).toBe(true);
      }
    }));
});
