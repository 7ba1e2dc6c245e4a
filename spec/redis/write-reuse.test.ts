/**
 * @module spec/redis/write-reuse
 * The redis module declares SaveHandler.forgetsWrittenData: the engine encodes sessions into
 * pooled buffers (lib/session/bytes-pool.ts) and hands them to SETEX (and to the checked-SETEX
 * script of a locked write) without a copy (handlers/redis/commands.ts BufferCommand). Each test
 * here fails when a buffer still owned is lent again (checked by making BytesPool#giveBack ignore
 * the owner count, or the engine not count the write in flight): another session's encode then
 * lands in bytes a write, the validated cache or a lazy_write snapshot still uses, and PHP reads
 * back a session that was never written.
 * - sessions written at once on one connection, with and without locking, with and without the
 *   validated cache: PHP reads each back as written;
 * - no locking, lazy_write: a request that read the session and changed nothing only touches it
 *   at close, after others wrote (its snapshot is its own), and PHP reads back the last writer's;
 * - a fixed-seed interleaving of requests on three sessions (start, change, write begun, write
 *   awaited and end, in any order; writes overlap on the connection): what PHP reads back for each
 *   session is what one of its writers wrote, never another session's bytes.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import type { RedisProcess } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { bigSessionCycle, parsePhpReads, phpReadsCode, snapshotAcrossWrites, writesAtOnce } from '../support/write-reuse.ts';
import { php, TOOLS, useRedisServers } from './support.ts';

/** A 24 KB session: three long strings (lazy entries, never read here) and a counter. */
const BIG = { a: 'a'.repeat(8000), b: 'b'.repeat(8000), c: 'c'.repeat(8000) };

describeWith(TOOLS, 'redis: the encoder output lent to SETEX', () => {
  const servers: RedisProcess[] = [];
  useRedisServers(servers, 1);
  const ini = (locking: boolean): Record<string, string> => ({
    'session.save_handler': 'redis',
    'session.save_path': `tcp://${servers[0]!.address}`,
    'session.cache_limiter': '',
    'redis.session.locking_enabled': locking ? '1' : '0',
  });
  /** The sessions as phpredis reads them: id -> json_encode($_SESSION). */
  async function phpReads(ids: string[]): Promise<unknown[]> {
    return parsePhpReads((await php(phpReadsCode(ids), { ...ini(false), 'session.use_cookies': '0' })).stdout);
  }
  const cycle = bigSessionCycle(BIG);

  for (const locking of [true, false])
    for (const cache of [true, false]) {
      const tag = `${locking ? 'l' : 'u'}${cache ? 'c' : 'n'}`;
      it(`sessions written at once on one connection each store their own bytes (${locking ? 'locking' : 'no locking'}, ${cache ? 'with' : 'without'} the validated cache)`, async () => {
        // Without the cache, the write in flight is the buffer's only owner.
        const engine = new SessionEngine({ ini: ini(locking), ...(cache ? {} : { validatedCacheBytes: 0 }) });
        const ids = ['x', 'y', 'z'].map((s) => `rwreuse00000000000000000${tag}${s}1`);
        // Warm: the pool holds free buffers of this size.
        await writesAtOnce({ cycle, phpReads, big: BIG }, engine, ids, 3, 4);
      }, 60_000);
    }

  it('no locking: a request that read the session and changed nothing only touches it at close, after others wrote (its snapshot is its own)', async () => {
    const engine = new SessionEngine({ ini: ini(false) });
    const id = 'rwreuse0000000000000000000z1';
    await snapshotAcrossWrites({ cycle, phpReads, big: BIG }, engine, id, 3);
  }, 60_000);

  it('a fixed-seed interleaving of requests on three sessions, writes overlapping: PHP reads back, for each session, what one of its writers wrote', async () => {
    const ids = ['p', 'q', 'r'].map((s) => `rwreusefc000000000000000000${s}`);
    const plan = fc.array(fc.nat(2), { minLength: 3, maxLength: 7 });
    const picks = fc.array(fc.nat(6), { minLength: 32, maxLength: 32 });
    await fc.assert(
      fc.asyncProperty(plan, picks, fc.boolean(), async (sessions, order, cache) => {
        const engine = new SessionEngine({ ini: ini(false), ...(cache ? {} : { validatedCacheBytes: 0 }) });
        for (const id of ids) await cycle(engine, id, -1);
        // A request goes start -> set n -> writeClose begun (not awaited: writes overlap) -> awaited and ended;
        // the picks choose whose step runs next.
        const reqs = sessions.map((s, n) => ({ id: ids[s]!, n, step: 0, closing: null as Promise<boolean> | null, req: engine.request({ cookies: { PHPSESSID: ids[s]! } }) }));
        const writers = new Map<string, Set<number>>(ids.map((id) => [id, new Set([-1])]));
        let k = 0;
        while (reqs.some((r) => r.step < 4)) {
          const live = reqs.filter((r) => r.step < 4);
          const r = live[order[k++ % order.length]! % live.length]!;
          if (r.step === 0) expect(await r.req.start()).toBe(true);
          else if (r.step === 1) r.req.session.set('n', r.n);
          else if (r.step === 2) r.closing = r.req.writeClose();
          else {
            expect(await r.closing).toBe(true);
            await r.req.end();
            expect(r.req.diagnostics).toEqual([]);
            writers.get(r.id)!.add(r.n);
          }
          r.step++;
        }
        const back = (await phpReads(ids)) as { n: number }[];
        back.forEach((b, i) => {
          expect(b).toEqual({ ...BIG, n: b.n });
          // Every session's encoding differs from another's only in n: bytes from another
          // session's encode show up as an n none of this session's writers wrote.
          expect(writers.get(ids[i]!)!.has(b.n)).toBe(true);
        });
      }),
      { seed: 16016, numRuns: 15, endOnFailure: true },
    );
  }, 120_000);
});
