/**
 * @module spec/faults/stall
 * An event-loop stall (a 1.2 s busy loop, as a long synchronous decode or a GC pause would make)
 * in the middle of memcache and redis traffic: eight requests on 300 KB sessions are in flight, replies are
 * arriving, and the loop is blocked for longer than the client timeout (1 s). Nothing may be lost:
 * each request succeeds with its data stored on every replica, or fails loudly; and the requests
 * after the stall all succeed (no connection is left broken by it). Outcomes are counted; there
 * is no timing assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import { closeRedisConnections } from '../../handlers/redis.ts';
import { closeAllConnections } from '../../handlers/shared/memcache/client.ts';
import { startMemcached, type MemcachedProcess } from '../support/memcached-server.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { seedRaw, stall, storedN, tally, type ModuleName, type Outcome } from './support.ts';

const K = 8;
const PAD = 300_000;
const STALL_MS = 1200;

interface Server {
  port: number;
  address: string;
}

function engineFor(module: ModuleName, servers: Server[], redis: Server): SessionEngine {
  const ini: Record<string, string> =
    module === 'redis'
      ? {
          'session.save_handler': 'redis',
          'session.save_path': `tcp://${redis.address}?timeout=1&read_timeout=1`,
          'redis.session.locking_enabled': '1',
        }
      : module === 'memcached'
      ? { 'session.save_handler': 'memcached', 'session.save_path': servers[0]!.address, 'memcached.sess_connect_timeout': '1000' }
      : {
          'session.save_handler': 'memcache',
          // pecl memcache's default timeout is 1 s; every session on both servers.
          'session.save_path': servers.map((s) => `tcp://${s.address}`).join(','),
          'memcache.session_redundancy': '2',
        };
  return new SessionEngine({ ini: { 'session.cache_limiter': '', ...ini } });
}

/** Where the module keeps the session: one server, or both (replicas) for memcache. */
const replicasOf = (module: ModuleName, servers: Server[], redis: Server): Server[] =>
  module === 'redis' ? [redis] : module === 'memcached' ? [servers[0]!] : servers;

async function seedBig(servers: Server[], module: ModuleName, id: string): Promise<void> {
  for (const s of servers) await seedRaw(s.port, module, id, `n|i:5;pad|s:${PAD}:"${'x'.repeat(PAD)}";`);
}

describeWith(['memcached', 'redis-server'], 'memcache and redis modules: a 1.2 s event-loop stall in the middle of traffic', () => {
  const servers: MemcachedProcess[] = [];
  let redis: RedisProcess;
  beforeAll(async () => {
    servers.push(await startMemcached(), await startMemcached());
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    closeAllConnections();
    closeRedisConnections();
    await Promise.all([...servers.map((s) => s.stop()), redis?.stop()]);
  });

  describe.each(['memcached', 'memcache', 'redis'] as const)('%s', (module) => {
    it(`${K} requests on ${PAD / 1000} KB sessions, a ${STALL_MS} ms stall once the first has read: none lost, all later requests succeed`, async () => {
      const engine = engineFor(module, servers, redis);
      const replicas = replicasOf(module, servers, redis);
      const round = async (tag: string, withStall: boolean): Promise<{ outcomes: Outcome[]; details: string[] }> => {
        const ids = Array.from({ length: K }, (_, i) => `stall${module}${tag}${i}`);
        for (const id of ids) await seedBig(replicas, module, id);
        let stalled = !withStall;
        const attempts = await Promise.all(
          ids.map(async (id) => {
            const req = engine.request({ cookies: { PHPSESSID: id } });
            const started = await req.start();
            if (!stalled) {
              // The first request to get its session blocks the loop while the others' replies arrive.
              stalled = true;
              stall(STALL_MS);
            }
            let read: number | undefined;
            let closed = false;
            if (started) {
              const v = req.session.get('n');
              read = typeof v === 'number' ? v : undefined;
              req.session.set('n', (read ?? 0) + 1);
              closed = await req.writeClose();
            }
            await req.end();
            return { id, started, closed, read, warnings: req.diagnostics.filter((d) => d.level !== 'E_DEPRECATED').map((d) => d.message) };
          }),
        );
        const outcomes: Outcome[] = [];
        const details: string[] = [];
        for (const a of attempts) {
          const after = await Promise.all(replicas.map((s) => storedN(s.port, module, a.id)));
          const everywhere = after.every((n) => n === 6);
          let o: Outcome;
          if (a.started && a.closed && a.read === 5 && everywhere) o = 'ok';
          else if (a.warnings.length > 0 && after.every((n) => n === 5 || (a.read === 5 && n === 6))) o = 'loud';
          else o = 'lost';
          outcomes.push(o);
          if (o !== 'ok') details.push(`${o}: ${JSON.stringify(a)} stored ${JSON.stringify(after)}`);
        }
        return { outcomes, details };
      };
      const during = await round('a', true);
      const afterwards = await round('b', false);
      console.log(`[faults] ${module}: ${STALL_MS} ms stall among ${K} requests:`, JSON.stringify(tally(during.outcomes)), 'next round:', JSON.stringify(tally(afterwards.outcomes)));
      expect(during.details.filter((d) => d.startsWith('lost'))).toEqual([]);
      expect(afterwards.details).toEqual([]);
    }, 60_000);
  });
});
