/**
 * @module msession/stores/files
 * Enumeration for `session.save_handler = files`: the save path's tree as PHP lays it out
 * (`N;DIR`: N levels of one-character directories), streamed with `opendir` (one directory handle
 * per level open at a time, so memory stays flat whatever the count). Only regular files named
 * `sess_<id>` with a valid id in the directory its id hashes to are sessions; symlinks (to files or
 * directories) are never followed, and nothing outside the save path is opened.
 */
import { closeSync, constants, fstatSync, opendirSync, openSync, promises as fsp, readSync, type Dir, type Dirent } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import type { SaveHandlerContext } from '../../lib/handler.ts';
import { isValidSessionKey, parseFilesSavePath, sessionFilePath } from '../../handlers/files.ts';
import { MsessionError, checkAborted } from '../errors.ts';
import { passesLatin1, type CandidateFilter } from '../prefilter.ts';
import { FileReaderPool, ReaderGone } from './files-reader.ts';
import { PREFILTERED, type LockInfo, type PeekResult, type ScanOptions, type SessionStore } from './types.ts';

/** glibc's gnu_dev_major / gnu_dev_minor: the numbers /proc/locks prints (in hex). */
function devParts(dev: number): [number, number] {
  const d = BigInt(dev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return [major, minor];
}

/** The flock(2) holders and waiters of a file, read from Linux's /proc/locks. */
export async function flockHolders(dev: number, ino: number): Promise<LockInfo> {
  let text: string;
  try {
    text = await fsp.readFile('/proc/locks', 'latin1');
  } catch (e) {
    throw new MsessionError('ERR_MSESSION_CANNOT_ENUMERATE', `msession: cannot read /proc/locks to see who holds a flock (${(e as NodeJS.ErrnoException).code ?? String(e)}; Linux only)`);
  }
  const [major, minor] = devParts(dev);
  const pids: number[] = [];
  let waiting = 0;
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(->\s+)?FLOCK\s+\S+\s+\S+\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (m === null || Number(m[5]) !== ino || parseInt(m[3]!, 16) !== major || parseInt(m[4]!, 16) !== minor) continue;
    if (m[1] !== undefined) waiting++;
    else pids.push(Number(m[2]));
  }
  return { locked: pids.length > 0, pids, waiting };
}

const PREFIX = 'sess_';
const PLAIN_OPEN = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const SCRATCH_BYTES = 64 * 1024;
const NOATIME_OPEN = PLAIN_OPEN | (constants.O_NOATIME ?? 0);
/** Ids per batch of idBatches(): one await per batch keeps a scan's per-session cost at its syscalls. */
const BATCH = 256;
/** Reader threads started by default (one per idle core, as the load average shows, up to this). */
const DEFAULT_MAX_THREADS = 2;
/**
 * With one reader thread: its unfinished batches beyond which a batch is read on the calling
 * thread, which would otherwise only wait (on 2 cores the two then share the reads).
 */
const THREAD_BACKLOG = 2;
/**
 * Batches a scan lists ahead of the one it decodes (store.readAhead): room for the calling thread
 * to read on while a reader thread's batch is under way, instead of waiting for it (results are
 * still taken in listing order).
 */
const READ_AHEAD = 8;

/** Tuning of a files store's scans (the defaults are what engine.msession() uses). */
export interface FilesStoreOptions {
  /**
   * Reader threads for batch reads (files-reader.ts); 0 reads every file on the calling thread.
   * Default: as a scan's threads would start, the idle CPUs (the CPU count minus the 1-minute
   * load average, rounded down), at most 2, else 0 — on busy cores a thread overlaps nothing and
   * costs CPU. So one on 2 idle cores, where the calling thread reads too (measured faster than
   * two threads there: README, msession Speed); with two, the calling thread only lists and decodes.
   */
  readThreads?: number;
  /** Batches read on the calling thread before the reader threads start (small scans never start them). Default 2. */
  threadsAfter?: number;
  /**
   * Milliseconds without a batch after which the reader threads end (the next scan starts new
   * ones); threads left by a closed store wait this long for the next store's scan. Default 2000.
   */
  threadIdleMs?: number;
}

/** The files store: a SessionStore that also counts the batches its reader threads read. */
export interface FilesStore extends SessionStore {
  /** Batches read on a reader thread so far (the others were read on the calling thread). */
  readonly threadedBatches: number;
  /** Reader threads running now (0 before a scan's third batch, and once they ended idle). */
  readonly readerThreads: number;
  /** The reader threads running now (tests hold them with it), null when none. */
  readonly readerPool: FileReaderPool | null;
}

