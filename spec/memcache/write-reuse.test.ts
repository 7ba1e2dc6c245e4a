/**
 * @module spec/memcache/write-reuse
 * The encoder's output buffer reused for later writes (lib/session/bytes-pool.ts). The buffer has
 * owners whose lifetimes the engine counts: the module's write until it settles (only modules that
 * declare SaveHandler.forgetsWrittenData), the validated-bytes cache slot, the lazy_write snapshot
 * of each request that read it from the cache; a buffer sessions' lazy entries point into is never
 * reused. Each test here fails when one of those counts is left out:
 * - the lease rules themselves (a late drop of an old lending never frees a later one);
 * - a module that keeps the bytes it was given (no forgetsWrittenData) never gets a pooled buffer;
 * - two sessions written at once on one connection: each stores its own bytes (the write's count);
 * - memcached without locking, three requests on one session: the one that read first and changed
 *   nothing only touches the session at its close, as PHP does (its snapshot's count), and PHP
 *   reads back the last writer's session.
 */
import { describe, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import type { SaveHandler, SaveHandlerModule } from '../../lib/handler.ts';
import { BytesPool } from '../../lib/session/bytes-pool.ts';
import type { MemcachedProcess } from '../support/memcached-server.ts';
import { describeWith } from '../support/tools.ts';
import { bigSessionCycle, parsePhpReads, phpReadsCode, snapshotAcrossWrites, writesAtOnce } from '../support/write-reuse.ts';
import { php, useMemcachedServers } from './support.ts';

/**
 * A 24 KB session: three long strings (kept as lazy entries, copied verbatim: never read here, so
 * the encoder's buffer is sized for them) and a counter.
 */
const BIG = { a: 'a'.repeat(8000), b: 'b'.repeat(8000), c: 'c'.repeat(8000) };

describe('bytes pool: leases', () => {
  it('a buffer comes back when its last owner drops it, once; a pinned one never; a late drop of an old lending is ignored', () => {
    const pool = new BytesPool();
    const first = pool.take(10_000);
    expect(pool.hold(first.buffer.subarray(0, 5))).toBe(first);
    first.drop();
    expect(pool.freeCount).toBe(0);
    first.drop();
    expect(pool.freeCount).toBe(1);
    // Over: holding or dropping the old lease again changes nothing.
    expect(first.hold()).toBe(false);
    first.drop();
    expect(pool.freeCount).toBe(1);
    const second = pool.take(9_000);
    expect(second.buffer).toBe(first.buffer);
    expect(pool.hold(second.buffer)).toBe(second);
    first.drop();
    first.drop();
    second.drop();
    expect(pool.freeCount).toBe(0);
    second.pin();
    second.drop();
    expect(pool.freeCount).toBe(0);
    expect(pool.take(9_000).buffer).not.toBe(first.buffer);
    // Too small, or more than twice the size asked: a new buffer.
    const small = pool.take(1000);
    small.drop();
    expect(pool.take(5000).buffer).not.toBe(small.buffer);
  });
});

describe('engine: a module that keeps the bytes it was given', () => {
  it('never gets them in a buffer the engine reuses', async () => {
    const stored = new Map<string, Uint8Array>();
    const kept: { data: Uint8Array; copy: Buffer }[] = [];
    const handler = (): SaveHandler => ({
      name: 'keeper',
      open: () => true,
      close: () => true,
      read: (id) => (stored.has(id) ? Buffer.from(stored.get(id)!) : new Uint8Array(0)),
      write: (id, data) => {
        stored.set(id, data);
        kept.push({ data, copy: Buffer.from(data) });
        return true;
      },
      destroy: () => true,
      gc: () => 0,
    });
    const mod: SaveHandlerModule = { name: 'keeper', create: handler };
    const engine = new SessionEngine({ modules: [mod], ini: { 'session.save_handler': 'keeper', 'session.cache_limiter': '' } });
    for (let i = 0; i < 12; i++) {
      const req = engine.request({ cookies: { PHPSESSID: `keeper${i % 3}` } });
      expect(await req.start()).toBe(true);
      if (req.session.get('n') === undefined) for (const [k, v] of Object.entries(BIG)) req.session.set(k, v);
      req.session.set('n', i);
      expect(await req.writeClose()).toBe(true);
      await req.end();
    }
    for (const k of kept) expect(Buffer.compare(k.data, k.copy)).toBe(0);
  });
});

describeWith(['php', 'memcached', 'php-ext:memcached'], 'memcached: the encoder output reused', () => {
  const servers: MemcachedProcess[] = [];
  useMemcachedServers(servers, 1);
  const ini = (locking: boolean): Record<string, string> => ({
    'session.save_handler': 'memcached',
    'session.save_path': servers[0]!.address,
    'session.cache_limiter': '',
    'memcached.sess_locking': locking ? '1' : '0',
  });
  /** The sessions as PHP's handler reads them: id -> json_encode($_SESSION). */
  async function phpReads(ids: string[]): Promise<unknown[]> {
    return parsePhpReads((await php(phpReadsCode(ids), { ...ini(true), 'session.use_cookies': '0' })).stdout);
  }
  const cycle = bigSessionCycle(BIG);

  for (const cache of [true, false]) {
  it(`two sessions written at once: each stores its own bytes (a buffer in flight is not lent again), ${cache ? 'with' : 'without'} the validated cache`, async () => {
    // Without the cache, the write in flight is the buffer's only owner.
    const engine = new SessionEngine({ ini: ini(true), ...(cache ? {} : { validatedCacheBytes: 0 }) });
    const ids = [`wreuse0000000000000000000${cache ? 'c' : 'n'}x1`, `wreuse0000000000000000000${cache ? 'c' : 'n'}y1`];
    // Warm: the pool holds free buffers of this size.
    await writesAtOnce({ cycle, phpReads, big: BIG }, engine, ids, 4, 5);
  }, 60_000);
  }

  it("no locking: a request that read the session and changed nothing only touches it at close, after others wrote (its snapshot is its own)", async () => {
    const engine = new SessionEngine({ ini: ini(false) });
    const id = 'wreuse00000000000000000000z1';
    await snapshotAcrossWrites({ cycle, phpReads, big: BIG }, engine, id, 4);
  }, 60_000);
});
