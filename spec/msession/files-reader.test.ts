/**
 * @module spec/msession/files-reader.test
 * The files store's reader thread (msession/stores/files-reader.ts): what a thread reads is what
 * the synchronous read gives (bytes, null for a symlink / FIFO / directory / missing file, the
 * errno of a failed read), find()'s prefilter run where the bytes are read (on the threads and on
 * the calling thread), a scan through one or two threads matches the same scan without them
 * (order, matches, per-id errors), abort with reads in flight, and nothing lost when the threads go
 * away mid-scan.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/index.ts';
import { filesModule } from '../../handlers/files.ts';
import { FileReaderPool } from '../../msession/stores/files-reader.ts';
import { PREFILTERED } from '../../msession/stores/index.ts';
import { candidateFilter } from '../../msession/prefilter.ts';
import { php } from '../../serializers/index.ts';
import { toPhp } from '../../lib/value.ts';
import { filesStore, type FilesStore } from '../../msession/stores/files.ts';
import type { SaveHandlerModule } from '../../lib/handler.ts';
import type { EnumerableModule, ScanEntry } from '../../msession/index.ts';
import { makeHashedTree, tempDir } from '../files/support.ts';
import { all } from './support.ts';

const id = (i: number): string => i.toString(16).padStart(32, '0');

/** An Msession on `dir` whose files store has `readThreads` reader threads, started at once. */
function msessionOn(dir: string, readThreads: number, threadIdleMs = 600_000) {
  let store: FilesStore | null = null;
  const module: SaveHandlerModule & EnumerableModule = { ...filesModule, name: 'files_rt', msessionStore: (sp, ctx) => (store = filesStore(sp, ctx, { readThreads, threadsAfter: 0, threadIdleMs })) };
  const engine = new SessionEngine({
    modules: [module],
    ini: { 'session.save_path': dir, 'session.save_handler': 'files_rt' },
  });
  const ms = engine.msession();
  ms.store();
  return { ms, store: () => store! };
}

/** Waits (bounded) until the store's reader thread has read a batch (past `since`): later batches go to it. */
async function threadsUp(store: FilesStore, probe: string, since = 0): Promise<void> {
  for (let i = 0; i < 1000 && store.threadedBatches <= since; i++) {
    await store.peekMany!([probe]);
    if (store.threadedBatches <= since) await new Promise((r) => setTimeout(r, 10));
  }
  expect(store.threadedBatches).toBeGreaterThan(since);
}

const shape = (e: ScanEntry) => (e.ok ? { id: e.id, size: e.size, user: e.session.get('user') } : { id: e.id, code: e.error.code, message: e.error.message });