export function filesStore(savePath: string, ctx: SaveHandlerContext, options: FilesStoreOptions = {}): FilesStore {
  const parsed = parseFilesSavePath(savePath, ctx.ini('sys_temp_dir'));
  if ('error' in parsed) throw new MsessionError('ERR_MSESSION_OPEN', `msession: session.save_path "${savePath}": ${parsed.error}`);
  if (!Number.isFinite(parsed.dirDepth)) throw new MsessionError('ERR_MSESSION_OPEN', `msession: session.save_path "${savePath}": invalid directory depth`);
  const { basedir, dirDepth } = parsed;
  const maxLifetime = (): number => Number(ctx.ini('session.gc_maxlifetime') ?? '1440') || 0;
  const pathOf = (id: string): string => {
    const p = isValidSessionKey(id) ? sessionFilePath(basedir, dirDepth, id) : null;
    if (p === null) throw new MsessionError('ERR_MSESSION_BAD_ID', `msession: the files module rejects session id "${id}"`, { id });
    return p;
  };
  const lstatFile = async (id: string) => {
    try {
      const st = await fsp.lstat(pathOf(id));
      return st.isFile() ? st : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  };

  // A synchronous generator: a scan is a stream of tiny syscalls, and per-id promise hops cost as
  // much as the syscalls (ids() and idBatches() wrap it).
  function* walk(dir: string, level: number, hashed: string, opts: ScanOptions): Generator<string> {
    let handle: Dir;
    try {
      // Synchronous reads of one directory batch at a time: the promise API made scans several
      // times slower (bench/msession.ts).
      handle = opendirSync(dir, { bufferSize: 1024 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A hashed subdirectory that is not there holds no session (PHP creates none either).
      if (level > 0 && (code === 'ENOENT' || code === 'ENOTDIR')) return;
      throw new MsessionError('ERR_MSESSION_SCAN', `msession: cannot read session directory ${dir}: ${code ?? String(e)}`, { cause: e });
    }
    try {
      for (;;) {
        let ent: Dirent | null;
        try {
          ent = handle.readSync();
        } catch (e) {
          throw new MsessionError('ERR_MSESSION_SCAN', `msession: reading session directory ${dir} failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
        }
        if (ent === null) return;
        checkAborted(opts.signal);
        if (level < dirDepth) {
          // Dirent types come from readdir (no stat): a symlink is never a directory here.
          if (ent.isDirectory() && ent.name.length === 1) yield* walk(`${dir}/${ent.name}`, level + 1, hashed + ent.name, opts);
          continue;
        }
        if (!ent.isFile() || !ent.name.startsWith(PREFIX)) continue;
        const id = ent.name.slice(PREFIX.length);
        if (!isValidSessionKey(id) || id.length <= dirDepth || !id.startsWith(hashed)) continue;
        yield id;
      }
    } finally {
      handle.closeSync();
    }
  }

  // A scan reads without touching atime where the kernel lets it (the owner may): under relatime the
  // first read after a write updates every file's atime, a journal write per session; PHP's gc
  // looks at mtime only.
  let openFlags = NOATIME_OPEN;
  /** One read of this size catches a whole session almost always: no fstat needed then. */
  const scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  /**
   * The stored bytes (null: gone, or no longer a regular file; PREFILTERED: `filter` rejects them,
   * tested in the read buffer so they are never copied); throws ERR_MSESSION_READ / BAD_ID.
   * Synchronous on purpose: one small file, opened without following a symlink (the promise API's
   * thread-pool round trips per file made scans ~10x slower). A read shorter than the scratch
   * buffer is the whole file (regular files read short only at their end); an empty or a larger
   * one is checked with fstat (a FIFO or a directory swapped in since the listing is no session:
   * O_NONBLOCK keeps a FIFO from blocking the open).
   */
  function peekSync(id: string, filter: CandidateFilter | null): Uint8Array | null | typeof PREFILTERED {
    let fd: number;
    const path = pathOf(id);
    try {
      fd = openSync(path, openFlags);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENXIO') return null;
      if (code === 'EPERM' && openFlags !== PLAIN_OPEN) {
        // O_NOATIME is for the file's owner only: read as PHP does from now on.
        openFlags = PLAIN_OPEN;
        return peekSync(id, filter);
      }
      throw new MsessionError('ERR_MSESSION_READ', `msession: cannot read session ${id}: ${code ?? String(e)}`, { id, cause: e });
    }
    try {
      const n = readSync(fd, scratch, 0, SCRATCH_BYTES, null);
      if (n > 0 && n < SCRATCH_BYTES) {
        if (filter !== null && !passesLatin1(filter, scratch.toString('latin1', 0, n))) return PREFILTERED;
        const out = Buffer.allocUnsafe(n);
        scratch.copy(out, 0, 0, n);
        return new Uint8Array(out.buffer, out.byteOffset, n);
      }
      const st = fstatSync(fd);
      if (!st.isFile()) return null;
      let buf = Buffer.allocUnsafe(Math.max(st.size, n, 1));
      scratch.copy(buf, 0, 0, n);
      let got = n;
      for (;;) {
        if (got === buf.length) {
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, got);
          buf = bigger;
        }
        const more = readSync(fd, buf, got, buf.length - got, null);
        if (more === 0) break;
        got += more;
      }
      const data = new Uint8Array(buf.buffer, buf.byteOffset, got);
      return filter !== null && !filter(data) ? PREFILTERED : data;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EISDIR') return null;
      throw new MsessionError('ERR_MSESSION_READ', `msession: cannot read session ${id}: ${code ?? String(e)}`, { id, cause: e });
    } finally {
      closeSync(fd);
    }
  }

  /** Off for good once close() ran or worker threads cannot start here (a restricted runtime). */
  let noThreads = options.readThreads === 0;
  /** The threads a scan starts now: readThreads when given, else one per idle core (load average), at most 2. */
  const threadCount = (): number => options.readThreads ?? Math.max(0, Math.min(DEFAULT_MAX_THREADS, Math.floor(availableParallelism() - loadavg()[0]!)));
  const threadsAfter = options.threadsAfter ?? 2;
  let pool: FileReaderPool | null = null;
  let batches = 0;
  let threadedBatches = 0;

  /** A batch on a reader thread; null when none is ready (or they died: the caller reads it then). */
  async function readOnThread(ids: readonly string[], filter: CandidateFilter | null): Promise<PeekResult[] | null> {
    if (noThreads) return null;
    if (pool?.closed === true) {
      // Ended while idle (or failed): the next scan starts on this thread again.
      pool = null;
      batches = 0;
    }
    if (pool === null && ++batches > threadsAfter) {
      const n = threadCount();
      if (n <= 0) return null;
      try {
        pool = new FileReaderPool(n, openFlags !== PLAIN_OPEN, options.threadIdleMs);
      } catch {
        noThreads = true; // no worker threads here (a restricted runtime): read on this thread
        return null;
      }
    }
    if (pool === null) return null;
    // The pool's 'online' events are macrotasks, and a scan of synchronous reads only ever awaits
    // microtasks: give the event loop a turn per batch while the threads start.
    if (!pool.ready) await new Promise<void>((resolve) => setImmediate(resolve));
    if (pool === null || !pool.ready) return null;
    // One reader thread: this thread is the second reader, taking a batch whenever the thread has
    // THREAD_BACKLOG unfinished (counted by the thread itself, so it is current while this thread
    // reads). Two or more: this thread only lists, hands off and decodes (on 2 cores a third busy
    // thread only adds switches).
    if (pool.size === 1 && pool.backlog >= THREAD_BACKLOG) return null;
    const out: PeekResult[] = new Array<PeekResult>(ids.length);
    const paths: string[] = [];
    const slots: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      try {
        paths.push(pathOf(ids[i]!));
        slots.push(i);
      } catch (e) {
        out[i] = e as MsessionError;
      }
    }
    let raw;
    try {
      raw = await pool.read(paths, filter);
    } catch (e) {
      if (e instanceof ReaderGone) return null;
      throw e;
    }
    threadedBatches++;
    for (let j = 0; j < slots.length; j++) {
      const r = raw[j];
      const id = ids[slots[j]!]!;
      if (r === undefined || (r !== null && r !== PREFILTERED && !(r instanceof Uint8Array))) {
        const code = r?.code ?? 'EIO';
        out[slots[j]!] = new MsessionError('ERR_MSESSION_READ', `msession: cannot read session ${id}: ${code}`, { id, cause: Object.assign(new Error(code), { code }) });
      } else out[slots[j]!] = r;
    }
    return out;
  }

  return {
    module: 'files',
    get threadedBatches() {
      return threadedBatches;
    },
    get readerThreads() {
      return pool === null || pool.closed ? 0 : pool.size;
    },
    get readerPool() {
      return pool === null || pool.closed ? null : pool;
    },
    readAhead: options.readThreads === 0 ? 0 : READ_AHEAD,
    async *ids(opts = {}) {
      yield* walk(basedir, 0, '', opts);
    },
    async *idBatches(opts = {}) {
      let batch: string[] = [];
      for (const id of walk(basedir, 0, '', opts)) {
        batch.push(id);
        if (batch.length === BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
    async peek(id) {
      return peekSync(id, null) as Uint8Array | null;
    },
    async peekMany(ids, filter = null) {
      const threaded = await readOnThread(ids, filter);
      if (threaded !== null) return threaded;
      const out: PeekResult[] = [];
      for (const id of ids) {
        try {
          out.push(peekSync(id, filter));
        } catch (e) {
          out.push(e as MsessionError);
        }
      }
      return out;
    },
    async ttl(id) {
      const st = await lstatFile(id);
      if (st === null) return null;
      // PHP's gc removes a file once mtime + gc_maxlifetime < now.
      return Math.max(0, Math.floor(st.mtimeMs / 1000) + maxLifetime() - Math.floor(ctx.now() / 1000));
    },
    async setTtl(id, seconds) {
      const p = pathOf(id);
      if ((await lstatFile(id)) === null) return false;
      const mtime = Math.floor(ctx.now() / 1000) - maxLifetime() + seconds;
      const st = await fsp.lstat(p);
      // utimes follows symlinks; the lstat above refused them, and ids are checked, so p is ours.
      await fsp.utimes(p, st.atime, mtime);
      return true;
    },
    async lockInfo(id) {
      const st = await lstatFile(id);
      if (st === null) return { locked: false, pids: [], waiting: 0 };
      return flockHolders(st.dev, st.ino);
    },
    async size(id) {
      const st = await lstatFile(id);
      return st === null ? null : st.size;
    },
    async close() {
      const p = pool;
      pool = null;
      noThreads = true;
      await p?.close();
    },
  };
}
