/**
 * @module spec/memcache/client-faults
 * The memcache client (handlers/shared/memcache/client.ts) under broken replies and a stalled event loop.
 *
 * memjs 1.3.2 keeps the bytes of a reply cut by a timeout or a socket error and parses the next
 * socket's replies after them, so one cut reply broke a pooled connection for good; and it timed
 * out on timers that fire before a busy event loop reads the socket. Here: a fake binary-protocol
 * server (spec/memcache/fake-server.ts) cuts a real reply at every byte offset (then closes,
 * resets or goes silent), replaces it with garbage, delays or dribbles it; the request in flight
 * must fail with a MemcacheIoError and the next request on the same connection must succeed. With a
 * real memcached, a 1.2 s event-loop stall in the middle of a ~900 KB reply must not fail the
 * request (timeout 1 s), and a cut in the middle of it must not break the next one.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemcacheConnection, MemcacheIoError } from '../../handlers/shared/memcache/client.ts';
import { startMemcached, type MemcachedProcess } from '../support/memcached-server.ts';
import { busyWait, TcpProxy } from '../support/tcp-proxy.ts';
import { describeWith } from '../support/tools.ts';
import { startFakeMemcached, type Deliver, type FakeMemcached } from './fake-server.ts';
import { engineFor, failure } from './support.ts';

const OP_GET = 0x00;
const OP_SET = 0x01;
const VALUE = Buffer.from('a value of forty bytes, for the get test');

/** Takes over the first reply to `opcode` from now on with `fault`; later replies go out whole. */
function once(fake: FakeMemcached, opcode: number, fault: (bytes: Buffer, s: Socket) => void): void {
  let done = false;
  const d: Deliver = (r) => {
    if (done || r.opcode !== opcode) return false;
    done = true;
    fault(r.bytes, r.socket);
    return true;
  };
  fake.deliver = d;
}

