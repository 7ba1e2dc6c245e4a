/**
 * @module spec/redis/read-reuse
 * The engine gives the bytes it read back to the redis module (SaveHandler.release), whose
 * connection's reply reader then reads the next large reply into that memory
 * (handlers/redis/reply-reader.ts releaseReply). A buffer given back while anything still
 * referenced it (the engine's lazy entries or validated cache, ioredis' decoder, another reply
 * in the same buffer) would corrupt sessions silently, so: many sessions of 20-60 KB on one
 * connection (one engine, one redis-server), requests open at the same time, entries built only
 * after other requests read and wrote, entries of a request that ended read afterwards, with and
 * without the validated-bytes cache, lazy_write and locking; a fast-check property (fixed seed)
 * over random interleavings checks every value read against a model, and PHP (phpredis) finally
 * reads every session back: the bytes it decodes are the model's.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SessionEngine as Engine } from '../../lib/engine.ts';
import { opArbitrary, runOps, seedSessions, SESSIONS, sideBySideOps, type Model } from '../support/read-reuse.ts';
import type { RedisProcess } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { php, TOOLS, useRedisServers } from './support.ts';

const SEED = 0x72656473;

const id = (s: number): string => `redisreuse${String(s).padStart(18, '0')}`;

describeWith(TOOLS, 'redis: the engine gives back the bytes it read', () => {
  const servers: RedisProcess[] = [];
  useRedisServers(servers, 1);

  const engineIni = (lazyWrite: boolean, locking: boolean): Record<string, string> => ({
    'session.save_handler': 'redis',
    'session.save_path': `tcp://${servers[0]!.address}`,
    'session.lazy_write': lazyWrite ? '1' : '0',
    'session.cache_limiter': '',
    'redis.session.locking_enabled': locking ? '1' : '0',
  });

  /** PHP's own client reads every session: the values it decodes are the model's. */
  async function phpReadsBack(model: Model): Promise<void> {
    const ids = Array.from({ length: SESSIONS }, (_, s) => `'${id(s)}'`).join(',');
    const r = await php(
      `foreach ([${ids}] as $id) { session_id($id); session_start(); echo json_encode($_SESSION), "\\n"; session_write_close(); }`,
      { 'session.save_handler': 'redis', 'session.save_path': `tcp://${servers[0]!.address}`, 'session.use_cookies': '0', 'session.cache_limiter': '' },
    );
    const lines = r.stdout.toString().trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as Record<string, string>)).toEqual(model.map((m) => Object.fromEntries(m)));
  }

  for (const [label, lazyWrite, cacheBytes, locking] of [
    ['validated cache, lazy_write', true, undefined, false],
    ['no validated cache, lazy_write', true, 0, false],
    ['validated cache, no lazy_write', false, undefined, false],
    ['validated cache, lazy_write, locking', true, undefined, true],
  ] as const) {
    it(`${label}: sessions open side by side, entries built after other reads and writes and after their request ended`, async () => {
      const engine = new Engine({ ini: engineIni(lazyWrite, locking), ...(cacheBytes === undefined ? {} : { validatedCacheBytes: cacheBytes }) });
      const model: Model = [];
      await seedSessions(engine, id, model);
            await runOps(engine, id, model, sideBySideOps());
      await phpReadsBack(model);
    }, 60_000);
  }

  for (const cacheBytes of [100_000, 0]) {
    it(`fast-check, random interleavings of start, get, set, close and reads of ended requests (validated cache ${cacheBytes} bytes)`, async () => {
      // 100 KB: a validated-bytes cache that holds about two of the six sessions (reads hit it and miss it).
      const engine = new Engine({ ini: engineIni(true, false), validatedCacheBytes: cacheBytes });
      const model: Model = [];
      await seedSessions(engine, id, model);
      await fc.assert(
        fc.asyncProperty(fc.array(opArbitrary, { minLength: 10, maxLength: 60 }), async (ops) => {
          await runOps(engine, id, model, ops);
        }),
        { seed: SEED, numRuns: 15 },
      );
      await phpReadsBack(model);
    }, 120_000);
  }
});
