/**
 * @module spec/memcache/placement
 * Server choice beyond the defaults, compared with PHP on three live servers: php-memcached's
 * modula and ketama_weighted distributions, server weights, pecl memcache's standard strategy and
 * the fnv hash, `?weight=` in the URL. Also the key hashes against PHP's crc32() and fnv1a32.
 *
 * A request may legitimately fail on a loaded machine (a server silent for the whole timeout), and
 * then failover moves a session, in PHP as here. Such a session is never silent: the engine warns
 * (memcached), or reports on the memcache diagnostics channel (pecl memcache, where PHP itself says
 * nothing). Those sessions must still be stored somewhere; every other one must sit exactly where
 * PHP put it. The test assumes nothing about how long a request takes.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MEMCACHE_CHANNEL, type MemcacheReport } from '../../handlers/memcache.ts';
import { crc32, fnv1a32 } from '../../handlers/shared/memcache/hash.ts';
import { PeclSelector } from '../../handlers/shared/memcache/pecl-ring.ts';
import { parseLibmemcachedServers, parsePeclSavePath } from '../../handlers/shared/memcache/save-path.ts';
import { dumpKeys, flushAll, getItem, textCommand, type MemcachedProcess } from '../support/memcached-server.ts';
import { busyWait, TcpProxy } from '../support/tcp-proxy.ts';
import { describeWith } from '../support/tools.ts';
import { engineFor, php, PHP_EXTENSIONS, useMemcachedServers, type ModuleName } from './support.ts';
import { runPhp } from '../support/tools.ts';

const N = 300;
/** Concurrent engine request loops. */
const LOOPS = 8;
const servers: MemcachedProcess[] = [];

async function placement(): Promise<string[]> {
  const out: string[] = [];
  for (const [i, s] of servers.entries()) for (const k of await dumpKeys(s.port)) out.push(`${i} ${k.key}`);
  return out.sort();
}

async function compare(module: ModuleName, pathOf: (a: string[]) => string, ini: Record<string, string>): Promise<string[]> {
  const path = pathOf(servers.map((s) => s.address));
  for (const s of servers) await flushAll(s.port);
  // ini_set: php -d cannot carry '=' inside a value.
  await php(
    `ini_set('session.save_path', '${path}'); for ($i = 0; $i < ${N}; $i++) { session_id(sprintf('place%05dxyz', $i)); if (!session_start()) exit(3); $_SESSION['i'] = $i; session_write_close(); }`,
    { 'session.save_handler': module, ...ini },
  );
  const fromPhp = await placement();
  for (const s of servers) await flushAll(s.port);
  const engine = engineFor({ 'session.save_handler': module, 'session.save_path': path, ...ini });
  /** Sessions whose requests met a server failure: how it was made known, and whether the session must still be stored. */
  const failed = new Map<string, { why: string; stored: boolean }>();
  let current = new Set<string>();
  const onReport = (m: unknown): void => {
    // A report comes from inside a request; any session in flight may be the one concerned.
    for (const id of current) if (!failed.has(id)) failed.set(id, { why: (m as MemcacheReport).type, stored: true });
  };
  subscribe(MEMCACHE_CHANNEL, onReport);
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: LOOPS }, async () => {
        for (let i = next++; i < N; i = next++) {
          const id = `place${String(i).padStart(5, '0')}xyz`;
          current.add(id);
          const req = engine.request({ cookies: { PHPSESSID: id } });
          const started = await req.start();
          req.session.set('i', i);
          await req.writeClose();
          await req.end();
          current.delete(id);
          if (!started || req.diagnostics.length > 0) {
            const why = req.diagnostics.map((d) => d.message).join('; ') || 'session_start() failed';
            failed.set(id, { why, stored: started && !why.includes('Failed to write') });
          }
        }
      }),
    );
  } finally {
    unsubscribe(MEMCACHE_CHANNEL, onReport);
    current = new Set();
  }
  const sessionOf = (line: string): string => /place\d{5}xyz/.exec(line)?.[0] ?? line;
  const ofSession = (lines: string[], id: string): string[] => lines.filter((l) => sessionOf(l) === id);
  const mine = await placement();
  const ids = Array.from({ length: N }, (_, i) => `place${String(i).padStart(5, '0')}xyz`);
  for (const id of ids) {
    const f = failed.get(id);
    if (f) {
      // A loud failure: the session is still stored somewhere, unless the start or write failed.
      if (f.stored) expect(ofSession(mine, id).some((l) => !l.includes('lock')), `${id}: ${f.why}`).toBe(true);
    } else {
      expect(ofSession(mine, id), id).toEqual(ofSession(fromPhp, id));
    }
  }
  // Nothing stored that PHP did not store, for the sessions that went without failure.
  const quiet = (l: string): boolean => !failed.has(sessionOf(l));
  expect(mine.filter(quiet)).toEqual(fromPhp.filter(quiet));
  return fromPhp;
}

