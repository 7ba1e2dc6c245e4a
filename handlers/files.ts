/**
 * @module handlers/files
 * The `files` save handler: PHP 8.2's mod_files (ext/session/mod_files.c, php-src 8.2.32), ported.
 *
 * Same bytes and places on disk as PHP: `session.save_path` as `[N;[MODE;]]DIR`, one directory level
 * per leading id character, `sess_<id>` files created at read time with O_CREAT|O_RDWR|O_NOFOLLOW and
 * the configured mode, written in place (truncated to 0, then written from offset 0), an exclusive lock
 * from read to close that PHP's own flock(LOCK_EX) honours, and GC by mtime. Warning texts are PHP's.
 *
 * Differences, all on the safe side: the id is checked against PHP's character set before *every*
 * path is built (PHP skips the check in destroy/validate/update_timestamp), timestamps are updated
 * with lutimes (never through a symlink), and lock waits never block a thread (see lib/locks.ts).
 *
 * Library directives (php.ini): `session_engine.files_lock` (flock|lockfile|none),
 * `session_engine.files_lock_timeout` (ms, 0 = wait forever), `session_engine.files_gc_hashed`,
 * `session_engine.files_journal` (0|1, see {@link FilesSaveHandler} and README "Guarantees").
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import fg from 'fast-glob';
import type { SaveHandler, SaveHandlerContext, SaveHandlerModule, ModuleIniEntry } from '../lib/handler.ts';
import { LockTimeoutError } from '../lib/errors.ts';
import { fmt, MSG } from '../lib/messages.ts';
import { acquireSessionLockFast, FILES_LOCK_MODES, type FilesLockMode, type HeldLock } from '../lib/locks.ts';
import { cStrtol, errnoOf, phpSessionValidKey, zendIniParseBool, type Errno } from '../lib/zend/index.ts';

/** PHP's MAXPATHLEN on Linux. */
const MAXPATHLEN = 4096;
const FILE_PREFIX = 'sess_';

const { O_CREAT, O_RDWR, O_NOFOLLOW, O_RDONLY, O_WRONLY, O_TRUNC } = fs.constants;

/**
 * The data file's syscalls, made synchronously as PHP makes them. Measured on this project's
 * machine (bench/files.ts), one thread-pool hop per call cost more than the calls themselves when
 * nothing else is going on: sync I/O ran ~2x faster sequentially than callback fs. The two slow
 * ones, ftruncate (ext4 truncation, which can wait for the journal or for writeback of the
 * previous write) and close (which starts that writeback after a truncate-and-rewrite), go to the
 * thread pool when other session files are open in this process at the time: the event loop then
 * serves the other requests while the call waits, instead of stalling all of them. Same calls,
 * same order, same arguments either way. Lock *waits* never block: they are timers (lib/locks.ts).
 */
const io = {
  open: (p: string, flags: number, mode: number): number => fs.openSync(p, flags, mode),
  fstat: (fd: number): fs.Stats => fs.fstatSync(fd),
  read: (fd: number, buf: Buffer, len: number): number => fs.readSync(fd, buf, 0, len, 0),
  write: (fd: number, data: Uint8Array): number => fs.writeSync(fd, data, 0, data.length, 0),
  ftruncate: (fd: number, len: number): void => fs.ftruncateSync(fd, len),
  ftruncateAsync: (fd: number, len: number): Promise<void> =>
    new Promise((resolve, reject) => fs.ftruncate(fd, len, (err) => (err === null ? resolve() : reject(err)))),
  close: (fd: number): void => fs.closeSync(fd),
  closeAsync: (fd: number): Promise<void> =>
    new Promise((resolve, reject) => fs.close(fd, (err) => (err === null ? resolve() : reject(err)))),
  stat: (p: string): fs.Stats => fs.statSync(p),
  lutimes: (p: string, a: Date, m: Date): void => fs.lutimesSync(p, a, m),
  unlink: (p: string): void => fs.unlinkSync(p),
};

