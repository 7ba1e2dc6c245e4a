/**
 * @module spec/support/read-reuse
 * The model both read-reuse suites (spec/memcache/read-reuse, spec/redis/read-reuse) run: sessions
 * of 20-60 KB on one connection, requests open side by side, entries built after other requests
 * read and wrote and after their own request ended, every value checked against a model.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { SessionEngine } from '../../lib/engine.ts';

export const SESSIONS = 6;
export const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/** A value of `len` ASCII bytes, different for each (session, key, version). */
function text(session: number, key: string, version: number, len: number): string {
  const head = `${session}:${key}:${version}:`;
  let s = head;
  for (let i = 0; s.length < len; i++) s += String.fromCharCode(0x21 + ((i * 7 + session * 13 + version * 3 + key.charCodeAt(0)) % 90));
  return s.slice(0, len);
}

/** Each session's values, as PHP must read them back. */
export type Model = Map<string, string>[];
export type Op =
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

/** Every session open at once, then each read again after all the others read and wrote. */
export function sideBySideOps(): Op[] {
  const all: Op[] = [];
  for (let s = 0; s < SESSIONS; s++) all.push({ op: 'start', s });
  for (let s = 0; s < SESSIONS; s++) all.push({ op: 'set', s, k: s, len: 3000 + s * 100 });
  for (let round = 0; round < 3; round++) {
    for (let s = 0; s < SESSIONS; s++) all.push({ op: 'close', s }, { op: 'start', s }, { op: 'get', s, k: s + round });
    all.push({ op: 'late', k: round });
  }
  return all;
}

/** Any op of the model, for fast-check. */
export const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('start' as const), s: fc.nat(SESSIONS - 1) }),
  fc.record({ op: fc.constant('get' as const), s: fc.nat(SESSIONS - 1), k: fc.nat(KEYS.length - 1) }),
  fc.record({ op: fc.constant('set' as const), s: fc.nat(SESSIONS - 1), k: fc.nat(KEYS.length - 1), len: fc.integer({ min: 10, max: 9000 }) }),
  fc.record({ op: fc.constant('close' as const), s: fc.nat(SESSIONS - 1) }),
  fc.record({ op: fc.constant('late' as const), k: fc.nat(KEYS.length - 1) }),
);

/** Writes every session's first version: 8 entries of 2.5-7.5 KB (20-60 KB a session). */
export async function seedSessions(engine: SessionEngine, id: (s: number) => string, model: Model): Promise<void> {
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
export async function runOps(engine: SessionEngine, id: (s: number) => string, model: Model, ops: readonly Op[]): Promise<void> {
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
