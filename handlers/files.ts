/**
 * @module handlers/files
 * The `files` save handler: PHP 8.2's mod_files (ext/session/mod_files.c, php-src 8.2.32), ported.
 *
 * Same bytes and places on disk as PHP: `session.save_path` as `[N;[MODE;]]DIR`, one directory level
 * per leading id character, `sess_<id>` files created at read time with O_CREAT|O_RDWR|O_NOFOLLOW and
 * the configured mode, rewritten on the same inode (PHP 8.2.36: truncated to 0, then written from
 * offset 0; here that too, or, where a kill cannot leave worse than the old or the new data whole,
 * one pwrite of the changed bytes: handlers/files/in-place.ts), an exclusive lock
 * from read to close that PHP's own flock(LOCK_EX) honours, and GC by mtime. Warning texts are PHP's.
 *
 * Differences, all on the safe side: the id is checked against PHP's character set before *every*
 * path is built (PHP skips the check in destroy/validate/update_timestamp), timestamps are updated
 * with lutimes (never through a symlink), and lock waits never block a thread (see handlers/files/locks.ts).
 *
 * Library directives (php.ini): `session_engine.files_lock` (flock|lockfile|none),
 * `session_engine.files_lock_timeout` (ms, 0 = wait forever), `session_engine.files_gc_hashed`,
 * `session_engine.files_journal` (0|1, see {@link FilesSaveHandler} and README "Guarantees").
 */
import * as fs from 'node:fs';
import type { SaveHandler, SaveHandlerContext, SaveHandlerModule } from '../lib/handler.ts';
import { LockTimeoutError } from '../lib/errors.ts';
import { fmt, MSG } from '../lib/messages.ts';
import { iniScope, type IniScope } from '../lib/ini/scope.ts';
import { checkOpenBasedir, errnoOf, phpSessionValidKey } from '../lib/zend/index.ts';
import { collectGarbage, type FilesGcOptions, type FilesGcProgress } from './files/gc.ts';
import { fileIdentity, journalBytes, journalPathFor, parseJournal, readJournal, unlinkQuietly, writeAll } from './files/journal.ts';
import { FILES_INI, lockModeOf } from './files/ini.ts';
import { IN_PLACE_KERNEL, inPlaceWrite, overlaps, type InPlaceWrite } from './files/in-place.ts';
import { closeThenRelease, io } from './files/io.ts';
import { acquireSessionLockFast, type FilesLockMode, type HeldLock } from './files/locks.ts';
import { asyncTruncateTook, slowIo, syncTruncateTook } from './files/slow-io.ts';
import { FILES_MESSAGES, parseFilesSavePath, phpTempDir, sessionFilePath, type FilesSavePath } from './files/save-path.ts';

export { collectGarbage, GC_PROGRESS_EVERY, type FilesGcOptions, type FilesGcProgress } from './files/gc.ts';
export { FILES_INI } from './files/ini.ts';
export { journalPathFor } from './files/journal.ts';
export { FILES_MESSAGES, isValidSessionKey, parseFilesSavePath, phpTempDir, sessionFilePath, type FilesSavePath } from './files/save-path.ts';

const { O_CREAT, O_RDWR, O_NOFOLLOW, O_WRONLY, O_TRUNC } = fs.constants;

/**
 * Session files this process holds open (and locked) now, over all handlers: when another one is
 * open, ftruncate and close of a data file are made on the thread pool (handlers/files/io.ts).
 */
let openDataFiles = 0;

let lastLockMode: { raw: string | undefined; mode: FilesLockMode } = { raw: 'flock', mode: 'flock' };
let lastLockTimeout: { raw: string | undefined; ms: number } = { raw: '0', ms: 0 };
/** The last non-empty save_path parsed (the configured one, nearly always) and its parse. */
let lastSavePath: { raw: string; parsed: FilesSavePath | { error: string } } | undefined;

/** Options of {@link createFilesModule} that cannot be expressed as ini values. */
export interface FilesModuleOptions {
  /** Called during GC with progress counts. */
  onGcProgress?: (p: FilesGcProgress) => void;
  /** Called when a read completed a write that a crashed writer left in its journal. */
  onJournalRecovered?: (info: { path: string; bytes: number }) => void;
}

