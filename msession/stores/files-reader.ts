/**
 * @module msession/stores/files-reader
 * Batch reads of session files on worker threads, so a scan's system calls (open, read, close per
 * file) run while the main thread lists the next ids and decodes the last batch. The worker makes
 * the same calls as the files store's synchronous read (O_NOFOLLOW | O_NONBLOCK, O_NOATIME while
 * the kernel allows it, one 64 KiB read, fstat only for an empty or a longer file) and sends a
 * batch back as one transferred buffer. Given a scan's prefilter (prefilter.ts: its `unless` and
 * `needles`, latin1 strings of bytes, and its rule in the same few lines), the worker tests each file's bytes where
 * it read them and sends back only the candidates' (the others as PREFILTERED), so the main
 * thread copies and decodes only those. A worker that fails or exits ends the pool: its pending
 * batches reject with {@link ReaderGone} and the caller reads them again on the main thread, so no
 * session is lost to a thread.
 *
 * The worker's code is a plain-JavaScript string (`eval: true`): it runs the same under tsx,
 * vitest and the built package, with no loader in the worker.
 */
import { Worker } from 'node:worker_threads';
import type { CandidateFilter } from '../prefilter.ts';
import { PREFILTERED } from './types.ts';

/**
 * One file of a batch: its bytes, null (gone, or no regular file), the errno code of a failed
 * read, or PREFILTERED (read, and rejected by the batch's filter).
 */
export type RawRead = Uint8Array | null | { code: string } | typeof PREFILTERED;

/** Raised for the pending batches of a pool whose worker died: read them again elsewhere. */
export class ReaderGone extends Error {}

