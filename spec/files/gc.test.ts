/**
 * @module spec/files/gc
 * Garbage collection in the files handler: the same count as PHP's session_gc() on identical
 * directories (odd entries included), PHP's -1 for hashed save paths unless the opt-in is set, and
 * a 20,000-file run with a flat-memory check and progress reports (the 1,000,000-file run is in
 * bench/files-gc.ts).
 */
import { mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectGarbage, filesModule, type FilesGcProgress } from '../../handlers/files.ts';
import { makeTestContext } from '../handlers/suite.ts';
import { describeWith } from '../support/tools.ts';
import { HEX, makeHashedTree, php, tempDir } from './support.ts';

const nowSec = () => Math.floor(Date.now() / 1000);

/** A save directory with fresh, old and odd entries; returns how many old `sess_*` entries it has. */
function populate(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const old = nowSec() - 5000;
  for (let i = 0; i < 300; i++) {
    const p = join(dir, `sess_${i.toString(16).padStart(32, '0')}`);
    writeFileSync(p, `n|i:${i};`);
    // 1/3 old, 1/3 exactly at the limit (not collected: PHP needs strictly older), 1/3 fresh.
    if (i % 3 === 0) utimesSync(p, old, old);
    if (i % 3 === 1) utimesSync(p, nowSec() - 1440 + 30, nowSec() - 1440 + 30);
  }
  writeFileSync(join(dir, 'not_a_session'), 'x');
  utimesSync(join(dir, 'not_a_session'), old, old);
  mkdirSync(join(dir, 'sess_a_directory'));
  utimesSync(join(dir, 'sess_a_directory'), old, old);
  symlinkSync('/nonexistent/target', join(dir, 'sess_dangling'));
}

describeWith(['php'], 'files gc compared with PHP', () => {
  const tmp = tempDir('gc-php');
  afterAll(() => tmp.remove());

  it('deletes and counts exactly what PHP session_gc() does on an identical directory', async () => {
    const a = join(tmp.dir, 'php');
    const b = join(tmp.dir, 'node');
    populate(a);
    populate(b);
    const phpCount = Number(
      await php(a, `session_id('ffffffffffffffffffffffffffffffff'); session_start(); echo session_gc(); session_destroy();`),
    );
    const h = filesModule.create(makeTestContext());
    await h.open(b, 'PHPSESSID');
    const nodeCount = await h.gc(1440);
    await h.close();
    expect(phpCount).toBeGreaterThan(90);
    expect(nodeCount).toBe(phpCount);
    expect(readdirSync(b).sort()).toEqual(readdirSync(a).filter((n) => n !== 'sess_ffffffffffffffffffffffffffffffff').sort());
  });

  it('hashed save path: -1 as PHP, unless session_engine.files_gc_hashed=1', async () => {
    const dir = join(tmp.dir, 'hashed');
    mkdirSync(dir);
    makeHashedTree(dir, 2);
    const old = nowSec() - 5000;
    let expectedOld = 0;
    for (let i = 0; i < 64; i++) {
      const id = `${HEX[i % 16]}${HEX[(i >> 4) % 16]}${'0'.repeat(28)}${i.toString(16).padStart(2, '0')}`;
      const p = join(dir, id[0]!, id[1]!, `sess_${id}`);
      writeFileSync(p, 'x|i:1;');
      if (i % 2 === 0) {
        utimesSync(p, old, old);
        expectedOld++;
      }
    }
    const phpOut = await php(`2;${dir}`, `session_id('ab00000000000000000000000000000000'); session_start(); var_dump(session_gc()); session_destroy();`);
    expect(phpOut).toBe('bool(false)\n');
    const h = filesModule.create(makeTestContext());
    await h.open(`2;${dir}`, 'PHPSESSID');
    expect(await h.gc(1440)).toBe(-1);
    await h.close();
    const progress: FilesGcProgress[] = [];
    const h2 = filesModule.create(makeTestContext({ 'session_engine.files_gc_hashed': '1' }));
    await h2.open(`2;${dir}`, 'PHPSESSID');
    expect(await h2.gc(1440)).toBe(expectedOld);
    await h2.close();
    expect(await collectGarbage(dir, 1440, { dirDepth: 2, onProgress: (p) => progress.push(p) })).toBe(0);
    expect(progress.at(-1)).toEqual({ scanned: 64 - expectedOld, deleted: 0, done: true });
  });

  it('a missing save directory: PHP notice text and -1', async () => {
    const missing = join(tmp.dir, 'missing');
    const notices: string[] = [];
    expect(await collectGarbage(missing, 1440, { notice: (m) => notices.push(m) })).toBe(-1);
    expect(notices).toEqual([`ps_files_cleanup_dir: opendir(${missing}) failed: No such file or directory (2)`]);
    expect(existsSync(missing)).toBe(false);
  });
});

describe('files gc at scale', () => {
  const tmp = tempDir('gc-scale');
  afterAll(() => tmp.remove());

  it('20,000 files: the right count, progress reports, and flat memory', async () => {
    const N = 20_000;
    const old = nowSec() - 10_000;
    for (let i = 0; i < N; i++) {
      const p = join(tmp.dir, `sess_${i.toString(16).padStart(32, '0')}`);
      writeFileSync(p, 'n|i:1;');
      if (i % 4 !== 0) utimesSync(p, old, old);
    }
    globalThis.gc?.();
    const base = process.memoryUsage();
    let peakHeap = base.heapUsed;
    let peakRss = base.rss;
    const progress: FilesGcProgress[] = [];
    const count = await collectGarbage(tmp.dir, 1440, {
      onProgress: (p) => {
        progress.push(p);
        const m = process.memoryUsage();
        peakHeap = Math.max(peakHeap, m.heapUsed);
        peakRss = Math.max(peakRss, m.rss);
      },
    });
    expect(count).toBe(N - N / 4);
    expect(readdirSync(tmp.dir).length).toBe(N / 4);
    expect(progress.length).toBe(3);
    expect(progress.at(-1)).toEqual({ scanned: N, deleted: N - N / 4, done: true });
    // A loose bound at this size (the full listing would only be ~2 MB); the 1,000,000-file run in
    // bench/files-gc.ts is where holding the listing would show.
    expect(peakHeap - base.heapUsed).toBeLessThan(16 * 1024 * 1024);
    expect(peakRss).toBeLessThan(base.rss + 50 * 1024 * 1024);
  });
});