describeWith(['memcached', 'php', 'php-ext:memcached', 'php-ext:memcache'], 'memcache modules: server choice compared with PHP', () => {
  useMemcachedServers(servers, 3);

  describe('memcached', () => {
    it('modula (sess_consistent_hash off)', async () => {
      await compare('memcached', (a) => a.join(','), { 'memcached.sess_consistent_hash': '0' });
    });
    it('ketama_weighted with weights (host:port:weight and "host:port weight")', async () => {
      const p = await compare('memcached', (a) => `${a[0]}:1, ${a[1]} 3,${a[2]}:2`, { 'memcached.sess_consistent_hash_type': 'ketama_weighted' });
      expect(new Set(p.map((l) => l[0])).size).toBe(3);
    });
    it('plain ketama ignores weights', async () => {
      await compare('memcached', (a) => `${a[0]}:5,${a[1]},${a[2]}`, {});
    });
  });

  describe('memcache', () => {
    it('standard strategy, crc32, with ?weight=', async () => {
      await compare('memcache', (a) => `tcp://${a[0]},tcp://${a[1]}?weight=2&timeout=1.5 tcp://${a[2]}`, { 'memcache.hash_strategy': 'standard' });
    });
    it('standard strategy, fnv', async () => {
      await compare('memcache', (a) => a.map((x) => `tcp://${x}`).join(','), { 'memcache.hash_strategy': 'standard', 'memcache.hash_function': 'fnv' });
    });
    it('consistent strategy, fnv, weights, persistent=1', async () => {
      await compare('memcache', (a) => `tcp://${a[0]}?weight=3, ${a[1]}, tcp://${a[2]}?persistent=1`, {
        'memcache.hash_function': 'fnv',
      });
    });
    it('walks that meet their first server again (weight=40): the lock is taken once, the replica goes to the next other server', async () => {
      // With ports drawn at random, about 2% of weight-3 rings gave some of these ids a walk whose
      // failover attempts all land on the first server again: the old port then waited out its own
      // lock (15 s) and wrote one replica. A heavy first server makes such walks common.
      const pathOf = (a: string[]): string => `tcp://${a[0]}?weight=40, tcp://${a[1]}, tcp://${a[2]}`;
      const sel = new PeclSelector([40, 1, 1].map((weight, i) => ({ host: '127.0.0.1', port: servers[i]!.port, weight })), 'consistent', 'crc32');
      /** The first 20 candidates (memcache.max_failover_attempts) all on one server. */
      const repeats = Array.from({ length: N }, (_, i) => `place${String(i).padStart(5, '0')}xyz`).filter((id) =>
        Array.from({ length: 20 }, (_, last) => sel.select(`${id}-${last}`)).every((s, _, all) => s === all[0]),
      );
      expect(repeats.length).toBeGreaterThan(10);
      await compare('memcache', pathOf, {});
    });
    it('a first server that lost the item: the replica is not read, as in the installed pecl memcache', async () => {
      const path = servers.map((s) => `tcp://${s.address}`).join(',');
      const ini = { 'session.save_handler': 'memcache', 'session.save_path': path };
      const sel = new PeclSelector(servers.map((s) => ({ host: '127.0.0.1', port: s.port, weight: 1 })), 'consistent', 'crc32');
      const first = servers[sel.select('lostfirst1-0')]!;
      const seed = async (): Promise<void> => {
        for (const s of servers) await flushAll(s.port);
        await php(`session_id('lostfirst1'); session_start(); $_SESSION['x'] = 1; session_write_close();`, ini);
        expect(await textCommand(first.port, 'delete lostfirst1', /(DELETED|NOT_FOUND)\r\n$/)).toEqual(Buffer.from('DELETED\r\n'));
      };
      await seed();
      const fromPhp = (await php(`session_id('lostfirst1'); session_start(); echo json_encode($_SESSION['x'] ?? null); session_write_close();`, ini)).stdout.toString();
      // What Debian's pecl memcache (4.0.5.2) does; the replica read came with a later release.
      expect(fromPhp).toBe('null');
      const phpAfter = await placement();
      await seed();
      const req = engineFor(ini).request({ cookies: { PHPSESSID: 'lostfirst1' } });
      expect(await req.start()).toBe(true);
      const mine = JSON.stringify(req.session.get('x') ?? null);
      await req.end();
      expect(mine).toBe(fromPhp);
      expect(await placement()).toEqual(phpAfter);
    });
  });

  it('crc32 and fnv1a32 agree with PHP on ids and on non-ASCII bytes', async () => {
    const inputs = ['', 'a', 'abcdefghijklmnopqrstuvwxyz012345', '127.0.0.1:11211-159', 'sess-0', 'h\u00e9llo-\u00ff'];
    const enc = (s: string): Buffer => Buffer.from(s, 'latin1');
    const r = await php(
      `foreach (json_decode('${JSON.stringify(inputs.map((s) => enc(s).toString('base64')))}') as $b) { $s = base64_decode($b); echo crc32($s), ' ', hexdec(hash('fnv1a32', $s)), "\\n"; }`,
      {},
    );
    const lines = r.stdout.toString().trim().split('\n');
    inputs.forEach((s, i) => {
      const [c, f] = lines[i]!.split(' ').map(Number);
      expect(crc32(enc(s))).toBe(c);
      // PHP's hash() reads unsigned bytes; pecl memcache sign-extends, so they differ above 0x7f.
      if (!/[\u0080-\u00ff]/.test(s)) expect(fnv1a32(enc(s))).toBe(f);
    });
  });
});

