/**
 * @module spec/msession/files.test
 * msession over the files module against live PHP 8.2, flat and hashed save paths; the files
 * store's walk: only regular `sess_<id>` files in their hashed directory, no symlink followed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/index.ts';
import { makeHashedTree, tempDir } from '../files/support.ts';
import { testSessionId } from '../handlers/suite.ts';
import { describeWith } from '../support/tools.ts';
import { msessionSuite } from './suite.ts';
import { all, useFilesBackend } from './support.ts';

describeWith(['php'], 'msession ⇄ PHP 8.2: files, flat', () => msessionSuite(useFilesBackend(0)));
describeWith(['php'], 'msession ⇄ PHP 8.2: files, 2 levels', () => msessionSuite(useFilesBackend(2)));

describe('msession files store: what counts as a session', () => {
  it('lists regular sess_<id> files in their own hashed directory only, following no symlink', async () => {
    const tmp = tempDir('msession-walk');
    const outside = tempDir('msession-outside');
    try {
      makeHashedTree(tmp.dir, 1);
      const good = `a${testSessionId().slice(1)}`;
      writeFileSync(`${tmp.dir}/a/sess_${good}`, 'k|i:1;');
      // Not sessions: another prefix, a bad id, a file in the wrong bucket, a directory, symlinks.
      writeFileSync(`${tmp.dir}/a/other_${good}`, 'k|i:1;');
      writeFileSync(`${tmp.dir}/a/sess_a..b`, 'k|i:1;');
      writeFileSync(`${tmp.dir}/b/sess_c${good.slice(1)}`, 'k|i:1;');
      writeFileSync(`${tmp.dir}/sess_${good}`, 'k|i:1;'); // above the hashed level
      mkdirSync(`${tmp.dir}/a/sess_a123`);
      writeFileSync(`${outside.dir}/sess_a999`, 'secret|i:1;');
      symlinkSync(`${outside.dir}/sess_a999`, `${tmp.dir}/a/sess_a999`);
      mkdirSync(`${outside.dir}/z`);
      writeFileSync(`${outside.dir}/z/sess_z123`, 'secret|i:1;');
      symlinkSync(`${outside.dir}/z`, `${tmp.dir}/z`);
      const ms = new SessionEngine({ ini: { 'session.save_path': `1;${tmp.dir}` } }).msession();
      expect(await all(ms.list())).toEqual([good]);
      expect(await all(ms.find('secret', 1))).toEqual([]);
      // A symlinked session file is not read through msession's scan either.
      expect(await ms.store().peek('a999')).toBeNull();
      await ms.disconnect();
    } finally {
      tmp.remove();
      outside.remove();
    }
  });

  it("a scan leaves the sessions' atime alone (O_NOATIME: no journal write per session read)", async () => {
    const tmp = tempDir('msession-atime');
    try {
      const ids = Array.from({ length: 3 }, () => testSessionId());
      for (const id of ids) {
        writeFileSync(`${tmp.dir}/sess_${id}`, 'user|i:42;');
        // atime older than mtime: under relatime (Linux's default) the next read would update it.
        utimesSync(`${tmp.dir}/sess_${id}`, new Date(Date.now() - 3_600_000), new Date());
      }
      const before = ids.map((id) => statSync(`${tmp.dir}/sess_${id}`).atimeMs);
      const ms = new SessionEngine({ ini: { 'session.save_path': tmp.dir } }).msession();
      expect((await all(ms.find('user', 42))).sort()).toEqual([...ids].sort());
      await ms.disconnect();
      expect(ids.map((id) => statSync(`${tmp.dir}/sess_${id}`).atimeMs)).toEqual(before);
    } finally {
      tmp.remove();
    }
  });

  it('reads: a session of any size whole; a FIFO or a directory under a session name is no session (and no hang)', async () => {
    const tmp = tempDir('msession-read');
    try {
      const big = testSessionId();
      const pad = 'x'.repeat(200_000); // past the 64 KiB first read
      writeFileSync(`${tmp.dir}/sess_${big}`, `user|i:42;pad|s:${pad.length}:"${pad}";`);
      const empty = testSessionId();
      writeFileSync(`${tmp.dir}/sess_${empty}`, '');
      const fifo = testSessionId();
      execFileSync('mkfifo', [`${tmp.dir}/sess_${fifo}`]);
      const dir = testSessionId();
      mkdirSync(`${tmp.dir}/sess_${dir}`);
      const ms = new SessionEngine({ ini: { 'session.save_path': tmp.dir } }).msession();
      expect(await all(ms.find('user', 42))).toEqual([big]);
      expect(((await ms.getArray(big)).get('pad') as string).length).toBe(200_000);
      expect((await ms.store().peek(empty))?.length).toBe(0);
      // Not listed (readdir types), and a direct read (a file swapped since a listing) gives null:
      // the FIFO's open must not wait for a writer.
      expect((await all(ms.list())).sort()).toEqual([big, empty].sort());
      expect(await ms.store().peek(fifo)).toBeNull();
      expect(await ms.store().peek(dir)).toBeNull();
      await ms.disconnect();
    } finally {
      tmp.remove();
    }
  });

  it('a module that cannot enumerate answers with a typed error naming the reason', async () => {
    const engine = new SessionEngine({
      modules: [{ name: 'opaque', create: () => ({ name: 'opaque', open: () => true, close: () => true, read: () => new Uint8Array(0), write: () => true, destroy: () => true, gc: () => 0 }) }],
      ini: { 'session.save_handler': 'opaque' },
    });
    const ms = engine.msession();
    await expect(ms.count()).rejects.toMatchObject({ code: 'ERR_MSESSION_CANNOT_ENUMERATE', message: expect.stringContaining('"opaque" module cannot list') });
    // One-session calls still work through its SaveHandler.
    expect(await ms.get('abc', 'x', 'none')).toBe('none');
  });
});
