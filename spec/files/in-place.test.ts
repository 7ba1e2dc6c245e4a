/**
 * @module spec/files/in-place
 * The files module's writes in place (handlers/files/in-place.ts): instead of PHP's
 * ftruncate(fd, 0) + pwrite(all), one pwrite of the changed bytes, when the session is locked, the
 * handler knows what it read from the open file, the data is not shorter and every change lies in
 * one 4 KiB block. Whatever the path, the file ends holding exactly the new data, as after PHP's
 * write (a fast-check property over generated old and new sessions, fixed seed); unchanged data
 * still moves mtime and ctime (GC goes by mtime); a file changed behind the lock, or bytes the
 * caller changed after reading, are written as PHP does. PHP reads what was written in place, and
 * Node writes in place over what PHP wrote.
 */
import fs, { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { filesModule } from '../../handlers/files.ts';
import { IN_PLACE_BLOCK, IN_PLACE_KERNEL, inPlaceWrite } from '../../handlers/files/in-place.ts';
import { SessionEngine } from '../../lib/engine.ts';
import { makeTestContext, testSessionId } from '../handlers/suite.ts';
import { describeWith } from '../support/tools.ts';
import { php, tempDir } from './support.ts';

const tmp = tempDir('in-place');
afterAll(() => tmp.remove());

const SEED = 1604;
const original = { ftruncateSync: fs.ftruncateSync, ftruncate: fs.ftruncate, writeSync: fs.writeSync };
afterEach(() => {
  Object.assign(fs, original);
  syncBuiltinESMExports();
});

/** The data file's syscalls the handler makes (as seen through its `import * as fs`). */
interface Calls {
  truncates: number;
  /** [offset, length] of each write. */
  writes: [number, number][];
}
function instrument(): Calls {
  const calls: Calls = { truncates: 0, writes: [] };
  fs.ftruncateSync = ((...a: Parameters<typeof fs.ftruncateSync>) => {
    calls.truncates++;
    return original.ftruncateSync(...a);
  }) as typeof fs.ftruncateSync;
  fs.ftruncate = ((...a: Parameters<typeof fs.ftruncate>) => {
    calls.truncates++;
    return (original.ftruncate as (...x: unknown[]) => void)(...a);
  }) as typeof fs.ftruncate;
  fs.writeSync = ((fd: number, buf: Uint8Array, off: number, len: number, pos: number) => {
    calls.writes.push([pos, len]);
    return original.writeSync(fd, buf, off, len, pos);
  }) as typeof fs.writeSync;
  syncBuiltinESMExports();
  return calls;
}

/**
 * One handler request over a file holding `old`: read, write what `next` makes of the bytes read,
 * close. `before` runs before the read, `between` between the read and the write.
 */
async function rewrite(
  old: Uint8Array,
  next: (read: Uint8Array) => Uint8Array,
  ini: Record<string, string> = {},
  hooks: { before?: (path: string) => void; between?: (path: string) => void } = {},
): Promise<{ path: string; calls: Calls; written: Uint8Array }> {
  const id = testSessionId();
  const path = `${tmp.dir}/sess_${id}`;
  writeFileSync(path, old);
  hooks.before?.(path);
  const ctx = makeTestContext(ini);
  const h = filesModule.create(ctx);
  expect(await h.open(tmp.dir, 'PHPSESSID')).toBe(true);
  const read = await h.read(id, 1440);
  if (read === false) throw new Error('read failed');
  expect(Buffer.from(read).equals(Buffer.from(old))).toBe(true);
  hooks.between?.(path);
  const written = next(read);
  const calls = instrument();
  expect(await h.write(id, written, 1440)).toBe(true);
  await h.close();
  Object.assign(fs, original);
  syncBuiltinESMExports();
  expect(ctx.diagnostics).toEqual([]);
  return { path, calls, written };
}

/** Bytes from a small alphabet, so that old and new agree on many bytes. */
const bytes = (maxLength: number, minLength = 0): fc.Arbitrary<Uint8Array> => fc.uint8Array({ min: 97, max: 99, minLength, maxLength });

/** Old and new sessions: unrelated, edited in place, grown, shrunk, identical, across block edges. */
const oldAndNew: fc.Arbitrary<[Uint8Array, Uint8Array]> = fc.oneof(
  fc.tuple(bytes(3 * IN_PLACE_BLOCK), bytes(3 * IN_PLACE_BLOCK)),
  fc.tuple(bytes(3 * IN_PLACE_BLOCK, 1), fc.nat(), bytes(300, 1)).map(([old, at, edit]): [Uint8Array, Uint8Array] => {
    const next = Uint8Array.from(old);
    const start = at % old.length;
    next.set(edit.subarray(0, old.length - start), start);
    return [old, next];
  }),
  fc.tuple(bytes(3 * IN_PLACE_BLOCK), bytes(IN_PLACE_BLOCK + 100, 1)).map(([old, tail]): [Uint8Array, Uint8Array] => [old, Buffer.concat([old, tail])]),
  fc.tuple(bytes(3 * IN_PLACE_BLOCK, 1), fc.nat()).map(([old, k]): [Uint8Array, Uint8Array] => [old, old.subarray(0, k % old.length)]),
  bytes(3 * IN_PLACE_BLOCK).map((old): [Uint8Array, Uint8Array] => [old, Uint8Array.from(old)]),
  // An edit around a block edge (a few bytes either side of 4096 or 8192).
  fc.tuple(fc.integer({ min: IN_PLACE_BLOCK + 10, max: 3 * IN_PLACE_BLOCK }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: -3, max: 2 }), fc.integer({ min: 1, max: 6 })).map(
    ([len, edge, shift, n]): [Uint8Array, Uint8Array] => {
      const old = new Uint8Array(len).fill(97);
      const next = Uint8Array.from(old);
      next.fill(98, Math.max(0, edge * IN_PLACE_BLOCK + shift), Math.min(len, edge * IN_PLACE_BLOCK + shift + n));
      return [old, next];
    },
  ),
);