/** One open `files` storage (PHP's ps_files struct plus the held lock). */
export class FilesSaveHandler implements SaveHandler {
  readonly name = 'files';
  readonly #ctx: SaveHandlerContext;
  /** The request's ini values, read with PHP's rules (OnUpdateBool, atol). */
  readonly #ini: IniScope;
  readonly #options: FilesModuleOptions;
  #opened = false;
  #fd = -1;
  #lastKey: string | null = null;
  #basedir = '';
  #dirDepth = 0;
  #fileMode = 0o600;
  #lock: HeldLock | null = null;
  /** The raw save_path given to open(), for the read-failure warning on a lock timeout. */
  #savePath = '';
  /** Path of the open data file (for its journal). */
  #path = '';
  /** The session is locked (files_lock flock or lockfile): nobody that honours the lock writes it. */
  #locking = false;
  /**
   * What the open file holds, as read() returned it under the lock, with the ctime it had then;
   * null after a write, or when unknown. The bytes are shared with read()'s caller, which must not
   * change them (the engine never does).
   */
  #known: Uint8Array | null = null;
  #knownCtimeMs = 0;
  /** This descriptor truncated the file: its close may start writeback (ext4 auto_da_alloc). */
  #truncated = false;

  constructor(ctx: SaveHandlerContext, options: FilesModuleOptions = {}) {
    this.#ctx = ctx;
    this.#ini = iniScope(ctx);
    this.#options = options;
  }