// Meta per path: [offset, length] in the batch buffer; length -1 = null, -2 = error (codes[i]),
// -3 = rejected by the filter (its bytes are not kept: the next file is read over them).
// passes() is prefilter.ts's rule, line for line (spec/msession/prefilter.test.ts compares them).
const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const C = fs.constants;
const PLAIN = C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK;
const SCRATCH = 65536;
const NOATIME = PLAIN | (C.O_NOATIME || 0);
// O_NOATIME until the kernel refuses it (EPERM: not the files' owner); a batch can ask for PLAIN.
let noatime = true;
let flags = PLAIN;
// ctl[0]: batches this thread finished (the caller reads it without waiting for the message);
// ctl[1]: non-zero while the caller holds the thread before its next batch (tests).
const ctl = new Int32Array(workerData.ctl);
let buf = Buffer.allocUnsafeSlow(SCRATCH * 4);
// At least need bytes free after the first filled ones (which a bigger buffer keeps).
function room(filled, need) {
  if (buf.length - filled >= need) return;
  let size = buf.length * 2;
  while (size - filled < need) size *= 2;
  const bigger = Buffer.allocUnsafeSlow(size);
  buf.copy(bigger, 0, 0, filled);
  buf = bigger;
}
function open(path) {
  for (;;) {
    try {
      return fs.openSync(path, flags);
    } catch (e) {
      if (e.code === 'EPERM' && flags !== PLAIN) { noatime = false; flags = PLAIN; continue; }
      throw e;
    }
  }
}
function passes(s, unless, needles) {
  for (const x of unless) if (s.includes(x)) return true;
  for (const x of needles) if (!s.includes(x)) return false;
  return true;
}
parentPort.on('message', (m) => {
  while (Atomics.load(ctl, 1) !== 0) Atomics.wait(ctl, 1, 1);
  flags = m.noatime && noatime ? NOATIME : PLAIN;
  const paths = m.paths.split('\0');
  const filter = m.needles !== undefined;
  const meta = new Float64Array(paths.length * 2);
  const codes = [];
  let used = 0;
  for (let i = 0; i < paths.length; i++) {
    meta[2 * i] = used;
    let fd;
    try {
      fd = open(paths[i]);
    } catch (e) {
      if (e.code === 'ENOENT' || e.code === 'ELOOP' || e.code === 'ENXIO') { meta[2 * i + 1] = -1; continue; }
      meta[2 * i + 1] = -2; codes[i] = e.code || String(e); continue;
    }
    try {
      room(used, SCRATCH);
      const n = fs.readSync(fd, buf, used, SCRATCH, null);
      if (n > 0 && n < SCRATCH) {
        if (filter && !passes(buf.toString('latin1', used, used + n), m.unless, m.needles)) { meta[2 * i + 1] = -3; continue; }
        meta[2 * i + 1] = n; used += n; continue;
      }
      if (!fs.fstatSync(fd).isFile()) { meta[2 * i + 1] = -1; continue; }
      let got = n;
      for (;;) {
        room(used + got, SCRATCH);
        const more = fs.readSync(fd, buf, used + got, buf.length - used - got, null);
        if (more === 0) break;
        got += more;
      }
      if (filter && !passes(buf.toString('latin1', used, used + got), m.unless, m.needles)) { meta[2 * i + 1] = -3; continue; }
      meta[2 * i + 1] = got; used += got;
    } catch (e) {
      if (e.code === 'EISDIR') meta[2 * i + 1] = -1;
      else { meta[2 * i + 1] = -2; codes[i] = e.code || String(e); }
    } finally {
      fs.closeSync(fd);
    }
  }
  // The read buffer stays (a fresh 256 KiB one per batch cost a page fault per 4 KiB); the
  // batch goes out in a copy of its own size.
  const data = new ArrayBuffer(used);
  new Uint8Array(data).set(buf.subarray(0, used));
  // Counted before it is sent: the caller never takes an answer whose batch still counts as unfinished.
  Atomics.add(ctl, 0, 1);
  parentPort.postMessage({ seq: m.seq, data, used, meta: meta.buffer, codes }, [data, meta.buffer]);
});
`;

interface Pending {
  resolve: (r: RawRead[]) => void;
  reject: (e: Error) => void;
}

interface Thread {
  worker: Worker;
  online: boolean;
  pending: Map<number, Pending>;
  /** Shared with the thread: [batches it finished, held]. */
  ctl: Int32Array;
  /** Batches sent to it. */
  sent: number;
  /** The pool it reads for; null while it waits in {@link spare}. */
  pool: FileReaderPool | null;
  /** While spare: the timer that ends it. */
  expire: NodeJS.Timeout | null;
}

interface Answer {
  seq: number;
  data: ArrayBuffer;
  used: number;
  meta: ArrayBuffer;
  codes: (string | undefined)[];
}

/**
 * Threads of pools closed by their store (a disconnect), kept for the next pool until their idle
 * time runs out: a thread's start (~25 ms of CPU) and the compiling of its code on V8's helper
 * threads (~30 ms more) are paid once for scans that follow each other.
 */
const spare: Thread[] = [];
const MAX_SPARE = 4;

/**
 * A few reader threads (spare ones first, else started); each batch goes to the thread with the
 * fewest unfinished. Idle threads are unref'd (they never keep the process alive), busy ones
 * ref'd (a pending batch does).
 */
export class FileReaderPool {
  readonly #threads: Thread[] = [];
  readonly #idleMs: number;
  readonly #noatime: boolean;
  #idle: NodeJS.Timeout | null = null;
  #next = 0;
  #seq = 0;
  #dead = false;

  /**
   * @param noatime read with O_NOATIME (while the kernel allows it)
   * @param idleMs the threads end after this long without a batch (an Msession that is never
   *   disconnected does not keep them), and spare ones after this long unused; the store starts
   *   new ones for its next scan.
   */
  constructor(threads: number, noatime: boolean, idleMs = 2000) {
    this.#idleMs = idleMs;
    this.#noatime = noatime;
    for (let i = 0; i < threads; i++) {
      const t = spare.pop() ?? FileReaderPool.#start();
      if (t.expire !== null) clearTimeout(t.expire);
      t.expire = null;
      t.pool = this;
      this.#threads.push(t);
    }
  }

  /** Spare threads waiting for a pool (tests). */
  static get spareThreads(): number {
    return spare.length;
  }

  /** Ends the spare threads now (they would end after their idle time anyway, and never keep the process alive). */
  static async endSpare(): Promise<void> {
    const threads = spare.splice(0);
    for (const t of threads) if (t.expire !== null) clearTimeout(t.expire);
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  static #start(): Thread {
    const ctl = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ctl: ctl.buffer } });
    const t: Thread = { worker, online: false, pending: new Map(), ctl, sent: 0, pool: null, expire: null };
    worker.unref();
    worker.on('online', () => void (t.online = true));
    worker.on('message', (m: Answer) => {
      const pool = t.pool;
      if (pool !== null) pool.#answer(t, m);
    });
    const gone = (why: string): void => {
      const pool = t.pool;
      if (pool !== null) void pool.#end(new ReaderGone(why), false);
      else if (spare.includes(t)) spare.splice(spare.indexOf(t), 1);
    };
    worker.on('error', (e) => gone(`msession: a file reader thread failed: ${e.message}`));
    worker.on('exit', (code) => gone(`msession: a file reader thread exited (${code})`));
    return t;
  }

  #answer(t: Thread, m: Answer): void {
    const p = t.pending.get(m.seq);
    if (p === undefined) return;
    t.pending.delete(m.seq);
    if (t.pending.size === 0) {
      t.worker.unref();
      this.#armIdle();
    }
    const meta = new Float64Array(m.meta);
    const data = Buffer.from(m.data, 0, m.used);
    const out: RawRead[] = [];
    for (let j = 0; j < meta.length / 2; j++) {
      const len = meta[2 * j + 1]!;
      if (len === -1) out.push(null);
      else if (len === -3) out.push(PREFILTERED);
      else if (len === -2) out.push({ code: m.codes[j] ?? 'EIO' });
      else {
        // A copy per session (a view would keep the whole batch's buffer alive as long as any
        // decoded session that kept its bytes), from Buffer's pool: small sessions share one
        // ArrayBuffer per 8 KiB instead of one each (the heap peak of a 1M scan doubled with one each).
        const b = Buffer.allocUnsafe(len);
        data.copy(b, 0, meta[2 * j]!, meta[2 * j]! + len);
        out.push(new Uint8Array(b.buffer, b.byteOffset, len));
      }
    }
    p.resolve(out);
  }

  /** False once the threads ended (failure, idle, close): make a new pool to read on threads again. */
  get closed(): boolean {
    return this.#dead;
  }

  /** Threads the pool has. */
  get size(): number {
    return this.#threads.length;
  }

  /** The threads' ids (worker threadId), tests. */
  get threadIds(): number[] {
    return this.#threads.map((t) => t.worker.threadId);
  }

  /**
   * Batches sent and not finished yet, over all threads: read from the threads' shared counters,
   * so it is current even while the caller has not taken their answers (a scan of synchronous
   * reads turns the event loop only when it waits for a batch).
   */
  get backlog(): number {
    let n = 0;
    for (const t of this.#threads) n += t.sent - Atomics.load(t.ctl, 0);
    return n;
  }

  /** Tests: keeps every thread from starting its next batch until {@link release} (a batch under way finishes). */
  hold(): void {
    for (const t of this.#threads) Atomics.store(t.ctl, 1, 1);
  }

  release(): void {
    for (const t of this.#threads) {
      Atomics.store(t.ctl, 1, 0);
      Atomics.notify(t.ctl, 1);
    }
  }

  /** True once a thread can take a batch (until then, and after a failure, read on the caller's thread). */
  get ready(): boolean {
    return !this.#dead && this.#threads.some((t) => t.online);
  }

  /**
   * Reads the files at `paths` on a reader thread; results in the order of `paths`. With `filter`,
   * files whose bytes it rejects come back as PREFILTERED.
   */
  read(paths: readonly string[], filter: CandidateFilter | null = null): Promise<RawRead[]> {
    if (this.#dead) return Promise.reject(new ReaderGone('msession: the file reader threads are closed'));
    // The thread with the fewest unfinished batches (round robin among equals); a message posted
    // before its 'online' waits for it.
    let t = this.#threads[this.#next++ % this.#threads.length]!;
    for (const u of this.#threads) if (u.sent - Atomics.load(u.ctl, 0) < t.sent - Atomics.load(t.ctl, 0)) t = u;
    t.sent++;
    const seq = this.#seq++;
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    const noatime = this.#noatime;
    return new Promise((resolve, reject) => {
      t.pending.set(seq, { resolve, reject });
      if (t.pending.size === 1) t.worker.ref();
      t.worker.postMessage(filter === null ? { seq, noatime, paths: paths.join('\0') } : { seq, noatime, paths: paths.join('\0'), unless: filter.unless, needles: filter.needles });
    });
  }

  #armIdle(): void {
    if (this.#dead || this.#threads.some((t) => t.pending.size > 0)) return;
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => void this.#end(new ReaderGone('msession: the file reader threads ended idle'), false), this.#idleMs);
    this.#idle.unref();
  }

  /**
   * Ends the pool: pending batches reject with `e`; with `keep`, threads with none pending wait in
   * {@link spare} for the next pool, the others end. Resolves once the ended ones are gone.
   */
  async #end(e: ReaderGone, keep: boolean): Promise<void> {
    if (this.#dead) return;
    this.#dead = true;
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    this.release();
    const ending: Promise<number>[] = [];
    for (const t of this.#threads) {
      const busy = t.pending.size > 0;
      for (const p of t.pending.values()) p.reject(e);
      t.pending.clear();
      t.worker.unref();
      if (keep && !busy && spare.length < MAX_SPARE) {
        t.pool = null;
        spare.push(t);
        t.expire = setTimeout(() => {
          t.expire = null;
          if (spare.includes(t)) spare.splice(spare.indexOf(t), 1);
          void t.worker.terminate();
        }, this.#idleMs);
        t.expire.unref();
      } else ending.push(t.worker.terminate());
    }
    await Promise.all(ending);
  }

  /** Ends the pool (pending batches reject with ReaderGone); its idle threads stay warm for the next pool a while. */
  async close(): Promise<void> {
    await this.#end(new ReaderGone('msession: the file reader threads are closed'), true);
  }
}
