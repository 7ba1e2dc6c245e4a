/**
 * @module spec/faults/files-crash
 * A writer killed in the middle of a files-module write (issue #10 item 6).
 *
 * PHP 8.2.36 empties the session file, then writes it (ftruncate + pwrite, seen with strace), so a
 * writer killed between the two leaves an empty or cut file. The engine does that too, except
 * where it writes in place (handlers/files/in-place.ts: the session locked, the data not shorter,
 * every change inside one 4 KiB block): one pwrite, so a kill leaves the old or the new session
 * whole. `session_engine.files_journal = 1` writes a checksummed journal before a
 * truncate-then-write; the next journaling reader completes or drops it. Here:
 * - a Node writer kills itself (SIGKILL) at each step of a write, deterministically: a write that
 *   changes several blocks, or shrinks, leaves the file as PHP's truncate-then-write leaves it; a
 *   write in place leaves the old or the new session whole (journal or not); with the journal a
 *   Node reader gets the old or the new session whole, never an empty or cut one, and PHP after
 *   that reader too;
 * - journals that no longer match (PHP wrote or destroyed the session after the crash, a torn
 *   journal) are dropped, so nothing newer is overwritten and nothing destroyed comes back;
 * - real kill -9 at random moments of Node and PHP writer loops, outcomes counted: Node's
 *   truncate-then-write and PHP leave the same kinds of states (complete, empty, cut), the journal
 *   never loses a write, and writes in place always leave a whole session.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFilesModule, journalPathFor } from '../../handlers/files.ts';
import { makeTestContext } from '../handlers/suite.ts';
import { tempDir, php } from '../files/support.ts';
import { describeWith, which } from '../support/tools.ts';
import { IN_PLACE_KERNEL } from '../../handlers/files/in-place.ts';
import { payload, type Shape } from './fixtures/crash-payload.ts';

const worker = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
/**
 * The writer and the files handler bundled into one plain ES module (esbuild, as tsx and vite use
 * it), so that each of the ~30 writer processes starts as plain `node` instead of compiling
 * TypeScript through tsx: a third of the CPU per process. Written under node_modules/.cache so that
 * its external packages (fast-glob, proper-lockfile, fs-ext) resolve as from the sources.
 */
const bundle = fileURLToPath(new URL('../../node_modules/.cache/php-session-engine/crash-writer.mjs', import.meta.url));

interface WriterRun {
  /** Highest n acknowledged (written, returned true, closed) before the process died. */
  acked: number;
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/**
 * Runs the Node writer, its writes shaped as `shape`; with `crash`, it kills itself at that step
 * of that write (and with 'slow-io', in the files handler's slow I/O mode); with `killAfterMs`,
 * kill -9 it that long after its first ACK.
 */
function runNodeWriter(dir: string, id: string, journal: '0' | '1', pad: number, writes: number, shape: Shape, crash?: [string, number, 'slow-io'?], killAfterMs?: number): Promise<WriterRun> {
  const args = [bundle, dir, id, journal, String(pad), String(writes), shape];
  if (crash) args.push(crash[0], String(crash[1]), ...(crash[2] ? [crash[2]] : []));
  return runWriter(process.execPath, args, killAfterMs);
}

/** The same loop in PHP: session_start, n+1, the padding, session_write_close, "ACK n". */
function runPhpWriter(dir: string, id: string, pad: number, killAfterMs: number): Promise<WriterRun> {
  const code =
    `ini_set('session.save_path', '${dir}'); session_id('${id}'); ` +
    `for (;;) { session_start(); $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1; $_SESSION['pad'] = str_repeat('x', ${pad}); ` +
    `$n = $_SESSION['n']; session_write_close(); echo "ACK $n\\n"; }`;
  const args = ['-n', '-d', 'session.use_cookies=0', '-d', 'session.cache_limiter=', '-d', 'session.gc_probability=0', '-r', code];
  return runWriter(which('php')!, args, killAfterMs);
}

function runWriter(bin: string, args: string[], killAfterMs?: number): Promise<WriterRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== undefined && timer === undefined && out.includes('ACK')) {
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const acks = [...out.matchAll(/ACK (\d+)\n/g)].map((m) => Number(m[1]));
      resolve({ acked: acks.length === 0 ? 0 : acks[acks.length - 1]!, signal, code, stderr });
    });
  });
}