  /** Port of PS_OPEN_FUNC(files): parses the save path; nothing on disk is touched yet. */
  open(savePath: string): boolean | Promise<boolean> {
    // An empty save_path means the temporary directory, which open_basedir must allow (a given
    // save_path was checked when it was set at run time, and not at all when set at startup).
    if (savePath === '') {
      const openBasedir = this.#ctx.ini('open_basedir') ?? '';
      const tmp = phpTempDir(this.#ctx.ini('sys_temp_dir'));
      if (!checkOpenBasedir(tmp, openBasedir, (m) => this.#ctx.diagnostic('E_WARNING', m))) return false;
    }
    let parsed: FilesSavePath | { error: string };
    if (savePath !== '' && lastSavePath?.raw === savePath) {
      parsed = lastSavePath.parsed;
    } else {
      // An empty path depends on sys_temp_dir and TMPDIR: parsed every time.
      parsed = parseFilesSavePath(savePath, this.#ini.string('sys_temp_dir'));
      if (savePath !== '') lastSavePath = { raw: savePath, parsed };
    }
    if ('error' in parsed) {
      this.#ctx.diagnostic('E_WARNING', parsed.error, true);
      return false;
    }
    if (this.#opened) {
      let closing: void | Promise<void>;
      try {
        closing = this.#closeFile();
      } catch (err) {
        return Promise.reject(err);
      }
      if (closing !== undefined) return closing.then(() => this.#useSavePath(savePath, parsed));
    }
    return this.#useSavePath(savePath, parsed);
  }

  #useSavePath(savePath: string, parsed: FilesSavePath): boolean {
    this.#opened = true;
    this.#savePath = savePath;
    this.#lastKey = null;
    this.#basedir = parsed.basedir;
    this.#dirDepth = parsed.dirDepth;
    this.#fileMode = parsed.fileMode;
    return true;
  }

  /** Port of PS_CLOSE_FUNC(files): releases the lock and the descriptor. */
  close(): boolean | Promise<boolean> {
    let closing: void | Promise<void>;
    try {
      closing = this.#closeFile();
    } catch (err) {
      return Promise.reject(err);
    }
    if (closing !== undefined) return closing.then(() => this.#closed());
    return this.#closed();
  }

  #closed(): boolean {
    this.#lastKey = null;
    this.#opened = false;
    return true;
  }

  /** Port of PS_READ_FUNC(files): opens (creating it) and locks the file, then reads it whole. */
  read(id: string): Uint8Array | false | Promise<Uint8Array | false> {
    let opened: boolean | Promise<boolean>;
    try {
      opened = this.#openFile(id);
    } catch (err) {
      return Promise.reject(err);
    }
    if (opened === true) return this.#readOpen();
    if (opened === false) return false;
    return opened.then(
      (ok) => (ok ? this.#readOpen() : false),
      (err: unknown) => {
        if (err instanceof LockTimeoutError) {
          // The engine stays silent when a handler throws; a lock timeout is still PHP's read
          // failure, so its warning is given here, then the typed error goes up to the caller.
          this.#ctx.diagnostic('E_WARNING', fmt(MSG.READ_FAILED, this.name, this.#savePath));
        }
        throw err;
      },
    );
  }

  /** The rest of PS_READ_FUNC(files), once the file is open and locked. */
  #readOpen(): Uint8Array | false {
    const fd = this.#fd;
    this.#known = null;
    if (this.#ini.bool('session_engine.files_journal', false) && !this.#recover(fd)) return false;
    let size: number;
    let ctimeMs: number;
    try {
      ({ size, ctimeMs } = io.fstat(fd));
    } catch {
      return false;
    }
    if (size === 0) return this.#read(new Uint8Array(0), ctimeMs);
    const buf = Buffer.allocUnsafe(size);
    let n: number;
    try {
      n = io.read(fd, buf, size);
    } catch (err) {
      this.#ctx.diagnostic('E_WARNING', FILES_MESSAGES.readFailed(errnoOf(err)));
      return false;
    }
    if (n !== size) {
      this.#ctx.diagnostic('E_WARNING', FILES_MESSAGES.SHORT_READ);
      return false;
    }
    return this.#read(new Uint8Array(buf.buffer, buf.byteOffset, size), ctimeMs);
  }

  /** read()'s result, kept as what the file holds while the session is locked. */
  #read(bytes: Uint8Array, ctimeMs: number): Uint8Array {
    if (this.#locking) {
      this.#known = bytes;
      this.#knownCtimeMs = ctimeMs;
    }
    return bytes;
  }

  /**
   * Journal recovery, with the session locked and open at `fd`: a journal left by a writer that
   * died is completed when the file is still in a state that writer's truncate-then-write can
   * leave (same inode, content a strict prefix of the journal's data, empty included), and dropped
   * otherwise (the write finished, or someone wrote or recreated the file since). False, after
   * PHP's write-failure warning, only when a needed repair could not be written.
   */
  #recover(fd: number): boolean {
    const jpath = journalPathFor(this.#path);
    let raw: Buffer | null;
    try {
      raw = readJournal(jpath);
    } catch {
      raw = Buffer.alloc(0);
    }
    if (raw === null) return true;
    const journal = parseJournal(raw);
    if (journal !== null) {
      const st = fs.fstatSync(fd, { bigint: true });
      const size = Number(st.size);
      if (fileIdentity(st) === journal.file && size < journal.data.length) {
        const current = Buffer.allocUnsafe(size);
        const n = size === 0 ? 0 : fs.readSync(fd, current, 0, size, 0);
        if (n === size && journal.data.subarray(0, size).equals(current)) {
          try {
            this.#truncated = true;
            io.ftruncate(fd, 0);
            writeAll(fd, journal.data);
          } catch (err) {
            this.#ctx.diagnostic('E_WARNING', FILES_MESSAGES.writeFailed(errnoOf(err)));
            return false;
          }
          this.#options.onJournalRecovered?.({ path: this.#path, bytes: journal.data.length });
        }
      }
    }
    unlinkQuietly(jpath);
    return true;
  }

  /** Port of PS_WRITE_FUNC(files). */
  write(id: string, data: Uint8Array): boolean | Promise<boolean> {
    try {
      return this.#writeFile(id, data);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Port of PS_UPDATE_TIMESTAMP_FUNC(files): touch the file; write it when that fails. */
  async updateTimestamp(id: string, data: Uint8Array): Promise<boolean> {
    const path = this.#pathFor(id, false);
    if (path === null) return false;
    try {
      const now = new Date();
      await io.lutimes(path, now, now);
      return true;
    } catch {
      return this.#writeFile(id, data);
    }
  }

  /**
   * Port of PS_DESTROY_FUNC(files). As in PHP, the file is only removed when this handler has a
   * descriptor open (any id); the descriptor is closed first, which drops the lock.
   */
  async destroy(id: string): Promise<boolean> {
    const path = this.#pathFor(id, false);
    if (path === null) return false;
    if (this.#fd !== -1) {
      await this.#closeFile();
      try {
        await io.unlink(path);
      } catch {
        // A regenerated id may never have been written; only a file that is still there is a failure.
        if (fs.existsSync(path)) return false;
      }
      if (this.#ini.bool('session_engine.files_journal', false)) unlinkQuietly(journalPathFor(path));
    }
    return true;
  }

  /**
   * Port of PS_GC_FUNC(files): PHP collects only a flat save path (dirdepth 0) and returns -1
   * otherwise; `session_engine.files_gc_hashed=1` walks hashed trees too.
   */
  async gc(maxLifetime: number): Promise<number> {
    const hashed = this.#dirDepth !== 0;
    if (hashed && (!this.#ini.bool('session_engine.files_gc_hashed', false) || !Number.isFinite(this.#dirDepth))) {
      return -1;
    }
    const gcOpts: FilesGcOptions = {
      dirDepth: this.#dirDepth,
      now: this.#ctx.now(),
      notice: (m) => this.#ctx.diagnostic('E_NOTICE', m),
    };
    if (this.#options.onGcProgress !== undefined) gcOpts.onProgress = this.#options.onGcProgress;
    return collectGarbage(this.#basedir, maxLifetime, gcOpts);
  }

  /** Port of PS_CREATE_SID_FUNC(files): new ids until one has no file (four tries). */
  async createSid(): Promise<string | null> {
    let maxFail = 3;
    for (;;) {
      const sid = this.#ctx.createId();
      if (!(await this.#keyExists(sid))) return sid;
      if (--maxFail < 0) return null;
    }
  }

  /** Port of PS_VALIDATE_SID_FUNC(files): the session file exists. */
  async validateSid(id: string): Promise<boolean> {
    return this.#keyExists(id);
  }

  async #keyExists(id: string): Promise<boolean> {
    const path = this.#pathFor(id, false);
    if (path === null) return false;
    try {
      await io.stat(path);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The file path for `id`, after PHP's id check (which PHP only makes when opening the data file;
   * we make it everywhere, so no path is ever built from a hostile id). Warns as PHP does when
   * `warn` is set.
   */
  #pathFor(id: string, warn: boolean): string | null {
    // An id may hold a NUL byte (session_id("abc\0def")). PHP checks the key as a C string (up to
    // the NUL), sizes the path with the whole id, and open(2) sees the path up to the NUL: the
    // file is sess_abc.
    const nul = id.indexOf('\0');
    if (!phpSessionValidKey(id)) {
      if (warn) this.#ctx.diagnostic('E_WARNING', FILES_MESSAGES.ILLEGAL_ID);
      return null;
    }
    const path = sessionFilePath(this.#basedir, this.#dirDepth, id);
    if (path === null && warn) this.#ctx.diagnostic('E_WARNING', FILES_MESSAGES.PATH_CREATE_FAILED);
    if (path === null || nul < 0) return path;
    return path.slice(0, path.indexOf('\0'));
  }

  /**
   * Port of ps_files_open(): (re)opens and locks the file for `id` unless it is already open.
   * A plain boolean when nothing had to wait (the usual case), else a promise.
   */
  #openFile(id: string): boolean | Promise<boolean> {
    if (this.#fd >= 0 && this.#lastKey === id) return true;
    this.#lastKey = null;
    const closing = this.#closeFile();
    if (closing !== undefined) return closing.then(() => this.#openFresh(id));
    return this.#openFresh(id);
  }

  #openFresh(id: string): boolean | Promise<boolean> {
    const path = this.#pathFor(id, true);
    if (path === null) return false;
    this.#lastKey = id;
    this.#path = path;
    let fd: number;
    try {
      fd = io.open(path, O_CREAT | O_RDWR | O_NOFOLLOW, this.#fileMode);
    } catch (err) {
      this.#ctx.diagnostic('E_WARNING', FILES_MESSAGES.openFailed(path, errnoOf(err)));
      return false;
    }
    // Refuse files owned by another user (another web application's sessions), unless root.
    let owner: number;
    try {
      owner = io.fstat(fd).uid;
    } catch {
      owner = -1;
    }
    if (owner === -1 || (owner !== 0 && notOurs(owner))) {
      io.close(fd);
      this.#ctx.diagnostic('E_WARNING', FILES_MESSAGES.NOT_YOUR_UID);
      return false;
    }
    const mode = this.#lockMode();
    let lock: HeldLock | Promise<HeldLock>;
    try {
      lock = acquireSessionLockFast(mode, path, fd, { id, timeoutMs: this.#lockTimeout() });
    } catch (err) {
      this.#lockFailed(fd);
      throw err;
    }
    const locking = mode !== 'none';
    if (!(lock instanceof Promise)) return this.#locked(fd, lock, locking);
    return lock.then(
      (held) => this.#locked(fd, held, locking),
      (err: unknown) => {
        this.#lockFailed(fd);
        throw err;
      },
    );
  }

  #locked(fd: number, lock: HeldLock, locking: boolean): true {
    this.#lock = lock;
    this.#fd = fd;
    this.#locking = locking;
    openDataFiles++;
    return true;
  }

  #lockFailed(fd: number): void {
    io.close(fd);
    this.#lastKey = null;
  }

  /** session_engine.files_lock (the last raw value's parse is kept: it rarely changes). */
  #lockMode(): FilesLockMode {
    const raw = this.#ini.string('session_engine.files_lock');
    if (raw !== lastLockMode.raw) lastLockMode = { raw, mode: lockModeOf(raw) };
    return lastLockMode.mode;
  }

  /** session_engine.files_lock_timeout in ms (0 = wait forever), the last raw value's parse kept. */
  #lockTimeout(): number {
    const raw = this.#ini.string('session_engine.files_lock_timeout');
    if (raw !== lastLockTimeout.raw) lastLockTimeout = { raw, ms: Number(this.#ini.atol('session_engine.files_lock_timeout', 0n)) };
    return lastLockTimeout.ms;
  }

  /**
   * Port of ps_files_close(): drops the lock, then the descriptor. Undefined when done at once,
   * a promise when the close went to the thread pool or the lock release waits.
   */
  #closeFile(): void | Promise<void> {
    const lock = this.#lock;
    const fd = this.#fd;
    const truncated = this.#truncated;
    this.#lock = null;
    this.#fd = -1;
    this.#known = null;
    this.#truncated = false;
    if (fd !== -1) {
      // Close first: the kernel drops the flock with the last descriptor, then in-process
      // waiters are woken by release(). Only a descriptor that truncated the file can make close
      // wait (ext4 starts the writeback of a truncated-and-rewritten file there).
      openDataFiles--;
      if (truncated && (openDataFiles > 0 || slowIo())) return closeThenRelease(fd, lock);
      try {
        io.close(fd);
      } catch {
        // Nothing more can be done about a descriptor that will not close.
      }
    }
    if (lock !== null) return lock.release();
  }

  /** Port of ps_files_write(). */
  #writeFile(id: string, data: Uint8Array): boolean | Promise<boolean> {
    const opened = this.#openFile(id);
    if (opened === true) return this.#writeOpen(data);
    if (opened === false) return false;
    return opened.then((ok) => (ok ? this.#writeOpen(data) : false));
  }

  #writeOpen(data: Uint8Array): boolean | Promise<boolean> {
    const known = this.#known;
    this.#known = null;
    if (known !== null && IN_PLACE_KERNEL) {
      // One write of the changed bytes, when a kill cannot leave worse than the old data or the
      // new data whole (handlers/files/in-place.ts). No journal is needed for it either.
      const range = this.#inPlace(known, data);
      if (range !== null) return this.#pwrite(this.#fd, data, range.start, range.end);
    }
    if (!this.#ini.bool('session_engine.files_journal', false)) return this.#truncateWrite(data);
    // Journal first (complete and checksummed before the session file is touched), then PHP's
    // truncate-and-write on the session file, then the journal goes. A crash in between leaves a
    // journal the next journaling reader completes or drops (#recover).
    const jpath = journalPathFor(this.#path);
    try {
      const bytes = journalBytes(this.#fd, data);
      const jfd = fs.openSync(jpath, O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW, this.#fileMode);
      try {
        writeAll(jfd, bytes);
      } finally {
        fs.closeSync(jfd);
      }
    } catch (err) {
      // The session file is untouched: the write fails loudly, the old data stays.
      this.#ctx.diagnostic('E_WARNING', FILES_MESSAGES.writeFailed(errnoOf(err)));
      return false;
    }
    const done = (ok: boolean): boolean => {
      // A failed write keeps its journal: the next journaling reader completes it.
      if (ok) unlinkQuietly(jpath);
      return ok;
    };
    const written = this.#truncateWrite(data);
    return typeof written === 'boolean' ? done(written) : written.then(done);
  }

  /**
   * The in-place write for `data` over the `known` bytes read under the lock, or null for PHP's
   * truncate-then-write. The file must still be as read: a writer that ignores the lock (files_lock
   * none elsewhere, a lock directory taken over as stale) shows as a changed size or ctime.
   */
  #inPlace(known: Uint8Array, data: Uint8Array): InPlaceWrite | null {
    // The caller handing back the very bytes read may have changed them: they prove nothing.
    if (overlaps(known, data)) return null;
    const range = inPlaceWrite(known, data);
    if (range === null) return null;
    let st: fs.Stats;
    try {
      st = io.fstat(this.#fd);
    } catch {
      return null;
    }
    return st.size === known.length && st.ctimeMs === this.#knownCtimeMs ? range : null;
  }

  #truncateWrite(data: Uint8Array): boolean | Promise<boolean> {
    const fd = this.#fd;
    this.#truncated = true;
    // The PHP we test against (8.2.36) empties the file before every write, whatever the sizes
    // (8.2.32's source only did so when the data shrank); strace shows ftruncate(fd, 0) + pwrite.
    const t0 = performance.now();
    if (openDataFiles > 1 || slowIo()) {
      // PHP ignores the result of ftruncate too.
      const truncated = (): boolean => {
        asyncTruncateTook(performance.now() - t0);
        return this.#pwrite(fd, data, 0, data.length);
      };
      return io.ftruncateAsync(fd, 0).then(truncated, truncated);
    }
    try {
      io.ftruncate(fd, 0);
    } catch {
      // PHP ignores the result of ftruncate too.
    }
    syncTruncateTook(performance.now() - t0);
    return this.#pwrite(fd, data, 0, data.length);
  }

  /** pwrite of data[start, end) at offset start, with PHP's warnings. */
  #pwrite(fd: number, data: Uint8Array, start: number, end: number): boolean {
    let n: number;
    try {
      n = io.write(fd, data, start, end);
    } catch (err) {
      this.#ctx.diagnostic('E_WARNING', FILES_MESSAGES.writeFailed(errnoOf(err)));
      return false;
    }
    if (n !== end - start) {
      this.#ctx.diagnostic('E_WARNING', FILES_MESSAGES.SHORT_WRITE);
      return false;
    }
    return true;
  }
}

/** The owner check's uid part, evaluated in PHP's order (geteuid only when needed). */
function notOurs(owner: number): boolean {
  const uid = process.getuid?.() ?? 0;
  return owner !== uid && owner !== (process.geteuid?.() ?? 0) && uid !== 0;
}

/** Builds a `files` module; use it to pass a GC progress callback. */
export function createFilesModule(options: FilesModuleOptions = {}): SaveHandlerModule {
  return {
    name: 'files',
    ini: FILES_INI,
    create: (ctx) => new FilesSaveHandler(ctx, options),
  };
}

/** The `files` save handler module, as registered under `session.save_handler = files`. */
export const filesModule: SaveHandlerModule = createFilesModule();
