/**
 * @module spec/support/write-reuse
 * The scenarios spec/memcache/write-reuse and spec/redis/write-reuse both run against a module
 * that declares SaveHandler.forgetsWrittenData (the encoder's pooled output lent to the store
 * write): each store's file gives its engine, its session ids, its own `cycle` (start, fill,
 * set n, write_close, end) and `phpReads` (the sessions as PHP's module reads them back).
 */
import { expect } from 'vitest';
import type { SessionEngine } from '../../lib/engine.ts';

export interface WriteReuseStore {
  /** One whole request on `id`: fills the big entries on a new session, sets n (unless null). */
  cycle(engine: SessionEngine, id: string, n: number | null): Promise<void>;
  /** id -> $_SESSION as PHP reads it. */
  phpReads(ids: string[]): Promise<unknown[]>;
  /** The session's big entries (never read by the requests, so lazy). */
  big: Record<string, string>;
}

/**
 * Requests on `ids` started, changed and written at once (one connection), `rounds` times after
 * `warm` warm-up cycles each: PHP must read back, for every session, the value its own request set.
 */
export async function writesAtOnce(store: WriteReuseStore, engine: SessionEngine, ids: string[], warm: number, rounds: number): Promise<void> {
  for (let i = 0; i < warm; i++) for (const id of ids) await store.cycle(engine, id, i);
  for (let round = 0; round < rounds; round++) {
    const reqs = ids.map((id) => engine.request({ cookies: { PHPSESSID: id } }));
    expect(await Promise.all(reqs.map((r) => r.start()))).toEqual(ids.map(() => true));
    reqs.forEach((r, i) => r.session.set('n', 1000 * (i + 1) + round));
    expect(await Promise.all(reqs.map((r) => r.writeClose()))).toEqual(ids.map(() => true));
    await Promise.all(reqs.map((r) => r.end()));
    for (const r of reqs) expect(r.diagnostics).toEqual([]);
    expect(await store.phpReads(ids)).toEqual(ids.map((_, i) => ({ ...store.big, n: 1000 * (i + 1) + round })));
  }
}

/**
 * No locking, lazy_write: request A reads `id` and changes nothing while B and C write it; A's
 * close only touches the session (its snapshot is its own), so PHP reads back C's value.
 */
export async function snapshotAcrossWrites(store: WriteReuseStore, engine: SessionEngine, id: string, warm: number): Promise<void> {
  for (let i = 0; i < warm; i++) await store.cycle(engine, id, i);
  for (let round = 0; round < 3; round++) {
    const a = engine.request({ cookies: { PHPSESSID: id } });
    expect(await a.start()).toBe(true);
    // B and then C write; their encodes must not land in the bytes A read.
    await store.cycle(engine, id, 100 + round);
    await store.cycle(engine, id, 200 + round);
    expect(await a.writeClose()).toBe(true);
    await a.end();
    expect(a.diagnostics).toEqual([]);
    expect(await store.phpReads([id])).toEqual([{ ...store.big, n: 200 + round }]);
  }
}

/** The PHP code that prints json_encode($_SESSION) of each of `ids`, one line each. */
export function phpReadsCode(ids: string[]): string {
  return `foreach ([${ids.map((i) => `'${i}'`).join(',')}] as $id) { session_id($id); session_start(); echo json_encode($_SESSION), "\\n"; session_write_close(); }`;
}

/** The lines phpReadsCode printed, decoded. */
export function parsePhpReads(stdout: Buffer): unknown[] {
  return stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as unknown);
}

/** A store's `cycle` over `big`: see WriteReuseStore. */
export function bigSessionCycle(big: Record<string, string>): WriteReuseStore['cycle'] {
  return async (engine, id, n) => {
    const req = engine.request({ cookies: { PHPSESSID: id } });
    expect(await req.start()).toBe(true);
    if (req.session.get('n') === undefined) for (const [k, v] of Object.entries(big)) req.session.set(k, v);
    if (n !== null) req.session.set('n', n);
    expect(await req.writeClose()).toBe(true);
    await req.end();
    expect(req.diagnostics).toEqual([]);
  };
}
