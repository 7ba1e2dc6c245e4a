/**
 * @module spec/faults/files-journal
 * `session_engine.files_journal = 1` without crashes: the files module still passes the shared
 * save-handler suite, leaves no journal behind a successful write,
 * removes a session's journal with the session, collects journals a crash left behind, and fails
 * a write loudly, with the session untouched, when the journal cannot be written.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { filesModule, journalPathFor } from '../../handlers/files.ts';
import { makeHashedTree } from '../files/support.ts';
import { makeTestContext, testSaveHandler, testSessionId, type SuiteEnv } from '../handlers/suite.ts';

const JOURNAL = { 'session_engine.files_journal': '1', 'session_engine.files_gc_hashed': '1' };

// dirdepth 0 only: the journal sits next to the session file whatever the depth, and the shared
// suite already runs the hashed layout for the module (spec/handlers/modules.test.ts).
for (const depth of [0]) {
  testSaveHandler({
    name: 'files',
    label: `files_journal=1, dirdepth=${depth}`,
    setup: () => {
      const dir = mkdtempSync(join(tmpdir(), 'pse-journal-'));
      makeHashedTree(dir, depth);
      return { module: filesModule, savePath: depth === 0 ? dir : `${depth};${dir}`, ini: JOURNAL, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
    ...(depth === 0 && {
      additionalTests: (env: () => SuiteEnv): void => {
          const dirOf = (): string => env().fixture.savePath;

          it('a successful write leaves no journal; destroy removes a journal left next to the session', async () => {
            const id = testSessionId();
            const { handler } = await env().openHandler();
            await handler.read(id, 1440);
            expect(await handler.write(id, Buffer.from('a|i:1;'), 1440)).toBe(true);
            expect(readdirSync(dirOf()).sort()).toEqual([`sess_${id}`]);
            writeFileSync(journalPathFor(`${dirOf()}/sess_${id}`), 'left by a crash');
            expect(await handler.destroy(id)).toBe(true);
            expect(readdirSync(dirOf())).toEqual([]);
          });

          it('gc removes journals older than maxlifetime (not counted), keeps fresh ones', async () => {
            const old = journalPathFor(`${dirOf()}/sess_oldone`);
            const fresh = journalPathFor(`${dirOf()}/sess_freshone`);
            writeFileSync(old, 'x');
            writeFileSync(fresh, 'x');
            const past = new Date(Date.now() - 3600_000);
            utimesSync(old, past, past);
            const { handler } = await env().openHandler();
            expect(await handler.gc(1440)).toBe(0);
            expect(existsSync(old)).toBe(false);
            expect(existsSync(fresh)).toBe(true);
          });

          it('a journal that cannot be written fails the write with PHP\'s warning; the session is untouched', async () => {
            const id = testSessionId();
            writeFileSync(`${dirOf()}/sess_${id}`, 'a|i:1;');
            // A directory where the journal would go: open(O_WRONLY) fails with EISDIR.
            mkdirSync(journalPathFor(`${dirOf()}/sess_${id}`));
            const ctx = makeTestContext(JOURNAL);
            const { handler } = await env().openHandler(ctx);
            expect(Buffer.from((await handler.read(id, 1440)) as Uint8Array).toString()).toBe('a|i:1;');
            // Shorter data: PHP's truncate-then-write, which the journal is for (a write in place
            // needs none).
            expect(await handler.write(id, Buffer.from('a|N;'), 1440)).toBe(false);
            expect(ctx.diagnostics.map((d) => d.message)).toEqual(['Write failed: Is a directory (21)']);
            expect(readFileSync(`${dirOf()}/sess_${id}`, 'latin1')).toBe('a|i:1;');
          });
        },
    }),
  });
}
