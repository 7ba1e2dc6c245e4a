/**
 * @module handlers/files/locks
 * The `files` save handler's session locks (flock, lock directory, none). The in-process queue in
 * front of them is handlers/shared/lock-queue.ts, which the other modules use too.
 *
 * PHP's mod_files takes `flock(fd, LOCK_EX)` on the session file and blocks the whole process until
 * it gets it. A Node process cannot do that: a blocking flock would pin a libuv thread-pool thread
 * per waiter (four by default), so a handful of waiters on one hot session would stall every other
 * file operation. Instead:
 *
 * - waiters for the same lock key inside this process queue up in FIFO order (a KeyedQueue);
 *   only the head of the queue touches the kernel lock, the others wait on a promise;
 * - the head tries the lock without blocking (`LOCK_EX | LOCK_NB`, a syscall that returns at once),
 *   and while another process holds it, sleeps with a capped exponential backoff and tries again;
 * - an optional wait limit ends the wait with a {@link LockTimeoutError}. PHP waits forever, and so
 *   do we by default.
 *
 * Three modes, chosen by `session_engine.files_lock`:
 * - `flock`: a real flock(2) on the session file through a native binding ({@link FLOCK_PACKAGES}),
 *   so PHP and Node processes exclude each other on the same file;
 * - `lockfile`: a lock directory next to the session file, made with proper-lockfile (mkdir is
 *   atomic on NFS, where flock may be emulated or missing); only processes using this mode see it;
 * - `none`: no locking at all (last writer wins).
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { LockTimeoutError, SessionError } from '../../lib/errors.ts';
import { sessionLockQueue } from '../shared/lock-queue.ts';

/** How the files handler locks a session while it is open. */
export type FilesLockMode = 'flock' | 'lockfile' | 'none';

export const FILES_LOCK_MODES: readonly FilesLockMode[] = ['flock', 'lockfile', 'none'];

/** A held lock. `release()` never throws and may be called more than once. */
export interface HeldLock {
  release(): void | Promise<void>;
}

export interface LockOptions {
  /** Milliseconds to wait before giving up with LockTimeoutError; 0 or less waits forever (PHP). */
  timeoutMs: number;
  /** Session id, carried by LockTimeoutError. */
  id: string;
  /** First backoff delay in ms (default 1). */
  minDelayMs?: number;
  /** Largest backoff delay in ms (default 25). */
  maxDelayMs?: number;
}

interface FsExt {
  flockSync(fd: number, flags: 'sh' | 'ex' | 'shnb' | 'exnb' | 'un'): void;
}

let fsExt: FsExt | null | undefined;
let fsExtErrors: unknown[] = [];

/**
 * The packages that provide flock(2), in the order tried: fs-ext-extra-prebuilt ships compiled
 * binaries inside its npm tarball (Node 20-25, Linux/macOS/Windows, x64/arm64, glibc), so it loads
 * without a compiler and without install scripts; fs-ext (the original) is compiled by node-gyp
 * at install time and serves platforms without a prebuilt binary (musl, other CPUs).
 */
export const FLOCK_PACKAGES = ['fs-ext-extra-prebuilt', 'fs-ext'] as const;

/** The flock binding, loaded on first use; null when none of {@link FLOCK_PACKAGES} loads. */
export function flockBinding(): FsExt | null {
  if (fsExt === undefined) {
    const require = createRequire(import.meta.url);
    fsExt = null;
    fsExtErrors = [];
    for (const name of FLOCK_PACKAGES) {
      try {
        fsExt = require(name) as FsExt;
        break;
      } catch (err) {
        fsExtErrors.push(err);
      }
    }
  }
  return fsExt;
}

/** Why flock is unavailable and how to fix it (the text of the error thrown when it is needed). */
export const FLOCK_UNAVAILABLE =
  'session_engine.files_lock=flock needs a flock(2) binding, and none could be loaded: ' +
  'fs-ext-extra-prebuilt (an optional dependency with prebuilt binaries for Node 20-25 on ' +
  'Linux/macOS/Windows x64/arm64 glibc) is missing or has no binary for this platform, and fs-ext ' +
  'is not installed or not compiled. Fix: `npm install fs-ext-extra-prebuilt` (do not omit optional ' +
  'dependencies); elsewhere (Alpine/musl, other CPUs) allow its install script to compile it ' +
  '(`npm install-scripts approve fs-ext-extra-prebuilt`, then reinstall it; ' +
  'needs python3, make and a C++ compiler). Or set session_engine.files_lock=lockfile ' +
  '(a lock directory that PHP does not see) or none';

function requireFlock(): FsExt {
  const b = flockBinding();
  if (b === null) {
    throw new SessionError(FLOCK_UNAVAILABLE, 'ERR_HANDLER', { cause: new AggregateError(fsExtErrors, 'loading the flock bindings failed') });
  }
  return b;
}

/**
 * Tries flock(fd, LOCK_EX | LOCK_NB) once: true when taken, false while another open file
 * description holds it. Never blocks.
 */
export function tryFlockExclusive(fd: number): boolean {
  const b = requireFlock();
  for (;;) {
    try {
      b.flockSync(fd, 'exnb');
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EINTR') continue;
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return false;
      throw err;
    }
  }
}

/** Releases a flock taken on fd (closing the fd does the same). */
export function unlockFlock(fd: number): void {
  try {
    requireFlock().flockSync(fd, 'un');
  } catch {
    // The fd is about to be closed, which drops the lock anyway.
  }
}

