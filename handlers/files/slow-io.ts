/**
 * @module handlers/files/slow-io
 * Whether the files module's ftruncate and close go to the thread pool although no other session
 * file is open ("slow I/O" mode; see `io` in handlers/files/io.ts). Process-wide, like the disk.
 *
 * A synchronous ftruncate of a data file slower than SLOW_SYNC_TRUNCATE_MS means the disk makes
 * those calls wait (ext4 waiting for the journal, for writeback or for a discard: about 1 ms a call
 * on this project's VM under load, bench/http). The process then makes its truncates and closes on
 * the thread pool, as a server's requests usually each run to the end in one go: a blocking call
 * there stalls every other connection of the process. The mode ends after FAST_ASYNC_TRUNCATES
 * thread-pool truncates in a row came back within the same limit (from the call to its callback,
 * which bounds the syscall's own time from above), never by trying a synchronous call: on a disk
 * whose truncate latency has a long tail (ext4 under load: median 0.3 ms, p99 over 100 ms), one
 * synchronous try every 256 calls stalled a bench/http worker for up to 170 ms at a time.
 */
const SLOW_SYNC_TRUNCATE_MS = 0.2;
const FAST_ASYNC_TRUNCATES = 16;

let slow = false;
let fastInARow = 0;

/** True while truncates and closes go to the thread pool. */
export function slowIo(): boolean {
  return slow;
}

/** A synchronous ftruncate took `ms`: a slow one starts the mode. */
export function syncTruncateTook(ms: number): void {
  if (ms <= SLOW_SYNC_TRUNCATE_MS) return;
  slow = true;
  fastInARow = 0;
}

/** A thread-pool ftruncate came back after `ms`: enough fast ones in a row end the mode. */
export function asyncTruncateTook(ms: number): void {
  if (!slow) return;
  if (ms > SLOW_SYNC_TRUNCATE_MS) fastInARow = 0;
  else if (++fastInARow >= FAST_ASYNC_TRUNCATES) slow = false;
}