/** One Node request through the files handler: what read() returns (journal per `journal`). */
async function nodeRead(dir: string, id: string, journal: '0' | '1', onRecovered?: () => void): Promise<Buffer> {
  const module = createFilesModule(onRecovered ? { onJournalRecovered: onRecovered } : {});
  const ctx = makeTestContext({ 'session_engine.files_journal': journal });
  const h = module.create(ctx);
  expect(await h.open(dir, 'PHPSESSID')).toBe(true);
  const data = await h.read(id, 1440);
  await h.close();
  expect(ctx.diagnostics).toEqual([]);
  if (data === false) throw new Error('read failed');
  return Buffer.from(data);
}

/** What a file holds after a writer that had acknowledged `acked` died, for a given shape and padding. */
type Outcome = 'complete' | 'empty' | 'cut' | 'other';
function classify(bytes: Buffer, acked: number, shape: Shape, pad: number): Outcome {
  if (bytes.equals(payload(shape, acked, pad)) || bytes.equals(payload(shape, acked + 1, pad))) return 'complete';
  if (bytes.length === 0) return 'empty';
  const next = payload(shape, acked + 1, pad);
  if (bytes.length < next.length && next.subarray(0, bytes.length).equals(bytes)) return 'cut';
  return 'other';
}

const count = (xs: Outcome[]): Record<Outcome, number> => ({
  complete: xs.filter((x) => x === 'complete').length,
  empty: xs.filter((x) => x === 'empty').length,
  cut: xs.filter((x) => x === 'cut').length,
  other: xs.filter((x) => x === 'other').length,
});

/** Over two 4 KiB blocks: a `rewrite` or `shrink` write is PHP's truncate-then-write. */
const PAD = 9000;
const ID = 'crashsession1';

