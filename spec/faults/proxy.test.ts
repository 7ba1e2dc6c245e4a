/**
 * @module spec/faults/proxy
 * Network faults between the engine and a real server, through spec/support/tcp-proxy.ts, end to
 * end through the memcached and memcache session modules (real memcached) and the redis module
 * (real redis-server, locking on): replies cut at byte offsets across a
 * whole session request (then the connection hangs, is closed, or is reset), garbage where a reply
 * header is due, late replies, a request reset before it reaches the server. Every faulted request must
 * either succeed with its data stored or fail loudly (false + PHP's warning), never return true
 * with the data lost; and afterwards a clean request through the same proxy must succeed (the
 * connection recovers: a broken connection is replaced, never reused).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import { closeRedisConnections } from '../../handlers/redis.ts';
import { closeAllConnections } from '../../handlers/shared/memcache/client.ts';
import { startMemcached, type MemcachedProcess } from '../support/memcached-server.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import { TcpProxy, type ProxyFault } from '../support/tcp-proxy.ts';
import { describeWith } from '../support/tools.ts';
import { classify, increment, seed, storedN, tally, type ModuleName, type Outcome } from './support.ts';

/** Short client timeouts: a hung reply costs this much per request. */
function engineFor(module: ModuleName, address: string): SessionEngine {
  const ini: Record<string, string> =
    module === 'redis'
      ? {
          'session.save_handler': 'redis',
          'session.save_path': `tcp://${address}?timeout=0.3&read_timeout=0.3`,
          'redis.session.locking_enabled': '1',
          'redis.session.lock_expire': '2',
          'redis.session.lock_retries': '3',
          'redis.session.lock_wait_time': '20000',
        }
      : module === 'memcached'
      ? {
          'session.save_handler': 'memcached',
          'session.save_path': address,
          'memcached.sess_connect_timeout': '300',
          'memcached.sess_lock_wait_min': '20',
          'memcached.sess_lock_wait_max': '40',
          'memcached.sess_lock_retries': '3',
          'memcached.sess_lock_expire': '2',
        }
      : { 'session.save_handler': 'memcache', 'session.save_path': `tcp://${address}?timeout=0.3`, 'memcache.lock_timeout': '1' };
  return new SessionEngine({ ini: { 'session.cache_limiter': '', ...ini } });
}

describeWith(['memcached', 'redis-server'], 'memcache and redis modules: faults between client and server (TCP proxy)', () => {
  let memcached: MemcachedProcess;
  let redis: RedisProcess;
  const proxies = new Map<ModuleName, TcpProxy>();
  beforeAll(async () => {
    [memcached, redis] = await Promise.all([startMemcached(), startRedis()]);
    for (const m of ['memcached', 'memcache', 'redis'] as const) proxies.set(m, await TcpProxy.start(m === 'redis' ? redis.port : memcached.port));
  }, 30_000);
  afterAll(async () => {
    closeAllConnections();
    closeRedisConnections();
    for (const p of proxies.values()) await p.close();
    await Promise.all([memcached?.stop(), redis?.stop()]);
  });

  describe.concurrent.each(['memcached', 'memcache', 'redis'] as const)('%s', (module) => {
    it('every faulted request succeeds with its data stored or fails loudly; the next clean one succeeds', async () => {
      const proxy = proxies.get(module)!;
      const server = module === 'redis' ? redis : memcached;
      const engine = engineFor(module, proxy.address);
      let seq = 0;
      const run = async (fault: ProxyFault | null): Promise<{ outcome: Outcome; detail: string }> => {
        const id = `fault${module}${++seq}`;
        await seed(server.port, module, id, 5);
        if (fault !== null) proxy.arm(fault);
        const a = await increment(engine, id);
        proxy.disarm();
        const after = await storedN(server.port, module, id);
        return { outcome: classify(a, 5, after), detail: `${JSON.stringify(fault)} -> ${JSON.stringify(a)}, stored ${after}` };
      };

      // How many reply bytes one clean session request gets (lock, read, write, unlock).
      proxy.resetCounters();
      const clean = await run(null);
      expect(clean.outcome, clean.detail).toBe('ok');
      const total = proxy.bytesDown;
      expect(total).toBeGreaterThan(24);
      const offsets = [...new Set([0, 1, 12, 23, 24, 25, 48, Math.floor(total / 2), total - 24, total - 1])].filter((k) => k >= 0 && k < total);
      const faults: ProxyFault[] = [
        ...offsets.flatMap((at) => [{ kind: 'cut', at, then: 'close' } as const, { kind: 'cut', at, then: 'reset' } as const]),
        ...[12, 24, Math.floor(total / 2)].map((at) => ({ kind: 'cut', at, then: 'hang' }) as const),
        // Garbage where a reply header is due or inside one (memcached's binary header is 24
        // bytes; redis' first reply, to SET NX, is "+OK\r\n"). Inside a value it cannot be told
        // from data: neither protocol has a checksum; the session then fails to decode and is
        // destroyed with PHP's warning, as PHP does with any undecodable session.
        ...(module === 'redis' ? [0, 1, 5] : [0, 12, 24]).map((at) => ({ kind: 'garbage', at, bytes: Buffer.alloc(24, 0x55) }) as const),
        { kind: 'delay', ms: 50 },
        { kind: 'delay', ms: 700 },
        { kind: 'reset-request' },
      ];
      const results: { fault: ProxyFault; outcome: Outcome; recovered: Outcome; detail: string }[] = [];
      for (const fault of faults) {
        const r = await run(fault);
        // The connection must be usable again at once: a clean request on another session.
        const next = await run(null);
        results.push({ fault, outcome: r.outcome, recovered: next.outcome, detail: `${r.detail} | next: ${next.detail}` });
      }
      const label = (f: ProxyFault): string => (f.kind === 'cut' ? `cut-${f.then}` : f.kind);
      console.log(
        `[faults] ${module} through the proxy (${total} reply bytes per request, ${faults.length} faults):`,
        JSON.stringify(Object.fromEntries([...new Set(faults.map(label))].map((k) => [k, tally(results.filter((r) => label(r.fault) === k).map((r) => r.outcome))]))),
        'recovered:',
        JSON.stringify(tally(results.map((r) => r.recovered))),
      );
      expect(results.filter((r) => r.outcome === 'lost').map((r) => r.detail)).toEqual([]);
      expect(results.filter((r) => r.recovered !== 'ok').map((r) => r.detail)).toEqual([]);
    }, 60_000);
  });
});