/** A chunk from a client that carries a set: ASCII `set ` or a binary frame with opcode 0x01. */
function carriesSet(chunk: Buffer): boolean {
  return chunk.toString('latin1').startsWith('set ') || (chunk[0] === 0x80 && chunk[1] === 0x01);
}

/**
 * A TCP proxy in front of one memcached. Once `armed`, the first client chunk carrying a set is
 * dealt with ('reset': the connection is reset instead of forwarding it; 'stall': it is
 * forwarded, and when the server's reply comes back it is passed on and the event loop is then
 * blocked for 1.2 s, so the reply waits unread in the client's socket).
 */
async function faultyProxy(target: number): Promise<{ address: string; arm(how: 'reset' | 'stall'): void; fired(): boolean; close(): Promise<void> }> {
  let armed: 'reset' | 'stall' | null = null;
  let fired = false;
  let stallAfterReplyTo: Socket | null = null;
  const proxy = await TcpProxy.start(target, '127.0.0.1', {
    request: (chunk, client) => {
      if (armed === null || !carriesSet(chunk)) return false;
      const how = armed;
      armed = null;
      fired = true;
      if (how === 'reset') {
        client.resetAndDestroy();
        return true;
      }
      stallAfterReplyTo = client;
      return false;
    },
    reply: (chunk, client) => {
      if (client !== stallAfterReplyTo) return false;
      stallAfterReplyTo = null;
      client.write(chunk);
      busyWait(1200); // the event loop is stalled with the reply in the client's socket
      return true;
    },
  });
  return {
    address: proxy.address,
    arm: (how) => {
      armed = how;
      fired = false;
    },
    fired: () => fired,
    close: () => proxy.close(),
  };
}

describeWith(['memcached', 'php', 'php-ext:memcache'], 'memcache: a replica that fails during the write', () => {
  const two: MemcachedProcess[] = [];
  useMemcachedServers(two, 2);
  const ini = (proxy: string): Record<string, string> => ({
    'session.save_handler': 'memcache',
    'session.save_path': `tcp://${proxy}, tcp://${two[1]!.address}`,
  });

  it('a 1.2 s event-loop stall while the replies wait in the socket loses no replica (timeout 1 s)', async () => {
    const proxy = await faultyProxy(two[0]!.port);
    const reports: unknown[] = [];
    const onReport = (m: unknown): void => void reports.push(m);
    subscribe(MEMCACHE_CHANNEL, onReport);
    try {
      for (const s of two) await flushAll(s.port);
      const engine = engineFor(ini(proxy.address));
      const req = engine.request({ cookies: { PHPSESSID: 'stalledwrite1' } });
      expect(await req.start()).toBe(true);
      req.session.set('x', 1);
      proxy.arm('stall');
      expect(await req.writeClose()).toBe(true);
      await req.end();
      expect(proxy.fired()).toBe(true);
      expect(req.diagnostics).toEqual([]);
      // Both replicas hold the session (with session_redundancy 2 on two servers, each does).
      for (const s of two) expect((await getItem(s.port, 'stalledwrite1'))?.value.toString(), s.address).toBe('x|i:1;');
      expect(reports).toEqual([]);
    } finally {
      unsubscribe(MEMCACHE_CHANNEL, onReport);
      await proxy.close();
    }
  });

  it('a replica reset during the write: true and no warning, as in PHP; the loss is reported on the diagnostics channel', async () => {
    const proxy = await faultyProxy(two[0]!.port);
    const reports: unknown[] = [];
    const onReport = (m: unknown): void => void reports.push(m);
    try {
      // PHP: the proxied server resets the connection when the write's set arrives.
      for (const s of two) await flushAll(s.port);
      proxy.arm('reset');
      const r = await runPhp(`session_id('resetwrite1'); var_dump(session_start()); $_SESSION['x'] = 1; var_dump(session_write_close());`, {
        extensions: PHP_EXTENSIONS,
        ini: { display_errors: 'stderr', error_reporting: '-1', ...ini(proxy.address) },
      });
      expect(proxy.fired()).toBe(true);
      expect(r.stdout.toString().replace(/\s+/g, ' ').trim()).toBe('bool(true) bool(true)');
      expect(r.stderr).toBe('');
      const phpStored = [await getItem(two[0]!.port, 'resetwrite1'), await getItem(two[1]!.port, 'resetwrite1')].map((i) => i?.value.toString() ?? null);
      expect(phpStored).toEqual([null, 'x|i:1;']);

      // The engine, same fault.
      for (const s of two) await flushAll(s.port);
      subscribe(MEMCACHE_CHANNEL, onReport);
      const req = engineFor(ini(proxy.address)).request({ cookies: { PHPSESSID: 'resetwrite1' } });
      expect(await req.start()).toBe(true);
      req.session.set('x', 1);
      proxy.arm('reset');
      expect(await req.writeClose()).toBe(true);
      await req.end();
      expect(proxy.fired()).toBe(true);
      expect(req.diagnostics).toEqual([]);
      const stored = [await getItem(two[0]!.port, 'resetwrite1'), await getItem(two[1]!.port, 'resetwrite1')].map((i) => i?.value.toString() ?? null);
      expect(stored).toEqual(phpStored);
      expect(reports).toEqual([
        { type: 'server-failure', server: proxy.address, error: expect.objectContaining({ name: 'MemcacheIoError', kind: 'connect' }) },
        { type: 'server-failure', server: proxy.address, error: expect.objectContaining({ name: 'MemcacheIoError', kind: 'connect' }) },
        { type: 'replica-lost', key: 'resetwrite1', wanted: 2, stored: [two[1]!.address], failed: [proxy.address], written: true },
      ]);
    } finally {
      unsubscribe(MEMCACHE_CHANNEL, onReport);
      await proxy.close();
    }
  });
});