/**
 * Session files this process holds open (and locked) now, over all handlers: when another one is
 * open, ftruncate and close of a data file are made on the thread pool (see `io`).
 */
let openDataFiles = 0;

/** Warning texts, byte-identical to mod_files.c's. */
export const FILES_MESSAGES = {
  FIRST_PARAM_INVALID: 'The first parameter in session.save_path is invalid',
  SECOND_PARAM_INVALID: 'The second parameter in session.save_path is invalid',
  ILLEGAL_ID:
    'Session ID is too long or contains illegal characters. Only the A-Z, a-z, 0-9, "-", and "," characters are allowed',
  PATH_CREATE_FAILED: `Failed to create session data file path. Too short session ID, invalid save_path or path length exceeds ${MAXPATHLEN} characters`,
  NOT_YOUR_UID: 'Session data file is not created by your uid',
  SHORT_READ: 'Read returned less bytes than requested',
  SHORT_WRITE: 'Write wrote less bytes than requested',
  openFailed: (path: string, e: Errno) => `open(${path}, O_RDWR) failed: ${e.text} (${e.errno})`,
  readFailed: (e: Errno) => `Read failed: ${e.text} (${e.errno})`,
  writeFailed: (e: Errno) => `Write failed: ${e.text} (${e.errno})`,
  opendirFailed: (dir: string, e: Errno) => `ps_files_cleanup_dir: opendir(${dir}) failed: ${e.text} (${e.errno})`,
  dirnameTooLong: (dir: string) => `ps_files_cleanup_dir: dirname(${dir}) is too long`,
} as const;

/** Result of parsing `session.save_path` (PS_OPEN_FUNC(files)). */
export interface FilesSavePath {
  /** Directory levels; Infinity stands for PHP's wrapped negative depth (every path build fails). */
  dirDepth: number;
  fileMode: number;
  basedir: string;
}

/** The temporary directory PHP uses for an empty save_path (php_get_temporary_directory). */
export function phpTempDir(sysTempDir: string | undefined): string {
  if (sysTempDir !== undefined && sysTempDir.length >= 1) {
    if (sysTempDir.length >= 2 && sysTempDir.endsWith('/')) return sysTempDir.slice(0, -1);
    if (!sysTempDir.endsWith('/')) return sysTempDir;
  }
  const env = process.env['TMPDIR'];
  if (env !== undefined && env !== '') return env.endsWith('/') ? env.slice(0, -1) : env;
  return '/tmp';
}

/**
 * Parses a files save_path as PHP does: `DIR`, `N;DIR` or `N;MODE;DIR` (the directory keeps any
 * further `;`). Returns the warning text PHP gives for an invalid N or MODE.
 */
export function parseFilesSavePath(savePath: string, sysTempDir?: string): FilesSavePath | { error: string } {
  const raw = savePath === '' ? phpTempDir(sysTempDir) : savePath;
  const parts: string[] = [];
  let rest = raw;
  let semi = rest.indexOf(';');
  while (semi >= 0 && parts.length < 2) {
    parts.push(rest.slice(0, semi));
    rest = rest.slice(semi + 1);
    semi = parts.length < 2 ? rest.indexOf(';') : -1;
  }
  parts.push(rest);
  let dirDepth = 0;
  let fileMode = 0o600;
  if (parts.length > 1) {
    const { value: d, erange: dErange } = cStrtol(parts[0]!, 10);
    if (dErange) return { error: FILES_MESSAGES.FIRST_PARAM_INVALID };
    // PHP casts to size_t: a negative depth becomes huge, so no path can ever be built.
    dirDepth = d < 0n ? Infinity : d > BigInt(MAXPATHLEN) ? Infinity : Number(d);
  }
  if (parts.length > 2) {
    const { value: m, erange: mErange } = cStrtol(parts[1]!, 8);
    if (mErange) return { error: FILES_MESSAGES.SECOND_PARAM_INVALID };
    const asInt = BigInt.asIntN(32, m); // PHP stores it in an int
    if (asInt < 0n || asInt > 0o7777n) return { error: FILES_MESSAGES.SECOND_PARAM_INVALID };
    fileMode = Number(asInt);
  }
  return { dirDepth, fileMode, basedir: parts[parts.length - 1]! };
}