function timeoutError(opts: LockOptions, started: number): LockTimeoutError {
  const waited = Date.now() - started;
  return new LockTimeoutError(
    `Timed out after ${waited} ms waiting for the lock on session ${opts.id} (session_engine.files_lock_timeout=${opts.timeoutMs})`,
    opts.id,
    waited,
  );
}

/**
 * Runs `attempt` until it returns true, sleeping with capped exponential backoff (with jitter)
 * between tries, until the deadline. The sleep is a timer: no thread is held while waiting.
 * `triedOnce`: the caller already made the first attempt (and it failed), so start with a sleep.
 */
async function retryUntil(
  attempt: () => boolean | Promise<boolean>,
  deadline: number,
  opts: LockOptions,
  started: number,
  triedOnce = false,
): Promise<void> {
  let delay = opts.minDelayMs ?? 1;
  const maxDelay = opts.maxDelayMs ?? 25;
  for (let first = !triedOnce; ; first = true) {
    if (first && (await attempt())) return;
    const left = deadline - Date.now();
    if (left <= 0) throw timeoutError(opts, started);
    const jittered = delay / 2 + Math.random() * (delay / 2);
    await sleep(Math.min(jittered, left));
    delay = Math.min(delay * 2, maxDelay);
  }
}

function deadlineOf(opts: LockOptions, started: number): number {
  return opts.timeoutMs > 0 ? started + opts.timeoutMs : Infinity;
}

/**
 * Takes the exclusive lock that `mode` describes for the session file at `path`, opened as `fd`.
 * In-process waiters for the same path queue up first; only the head touches the kernel lock.
 * @throws LockTimeoutError when the wait limit passes (nothing is held then).
 */
export async function acquireSessionLock(
  mode: FilesLockMode,
  path: string,
  fd: number,
  opts: LockOptions,
): Promise<HeldLock> {
  return acquireSessionLockFast(mode, path, fd, opts);
}

const NO_LOCK: HeldLock = { release: () => {} };

/**
 * {@link acquireSessionLock} that returns the lock itself (no promise) when it is taken at once:
 * mode `none`, or `flock` with nobody in this process queued on `path` and the non-blocking flock
 * succeeding. Otherwise (waiting, lockfile mode, an error) a promise. Never throws synchronously.
 */
export function acquireSessionLockFast(
  mode: FilesLockMode,
  path: string,
  fd: number,
  opts: LockOptions,
): HeldLock | Promise<HeldLock> {
  if (mode === 'none') return NO_LOCK;
  if (mode === 'flock') {
    const leaveQueue = sessionLockQueue.tryAcquire(path);
    if (leaveQueue !== null) {
      let taken: boolean;
      try {
        taken = tryFlockExclusive(fd);
      } catch (err) {
        leaveQueue();
        return Promise.reject(err);
      }
      // The caller drops the kernel lock by closing fd (never by flock(LOCK_UN) after the close: the
      // number may already belong to another file); release() then hands over to the next waiter.
      if (taken) return { release: leaveQueue };
      return waitForFlock(fd, leaveQueue, opts, Date.now());
    }
  }
  return acquireQueued(mode, path, fd, opts);
}

/** The queue slot is ours but another process holds the flock: retry until it is free. */
async function waitForFlock(fd: number, leaveQueue: () => void, opts: LockOptions, started: number): Promise<HeldLock> {
  try {
    await retryUntil(() => tryFlockExclusive(fd), deadlineOf(opts, started), opts, started, true);
  } catch (err) {
    leaveQueue();
    throw err;
  }
  return { release: leaveQueue };
}

async function acquireQueued(mode: FilesLockMode, path: string, fd: number, opts: LockOptions): Promise<HeldLock> {
  const started = Date.now();
  const deadline = deadlineOf(opts, started);
  const leaveQueue = await sessionLockQueue.acquire(path, deadline, () => timeoutError(opts, started));
  try {
    if (mode === 'flock') {
      // One non-blocking syscall when free, the retry machinery only while another process holds it.
      if (!tryFlockExclusive(fd)) await retryUntil(() => tryFlockExclusive(fd), deadline, opts, started, true);
      return { release: leaveQueue };
    }
    let unlock: (() => Promise<void>) | undefined;
    await retryUntil(
      async () => {
        try {
          unlock = await lockfile.lock(path, {
            realpath: false,
            lockfilePath: lockDirPath(path),
            retries: 0,
            stale: 10_000,
            update: 2_000,
            // A compromised lock (its directory was removed or went stale under us) is not
            // allowed to crash the process; the session is written anyway, as with `none`.
            onCompromised: () => {},
          });
          return true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return false;
          throw err;
        }
      },
      deadline,
      opts,
      started,
    );
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await unlock?.();
        } catch {
          // Already released or compromised: nothing left to undo.
        }
        leaveQueue();
      },
    };
  } catch (err) {
    leaveQueue();
    throw err;
  }
}

/**
 * The lock directory used by the `lockfile` mode for a session file: `<dir>/.sess_<id>.lock`.
 * The leading dot keeps it out of PHP's GC scan (which looks at names starting with `sess_`).
 */
export function lockDirPath(sessionFilePath: string): string {
  const slash = sessionFilePath.lastIndexOf('/');
  return `${sessionFilePath.slice(0, slash + 1)}.${sessionFilePath.slice(slash + 1)}.lock`;
}
