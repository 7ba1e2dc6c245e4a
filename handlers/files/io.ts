/**
 * @module handlers/files/io
 * The files module's system calls on a session's data file (see `io`), and the close that goes
 * to the thread pool.
 */
import * as fs from 'node:fs';
import type { HeldLock } from './locks.ts';

/**
 * The data file's syscalls, made synchronously as PHP makes them. Measured on this project's
 * machine (bench/files.ts), one thread-pool hop per call cost more than the calls themselves when
 * nothing else is going on: sync I/O ran ~2x faster sequentially than callback fs. The two slow
 * ones, ftruncate (ext4 truncation, which can wait for the journal or for writeback of the
 * previous write) and close (which starts that writeback after a truncate-and-rewrite), go to the
 * thread pool when other session files are open in this process at the time, or in slow I/O mode
 * (handlers/files/slow-io.ts: the disk has made a synchronous ftruncate wait): the event loop then
 * serves the other requests while the call waits, instead of stalling all of them. Same calls,
 * same order, same arguments either way. A descriptor that made no truncate (read only, or written
 * in place) is closed synchronously: nothing makes that close wait for the disk. Lock *waits* never
 * block: they are timers (handlers/files/locks.ts).
 */
export const io = {
  open: (p: string, flags: number, mode: number): number => fs.openSync(p, flags, mode),
  fstat: (fd: number): fs.Stats => fs.fstatSync(fd),
  read: (fd: number, buf: Buffer, len: number): number => fs.readSync(fd, buf, 0, len, 0),
  /** pwrite of data[start, end) at offset start. */
  write: (fd: number, data: Uint8Array, start: number, end: number): number => fs.writeSync(fd, data, start, end - start, start),
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

/** ps_files_close() when other session files are open: close on the thread pool, then release. */
export async function closeThenRelease(fd: number, lock: HeldLock | null): Promise<void> {
  try {
    await io.closeAsync(fd);
  } catch {
    // Nothing more can be done about a descriptor that will not close.
  }
  if (lock !== null) await lock.release();
}
