/**
 * @module spec/handlers/files
 * The shared save-handler suite against the `files` module, in each lock mode and at dirdepth 0
 * and 2 (the hashed subdirectories are pre-created, as PHP's mod_files.sh does).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesModule } from '../../handlers/files.ts';
import { makeHashedTree } from '../files/support.ts';
import { testSaveHandler } from './suite.ts';

for (const lock of ['flock', 'lockfile', 'none'] as const) {
  for (const depth of lock === 'flock' ? [0, 2] : [0]) {
    describeMode(lock, depth);
  }
}

function describeMode(lock: 'flock' | 'lockfile' | 'none', depth: number): void {
  testSaveHandler({
    name: 'files',
    label: `lock=${lock}, dirdepth=${depth}`,
    setup: () => {
      const dir = mkdtempSync(join(tmpdir(), `pse-files-${lock}-${depth}-`));
      makeHashedTree(dir, depth);
      return {
        module: filesModule,
        savePath: depth === 0 ? dir : `${depth};${dir}`,
        ini: { 'session_engine.files_lock': lock, 'session_engine.files_gc_hashed': '1' },
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
    skip:
      lock === 'none'
        ? [{ reason: 'session_engine.files_lock=none takes no lock by design', tests: ['locks: a second request on the same id waits for close'] }]
        : [],
  });
}
