/**
 * @module handlers/files/in-place
 * When the files module may write a session in place (one pwrite of the changed bytes) instead of
 * PHP's ftruncate(fd, 0) + pwrite(all), and which bytes that write is.
 *
 * The bytes on disk afterwards are the same either way: the new data, nothing else. Only the
 * syscalls differ, and only where a writer killed at any moment (SIGKILL) leaves a state no worse
 * than PHP's (whose truncate-then-write leaves the old data whole, an empty file, or the new data
 * cut):
 * - the new data is at least as long as the old (a shorter one written in place, before its
 *   truncate, would leave the new head followed by the old tail: keys deleted by the write, say
 *   `user_id` after a logout, would come back);
 * - everything that changes lies inside one 4 KiB block of the file (page-aligned). Linux's
 *   buffered write (generic_perform_write, iomap_write_iter) copies one page-cache folio per
 *   iteration and acts on a fatal signal only between iterations; a folio is at least one page and
 *   aligned to its size, so such a write lands whole or not at all. A kill therefore leaves the old
 *   data whole or the new data whole, never an empty or cut file.
 * Unchanged data still gets one byte written (itself), so that mtime and ctime move as they do after
 * PHP's write: GC goes by mtime.
 */

/** The block a single in-place write must stay inside: the smallest page size Linux uses. */
export const IN_PLACE_BLOCK = 4096;

/**
 * Writes in place only on Linux, whose buffered-write loop the argument above reads; elsewhere
 * every write is PHP's truncate-then-write.
 */
export const IN_PLACE_KERNEL = process.platform === 'linux';

/** `data[start, end)` is to be written at offset `start`. */
export interface InPlaceWrite {
  start: number;
  end: number;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * The one write that turns a file holding `old` into one holding `data`, when that write is safe
 * (see the module comment); null when PHP's truncate-then-write is to be used.
 */
export function inPlaceWrite(old: Uint8Array, data: Uint8Array): InPlaceWrite | null {
  const oldLen = old.length;
  const newLen = data.length;
  if (newLen === 0 || newLen < oldLen) return null;
  const o = asBuffer(old);
  const d = asBuffer(data);
  if (newLen > oldLen) {
    // The write ends at newLen; it must start in newLen - 1's block, and so must the old data's end.
    const block = Math.floor((newLen - 1) / IN_PLACE_BLOCK) * IN_PLACE_BLOCK;
    if (block > oldLen || d.compare(o, 0, block, 0, block) !== 0) return null;
    let start = block;
    while (start < oldLen && d[start] === o[start]) start++;
    return { start, end: newLen };
  }
  // Same length: find the last block that differs, from the end (a session's changes are mostly
  // near its end: keys set by a request are appended).
  let end = newLen;
  let block = Math.floor((end - 1) / IN_PLACE_BLOCK) * IN_PLACE_BLOCK;
  while (d.compare(o, block, end, block, end) === 0) {
    // Nothing differs: one unchanged byte, so that the write still updates mtime and ctime.
    if (block === 0) return { start: 0, end: 1 };
    end = block;
    block -= IN_PLACE_BLOCK;
  }
  if (block > 0 && d.compare(o, 0, block, 0, block) !== 0) return null;
  let start = block;
  while (d[start] === o[start]) start++;
  while (d[end - 1] === o[end - 1]) end--;
  return { start, end };
}

/** True when the two views share any byte of memory (a caller writing the very bytes read). */
export function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}