/** php_session_valid_key() (one implementation, in lib/zend). */
export const isValidSessionKey = phpSessionValidKey;

/**
 * `<basedir>/<id[0]>/…/<id[N-1]>/sess_<id>`, or null when PHP's ps_files_path_create would fail
 * (id not longer than the depth, or the path would not fit MAXPATHLEN).
 */
export function sessionFilePath(basedir: string, dirDepth: number, id: string): string | null {
  if (id.length <= dirDepth) return null;
  const need = Buffer.byteLength(basedir) + 2 * dirDepth + Buffer.byteLength(id) + 5 + FILE_PREFIX.length + 1;
  if (need > MAXPATHLEN) return null;
  let p = `${basedir}/`;
  for (let i = 0; i < dirDepth; i++) p += `${id[i]}/`;
  return p + FILE_PREFIX + id;
}

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

/**
 * The write journal of `session_engine.files_journal = 1`: `.sess_<id>.journal` next to the
 * session file (a dot name: PHP's GC and ours match `sess_*` only). One header line
 * `PSE-JOURNAL-1 <dev> <ino> <birth time ns> <length> <sha256 hex>` naming the session file (the
 * birth time tells a recreated file that got the same inode number), then the session bytes. Only the holder of the session's lock writes, reads or removes it.
 */
const JOURNAL_SUFFIX = '.journal';
const JOURNAL_MAGIC = 'PSE-JOURNAL-1';

/** `<dir>/.sess_<id>.journal` for `<dir>/sess_<id>`. */
export function journalPathFor(sessionPath: string): string {
  const slash = sessionPath.lastIndexOf('/');
  return `${sessionPath.slice(0, slash + 1)}.${sessionPath.slice(slash + 1)}${JOURNAL_SUFFIX}`;
}

/** A parsed, checksum-verified journal. */
interface Journal {
  /** `<dev> <ino> <birth time ns>` of the session file the journal belongs to. */
  file: string;
  data: Buffer;
}

/** Identity of an open file: device, inode and birth time (0 where the filesystem has none). */
function fileIdentity(st: fs.BigIntStats): string {
  return `${st.dev} ${st.ino} ${st.birthtimeNs}`;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The journal's bytes for `data` about to be written over the file open at `fd`. */
function journalBytes(fd: number, data: Uint8Array): Buffer {
  const st = fs.fstatSync(fd, { bigint: true });
  const header = Buffer.from(`${JOURNAL_MAGIC} ${fileIdentity(st)} ${data.length} ${sha256(data)}\n`, 'latin1');
  return Buffer.concat([header, data]);
}

/** Parses and verifies journal bytes; null when torn or not a journal (a crash while writing it). */
function parseJournal(bytes: Buffer): Journal | null {
  const nl = bytes.indexOf(0x0a);
  if (nl < 0 || nl > 200) return null;
  const m = /^PSE-JOURNAL-1 (\d+ \d+ \d+) (\d+) ([0-9a-f]{64})$/.exec(bytes.toString('latin1', 0, nl));
  if (m === null) return null;
  const data = bytes.subarray(nl + 1);
  if (data.length !== Number(m[2]) || sha256(data) !== m[3]) return null;
  return { file: m[1]!, data };
}

/** Reads a journal without following a symlink; null when there is none. */
function readJournal(path: string): Buffer | null {
  let jfd: number;
  try {
    jfd = fs.openSync(path, O_RDONLY | O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // A symlink or something else that is not ours: not a journal.
    return Buffer.alloc(0);
  }
  try {
    const st = fs.fstatSync(jfd);
    if (!st.isFile()) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = fs.readSync(jfd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    fs.closeSync(jfd);
  }
}

function unlinkQuietly(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // Already gone, or not removable: a journal that does not match is ignored anyway.
  }
}

/** GC of journals left by a crash whose session was never read again by a journaling request. */
function removeStaleJournal(path: string, nowSec: number, maxLifetime: number): void {
  try {
    const st = fs.lstatSync(path);
    if (st.isFile() && nowSec - Math.floor(st.mtimeMs / 1000) > maxLifetime) fs.unlinkSync(path);
  } catch {
    // Gone meanwhile.
  }
}

/** Writes all of `data` at offset 0 (a short write is retried for the rest, as for any file). */
function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off, off);
}

