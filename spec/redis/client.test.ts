/**
 * @module spec/redis/client
 * The shared Redis connection (handlers/redis/client.ts) on a real redis-server: the ioredis
 * auto-pipelining bug it works around, a reply that arrived during an event-loop stall longer
 * than the read timeout (not a timeout), and a connection broken by a server restart (replaced,
 * never reused), large values handed to the socket without ioredis' copy, and commands queued on
 * ioredis' connection without its sendCommand.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { Socket } from 'node:net';
import { Command, Redis } from 'ioredis';
import { SessionEngine } from '../../lib/engine.ts';
import { afterAll, expect, it, vi } from 'vitest';
import { closeRedisConnections, RedisConnection, RedisIoError } from '../../handlers/redis/client.ts';
import { ZERO_COPY_MIN } from '../../handlers/redis/commands.ts';
import { redisCommand, startRedis, type RedisProcess } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { useRedisServers } from './support.ts';

const servers: RedisProcess[] = [];

describeWith(['redis-server'], 'redis client', () => {
  useRedisServers(servers, 1);
  afterAll(() => closeRedisConnections());

  const endpoint = (port: number, readTimeoutMs = 60_000) => ({ scheme: 'tcp', host: '127.0.0.1', port, database: -1, connectTimeoutMs: 2000, readTimeoutMs });

  it('ioredis 6.1 with enableAutoPipelining sends callBuffer(name, ...args) without its name; our calls go through <name>Buffer', async () => {
    const raw = new Redis({ port: servers[0]!.port, host: '127.0.0.1', enableAutoPipelining: true, lazyConnect: true });
    await raw.connect();
    try {
      // The library bug the client works around (if this starts passing, ioredis fixed it).
      await expect(raw.callBuffer('SET', 'ap-key', 'v')).rejects.toThrow(/unknown command 'ap-key'/);
    } finally {
      raw.disconnect();
    }
    const c = new RedisConnection(endpoint(servers[0]!.port));
    expect(String(await c.call('SET', 'ap-key', Buffer.from([0, 255])))).toBe('OK');
    expect(await c.call('GET', 'ap-key')).toEqual(Buffer.from([0, 255]));
    c.close();
  });

  /** `n` bytes of every value, with CR LF pairs and a `$`: what a RESP framing mistake would trip on. */
  const bigValue = (n: number, seed: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 131 + seed) & 0xff;
    b.write('\r\n$-1\r\n', 100, 'latin1');
    return b;
  };

  /** Byte equality (vitest's deep equality walks a 140 KB Buffer element by element). */
  const same = (a: unknown, b: Buffer): boolean => Buffer.isBuffer(a) && a.equals(b);

  it('ioredis 6.1 copies a Buffer argument into a new Buffer of the whole command (the copy the client avoids for large values)', () => {
    const big = bigValue(ZERO_COPY_MIN * 4, 1);
    const out = new Command('setex', ['k', '60', big]).toWritable({});
    // The library behaviour pinned: one Buffer holding a copy of the value (if this changes, the
    // workaround in handlers/redis/client.ts may be dropped).
    expect(Buffer.isBuffer(out)).toBe(true);
    expect((out as Buffer).buffer).not.toBe(big.buffer);
    expect((out as Buffer).includes(big)).toBe(true);
  });

  it('a large value goes to the socket as it is (no copy per write) and arrives byte for byte, alone or among other commands', async () => {
    const write = vi.spyOn(Socket.prototype, 'write');
    const c = new RedisConnection(endpoint(servers[0]!.port));
    try {
      const big1 = bigValue(140 * 1024, 2);
      const big2 = bigValue(ZERO_COPY_MIN, 3);
      // A key that is not ASCII: strings go out as UTF-8, as ioredis sends them.
      const key = 'zero-copy-\u00fc\u6f22';
      expect(String(await c.call('SETEX', key, 60, big1))).toBe('OK');
      expect(write.mock.calls.some(([chunk]) => chunk === big1)).toBe(true);
      expect(same(await c.call('GET', key), big1)).toBe(true);
      expect(same(await redisCommand(servers[0]!.port, 'GET', Buffer.from(key).toString('latin1')), big1)).toBe(true);
      // Several large arguments, small ones between them, and other commands in the same tick.
      const echo = 'return {ARGV[1], ARGV[2], ARGV[3], ARGV[4]}';
      const small = Buffer.from([0, 13, 10, 255]);
      const replies = await Promise.all([
        c.call('SET', 'zc-a', 'x'),
        c.call('EVAL', echo, 0, big2, 'mid\u00e9', small, big1),
        c.call('GET', 'zc-a'),
        c.call('SETEX', 'zc-b', 60, big2),
        c.call('GET', 'zc-b'),
      ]);
      expect(replies.map(String)[0]).toBe('OK');
      const echoed = replies[1] as Buffer[];
      expect(echoed).toHaveLength(4);
      expect([same(echoed[0], big2), same(echoed[1], Buffer.from('mid\u00e9')), same(echoed[2], small), same(echoed[3], big1)]).toEqual([true, true, true, true]);
      expect(replies[2]).toEqual(Buffer.from('x'));
      expect(String(replies[3])).toBe('OK');
      expect(same(replies[4], big2)).toBe(true);
    } finally {
      write.mockRestore();
      c.close();
    }
  });

  it('on a ready connection commands skip ioredis\' sendCommand (no ioredis Command each), server errors included; while ioredis\' command tracing has a subscriber they go through it, traced', async () => {
    const send = vi.spyOn(Redis.prototype, 'sendCommand');
    const c = new RedisConnection(endpoint(servers[0]!.port));
    const traced: unknown[] = [];
    const none = (): void => {};
    const handlers = { start: (m: unknown) => void traced.push(m), end: none, asyncStart: none, asyncEnd: none, error: none };
    try {
      await c.open();
      send.mockClear();
      expect(String(await c.call('SET', 'lean-key', 'v'))).toBe('OK');
      expect(await c.call('GET', 'lean-key')).toEqual(Buffer.from('v'));
      // A server error answers its command only; the connection stays up for the next.
      await expect(c.call('INCR', 'lean-key')).rejects.toMatchObject({ kind: 'reply', detail: 'ERR value is not an integer or out of range' });
      expect(await c.call('GET', 'lean-key')).toEqual(Buffer.from('v'));
      expect(send).not.toHaveBeenCalled();
      tracingChannel('ioredis:command').subscribe(handlers);
      expect(await c.call('GET', 'lean-key')).toEqual(Buffer.from('v'));
      expect(send).toHaveBeenCalledTimes(1);
      expect(traced).toHaveLength(1);
    } finally {
      tracingChannel('ioredis:command').unsubscribe(handlers);
      send.mockRestore();
      c.close();
    }
  });

  it('ioredis 6.1 joins a large bulk reply from the socket\'s 64 KB reads (Buffer.concat); the client reads it into one buffer and gets it as a view, unjoined', async () => {
    const big = bigValue(140 * 1024, 5);
    expect(String(await redisCommand(servers[0]!.port, 'SET', 'join-key', big.toString('latin1')))).toBe('OK');
    const concat = vi.spyOn(Buffer, 'concat');
    const joined = (): number => concat.mock.results.filter((r) => r.type === 'return' && (r.value as Buffer).length >= big.length).length;
    const raw = new Redis({ port: servers[0]!.port, host: '127.0.0.1', lazyConnect: true });
    const c = new RedisConnection(endpoint(servers[0]!.port));
    try {
      await raw.connect();
      // The library behaviour pinned: ioredis' decoder joins the reads of a large reply (if this
      // changes, handlers/redis/reply-reader.ts may be dropped).
      expect(same(await raw.getBuffer('join-key'), big)).toBe(true);
      expect(joined()).toBe(1);
      concat.mockClear();
      await c.open();
      for (let i = 0; i < 3; i++) expect(same(await c.call('GET', 'join-key'), big)).toBe(true);
      expect(joined()).toBe(0);
    } finally {
      concat.mockRestore();
      raw.disconnect();
      c.close();
    }
  });

  it('a reply that arrived while the event loop was stalled past the read timeout is a reply, not a timeout', async () => {
    const c = new RedisConnection(endpoint(servers[0]!.port, 50));
    await c.open();
    // The server answers after ~100 ms (a script spinning on TIME), inside our 300 ms stall.
    const slow = 'local s = redis.call("TIME") local t0 = s[1] * 1000000 + s[2] repeat local n = redis.call("TIME") until n[1] * 1000000 + n[2] - t0 > 100000 return 1';
    const pending = c.call('EVAL', slow, 0);
    // Let the command go out (and the 50 ms deadline start), then stall the loop for 300 ms.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // busy: timers and socket reads both wait
    }
    expect(await pending).toBe(1);
    c.close();
  });

  it('no reply within the read timeout: every command in flight on the connection fails as a timeout, and the next one connects afresh', async () => {
    const c = new RedisConnection(endpoint(servers[0]!.port, 50));
    await c.open();
    // The server is busy for ~300 ms (a script spinning on TIME): nothing arrives for 50 ms.
    const slow = 'local s = redis.call("TIME") local t0 = s[1] * 1000000 + s[2] repeat local n = redis.call("TIME") until n[1] * 1000000 + n[2] - t0 > 300000 return 1';
    const kind = (p: Promise<unknown>) => p.then(
      () => 'reply',
      (e: unknown) => (e instanceof RedisIoError ? e.kind : String(e)),
    );
    const first = kind(c.call('EVAL', slow, 0));
    const second = kind(c.call('GET', 'watchdog-key'));
    // As each PHP process on its own connection would: both read calls time out.
    expect([await first, await second]).toEqual(['timeout', 'timeout']);
    // Once the server answers again (seen on an independent connection), the next call works.
    expect(String(await redisCommand(servers[0]!.port, 'PING'))).toBe('PONG');
    expect(await c.call('GET', 'watchdog-key')).toBeNull();
    c.close();
  });

  it('persistent_id (with persistent=1) keeps separate connections per id, as phpredis keys its persistent streams by it', async () => {
    const s = await startRedis();
    try {
      const clients = async (): Promise<number> => String(await redisCommand(s.port, 'CLIENT', 'LIST')).trim().split('\n').length - 1; // minus the asking one
      for (const query of ['persistent=1&persistent_id=a', 'persistent=1&persistent_id=b', 'persistent=1&persistent_id=a', 'persistent_id=c', '']) {
        const req = new SessionEngine({ ini: { 'session.save_handler': 'redis', 'session.save_path': `tcp://${s.address}${query === '' ? '' : `?${query}`}` } }).request({ cookies: { PHPSESSID: 'persistentidtest0000000000' } });
        expect(await req.start()).toBe(true);
        await req.writeClose();
        await req.end();
      }
      // a, b, and one for the non-persistent paths (persistent_id without persistent is ignored).
      expect(await clients()).toBe(3);
    } finally {
      closeRedisConnections();
      await s.stop();
    }
  });

  it('a connection broken by a server restart is replaced: the first command after it fails, the next one works', async () => {
    const s = await startRedis();
    const c = new RedisConnection(endpoint(s.port));
    try {
      expect(String(await c.call('SET', 'k', '1'))).toBe('OK');
      await s.stop();
      const again = await startRedis({ port: s.port });
      try {
        // The old socket is dead; ioredis' own reconnecting is off, so this command fails...
        const first = await c.call('GET', 'k').then(
          () => 'ok',
          (e: unknown) => (e instanceof RedisIoError ? e.kind : String(e)),
        );
        expect(['lost', 'connect', 'ok']).toContain(first);
        // ...and the next one runs on a new connection to the restarted server.
        expect(await c.call('GET', 'k')).toBeNull();
      } finally {
        await again.stop();
      }
    } finally {
      c.close();
      await s.stop();
    }
  });
});
