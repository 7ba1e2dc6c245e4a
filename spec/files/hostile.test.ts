/**
 * @module spec/files/hostile
 * Hostile input to the files handler: ids that try to leave the save path, a symlink planted at the
 * session file's path, a session "file" that cannot be opened. Each gets PHP's warning (compared
 * with live PHP where PHP can be asked) and nothing outside the save path is read, written,
 * created, removed or re-timed.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILES_MESSAGES, filesModule, isValidSessionKey } from '../../handlers/files.ts';
import { makeTestContext, testSessionId } from '../handlers/suite.ts';
import { describeWith } from '../support/tools.ts';
import { php, phpStr, phpWarnings, tempDir } from './support.ts';

/** Every path under `dir` with its size and mtime, for before/after comparisons. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = lstatSync(p);
      out.push(`${p} ${st.size} ${st.mtimeMs}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

const HOSTILE_IDS = ['../x', '../../../../etc/passwd', 'a/b', '/abs', '../\0x', 'a/\0b', 'x'.repeat(257), '', 'abc def', 'é', '..', 'sess_x;y', 'a\nb'];

describe('files handler: hostile ids', () => {
  const tmp = tempDir('hostile');
  let save: string;
  let outside: string;
  beforeAll(() => {
    save = join(tmp.dir, 'save');
    outside = join(tmp.dir, 'outside');
    mkdirSync(save);
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'do not touch');
    writeFileSync(join(tmp.dir, 'sess_x'), 'do not touch');
  });
  afterAll(() => tmp.remove());

  for (const id of HOSTILE_IDS) {
    it(`id ${JSON.stringify(id.length > 20 ? `${id.slice(0, 8)}…(${id.length})` : id)} is refused by every operation`, async () => {
      const before = snapshot(tmp.dir);
      const ctx = makeTestContext();
      const h = filesModule.create(ctx);
      expect(await h.open(save, 'PHPSESSID')).toBe(true);
      expect(await h.read(id, 1440)).toBe(false);
      expect(await h.write(id, Buffer.from('x|i:1;'), 1440)).toBe(false);
      expect(await h.updateTimestamp!(id, Buffer.from('x|i:1;'), 1440)).toBe(false);
      expect(await h.validateSid!(id)).toBe(false);
      // destroy with a descriptor open for another id (the case where PHP would unlink).
      expect(await h.read(testSessionId(), 1440)).toEqual(new Uint8Array(0));
      expect(await h.destroy(id)).toBe(false);
      await h.close();
      expect(ctx.diagnostics.map((d) => d.message)).toEqual([FILES_MESSAGES.ILLEGAL_ID, FILES_MESSAGES.ILLEGAL_ID]);
      // Only the legitimate session file appeared, inside the save path.
      const after = snapshot(tmp.dir).filter((l) => !l.startsWith(`${save}/sess_`) && !l.startsWith(`${save} `));
      expect(after).toEqual(before.filter((l) => !l.startsWith(`${save}/sess_`) && !l.startsWith(`${save} `)));
    });
  }

  it('any string as an id: refused unless PHP would accept it, and never a path outside the save path', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[A-Za-z0-9,./\-]{1,40}$/)), async (id) => {
        const before = snapshot(outside);
        const ctx = makeTestContext();
        const h = filesModule.create(ctx);
        await h.open(`1;${save}`, 'PHPSESSID');
        const got = await h.read(id, 1440);
        await h.close();
        if (!isValidSessionKey(id)) {
          expect(got).toBe(false);
          expect(ctx.diagnostics.map((d) => d.message)).toEqual([FILES_MESSAGES.ILLEGAL_ID]);
        } else if (got === false) {
          // A legal id whose hashed subdirectory does not exist (or is too short for the depth):
          // PHP's open or path warning, about a path inside the save path.
          const msg = ctx.diagnostics[0]?.message ?? '';
          expect(msg === FILES_MESSAGES.PATH_CREATE_FAILED || msg.startsWith(`open(${save}/${id[0]}/sess_${id}, O_RDWR) failed: No such file`)).toBe(true);
        }
        expect(snapshot(outside)).toEqual(before);
      }),
      { numRuns: 200, seed: 20260601 },
    );
  });
});

describeWith(['php'], 'files handler: hostile files, compared with PHP', () => {
  const tmp = tempDir('hostile-php');
  let save: string;
  let target: string;
  beforeAll(() => {
    save = join(tmp.dir, 'save');
    mkdirSync(save);
    target = join(tmp.dir, 'target');
    writeFileSync(target, 'precious');
    utimesSync(target, 1_000_000, 1_000_000);
  });
  afterAll(() => tmp.remove());

  /** PHP's module warnings (without the engine's read-failure line) for one session_start. */
  const phpModuleWarnings = async (id: string): Promise<string[]> =>
    phpWarnings(await php(save, `session_id(${phpStr(id)}); session_start();`))
      .filter((w) => !w.includes('Failed to read session data'))
      .map((w) => w.replace(/^session_start\(\): /, ''));

  it('an illegal id gets the warning PHP gives', async () => {
    const ctx = makeTestContext();
    const h = filesModule.create(ctx);
    await h.open(save, 'PHPSESSID');
    expect(await h.read('../x', 1440)).toBe(false);
    expect(ctx.diagnostics.map((d) => d.message)).toEqual(await phpModuleWarnings('../x'));
  });

  it('an id with a NUL byte is cut at the NUL, as PHP does (sess_abc), and stays in the save path', async () => {
    await php(save, `session_id("abc\\0def"); session_start(); $_SESSION['a'] = 1;`);
    expect(readFileSync(join(save, 'sess_abc'), 'latin1')).toBe('a|i:1;');
    const ctx = makeTestContext();
    const h = filesModule.create(ctx);
    await h.open(save, 'PHPSESSID');
    expect(Buffer.from((await h.read('abc\0def', 1440)) as Uint8Array).toString()).toBe('a|i:1;');
    await h.close();
    expect(ctx.diagnostics).toEqual([]);
  });

  it('a symlink planted at the session file path is not followed, by any operation', async () => {
    const id = testSessionId();
    const link = join(save, `sess_${id}`);
    symlinkSync(target, link);
    const expected = await phpModuleWarnings(id);
    expect(expected).toEqual([`open(${link}, O_RDWR) failed: Too many levels of symbolic links (40)`]);
    const ctx = makeTestContext();
    const h = filesModule.create(ctx);
    await h.open(save, 'PHPSESSID');
    expect(await h.read(id, 1440)).toBe(false);
    expect(await h.write(id, Buffer.from('evil|i:1;'), 1440)).toBe(false);
    // lazy_write's touch must not re-time the target through the link.
    await h.updateTimestamp!(id, Buffer.from('evil|i:1;'), 1440);
    expect(ctx.diagnostics.map((d) => d.message)).toEqual([expected[0], expected[0]]);
    // destroy while a descriptor is open removes the link itself, never the target.
    expect(await h.read(testSessionId(), 1440)).toEqual(new Uint8Array(0));
    expect(await h.destroy(id)).toBe(true);
    await h.close();
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(statSync(target).mtimeMs).toBe(1_000_000_000);
    expect(() => lstatSync(link)).toThrow();
  });

  it('a directory at the session file path: the warning PHP gives, and read fails', async () => {
    const id = testSessionId();
    mkdirSync(join(save, `sess_${id}`));
    const expected = await phpModuleWarnings(id);
    expect(expected[0]).toMatch(/Is a directory \(21\)$/);
    const ctx = makeTestContext();
    const h = filesModule.create(ctx);
    await h.open(save, 'PHPSESSID');
    expect(await h.read(id, 1440)).toBe(false);
    await h.close();
    expect(ctx.diagnostics.map((d) => d.message)).toEqual(expected);
  });

  it('a save path that is a regular file: the warning PHP gives', async () => {
    const id = testSessionId();
    const expected = phpWarnings(await php(target, `session_id('${id}'); session_start();`))
      .filter((w) => !w.includes('Failed to read session data'))
      .map((w) => w.replace(/^session_start\(\): /, ''));
    expect(expected[0]).toMatch(/Not a directory \(20\)$/);
    const ctx = makeTestContext();
    const h = filesModule.create(ctx);
    await h.open(target, 'PHPSESSID');
    expect(await h.read(id, 1440)).toBe(false);
    await h.close();
    expect(ctx.diagnostics.map((d) => d.message)).toEqual(expected);
    expect(readFileSync(target, 'utf8')).toBe('precious');
  });
});
