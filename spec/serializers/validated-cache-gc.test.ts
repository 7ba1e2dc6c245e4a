/**
 * @module spec/serializers/validated-cache-gc
 * The validated-bytes cache (lib/session/validated.ts) keeps nothing of a request beyond its
 * session's current validation, not even through V8's young-generation collections. Requests
 * cycle through a fixed set of sessions (a get at the read, a set at the write), their
 * validations carrying ~2 KB of small objects; the bytes each scavenge moves to the old
 * generation are counted (v8.GCProfiler, spec/support/promoted.ts), once the cache
 * has been made old, as a long-running server's is. With the recency kept by a delete and a set
 * of the Map entry on every access (before), the Map's rebuilt tables kept their entries and
 * their successors alive through scavenges: 1.1-1.4 KB a request promoted here (failed); with the
 * recency list: ~22 B.
 *
 * Also: the cache against a plain model of an LRU bounded by bytes (fast-check, fixed seed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ValidatedSession } from '../../lib/serializer.ts';
import { ValidatedCache } from '../../lib/session/validated.ts';
import { promoted } from '../support/promoted.ts';

const SEED = Number(process.env['FC_SEED'] ?? 4711);

describe('ValidatedCache: the same answers as a model LRU bounded by bytes', () => {
  /** The model: entries in recency order (oldest first), each costing its bytes + key + 512. */
  class Model {
    readonly list: { key: string; v: ValidatedSession; cost: number }[] = [];
    constructor(readonly limit: number) {}
    get bytes(): number {
      return this.list.reduce((n, e) => n + e.cost, 0);
    }
    get(key: string): ValidatedSession | undefined {
      const i = this.list.findIndex((e) => e.key === key);
      if (i < 0) return undefined;
      const [e] = this.list.splice(i, 1);
      this.list.push(e!);
      return e!.v;
    }
    delete(key: string): void {
      const i = this.list.findIndex((e) => e.key === key);
      if (i >= 0) this.list.splice(i, 1);
    }
    set(key: string, v: ValidatedSession): void {
      this.delete(key);
      const cost = v.bytes.length + key.length + 512;
      if (cost > this.limit) return;
      this.list.push({ key, v, cost });
      while (this.bytes > this.limit) this.list.shift();
    }
  }

  it('gets, sets, deletes over a few keys and bounds', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant('get' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f') }),
      fc.record({ op: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), n: fc.nat(2500) }),
      fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f') }),
    );
    let evictions = 0;
    fc.assert(
      fc.property(fc.constantFrom(0, 1500, 4000, 8000, 20_000), fc.array(op, { minLength: 20, maxLength: 80 }), (limit, ops) => {
        const cache = new ValidatedCache(limit);
        const model = new Model(limit);
        for (const o of ops) {
          if (o.op === 'get') expect(cache.get(o.key)).toBe(model.get(o.key));
          else if (o.op === 'delete') {
            cache.delete(o.key);
            model.delete(o.key);
          } else {
            const v = { bytes: Buffer.alloc(o.n), entries: null };
            const others = model.list.filter((e) => e.key !== o.key).length;
            cache.set(o.key, v);
            model.set(o.key, v);
            if (model.list.filter((e) => e.key !== o.key).length < others) evictions++;
          }
          expect(cache.count).toBe(model.list.length);
          expect(cache.size).toBe(model.bytes);
        }
        // Every key, oldest first, as the model holds them (a get of each in that order keeps it).
        for (const e of [...model.list]) expect(cache.get(e.key)).toBe(e.v);
      }),
      { seed: SEED, numRuns: 500 },
    );
    expect(evictions).toBeGreaterThan(100);
  });
});

describe('ValidatedCache: nothing of a request promoted to the old generation', () => {
  it('requests cycling through a cache already old promote (almost) nothing', () => {
    const script = `
      import { ValidatedCache, validatedKey } from './lib/session/validated.ts';
      const tick = () => new Promise((r) => setImmediate(r));
      const SESSIONS = 64;
      const key = (i) => validatedKey('files', '/tmp/sessions', 'sess' + String(i).padStart(26, '0'), 'php', 4096);
      const validation = (i) => ({ bytes: Buffer.from('n|i:' + i + ';' + 'x'.repeat(200)), entries: Array.from({ length: 40 }, (_, j) => ({ j, s: 'x' + j })) });
      const cache = new ValidatedCache(32 * 1024 * 1024);
      let k = 0;
      async function cycle() {
        const i = k++ % SESSIONS;
        cache.get(key(i));
        await tick();
        cache.set(key(i), validation(k));
      }
      const run = (n) => { let m = 0; return Promise.all(Array.from({ length: 16 }, () => (async () => { while (m++ < n) await cycle(); })())); };
      for (let i = 0; i < SESSIONS; i++) cache.set(key(i), validation(i));
      await run(2000);
      globalThis.gc({ type: 'minor' });
      globalThis.gc({ type: 'minor' });
      console.log(JSON.stringify({ ...(await promotedBy(6000, run)), count: cache.count }));
    `;
    const { perRequest, scavenges, count } = promoted<{ count: number }>(script);
    expect(count).toBe(64);
    expect(scavenges).toBeGreaterThan(2);
    expect(perRequest).toBeLessThan(300);
  });
});