describe('which write inPlaceWrite chooses', () => {
  it('the one write turns the old bytes into the new ones, inside one 4 KiB block, never for shorter data (property)', () => {
    fc.assert(
      fc.property(oldAndNew, ([old, next]) => {
        const w = inPlaceWrite(old, next);
        if (w === null) return;
        expect(next.length).toBeGreaterThanOrEqual(old.length);
        expect(next.length).toBeGreaterThan(0);
        expect(w.end).toBeGreaterThan(w.start);
        expect(Math.floor(w.start / IN_PLACE_BLOCK)).toBe(Math.floor((w.end - 1) / IN_PLACE_BLOCK));
        const file = Buffer.alloc(Math.max(old.length, w.end));
        file.set(old);
        file.set(next.subarray(w.start, w.end), w.start);
        expect(file.equals(Buffer.from(next))).toBe(true);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('examples: growth in the last block, one changed byte, identical data, a change in two blocks, shrinking, empty', () => {
    const a = Buffer.alloc(5000, 97);
    expect(inPlaceWrite(a, Buffer.concat([a, Buffer.from('xy')]))).toEqual({ start: 5000, end: 5002 });
    const one = Buffer.from(a);
    one[4500] = 98;
    expect(inPlaceWrite(a, one)).toEqual({ start: 4500, end: 4501 });
    expect(inPlaceWrite(a, Buffer.from(a))).toEqual({ start: 0, end: 1 });
    const two = Buffer.from(one);
    two[10] = 98;
    expect(inPlaceWrite(a, two)).toBeNull();
    expect(inPlaceWrite(a, a.subarray(0, 4999))).toBeNull();
    expect(inPlaceWrite(new Uint8Array(0), new Uint8Array(0))).toBeNull();
    expect(inPlaceWrite(new Uint8Array(0), Buffer.from('n|i:1;'))).toEqual({ start: 0, end: 6 });
    // Growth that starts before the block of the new last byte: two blocks.
    expect(inPlaceWrite(a.subarray(0, 4000), a)).toBeNull();
  });
});

if (!IN_PLACE_KERNEL) console.warn(`[in-place] skipped: writes in place are made on Linux only (this is ${process.platform})`);

describe.skipIf(!IN_PLACE_KERNEL)('the files handler', () => {
  it('leaves the file holding exactly the new data, whichever way it writes; in place it makes no truncate and one pwrite (property, flock)', async () => {
    const paths = { inPlace: 0, php: 0 };
    await fc.assert(
      fc.asyncProperty(oldAndNew, async ([old, next]) => {
        const { path, calls } = await rewrite(old, () => next);
        expect(readFileSync(path).equals(Buffer.from(next))).toBe(true);
        const w = inPlaceWrite(old, next);
        if (w === null) {
          paths.php++;
          expect(calls.truncates).toBe(1);
          expect(calls.writes).toEqual([[0, next.length]]);
        } else {
          paths.inPlace++;
          expect(calls.truncates).toBe(0);
          expect(calls.writes).toEqual([[w.start, w.end - w.start]]);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
    // Both paths were taken, many times each.
    expect(paths.inPlace).toBeGreaterThan(50);
    expect(paths.php).toBeGreaterThan(50);
  });

  it('in place with files_lock=lockfile; never with files_lock=none (nothing keeps other writers out)', async () => {
    const old = Buffer.from('n|i:1;');
    const next = Buffer.from('n|i:2;');
    const lockfile = await rewrite(old, () => next, { 'session_engine.files_lock': 'lockfile' });
    expect(lockfile.calls).toEqual({ truncates: 0, writes: [[4, 1]] });
    const none = await rewrite(old, () => next, { 'session_engine.files_lock': 'none' });
    expect(none.calls).toEqual({ truncates: 1, writes: [[0, 6]] });
    expect(readFileSync(none.path, 'latin1')).toBe('n|i:2;');
  });

  it('unchanged data: one unchanged byte written, and mtime and ctime move as after PHP\'s write', async () => {
    const old = Buffer.from('n|i:1;pad|s:3:"abc";');
    let before = { ctimeMs: 0 };
    const { path, calls } = await rewrite(old, (read) => Buffer.from(read), {}, {
      before: (p) => {
        utimesSync(p, new Date('2001-01-01T00:00:00Z'), new Date('2001-01-01T00:00:00Z'));
        before = statSync(p);
      },
      between: () => {
        // Past the kernel's coarse clock tick (a few ms), so that a new ctime is a different one.
        const until = Date.now() + 20;
        while (Date.now() < until);
      },
    });
    expect(calls).toEqual({ truncates: 0, writes: [[0, 1]] });
    const after = statSync(path);
    expect(readFileSync(path).equals(old)).toBe(true);
    expect(after.mtimeMs).toBeGreaterThan(Date.parse('2020-01-01'));
    expect(after.ctimeMs).toBeGreaterThan(before.ctimeMs);
  });

  it('a file changed behind the lock after the read (same size) is written as PHP does: the new data exactly', async () => {
    const old = Buffer.from(`n|i:1;pad|s:6000:"${'x'.repeat(6000)}";`);
    const next = Buffer.from(old);
    next[4] = 0x32; // n|i:2;
    const { path, calls } = await rewrite(old, () => next, {}, {
      between: (p) => {
        const until = Date.now() + 20;
        while (Date.now() < until);
        // A writer that ignores the lock rewrites the whole file with the same length.
        writeFileSync(p, Buffer.alloc(old.length, 0x7a));
      },
    });
    expect(calls.truncates).toBe(1);
    expect(readFileSync(path).equals(next)).toBe(true);
  });

  it('bytes read, changed by the caller and written back are written as PHP does (they no longer tell what the file holds)', async () => {
    const old = Buffer.from(`n|i:1;pad|s:6000:"${'x'.repeat(6000)}";`);
    const { path, calls } = await rewrite(old, (read) => {
      read[4] = 0x32;
      read[5000] = 0x79;
      return read;
    });
    expect(calls.truncates).toBe(1);
    const expected = Buffer.from(old);
    expected[4] = 0x32;
    expected[5000] = 0x79;
    expect(readFileSync(path).equals(expected)).toBe(true);
  });
});

describeWith(['php'], 'writes in place ⇄ PHP 8.2', () => {
  it.skipIf(!IN_PLACE_KERNEL)('PHP writes a 3-block session; Node sets a key (in place); PHP reads it, writes; Node writes in place again; PHP reads all', async () => {
    const id = testSessionId();
    const dir = tmp.dir;
    const big = 'z'.repeat(10000);
    await php(dir, `session_id('${id}'); session_start(); $_SESSION['big'] = '${big}'; $_SESSION['n'] = 1; session_write_close();`);
    const engine = new SessionEngine({ ini: { 'session.save_path': dir, 'session.cache_limiter': '', 'session.gc_probability': '0' } });
    const nodeIncrement = async (): Promise<Calls> => {
      const req = engine.request({ cookies: { PHPSESSID: id } });
      expect(await req.start()).toBe(true);
      const n = req.session.get('n');
      const calls = instrument();
      req.session.set('n', (typeof n === 'number' ? n : 0) + 1);
      expect(await req.writeClose()).toBe(true);
      Object.assign(fs, original);
      syncBuiltinESMExports();
      await req.end();
      expect(req.diagnostics).toEqual([]);
      return calls;
    };
    // n: 1 -> 2 near the end of the file: one pwrite of one byte, no truncate.
    const nAt = `big|s:10000:"${big}";n|i:`.length;
    expect(await nodeIncrement()).toEqual({ truncates: 0, writes: [[nAt, 1]] });
    expect(readFileSync(`${dir}/sess_${id}`, 'latin1')).toBe(`big|s:10000:"${big}";n|i:2;`);
    // PHP reads Node's write, and writes (its own ftruncate + pwrite) a key that grows the session.
    expect(await php(dir, `session_id('${id}'); session_start(); echo $_SESSION['n'], ':', strlen($_SESSION['big']); $_SESSION['t'] = 'php'; session_write_close();`)).toBe('2:10000');
    // Node reads PHP's write and changes n in place again.
    expect(await nodeIncrement()).toEqual({ truncates: 0, writes: [[nAt, 1]] });
    expect(await php(dir, `session_id('${id}'); session_start(); echo json_encode([$_SESSION['n'], strlen($_SESSION['big']), $_SESSION['t']]);`)).toBe('[3,10000,"php"]');
    expect(readFileSync(`${dir}/sess_${id}`, 'latin1')).toBe(`big|s:10000:"${big}";n|i:3;t|s:3:"php";`);
  });
});
