/**
 * @module handlers/files/gc
 * mod_files' garbage collection (PS_GC_FUNC(files), ps_files_cleanup_dir): deletes `sess_*` files
 * older than gc_maxlifetime, streaming the directory so memory stays flat, and the stale write
 * journals a crash left behind.
 */
import * as fs from 'node:fs';
import fg from 'fast-glob';
import { errnoOf } from '../../lib/zend/index.ts';
import { JOURNAL_SUFFIX, removeStaleJournal } from './journal.ts';
import { FILE_PREFIX, FILES_MESSAGES, MAXPATHLEN } from './save-path.ts';

/** Progress of a GC pass, reported every {@link GC_PROGRESS_EVERY} entries and at the end. */
export interface FilesGcProgress {
  /** Directory entries looked at so far. */
  scanned: number;
  /** Session files deleted (counted as PHP counts them) so far. */
  deleted: number;
  /** True on the last report. */
  done: boolean;
}

export const GC_PROGRESS_EVERY = 10_000;

export interface FilesGcOptions {
  /** Levels of hashed subdirectories to walk (0 = PHP's flat directory). */
  dirDepth?: number;
  /** Current time in ms (PHP uses the wall clock). */
  now?: number;
  onProgress?: (p: FilesGcProgress) => void;
  /** Receives PHP's notices (opendir failure). */
  notice?: (message: string) => void;
}

/** Entries handled between yields to the event loop. */
const GC_BATCH = 512;

/**
 * Deletes `sess_*` entries under `basedir` whose mtime is more than `maxLifetime` seconds old, as
 * ps_files_cleanup_dir() does: the count includes entries whose unlink failed. Streams the
 * directory listing (memory stays flat however many files there are) and yields to the event loop
 * every few hundred entries. Returns -1 when the directory cannot be opened.
 */
export async function collectGarbage(basedir: string, maxLifetime: number, opts: FilesGcOptions = {}): Promise<number> {
  const depth = opts.dirDepth ?? 0;
  if (Buffer.byteLength(basedir) >= MAXPATHLEN) {
    opts.notice?.(FILES_MESSAGES.dirnameTooLong(basedir));
    return -1;
  }
  const nowSec = Math.floor((opts.now ?? Date.now()) / 1000);
  let scanned = 0;
  let deleted = 0;
  const visit = (path: string, name: string): void => {
    scanned++;
    if (!name.startsWith(FILE_PREFIX)) {
      if (name.startsWith(`.${FILE_PREFIX}`) && name.endsWith(JOURNAL_SUFFIX)) removeStaleJournal(path, nowSec, maxLifetime);
      return;
    }
    if (Buffer.byteLength(path) >= MAXPATHLEN) return;
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(path, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (st === undefined) return;
    if (nowSec - Math.floor(st.mtimeMs / 1000) > maxLifetime) {
      try {
        fs.unlinkSync(path);
      } catch {
        // PHP counts the entry even when unlink fails.
      }
      deleted++;
    }
  };
  const tick = async (): Promise<void> => {
    if (scanned % GC_BATCH === 0) await new Promise<void>((r) => setImmediate(r));
    if (scanned % GC_PROGRESS_EVERY === 0) opts.onProgress?.({ scanned, deleted, done: false });
  };

  if (depth === 0) {
    let dir: fs.Dir;
    try {
      dir = await fs.promises.opendir(basedir, { bufferSize: 256 });
    } catch (err) {
      opts.notice?.(FILES_MESSAGES.opendirFailed(basedir, errnoOf(err)));
      return -1;
    }
    for await (const entry of dir) {
      visit(`${basedir}/${entry.name}`, entry.name);
      await tick();
    }
  } else {
    try {
      fs.accessSync(basedir);
    } catch (err) {
      opts.notice?.(FILES_MESSAGES.opendirFailed(basedir, errnoOf(err)));
      return -1;
    }
    // One single-character directory per level, as the path builder makes them.
    const pattern = `${'[0-9A-Za-z,-]/'.repeat(depth)}${FILE_PREFIX}*`;
    const stream = fg.stream(pattern, {
      cwd: basedir,
      onlyFiles: false,
      followSymbolicLinks: false,
      dot: false,
      deep: depth + 1,
      suppressErrors: true,
    });
    for await (const rel of stream) {
      const relPath = String(rel);
      visit(`${basedir}/${relPath}`, relPath.slice(relPath.lastIndexOf('/') + 1));
      await tick();
    }
  }
  opts.onProgress?.({ scanned, deleted, done: true });
  return deleted;
}