describeWith(['php'], 'files module: a writer killed during a write (kill -9)', () => {
  const tmp = tempDir('crash');
  beforeAll(async () => {
    await build({ entryPoints: [worker], outfile: bundle, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error' });
  });
  afterAll(() => tmp.remove());
  let seq = 0;
  const fresh = (): { dir: string; id: string } => {
    const dir = `${tmp.dir}/${++seq}`;
    mkdirSync(dir, { recursive: true });
    return { dir, id: ID };
  };

  describe('a Node writer killed at each step of its second write', () => {
    // Unless a test says otherwise, the writes are `rewrite`s: PHP's truncate-then-write.
    const first = payload('rewrite', 1, PAD);
    const second = payload('rewrite', 2, PAD);
    // Every crash below is one writer process; they all run at once before the tests look. A
    // writer that did not die at its step (it finished its writes) fails the tests that use it.
    // Tag 'slow-io': the writer's handler is in slow I/O mode, its truncates go to the thread pool.
    const crashes = new Map<string, Promise<{ dir: string; id: string; run: WriterRun }>>();
    const crashed = (journal: '0' | '1', step: string, tag = '', shape: Shape = 'rewrite'): Promise<{ dir: string; id: string; run: WriterRun }> => {
      const key = `${journal}/${step}/${tag}/${shape}`;
      let p = crashes.get(key);
      if (p === undefined) {
        const { dir, id } = fresh();
        p = runNodeWriter(dir, id, journal, PAD, 2, shape, tag === 'slow-io' ? [step, 2, 'slow-io'] : [step, 2]).then((run) => {
          if (run.signal !== 'SIGKILL') throw new Error(`writer ${key} was not killed at its step (exit ${run.code}): ${run.stderr}`);
          return { dir, id, run };
        });
        crashes.set(key, p);
      }
      return p;
    };
    beforeAll(async () => {
      const plan: [journal: '0' | '1', step: string, tag?: string, shape?: Shape][] = [
        ['0', 'truncate'], ['0', 'write-half'], ['0', 'truncate', 'php'],
        ['1', 'journal-half'], ['1', 'truncate'], ['1', 'write-half'], ['1', 'unlink'],
        ['1', 'truncate', 'php-read'], ['1', 'truncate', 'php-write'], ['1', 'truncate', 'php-destroy'], ['1', 'write-half', 'php-destroy'],
        ['0', 'truncate', 'slow-io'], ['1', 'truncate', 'slow-io'],
        ['0', 'write-before', '', 'tail'], ['0', 'write-after', '', 'tail'], ['1', 'write-before', '', 'tail'], ['1', 'write-after', '', 'tail'],
        ['0', 'truncate', '', 'shrink'], ['0', 'write-half', '', 'shrink'],
      ];
      await Promise.allSettled(plan.map(([j, s, t, shape]) => crashed(j, s, t, shape)));
    }, 60_000);

    it('default (as PHP): emptied by the truncate, cut by a half write; the reader gets those bytes', async () => {
      for (const [step, expected] of [
        ['truncate', Buffer.alloc(0)],
        ['write-half', second.subarray(0, Math.floor(second.length / 2))],
      ] as const) {
        const { dir, id, run } = await crashed('0', step);
        expect(run.signal, step).toBe('SIGKILL');
        expect(run.acked, step).toBe(1);
        expect(readFileSync(`${dir}/sess_${id}`).equals(expected), step).toBe(true);
        expect(existsSync(journalPathFor(`${dir}/sess_${id}`)), step).toBe(false);
        expect((await nodeRead(dir, id, '0')).equals(expected), step).toBe(true);
      }
    });

    it.skipIf(!IN_PLACE_KERNEL)('in place (n changes at the end of a 9 KB session): killed before or after its one pwrite, the file holds write 1 or write 2 whole, journal or not; PHP reads it', async () => {
      for (const journal of ['0', '1'] as const) {
        for (const [step, n] of [['write-before', 1], ['write-after', 2]] as const) {
          const what = `journal ${journal}, ${step}`;
          const { dir, id, run } = await crashed(journal, step, '', 'tail');
          expect(run.acked, what).toBe(1);
          // Old code truncated first: "write-before" left an empty file there.
          expect(readFileSync(`${dir}/sess_${id}`).toString('latin1'), what).toBe(payload('tail', n, PAD).toString('latin1'));
          // Nothing to repair: no journal is written for a write in place.
          expect(existsSync(journalPathFor(`${dir}/sess_${id}`)), what).toBe(false);
          expect((await nodeRead(dir, id, journal)).equals(payload('tail', n, PAD)), what).toBe(true);
          expect(await php(dir, `session_id('${id}'); session_start(); echo $_SESSION['n'], ':', strlen($_SESSION['pad']);`), what).toBe(`${n}:${PAD}`);
        }
      }
    });

    it('shrinking data (a new head over an old tail could bring deleted keys back): PHP\'s states, emptied by the truncate, cut by a half write', async () => {
      const next = payload('shrink', 2, PAD);
      for (const [step, expected] of [
        ['truncate', Buffer.alloc(0)],
        ['write-half', next.subarray(0, Math.floor(next.length / 2))],
      ] as const) {
        const { dir, id, run } = await crashed('0', step, '', 'shrink');
        expect(run.acked, step).toBe(1);
        expect(readFileSync(`${dir}/sess_${id}`).equals(expected), step).toBe(true);
      }
    });

    it('default: PHP reads the emptied file as an empty session, as after its own crash', async () => {
      const { dir, id } = await crashed('0', 'truncate', 'php');
      expect(await php(dir, `session_id('${id}'); session_start(); echo json_encode($_SESSION);`)).toBe('[]');
    });

    for (const [step, after] of [
      ['journal-half', first],
      ['truncate', second],
      ['write-half', second],
      ['unlink', second],
    ] as const) {
      it(`session_engine.files_journal=1, killed at "${step}": a Node reader gets write ${after === first ? 1 : 2} whole, then PHP does too`, async () => {
        const { dir, id, run } = await crashed('1', step);
        expect(run.signal).toBe('SIGKILL');
        expect(run.acked).toBe(1);
        const journal = journalPathFor(`${dir}/sess_${id}`);
        expect(existsSync(journal)).toBe(true);
        let recovered = 0;
        expect((await nodeRead(dir, id, '1', () => recovered++)).toString('latin1')).toBe(after.toString('latin1'));
        expect(recovered).toBe(step === 'truncate' || step === 'write-half' ? 1 : 0);
        expect(existsSync(journal)).toBe(false);
        expect(readFileSync(`${dir}/sess_${id}`).equals(after)).toBe(true);
        expect(await php(dir, `session_id('${id}'); session_start(); echo $_SESSION['n'], ':', strlen($_SESSION['pad']);`)).toBe(
          `${after === first ? 1 : 2}:${PAD}`,
        );
      });
    }

    it('killed at "truncate" with the truncate on the thread pool (slow I/O mode, as under load): default empty, journal completes write 2', async () => {
      // The handler truncates on the thread pool once a synchronous truncate was slow; a loaded
      // machine puts it there at random, so both ways of truncating are crashed at, deterministically.
      const plain = await crashed('0', 'truncate', 'slow-io');
      expect(plain.run.acked).toBe(1);
      expect(readFileSync(`${plain.dir}/sess_${plain.id}`).length).toBe(0);
      const journaled = await crashed('1', 'truncate', 'slow-io');
      expect(journaled.run.acked).toBe(1);
      expect(readFileSync(`${journaled.dir}/sess_${journaled.id}`).length).toBe(0);
      let recovered = 0;
      expect((await nodeRead(journaled.dir, journaled.id, '1', () => recovered++)).equals(second)).toBe(true);
      expect(recovered).toBe(1);
    });

    it('journal: PHP reading before any journaling request sees the emptied file (PHP does not read the journal)', async () => {
      const { dir, id } = await crashed('1', 'truncate', 'php-read');
      expect(await php(dir, `session_id('${id}'); session_start(); echo json_encode($_SESSION); session_abort();`)).toBe('[]');
      // session_abort wrote nothing: the journal still completes the write for the next Node reader.
      expect((await nodeRead(dir, id, '1')).equals(second)).toBe(true);
    });

    it('journal: PHP wrote the session after the crash: the stale journal is dropped, PHP\'s data stays', async () => {
      const { dir, id } = await crashed('1', 'truncate', 'php-write');
      await php(dir, `session_id('${id}'); session_start(); $_SESSION['n'] = 7; session_write_close();`);
      expect((await nodeRead(dir, id, '1')).toString()).toBe('n|i:7;');
      expect(existsSync(journalPathFor(`${dir}/sess_${id}`))).toBe(false);
    });

    it('journal: PHP destroyed the session after the crash (logout, or its decode failure): it does not come back', async () => {
      for (const [step, code] of [
        ['truncate', `session_id('${ID}'); session_start(); var_dump(session_destroy());`],
        // PHP deletes a session it cannot decode: "Failed to decode session object. Session has been destroyed".
        ['write-half', `session_id('${ID}'); var_dump(@session_start());`],
      ] as const) {
        const { dir, id } = await crashed('1', step, 'php-destroy');
        expect(await php(dir, code), step).toMatch(/bool\((true|false)\)/);
        expect(existsSync(`${dir}/sess_${id}`), step).toBe(false);
        // The file Node now creates may even get the old inode number back: the birth time differs.
        expect((await nodeRead(dir, id, '1')).length, step).toBe(0);
        expect(existsSync(journalPathFor(`${dir}/sess_${id}`)), step).toBe(false);
      }
    });

    it('journal: a journal that is not one (torn, foreign) is dropped without touching the session', async () => {
      const { dir, id } = fresh();
      writeFileSync(`${dir}/sess_${id}`, 'n|i:3;');
      writeFileSync(journalPathFor(`${dir}/sess_${id}`), 'PSE-JOURNAL-1 1 2 3 100 ' + '0'.repeat(64) + '\nn|i:3;pad');
      expect((await nodeRead(dir, id, '1')).toString()).toBe('n|i:3;');
      expect(existsSync(journalPathFor(`${dir}/sess_${id}`))).toBe(false);
    });
  });

  describe('kill -9 at random moments of a writer loop, outcomes counted', () => {
    const N = 8;
    const BIG = 64 * 1024;
    /** Fixed pseudo-random kill delays (ms after the first ACK), the same every run. */
    const delays = Array.from({ length: N }, (_, i) => 20 + ((i * 7919) % 23) * 10);

    it(`Node default, Node journal, Node in place and PHP writers, ${N} kills each`, async () => {
      const runs = await Promise.all([
        ...delays.map(async (ms, i) => {
          const { dir, id } = fresh();
          const run = await runNodeWriter(dir, id, '0', BIG, 0, 'rewrite', undefined, ms);
          return { kind: 'node' as const, i, dir, id, run };
        }),
        ...delays.map(async (ms, i) => {
          const { dir, id } = fresh();
          const run = await runNodeWriter(dir, id, '1', BIG, 0, 'rewrite', undefined, ms);
          return { kind: 'journal' as const, i, dir, id, run };
        }),
        ...delays.map(async (ms, i) => {
          const { dir, id } = fresh();
          const run = await runNodeWriter(dir, id, '0', BIG, 0, 'tail', undefined, ms);
          return { kind: 'inplace' as const, i, dir, id, run };
        }),
        ...delays.map(async (ms, i) => {
          const { dir, id } = fresh();
          const run = await runPhpWriter(dir, id, BIG, ms);
          return { kind: 'php' as const, i, dir, id, run };
        }),
      ]);
      const raw: Record<'node' | 'journal' | 'inplace' | 'php', Outcome[]> = { node: [], journal: [], inplace: [], php: [] };
      const shapes = { node: 'rewrite', journal: 'rewrite', inplace: 'tail', php: 'counter' } as const;
      const journalRead: Outcome[] = [];
      for (const r of runs) {
        expect(r.run.signal, `${r.kind} #${r.i}: ${r.run.stderr}`).toBe('SIGKILL');
        expect(r.run.acked).toBeGreaterThan(0);
        const bytes = readFileSync(`${r.dir}/sess_${r.id}`);
        raw[r.kind].push(classify(bytes, r.run.acked, shapes[r.kind], BIG));
        if (r.kind === 'journal') journalRead.push(classify(await nodeRead(r.dir, r.id, '1'), r.run.acked, 'rewrite', BIG));
        else expect((await nodeRead(r.dir, r.id, '0')).equals(bytes)).toBe(true);
      }
      const summary = {
        'node default (file)': count(raw.node),
        'php 8.2 (file)': count(raw.php),
        'node journal (file)': count(raw.journal),
        'node journal (read)': count(journalRead),
        'node in place (file)': count(raw.inplace),
      };
      console.log(`[faults] files kill -9, N=${N} each, ${BIG} B sessions:`, JSON.stringify(summary));
      // The default and PHP leave the same kinds of states: the session whole, emptied, or cut.
      expect(summary['node default (file)'].other).toBe(0);
      expect(summary['php 8.2 (file)'].other).toBe(0);
      expect(summary['node journal (file)'].other).toBe(0);
      // The journal's promise: every kill, the reader gets the last acknowledged write or the one
      // in flight, whole.
      expect(summary['node journal (read)']).toEqual({ complete: N, empty: 0, cut: 0, other: 0 });
      // A write in place (n grows at the end of the session) leaves it whole, every kill (Linux only
      // writes in place).
      if (IN_PLACE_KERNEL) expect(summary['node in place (file)']).toEqual({ complete: N, empty: 0, cut: 0, other: 0 });
    }, 90_000);
  });
});