describe('memcache client: broken replies from a fake server', () => {
  let fake: FakeMemcached;
  beforeAll(async () => {
    fake = await startFakeMemcached();
  });
  afterAll(async () => {
    await fake.close();
  });
  const conn = (timeoutMs = 1000): MemcacheConnection => new MemcacheConnection({ host: '127.0.0.1', port: fake.port }, { timeoutMs });

  it('a get reply cut at every byte offset, then closed or reset: the get fails, the next one succeeds', async () => {
    const c = conn();
    try {
      expect(await c.set('k', VALUE, 5, 0)).toBe(0);
      const replyLength = 24 + 4 + VALUE.length;
      for (const how of ['end', 'reset'] as const) {
        for (let k = 0; k < replyLength; k++) {
          once(fake, OP_GET, (bytes, s) => {
            s.write(bytes.subarray(0, k), () => {
              if (how === 'end') s.end();
              else setTimeout(() => s.resetAndDestroy(), 5);
            });
          });
          const before = fake.connections;
          expect(await failure(c.get('k')), `${how} at ${k}`).toBe('connect');
          expect(await c.get('k'), `${how} at ${k}`).toEqual({ value: VALUE, flags: 5 });
          // The broken connection was replaced by exactly one new one.
          expect(fake.connections, `${how} at ${k}`).toBe(before + 1);
        }
      }
    } finally {
      c.close();
    }
  });

  it('a set reply cut at every byte offset, then silence: the set times out, the next one succeeds', async () => {
    // The fake server shares this event loop, so a request that succeeds needs a few loop turns;
    // 200 ms (ticks of 50 ms) leaves room for a loaded machine.
    const c = conn(200);
    try {
      for (let k = 0; k < 24; k++) {
        once(fake, OP_SET, (bytes, s) => s.write(bytes.subarray(0, k)));
        expect(await failure(c.set('s', VALUE, 0, 0)), `silent after ${k}`).toBe('timeout');
        expect(await c.set('s', VALUE, 0, 0), `after ${k}`).toBe(0);
        expect(await c.get('s'), `after ${k}`).toEqual({ value: VALUE, flags: 0 });
      }
    } finally {
      c.close();
    }
  });

  it('one request after another shares one silence ticker, and a request sent while it idles still times out', async () => {
    // The silence clock used to be a setInterval created and cleared for every round trip; a
    // sequential caller (one request at a time) paid for both each time. A 60 s timeout ticks
    // every 15 s: the 20 requests all fall inside the first tick.
    const slow = conn(60_000);
    const spy = vi.spyOn(globalThis, 'setInterval');
    try {
      expect(await slow.set('t', VALUE, 0, 0)).toBe(0);
      for (let i = 0; i < 20; i++) expect(await slow.get('t')).toEqual({ value: VALUE, flags: 0 });
      expect(spy.mock.calls.length).toBeLessThanOrEqual(1);
    } finally {
      spy.mockRestore();
      slow.close();
    }
    // The ticker idles (unref'd) after a reply; a request sent next restarts its clock.
    const c = conn(200);
    try {
      expect(await c.get('t')).toEqual({ value: VALUE, flags: 0 });
      once(fake, OP_GET, () => undefined);
      expect(await failure(c.get('t'))).toBe('timeout');
      expect(await c.get('t')).toEqual({ value: VALUE, flags: 0 });
    } finally {
      c.close();
    }
  });

  it('garbage instead of a reply fails the request, and the next one succeeds', async () => {
    const c = conn();
    try {
      expect(await c.set('g', VALUE, 1, 0)).toBe(0);
      const garbage: [string, (real: Buffer) => Buffer][] = [
        ['text protocol line', () => Buffer.from('ERROR\r\n')],
        ['request magic', (real) => Buffer.concat([Buffer.from([0x80]), real.subarray(1)])],
        ['wrong opaque', (real) => Buffer.concat([real.subarray(0, 12), Buffer.from([0xde, 0xad, 0xbe, 0xef]), real.subarray(16)])],
        ['wrong opcode', (real) => Buffer.concat([real.subarray(0, 1), Buffer.from([0x01]), real.subarray(2)])],
        ['body length 4 GB', (real) => Buffer.concat([real.subarray(0, 8), Buffer.from([0xff, 0xff, 0xff, 0xff]), real.subarray(12)])],
        ['body shorter than its key and extras', (real) => Buffer.concat([real.subarray(0, 2), Buffer.from([0, 9, 4]), real.subarray(5, 8), Buffer.from([0, 0, 0, 1]), real.subarray(12)])],
        ['the reply twice', (real) => Buffer.concat([real, real])],
      ];
      for (const [name, make] of garbage) {
        once(fake, OP_GET, (bytes, s) => s.write(make(bytes)));
        if (name === 'the reply twice') {
          // The first copy is the right reply; the stray second one breaks the connection, which
          // must then be replaced rather than read out of frame.
          expect(await c.get('g'), name).toEqual({ value: VALUE, flags: 1 });
        } else {
          expect(await failure(c.get('g')), name).toBe('protocol');
        }
        expect(await c.get('g'), `after ${name}`).toEqual({ value: VALUE, flags: 1 });
        expect(await c.get('g'), `after ${name}`).toEqual({ value: VALUE, flags: 1 });
      }
    } finally {
      c.close();
    }
  });

  it('pipelined requests: those answered before the cut succeed, the rest fail, later ones succeed', async () => {
    const c = conn();
    try {
      for (let i = 0; i < 5; i++) expect(await c.set(`p${i}`, Buffer.from(`v${i}`), 0, 0)).toBe(0);
      let n = 0;
      fake.deliver = (r) => {
        if (r.opcode !== OP_GET || n++ !== 2) return false;
        r.socket.write(r.bytes.subarray(0, 20), () => r.socket.end());
        return true;
      };
      const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => c.get(`p${i}`)));
      fake.deliver = null;
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
      for (const r of results.slice(2)) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(MemcacheIoError);
      for (let i = 0; i < 5; i++) expect((await c.get(`p${i}`))?.value.toString()).toBe(`v${i}`);
    } finally {
      c.close();
    }
  });

  it('a reply that is late or arrives byte by byte, each byte within the timeout, is not timed out', async () => {
    const c = conn(300);
    try {
      expect(await c.set('d', VALUE, 0, 0)).toBe(0);
      const before = fake.connections;
      let delayed = false;
      fake.deliver = (r) => {
        if (delayed || r.opcode !== OP_GET) return false;
        delayed = true;
        return new Promise((resolve) => setTimeout(() => r.socket.write(r.bytes, () => resolve()), 150));
      };
      expect(await c.get('d')).toEqual({ value: VALUE, flags: 0 });
      // A set reply, 24 bytes 80 ms apart: 1.9 s for the reply, never 300 ms of silence.
      let dripped = false;
      fake.deliver = (r) => {
        if (dripped || r.opcode !== OP_SET) return false;
        dripped = true;
        r.socket.setNoDelay(true);
        return new Promise((resolve) => {
          let i = 0;
          const drip = (): void => {
            r.socket.write(r.bytes.subarray(i, i + 1));
            if (++i < r.bytes.length) setTimeout(drip, 80);
            else resolve();
          };
          drip();
        });
      };
      expect(await c.set('d', VALUE, 4, 0)).toBe(0);
      expect(dripped).toBe(true);
      expect(await c.get('d')).toEqual({ value: VALUE, flags: 4 });
      expect(fake.connections).toBe(before);
    } finally {
      c.close();
    }
  }, 20_000);
});

