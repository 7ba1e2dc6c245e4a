/**
 * @module spec/memcache/placement
 * Server choice beyond the defaults, compared with PHP on three live servers: php-memcached's
 * modula and ketama_weighted distributions, server weights, pecl memcache's standard strategy and
 * the fnv hash, `?weight=` in the URL. Also the key hashes against PHP's crc32() and fnv1a32.
 */
import { describe, expect, it } from 'vitest';
import { crc32, fnv1a32 } from '../../lib/memcache/hash.ts';
import { parseLibmemcachedServers, parsePeclSavePath } from '../../lib/memcache/save-path.ts';
import { dumpKeys, flushAll, type MemcachedProcess } from '../support/memcached-server.ts';
import { describeWith } from '../support/tools.ts';
import { engineFor, php, useMemcachedServers, type ModuleName } from './support.ts';

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
  // A few request loops at a time: this is about placement, and hundreds of requests at once on a
  // loaded machine can exceed the extensions' 1 s timeouts, after which failover (PHP's too)
  // legitimately moves a key to another server.
  let next = 0;
  await Promise.all(
    Array.from({ length: LOOPS }, async () => {
      for (let i = next++; i < N; i = next++) {
        const req = engine.request({ cookies: { PHPSESSID: `place${String(i).padStart(5, '0')}xyz` } });
        expect(await req.start()).toBe(true);
        req.session.set('i', i);
        expect(await req.writeClose()).toBe(true);
        await req.end();
        expect(req.diagnostics).toEqual([]);
      }
    }),
  );
  expect(await placement()).toEqual(fromPhp);
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
