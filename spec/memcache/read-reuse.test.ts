/**
 * @module spec/memcache/read-reuse
 * The engine gives the bytes it read back to the memcache modules (SaveHandler.release), whose
 * client then reads the next large reply into that memory (handlers/shared/memcache/frames.ts
 * releaseValue). A buffer given back while anything still referenced it would corrupt sessions
 * silently, so: many sessions of 20-60 KB on one connection (one engine, one memcached), requests
 * open at the same time, entries built only after other requests read and wrote, entries of a
 * request that ended read afterwards, with and without the validated-bytes cache and lazy_write;
 * a fast-check property (fixed seed) over random interleavings checks every value read against a
 * model, and PHP (php-memcached) finally reads every session back: the bytes it decodes are the
 * model's. Both modules, memcached and memcache.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SessionEngine as Engine } from '../../lib/engine.ts';
import type { MemcachedProcess } from '../support/memcached-server.ts';
import { opArbitrary, runOps, seedSessions, SESSIONS, sideBySideOps, type Model } from '../support/read-reuse.ts';
import { describeWith } from '../support/tools.ts';
import { php, savePathFor, useMemcachedServers, type ModuleName } from './support.ts';

const SEED = 0x72656c73;
/**
 * pecl memcache compresses values from 20,000 bytes (memcache.compress_threshold) that shrink by
 * 20%, as these do: an inflated value is a buffer of its own, never the client's. Off here, so
 * the values come back in the client's read buffers.
 */
const moduleIni = (module: ModuleName): Record<string, string> => (module === 'memcache' ? { 'memcache.compress_threshold': '0' } : {});

const id = (module: ModuleName, s: number): string => `reuse${module}${String(s).padStart(21, '0')}`;

describeWith(['php', 'memcached', 'php-ext:memcached', 'php-ext:memcache'], 'memcache modules: the engine gives back the bytes it read', () => {
  const servers: MemcachedProcess[] = [];
  useMemcachedServers(servers, 1);

  const engineIni = (module: ModuleName, lazyWrite: boolean): Record<string, string> => ({
    'session.save_handler': module,
    'session.save_path': savePathFor(module, [servers[0]!.address]),
    'session.lazy_write': lazyWrite ? '1' : '0',
    'session.cache_limiter': '',
    ...moduleIni(module),
  });

  /** PHP's own client reads every session: the values it decodes are the model's. */
  async function phpReadsBack(module: ModuleName, model: Model): Promise<void> {
    const ids = Array.from({ length: SESSIONS }, (_, s) => `'${id(module, s)}'`).join(',');
    const r = await php(
      `foreach ([${ids}] as $id) { session_id($id); session_start(); echo json_encode($_SESSION), "\\n"; session_write_close(); }`,
      { 'session.save_handler': module, 'session.save_path': savePathFor(module, [servers[0]!.address]), 'session.use_cookies': '0', 'session.cache_limiter': '', ...moduleIni(module) },
    );
    const lines = r.stdout.toString().trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as Record<string, string>)).toEqual(model.map((m) => Object.fromEntries(m)));
  }

  for (const module of ['memcached', 'memcache'] as const) {
    for (const [label, lazyWrite, cacheBytes] of [
      ['validated cache, lazy_write', true, undefined],
      ['no validated cache, lazy_write', true, 0],
      ['validated cache, no lazy_write', false, undefined],
    ] as const) {
      it(`${module}, ${label}: sessions open side by side, entries built after other reads and writes and after their request ended`, async () => {
        const engine = new Engine({ ini: engineIni(module, lazyWrite), ...(cacheBytes === undefined ? {} : { validatedCacheBytes: cacheBytes }) });
        const model: Model = [];
        await seedSessions(engine, (s) => id(module, s), model);
        await runOps(engine, (s) => id(module, s), model, sideBySideOps());
        await phpReadsBack(module, model);
      }, 60_000);
    }

    it(`${module}: fast-check, random interleavings of start, get, set, close and reads of ended requests`, async () => {
      // A validated-bytes cache that holds about two of the six sessions: reads hit it and miss it.
      const engine = new Engine({ ini: engineIni(module, true), validatedCacheBytes: 100_000 });
      const model: Model = [];
      await seedSessions(engine, (s) => id(module, s), model);
      await fc.assert(
        fc.asyncProperty(fc.array(opArbitrary, { minLength: 10, maxLength: 60 }), async (ops) => {
          await runOps(engine, (s) => id(module, s), model, ops);
        }),
        { seed: SEED, numRuns: 15 },
      );
      await phpReadsBack(module, model);
    }, 120_000);
  }
});
