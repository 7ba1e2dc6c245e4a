/**
 * @module msession/scan
 * The store side of a scan: ids in batches, and the stored bytes of a batch (one pipelined round
 * trip when the store offers peekMany).
 */
import type { PhpArray } from '../lib/value.ts';
import { MsessionError, checkAborted } from './errors.ts';
import type { CandidateFilter } from './prefilter.ts';
import { PREFILTERED, type PeekResult, type SessionStore } from './stores/index.ts';

/** One session of a scan: its decoded data, or the error that kept it from being read. */
export type ScanEntry =
  | { id: string; ok: true; session: PhpArray; size: number; ttl?: number }
  | { id: string; ok: false; error: MsessionError };

/** Ids read per round trip in a scan (stores without idBatches are chunked this way). */
export const SCAN_BATCH = 256;

/** The store's ids in batches (its own idBatches, else ids() in chunks of {@link SCAN_BATCH}). */
export async function* idBatches(store: SessionStore, signal: AbortSignal | undefined): AsyncGenerator<string[]> {
  const o = signal ? { signal } : {};
  if (store.idBatches !== undefined) {
    for await (const b of store.idBatches(o)) if (b.length > 0) yield b;
    return;
  }
  let batch: string[] = [];
  for await (const id of store.ids(o)) {
    batch.push(id);
    if (batch.length === SCAN_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * The stored bytes of a batch of ids: one peekMany (pipelined) when the store has it, else a
 * peek per id. A store failure (ERR_MSESSION_SCAN) or an abort ends the scan; one unreadable
 * session is reported in its slot. `filter` goes to peekMany (a store may answer PREFILTERED).
 */
export async function peekBatch(store: SessionStore, ids: string[], filter: CandidateFilter | null = null): Promise<PeekResult[]> {
  if (store.peekMany !== undefined) {
    try {
      return await store.peekMany(ids, filter);
    } catch (e) {
      if (e instanceof MsessionError && (e.code === 'ERR_MSESSION_SCAN' || e.code === 'ERR_MSESSION_ABORTED')) throw e;
      throw new MsessionError('ERR_MSESSION_SCAN', `msession: ${store.module} failed mid-scan: ${(e as Error).message ?? String(e)}`, { cause: e });
    }
  }
  const out: PeekResult[] = [];
  for (const id of ids) {
    try {
      out.push(await store.peek(id));
    } catch (e) {
      if (e instanceof MsessionError && (e.code === 'ERR_MSESSION_SCAN' || e.code === 'ERR_MSESSION_ABORTED')) throw e;
      out.push(asCorrupt(id, e));
    }
  }
  return out;
}

/** A failure to read one session, as that session's error. */
export function asCorrupt(id: string, e: unknown): MsessionError {
  return e instanceof MsessionError ? e : new MsessionError('ERR_MSESSION_CORRUPT', `msession: session ${id}: ${(e as Error).message}`, { id, cause: e });
}

/**
 * Batches of decoded sessions. `filter` (find/listvar) skips, undecoded, sessions whose bytes
 * cannot match; they come back as `skipped` (counted as scanned, never as errors), whether the
 * store ran the filter where it read them (PREFILTERED) or the scan runs it here.
 */
export async function* entryBatches(
  store: SessionStore,
  decode: (id: string, data: Uint8Array) => PhpArray,
  opts: { signal?: AbortSignal | undefined; withTtl?: boolean },
  filter: CandidateFilter | null,
): AsyncGenerator<{ entries: ScanEntry[]; skipped: number }> {
  // Up to store.readAhead batches are read while the oldest one is decoded (the files store's
  // reader threads); they are taken in listing order, so the order is the store's.
  const ahead = Math.max(0, store.readAhead ?? 0);
  const queue: { ids: string[]; data: Promise<PeekResult[]> }[] = [];
  const listing = idBatches(store, opts.signal)[Symbol.asyncIterator]();
  let listed = false;
  const fill = async (): Promise<void> => {
    while (!listed && queue.length <= ahead) {
      const next = await listing.next();
      if (next.done === true) {
        listed = true;
        break;
      }
      checkAborted(opts.signal);
      const data = peekBatch(store, next.value, filter);
      // Settled later in order; a scan that ends first (abort, error, break) leaves none unhandled.
      data.catch(() => undefined);
      queue.push({ ids: next.value, data });
    }
  };
  try {
    for (;;) {
      await fill();
      const head = queue.shift();
      if (head === undefined) return;
      checkAborted(opts.signal);
      yield await decodeBatch(head.ids, await head.data);
    }
  } finally {
    await listing.return?.(undefined);
  }

  async function decodeBatch(ids: string[], data: PeekResult[]): Promise<{ entries: ScanEntry[]; skipped: number }> {
    const entries: ScanEntry[] = [];
    let skipped = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const d = data[i];
      if (d === null || d === undefined) continue; // deleted since it was listed
      if (d instanceof MsessionError) {
        entries.push({ id, ok: false, error: d });
        continue;
      }
      if (d === PREFILTERED || (filter !== null && !filter(d))) {
        skipped++;
        continue;
      }
      try {
        const session = decode(id, d);
        const ttl = opts.withTtl === true ? await store.ttl(id) : undefined;
        entries.push(ttl === undefined || ttl === null ? { id, ok: true, session, size: d.length } : { id, ok: true, session, size: d.length, ttl });
      } catch (e) {
        entries.push({ id, ok: false, error: asCorrupt(id, e) });
      }
    }
    return { entries, skipped };
  }
}