describe('the memcached probe the placement tests read servers with', () => {
  it('never passes a partial key listing off as complete when the process stalls while it arrives', async () => {
    // memcached lists the newest items last: a listing cut short loses the last sessions written,
    // data and lock keys alike. The old probe resolved with what it had when its 2 s timer fired,
    // and after a stall that timer fires before the socket is read.
    const fake = createServer((sock) => {
      sock.on('error', () => undefined);
      sock.once('data', () => {
        sock.write('key=older exp=-1 la=1 cas=1 fetch=no cls=1 size=60\r\n');
        // After the check phase, Node's next step is its timers: the stall ends there.
        setTimeout(() => {
          setImmediate(() => {
            sock.write('key=newest exp=-1 la=1 cas=2 fetch=no cls=1 size=60\r\nkey=newest.lock exp=-1 la=1 cas=3 fetch=no cls=1 size=60\r\nEND\r\n');
            busyWait(2100); // the event loop is stalled with the rest of the listing in the socket
          });
        }, 100);
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', () => resolve()));
    const a = fake.address();
    try {
      const keys = await dumpKeys(typeof a === 'object' && a ? a.port : 0);
      expect(keys.map((k) => k.key)).toEqual(['older', 'newest', 'newest.lock']);
    } finally {
      await new Promise((r) => fake.close(r));
    }
  });
});

describe('save_path parsing', () => {
  it("libmemcached's server list syntax", () => {
    expect(parseLibmemcachedServers('')).toBeNull();
    expect(parseLibmemcachedServers('a:1,b, c:3 7,d:4:9,/tmp/m.sock')).toEqual([
      { host: 'a', port: 1, weight: 1 },
      { host: 'b', port: 11211, weight: 1 },
      { host: 'c', port: 3, weight: 7 },
      { host: 'd', port: 4, weight: 9 },
      { host: '/tmp/m.sock', port: 0, weight: 1, socketPath: '/tmp/m.sock' },
    ]);
  });
  it("pecl memcache's URL list syntax", () => {
    const r = parsePeclSavePath('tcp://h1:1?weight=2&timeout=0.5&retry_interval=3&persistent=1, h2:2  unix:///run/mc.sock');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.servers.map((s) => [s.host, s.port, s.weight, s.timeoutSec, s.retryIntervalSec, s.persistent, s.socketPath])).toEqual([
      ['h1', 1, 2, 0.5, 3, true, undefined],
      ['h2', 2, 1, 1, 15, false, undefined],
      ['unix:///run/mc.sock', 0, 1, 1, 15, false, '/run/mc.sock'],
    ]);
    expect(parsePeclSavePath('tcp://h?weight=0')).toEqual({ ok: false });
    expect(parsePeclSavePath('tcp://h:1?timeout=0')).toEqual({ ok: false });
    expect(parsePeclSavePath('justahost')).toEqual({ ok: false });
    expect(parsePeclSavePath('')).toEqual({ ok: false });
  });
});