describe('msession files store: reads on a reader thread', () => {
  const tmp = tempDir('msession-reader');
  const outside = tempDir('msession-reader-outside');
  const N = 1500;
  const corrupt = [7, 700, 1400];
  // user = 42: every hundredth session, session 42 (user = its number) and the 200 KB one; not the corrupt ones.
  const matches = [...Array.from({ length: N / 100 }, (_, k) => k * 100), 42, N].filter((i) => !corrupt.includes(i));
  beforeAll(() => {
    for (let i = 0; i < N; i++) {
      const body = corrupt.includes(i) ? 'user|i:42;x|s:99:"short";' : `user|i:${i % 100 === 0 ? 42 : i};tenant|s:4:"acme";`;
      writeFileSync(`${tmp.dir}/sess_${id(i)}`, body);
    }
    const pad = 'x'.repeat(200_000); // past the 64 KiB first read
    writeFileSync(`${tmp.dir}/sess_${id(N)}`, `user|i:42;pad|s:${pad.length}:"${pad}";`);
    writeFileSync(`${tmp.dir}/sess_${id(N + 1)}`, '');
    execFileSync('mkfifo', [`${tmp.dir}/sess_${id(N + 2)}`]);
    mkdirSync(`${tmp.dir}/sess_${id(N + 3)}`);
    writeFileSync(`${outside.dir}/secret`, 'user|i:42;');
    symlinkSync(`${outside.dir}/secret`, `${tmp.dir}/sess_${id(N + 4)}`);
  });
  afterAll(() => {
    tmp.remove();
    outside.remove();
  });

  it('a thread reads what the synchronous read gives: bytes of any size, null for what is no regular file, the errno otherwise', async () => {
    const pool = new FileReaderPool(1, true);
    try {
      writeFileSync(`${outside.dir}/plain`, 'k|i:1;');
      const paths = [
        `${tmp.dir}/sess_${id(1)}`,
        `${tmp.dir}/sess_${id(N)}`, // 200 KB
        `${tmp.dir}/sess_${id(N + 1)}`, // empty
        `${tmp.dir}/sess_${id(N + 2)}`, // FIFO: no hang
        `${tmp.dir}/sess_${id(N + 3)}`, // directory
        `${tmp.dir}/sess_${id(N + 4)}`, // symlink: not followed
        `${tmp.dir}/sess_${id(N + 99)}`, // missing
        `${outside.dir}/plain/sess_x`, // a file where a directory should be
      ];
      const got = await pool.read(paths);
      expect(Buffer.from(got[0] as Uint8Array).toString()).toBe('user|i:1;tenant|s:4:"acme";');
      expect((got[1] as Uint8Array).length).toBe(200_000 + 'user|i:42;pad|s:200000:"";'.length);
      expect((got[2] as Uint8Array).length).toBe(0);
      expect(got.slice(3, 7)).toEqual([null, null, null, null]);
      expect(got[7]).toEqual({ code: 'ENOTDIR' });
    } finally {
      await pool.close();
    }
    await expect(pool.read([`${tmp.dir}/sess_${id(1)}`])).rejects.toThrow('closed');
  });

  it('the threads of a pool its store closed serve the next pool (no new start), and end after their idle time', async () => {
    await FileReaderPool.endSpare();
    const path = `${tmp.dir}/sess_${id(1)}`;
    const a = new FileReaderPool(1, true, 150);
    await a.read([path]);
    const [tid] = a.threadIds;
    await a.close();
    expect(FileReaderPool.spareThreads).toBe(1);
    const b = new FileReaderPool(2, true, 150);
    expect(b.threadIds).toContain(tid);
    expect(new Set(b.threadIds).size).toBe(2);
    const got = await Promise.all([b.read([path]), b.read([path])]);
    expect(got.map((r) => Buffer.from(r[0] as Uint8Array).toString())).toEqual(['user|i:1;tenant|s:4:"acme";', 'user|i:1;tenant|s:4:"acme";']);
    // A pending batch ends its thread with the pool; the idle one waits, then ends.
    b.hold();
    const pending = b.read([path]).then(
      () => 'read',
      (e: Error) => e.message,
    );
    await b.close();
    expect(await pending).toMatch('closed');
    expect(FileReaderPool.spareThreads).toBe(1);
    for (let i = 0; i < 500 && FileReaderPool.spareThreads > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(FileReaderPool.spareThreads).toBe(0);
  });

  it('a session file replaced by a symlink between the listing and the read is not followed', async () => {
    const { ms, store } = msessionOn(tmp.dir, 1);
    const victim = id(N + 10);
    writeFileSync(`${tmp.dir}/sess_${victim}`, 'user|i:42;');
    try {
      await threadsUp(store(), id(1));
      const before = store().threadedBatches;
      expect(await all(ms.list())).toContain(victim);
      rmSync(`${tmp.dir}/sess_${victim}`);
      symlinkSync(`${outside.dir}/secret`, `${tmp.dir}/sess_${victim}`);
      expect(await store().peekMany!([id(1), victim, 'bad..id'])).toEqual([expect.any(Uint8Array), null, expect.objectContaining({ code: 'ERR_MSESSION_BAD_ID' })]);
      expect(store().threadedBatches).toBe(before + 1);
    } finally {
      rmSync(`${tmp.dir}/sess_${victim}`);
      await ms.disconnect();
    }
  });

  it('the prefilter runs where the bytes are read: rejected sessions come back PREFILTERED, on a thread and without one', async () => {
    const filter = candidateFilter(php, 'user', toPhp(42))!;
    const ids = [id(100), id(101), id(N), id(N + 1), id(N + 3), id(N + 99), 'bad..id'];
    const want = [expect.any(Uint8Array), PREFILTERED, expect.any(Uint8Array), PREFILTERED, null, null, expect.objectContaining({ code: 'ERR_MSESSION_BAD_ID' })];
    for (const readThreads of [0, 1]) {
      const { ms, store } = msessionOn(tmp.dir, readThreads);
      try {
        if (readThreads > 0) await threadsUp(store(), id(1));
        const before = store().threadedBatches;
        const got = await store().peekMany!(ids, filter);
        expect(got, `readThreads ${readThreads}`).toEqual(want);
        expect(store().threadedBatches).toBe(before + readThreads);
        expect(Buffer.from(got[0] as Uint8Array).toString()).toBe('user|i:42;tenant|s:4:"acme";');
        // Without a filter, every session's bytes.
        expect((await store().peekMany!(ids.slice(0, 2))).map((r) => r instanceof Uint8Array)).toEqual([true, true]);
      } finally {
        await ms.disconnect();
      }
    }
  });

  it('one reader thread: a batch listed while it has 2 unfinished is read on the calling thread; two threads: every batch goes to them', async () => {
    const filter = candidateFilter(php, 'user', toPhp(42))!;
    const batch = (k: number): string[] => Array.from({ length: 50 }, (_, i) => id(k * 50 + i));
    for (const readThreads of [1, 2]) {
      const plain = msessionOn(tmp.dir, 0);
      const { ms, store } = msessionOn(tmp.dir, readThreads);
      try {
        await threadsUp(store(), id(1));
        const before = store().threadedBatches;
        // Held: no thread starts a batch, so the first two stay unfinished.
        store().readerPool!.hold();
        const calls = Array.from({ length: 5 }, (_, k) => store().peekMany!(batch(k), filter));
        store().readerPool!.release();
        const got = await Promise.all(calls);
        // One thread: 2 to it, then the calling thread reads while it is behind; two: all 5 to them.
        expect(store().threadedBatches - before, `readThreads ${readThreads}`).toBe(readThreads === 1 ? 2 : 5);
        const want = await Promise.all(Array.from({ length: 5 }, (_, k) => plain.store().peekMany!(batch(k), filter)));
        expect(got).toEqual(want);
        expect(got.flat().filter((r) => r === PREFILTERED).length).toBeGreaterThan(0);
      } finally {
        await ms.disconnect();
        await plain.ms.disconnect();
      }
    }
  });

  it("the calling thread sees a thread's finished batches before it takes their answers (no event loop turn): the next batch goes to the thread", async () => {
    const { ms, store } = msessionOn(tmp.dir, 1);
    try {
      await threadsUp(store(), id(1));
      const before = store().threadedBatches;
      const pool = store().readerPool!;
      const first = [store().peekMany!([id(1)]), store().peekMany!([id(2)])];
      // Synchronously (at most ~10 s), as a scan reading its own batches would: the answers wait in the event loop.
      for (let i = 0; i < 10_000 && pool.backlog > 0; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      expect(pool.backlog).toBe(0);
      const third = store().peekMany!([id(3)]);
      await Promise.all([...first, third]);
      expect(store().threadedBatches - before).toBe(3);
    } finally {
      await ms.disconnect();
    }
  });

  it.each([1, 2])('scan() and find() through %i thread(s) give what they give without: order, matches, per-id errors', async (readThreads) => {
    const plain = msessionOn(tmp.dir, 0);
    const threaded = msessionOn(tmp.dir, readThreads);
    try {
      await threadsUp(threaded.store(), id(1));
      const before = threaded.store().threadedBatches;
      const want = (await all(plain.ms.scan())).map(shape);
      const got = (await all(threaded.ms.scan())).map(shape);
      // At least the first two of the scan's 6 batches go to the threads (one thread: the rest are
      // shared with the calling thread, as it keeps up).
      expect(threaded.store().threadedBatches).toBeGreaterThan(before + 1);
      expect(plain.store().threadedBatches).toBe(0);
      expect(got).toEqual(want);
      expect(want.filter((e) => 'code' in e).map((e) => e.id)).toEqual(expect.arrayContaining(corrupt.map(id)));
      const errors: string[] = [];
      const found = await all(threaded.ms.find('user', 42, { onError: (e) => void errors.push(e.id!) }));
      expect(found).toEqual(await all(plain.ms.find('user', 42)));
      expect(found.sort()).toEqual(matches.map(id).sort());
      expect(errors.sort()).toEqual(corrupt.map(id).sort());
    } finally {
      await plain.ms.disconnect();
      await threaded.ms.disconnect();
    }
  });

  it('a hashed save path (2 levels) reads through the thread as without it', async () => {
    const hashed = tempDir('msession-reader-hashed');
    try {
      makeHashedTree(hashed.dir, 2);
      // Ids spread over the buckets (their first two characters), 4 batches' worth.
      const ids = Array.from({ length: 1024 }, (_, i) => `${(i % 256).toString(16).padStart(2, '0')}${id(i).slice(2)}`);
      for (const [i, sid] of ids.entries()) writeFileSync(`${hashed.dir}/${sid[0]}/${sid[1]}/sess_${sid}`, `user|i:${i % 10 === 0 ? 42 : i};`);
      const plain = msessionOn(`2;${hashed.dir}`, 0);
      const threaded = msessionOn(`2;${hashed.dir}`, 1);
      try {
        await threadsUp(threaded.store(), ids[0]!);
        const before = threaded.store().threadedBatches;
        const want = (await all(plain.ms.scan())).map(shape);
        expect(want.length).toBe(1024);
        expect((await all(threaded.ms.scan())).map(shape)).toEqual(want);
        expect(threaded.store().threadedBatches).toBeGreaterThan(before + 1);
      } finally {
        await plain.ms.disconnect();
        await threaded.ms.disconnect();
      }
    } finally {
      hashed.remove();
    }
  });

  it.each([1, 2])('abort with reads in flight on %i thread(s): ERR_MSESSION_ABORTED, nothing left pending, the store still usable', async (readThreads) => {
    const { ms, store } = msessionOn(tmp.dir, readThreads);
    try {
      await threadsUp(store(), id(1));
      // Most sessions are candidates (tenant = acme), or few are (user = 42: the threads reject the rest).
      for (const [name, value] of [['tenant', 'acme'], ['user', 42]] as const) {
        const ac = new AbortController();
        let progress = 0;
        const before = store().threadedBatches;
        const run = all(ms.find(name, value, { signal: ac.signal, onProgress: (p) => void (p.done || (progress = p.scanned, ac.abort(new Error('stop')))) }));
        await expect(run).rejects.toMatchObject({ code: 'ERR_MSESSION_ABORTED' });
        expect(progress).toBe(1000);
        expect(store().threadedBatches).toBeGreaterThan(before);
      }
      expect(await ms.count()).toBe(N + 2);
      expect((await all(ms.find('user', 42))).length).toBe(matches.length);
    } finally {
      await ms.disconnect();
    }
  });

  it('idle reader threads end by themselves (an Msession never disconnected keeps none); the next scan starts new ones', async () => {
    const { ms, store } = msessionOn(tmp.dir, 1, 50);
    try {
      await threadsUp(store(), id(1));
      expect(store().readerThreads).toBe(1);
      for (let i = 0; i < 500 && store().readerThreads > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(store().readerThreads).toBe(0);
      await threadsUp(store(), id(1), store().threadedBatches);
      expect(store().readerThreads).toBe(1);
      expect((await all(ms.find('user', 42))).sort()).toEqual(matches.map(id).sort());
    } finally {
      await ms.disconnect();
    }
    expect(store().readerThreads).toBe(0);
  });

  it('reader threads gone mid-scan (closed): the batches are read on the calling thread, nothing lost', async () => {
    const { ms, store } = msessionOn(tmp.dir, 1);
    try {
      await threadsUp(store(), id(1));
      let closed = false;
      const found = await all(ms.find('user', 42, { onProgress: () => void (closed ||= (void store().close(), true)) }));
      expect(closed).toBe(true);
      expect(found.sort()).toEqual(matches.map(id).sort());
    } finally {
      await ms.disconnect();
    }
  });
});