function iniBool(v: string | undefined): boolean {
  return v !== undefined && zendIniParseBool(v);
}

function lockModeOf(v: string | undefined): FilesLockMode {
  const s = (v ?? 'flock').trim().toLowerCase();
  return (FILES_LOCK_MODES as readonly string[]).includes(s) ? (s as FilesLockMode) : 'flock';
}

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

  constructor(ctx: SaveHandlerContext, options: FilesModuleOptions = {}) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /** Port of PS_OPEN_FUNC(files): parses the save path; nothing on disk is touched yet. */
  open(savePath: string): boolean | Promise<boolean> {
    let parsed: FilesSavePath | { error: string };
    if (savePath !== '' && lastSavePath?.raw === savePath) {
      parsed = lastSavePath.parsed;
    } else {
      // An empty path depends on sys_temp_dir and TMPDIR: parsed every time.
      parsed = parseFilesSavePath(savePath, this.#ctx.ini('sys_temp_dir'));
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
    if (iniBool(this.#ctx.ini('session_engine.files_journal')) && !this.#recover(fd)) return false;
    let size: number;
    try {
      size = io.fstat(fd).size;
    } catch {
      return false;
    }
    if (size === 0) return new Uint8Array(0);
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
    return new Uint8Array(buf.buffer, buf.byteOffset, size);
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
      if (iniBool(this.#ctx.ini('session_engine.files_journal'))) unlinkQuietly(journalPathFor(path));
    }
    return true;
  }

  /**
   * Port of PS_GC_FUNC(files): PHP collects only a flat save path (dirdepth 0) and returns -1
   * otherwise; `session_engine.files_gc_hashed=1` walks hashed trees too.
   */
  async gc(maxLifetime: number): Promise<number> {
    const hashed = this.#dirDepth !== 0;
    if (hashed && (!iniBool(this.#ctx.ini('session_engine.files_gc_hashed')) || !Number.isFinite(this.#dirDepth))) {
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
    let lock: HeldLock | Promise<HeldLock>;
    try {
      lock = acquireSessionLockFast(this.#lockMode(), path, fd, { id, timeoutMs: this.#lockTimeout() });
    } catch (err) {
      this.#lockFailed(fd);
      throw err;
    }
    if (!(lock instanceof Promise)) return this.#locked(fd, lock);
    return lock.then(
      (held) => this.#locked(fd, held),
      (err: unknown) => {
        this.#lockFailed(fd);
        throw err;
      },
    );
  }

  #locked(fd: number, lock: HeldLock): true {
    this.#lock = lock;
    this.#fd = fd;
    openDataFiles++;
    return true;
  }

  #lockFailed(fd: number): void {
    io.close(fd);
    this.#lastKey = null;
  }

  /** session_engine.files_lock (the last raw value's parse is kept: it rarely changes). */
  #lockMode(): FilesLockMode {
    const raw = this.#ctx.ini('session_engine.files_lock');
    if (raw !== lastLockMode.raw) lastLockMode = { raw, mode: lockModeOf(raw) };
    return lastLockMode.mode;
  }

  /** session_engine.files_lock_timeout in ms (0 = wait forever), the last raw value's parse kept. */
  #lockTimeout(): number {
    const raw = this.#ctx.ini('session_engine.files_lock_timeout');
    if (raw !== lastLockTimeout.raw) {
      const timeout = Number(raw ?? '0');
      lastLockTimeout = { raw, ms: Number.isFinite(timeout) ? timeout : 0 };
    }
    return lastLockTimeout.ms;
  }

  /**
   * Port of ps_files_close(): drops the lock, then the descriptor. Undefined when done at once,
   * a promise when the close went to the thread pool or the lock release waits.
   */
  #closeFile(): void | Promise<void> {
    const lock = this.#lock;
    const fd = this.#fd;
    this.#lock = null;
    this.#fd = -1;
    if (fd !== -1) {
      // Close first: the kernel drops the flock with the last descriptor, then in-process
      // waiters are woken by release().
      if (--openDataFiles > 0) return closeThenRelease(fd, lock);
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
    if (!iniBool(this.#ctx.ini('session_engine.files_journal'))) return this.#truncateWrite(data);
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

  #truncateWrite(data: Uint8Array): boolean | Promise<boolean> {
    const fd = this.#fd;
    // The PHP we test against (8.2.36) empties the file before every write, whatever the sizes
    // (8.2.32's source only did so when the data shrank); strace shows ftruncate(fd, 0) + pwrite.
    if (openDataFiles > 1) {
      return io.ftruncateAsync(fd, 0).then(
        () => this.#pwrite(fd, data),
        // PHP ignores the result of ftruncate too.
        () => this.#pwrite(fd, data),
      );
    }
    try {
      io.ftruncate(fd, 0);
    } catch {
      // PHP ignores the result of ftruncate too.
    }
    return this.#pwrite(fd, data);
  }

  #pwrite(fd: number, data: Uint8Array): boolean {
    let n: number;
    try {
      n = io.write(fd, data);
    } catch (err) {
      this.#ctx.diagnostic('E_WARNING', FILES_MESSAGES.writeFailed(errnoOf(err)));
      return false;
    }
    if (n !== data.length) {
      this.#ctx.diagnostic('E_WARNING', FILES_MESSAGES.SHORT_WRITE);
      return false;
    }
    return true;
  }
}

/** ps_files_close() when other session files are open: close on the thread pool, then release. */
async function closeThenRelease(fd: number, lock: HeldLock | null): Promise<void> {
  try {
    await io.closeAsync(fd);
  } catch {
    // Nothing more can be done about a descriptor that will not close.
  }
  if (lock !== null) await lock.release();
}

/** The owner check's uid part, evaluated in PHP's order (geteuid only when needed). */
function notOurs(owner: number): boolean {
  const uid = process.getuid?.() ?? 0;
  return owner !== uid && owner !== (process.geteuid?.() ?? 0) && uid !== 0;
}

function validateLockMode(v: string): string | undefined {
  return (FILES_LOCK_MODES as readonly string[]).includes(v.trim().toLowerCase())
    ? undefined
    : `session_engine.files_lock must be one of ${FILES_LOCK_MODES.join(', ')}; "${v}" given`;
}

function validateLockTimeout(v: string): string | undefined {
  return /^\s*\d+\s*$/.test(v) ? undefined : `session_engine.files_lock_timeout must be a number of milliseconds (0 = wait forever); "${v}" given`;
}

/** This module's ini directives (see php.ini.sample). */
export const FILES_INI: readonly ModuleIniEntry[] = [
  { name: 'session_engine.files_lock', default: 'flock', changeable: 'PHP_INI_ALL', validate: validateLockMode },
  { name: 'session_engine.files_lock_timeout', default: '0', changeable: 'PHP_INI_ALL', validate: validateLockTimeout },
  { name: 'session_engine.files_gc_hashed', default: '0', changeable: 'PHP_INI_ALL' },
  { name: 'session_engine.files_journal', default: '0', changeable: 'PHP_INI_ALL' },
];

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
