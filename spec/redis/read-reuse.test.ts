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
import type { SessionEngine } from '../../lib/engine.ts';
import { SessionEngine as Engine } from '../../lib/engine.ts';
import type { RedisProcess } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { php, TOOLS, useRedisServers } from './support.ts';

const SEED = 0x72656473;
const SESSIONS = 6;
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/** A value of `len` ASCII bytes, different for each (session, key, version). */
function text(session: number, key: string, version: number, len: number): string {
  const head = `${session}:${key}:${version}:`;
  let s = head;
  for (let i = 0; s.length < len; i++) s += String.fromCharCode(0x21 + ((i * 7 + session * 13 + version * 3 + key.charCodeAt(0)) % 90));
  return s.slice(0, len);
}

type Model = Map<string, string>[];
type Op =
  | { op: 'start'; s: number }
  | { op: 'get'; s: number; k: number }
  | { op: 'set'; s: number; k: number; len: number }
  | { op: 'close'; s: number }
  | { op: 'late'; k: number };

interface Open {
  req: ReturnType<SessionEngine['request']>;
  /** The values this request must see: the model when it started, with its own sets. */
  view: Map<string, string>;
}

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

  /** Writes every session's first version: 8 entries of 2.5-7.5 KB (20-60 KB a session). */
  async function seed(engine: SessionEngine, model: Model): Promise<void> {
    for (let s = 0; s < SESSIONS; s++) {
      const req = engine.request({ cookies: { PHPSESSID: id(s) } });
      expect(await req.start()).toBe(true);
      for (const k of [...req.session.keys()]) req.session.delete(k);
      const m = new Map<string, string>();
      for (const [i, k] of KEYS.entries()) {
        const v = text(s, k, 0, 2500 + ((s * 8 + i) * 613) % 5000);
        req.session.set(k, v);
        m.set(k, v);
      }
      expect(await req.writeClose()).toBe(true);
      await req.end();
      expect(req.diagnostics).toEqual([]);
      model[s] = m;
    }
  }

  /**
   * Runs `ops`: `start` opens a request on session s (a second start of an open one waits for its
   * close), `get` builds an entry and checks it, `set` changes one, `close` writes and ends it and
   * keeps its session array, `late` builds an entry of every ended request's array (their values
   * as they were when read). Each step runs while the others started before it are in flight.
   */
  async function run(engine: SessionEngine, model: Model, ops: readonly Op[]): Promise<void> {
    const open = new Map<number, Open>();
    const ended: Open[] = [];
    let version = 1;
    const check = (o: Open, k: string): void => {
      const got = o.req.session.get(k);
      expect(got, `entry ${k}`).toBe(o.view.get(k));
    };
    // Starts in a row run side by side: their reads are in flight on the connection together.
    let starting: Promise<boolean>[] = [];
    for (const o of ops) {
      if (o.op === 'start') {
        if (!open.has(o.s)) {
          const req = engine.request({ cookies: { PHPSESSID: id(o.s) } });
          open.set(o.s, { req, view: new Map(model[o.s]) });
          starting.push(req.start());
        }
        continue;
      }
      if (starting.length > 0) {
        expect(await Promise.all(starting)).toEqual(starting.map(() => true));
        starting = [];
      }
      if (o.op === 'get' && open.has(o.s)) {
        check(open.get(o.s)!, KEYS[o.k % KEYS.length]!);
      } else if (o.op === 'set' && open.has(o.s)) {
        const e = open.get(o.s)!;
        const k = KEYS[o.k % KEYS.length]!;
        const v = text(o.s, k, version++, o.len);
        e.req.session.set(k, v);
        e.view.set(k, v);
      } else if (o.op === 'close' && open.has(o.s)) {
        const e = open.get(o.s)!;
        open.delete(o.s);
        expect(await e.req.writeClose()).toBe(true);
        await e.req.end();
        expect(e.req.diagnostics).toEqual([]);
        model[o.s] = new Map(e.view);
        ended.push(e);
      } else if (o.op === 'late') {
        for (const e of ended) check(e, KEYS[o.k % KEYS.length]!);
      }
    }
    expect(await Promise.all(starting)).toEqual(starting.map(() => true));
    for (const [s, e] of open) {
      for (const k of KEYS) check(e, k);
      expect(await e.req.writeClose()).toBe(true);
      await e.req.end();
      model[s] = new Map(e.view);
      ended.push(e);
    }
    // Every entry of every request, built last of all.
    for (const e of ended) for (const k of KEYS) check(e, k);
  }

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
      await seed(engine, model);
      // Every session open at once, then each read after all the others read and wrote.
      const all: Op[] = [];
      for (let s = 0; s < SESSIONS; s++) all.push({ op: 'start', s });
      for (let s = 0; s < SESSIONS; s++) all.push({ op: 'set', s, k: s, len: 3000 + s * 100 });
      for (let round = 0; round < 3; round++) {
        for (let s = 0; s < SESSIONS; s++) all.push({ op: 'close', s }, { op: 'start', s }, { op: 'get', s, k: s + round });
        all.push({ op: 'late', k: round });
      }
      await run(engine, model, all);
      await phpReadsBack(model);
    }, 60_000);
  }

  for (const cacheBytes of [100_000, 0]) {
    it(`fast-check, random interleavings of start, get, set, close and reads of ended requests (validated cache ${cacheBytes} bytes)`, async () => {
      const op: fc.Arbitrary<Op> = fc.oneof(
        fc.record({ op: fc.constant('start' as const), s: fc.nat(SESSIONS - 1) }),
        fc.record({ op: fc.constant('get' as const), s: fc.nat(SESSIONS - 1), k: fc.nat(KEYS.length - 1) }),
        fc.record({ op: fc.constant('set' as const), s: fc.nat(SESSIONS - 1), k: fc.nat(KEYS.length - 1), len: fc.integer({ min: 10, max: 9000 }) }),
        fc.record({ op: fc.constant('close' as const), s: fc.nat(SESSIONS - 1) }),
        fc.record({ op: fc.constant('late' as const), k: fc.nat(KEYS.length - 1) }),
      );
      // 100 KB: a validated-bytes cache that holds about two of the six sessions (reads hit it and miss it).
      const engine = new Engine({ ini: engineIni(true, false), validatedCacheBytes: cacheBytes });
      const model: Model = [];
      await seed(engine, model);
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 60 }), async (ops) => {
          await run(engine, model, ops);
        }),
        { seed: SEED, numRuns: 15 },
      );
      await phpReadsBack(model);
    }, 120_000);
  }
});