describeWith(['memcached'], 'memcache client: a real memcached, a large reply, a stalled event loop', () => {
  let server: MemcachedProcess;
  /** ~900 KB, under memcached's 1 MB item limit. */
  const big = Buffer.alloc(900 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 10)) & 0xff;
  beforeAll(async () => {
    server = await startMemcached();
    const c = new MemcacheConnection({ host: '127.0.0.1', port: server.port }, { timeoutMs: 1000 });
    expect(await c.set('big', big, 3, 0)).toBe(0);
    c.close();
  }, 30_000);
  afterAll(async () => {
    await server.stop();
  });

  it('a 1.2 s stall right after the request (timeout 1 s) does not fail it', async () => {
    const c = new MemcacheConnection({ host: '127.0.0.1', port: server.port }, { timeoutMs: 1000 });
    try {
      expect((await c.get('big'))?.value.equals(big)).toBe(true); // connected
      const p = c.get('big');
      // After the request's write (which runs in the same setImmediate phase, queued first).
      setImmediate(() => busyWait(1200));
      const got = await p;
      expect(got?.flags).toBe(3);
      expect(got?.value.equals(big)).toBe(true);
      expect((await c.get('big'))?.value.equals(big)).toBe(true);
    } finally {
      c.close();
    }
  });

  it('a 1.2 s stall in the middle of the reply (timeout 1 s) does not fail it', async () => {
    let forwarded = 0;
    let stalled = false;
    const proxy = await TcpProxy.start(server.port, '127.0.0.1', {
      reply: (chunk, toClient) => {
      forwarded += chunk.length;
      if (stalled || forwarded < 64 * 1024) return false;
      stalled = true;
      // Part of the reply is with the client, the rest waits: the loop stops for 1.2 s.
      toClient.write(chunk);
      busyWait(1200);
      return true;
      },
    });
    const c = new MemcacheConnection({ host: '127.0.0.1', port: proxy.port }, { timeoutMs: 1000 });
    try {
      const got = await c.get('big');
      expect(stalled).toBe(true);
      expect(got?.value.equals(big)).toBe(true);
      expect((await c.get('big'))?.value.equals(big)).toBe(true);
    } finally {
      c.close();
      await proxy.close();
    }
  });

  it('end to end (memcached module): a session whose reply is cut fails loudly, the sessions after it on that server work', async () => {
    let forwarded = 0;
    let armed = false;
    let cut = false;
    const proxy = await TcpProxy.start(server.port, '127.0.0.1', {
      reply: (chunk, toClient) => {
      if (!armed || cut) return false;
      forwarded += chunk.length;
      if (forwarded < 200 * 1024) return false;
      cut = true;
      toClient.write(chunk.subarray(0, 777), () => toClient.destroy());
      return true;
      },
    });
    const ini = { 'session.save_handler': 'memcached', 'session.save_path': `127.0.0.1:${proxy.port}`, 'session.serialize_handler': 'php_serialize' };
    try {
      const engine = engineFor(ini);
      const first = engine.request({ cookies: { PHPSESSID: 'cutsessionbig1' } });
      expect(await first.start()).toBe(true);
      first.session.set('blob', 'x'.repeat(800 * 1024));
      expect(await first.writeClose()).toBe(true);
      await first.end();
      expect(first.diagnostics).toEqual([]);

      armed = true;
      const cutReq = engine.request({ cookies: { PHPSESSID: 'cutsessionbig1' } });
      expect(await cutReq.start()).toBe(false);
      await cutReq.end();
      expect(cut).toBe(true);
      expect(cutReq.diagnostics.length).toBeGreaterThan(0);

      for (let i = 0; i < 5; i++) {
        const req = engine.request({ cookies: { PHPSESSID: `aftercut${i}abcdef` } });
        expect(await req.start(), `session ${i} after the cut`).toBe(true);
        req.session.set('i', i);
        expect(await req.writeClose()).toBe(true);
        await req.end();
        expect(req.diagnostics, `session ${i} after the cut`).toEqual([]);
      }
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it('a large reply cut in the middle fails, and the next request on the connection gets the whole value', async () => {
    let forwarded = 0;
    let cut = false;
    const proxy = await TcpProxy.start(server.port, '127.0.0.1', {
      reply: (chunk, toClient) => {
      if (cut) return false;
      forwarded += chunk.length;
      if (forwarded < 400 * 1024) return false;
      cut = true;
      toClient.write(chunk.subarray(0, 1000), () => toClient.destroy());
      return true;
      },
    });
    const c = new MemcacheConnection({ host: '127.0.0.1', port: proxy.port }, { timeoutMs: 1000 });
    try {
      expect(await failure(c.get('big'))).toBe('connect');
      expect(cut).toBe(true);
      for (let i = 0; i < 3; i++) expect((await c.get('big'))?.value.equals(big)).toBe(true);
    } finally {
      c.close();
      await proxy.close();
    }
  });
});
