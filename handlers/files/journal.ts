/**
 * @module handlers/files/journal
 * The `files` module's optional write journal (`session_engine.files_journal = 1`, not in PHP):
 * written before the data file is truncated and rewritten, so a crash in between is repaired by
 * the next read.
 *
 * The journal is `.sess_<id>.journal` next to the session file (a dot name: PHP's GC and ours
 * match `sess_*` only): one header line `PSE-JOURNAL-1 <dev> <ino> <birth time ns> <length>
 * <sha256 hex>` naming the session file (the birth time tells a recreated file that got the same
 * inode number), then the session bytes. Only the holder of the session's lock writes, reads or
 * removes it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

const { O_NOFOLLOW, O_RDONLY } = fs.constants;

export const JOURNAL_SUFFIX = '.journal';
const JOURNAL_MAGIC = 'PSE-JOURNAL-1';

/** `<dir>/.sess_<id>.journal` for `<dir>/sess_<id>`. */
export function journalPathFor(sessionPath: string): string {
  const slash = sessionPath.lastIndexOf('/');
  return `${sessionPath.slice(0, slash + 1)}.${sessionPath.slice(slash + 1)}${JOURNAL_SUFFIX}`;
}

/** A parsed, checksum-verified journal. */
export interface Journal {
  /** `<dev> <ino> <birth time ns>` of the session file the journal belongs to. */
  file: string;
  data: Buffer;
}

/** Identity of an open file: device, inode and birth time (0 where the filesystem has none). */
export function fileIdentity(st: fs.BigIntStats): string {
  return `${st.dev} ${st.ino} ${st.birthtimeNs}`;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The journal's bytes for `data` about to be written over the file open at `fd`. */
export function journalBytes(fd: number, data: Uint8Array): Buffer {
  const st = fs.fstatSync(fd, { bigint: true });
  const header = Buffer.from(`${JOURNAL_MAGIC} ${fileIdentity(st)} ${data.length} ${sha256(data)}\n`, 'latin1');
  return Buffer.concat([header, data]);
}

/** Parses and verifies journal bytes; null when torn or not a journal (a crash while writing it). */
export function parseJournal(bytes: Buffer): Journal | null {
  const nl = bytes.indexOf(0x0a);
  if (nl < 0 || nl > 200) return null;
  const m = /^PSE-JOURNAL-1 (\d+ \d+ \d+) (\d+) ([0-9a-f]{64})$/.exec(bytes.toString('latin1', 0, nl));
  if (m === null) return null;
  const data = bytes.subarray(nl + 1);
  if (data.length !== Number(m[2]) || sha256(data) !== m[3]) return null;
  return { file: m[1]!, data };
}

/** Reads a journal without following a symlink; null when there is none. */
export function readJournal(path: string): Buffer | null {
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

export function unlinkQuietly(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // Already gone, or not removable: a journal that does not match is ignored anyway.
  }
}

/** GC of journals left by a crash whose session was never read again by a journaling request. */
export function removeStaleJournal(path: string, nowSec: number, maxLifetime: number): void {
  try {
    const st = fs.lstatSync(path);
    if (st.isFile() && nowSec - Math.floor(st.mtimeMs / 1000) > maxLifetime) fs.unlinkSync(path);
  } catch {
    // Gone meanwhile.
  }
}

/** Writes all of `data` at offset 0 (a short write is retried for the rest, as for any file). */
export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off, off);
}
