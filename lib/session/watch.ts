/**
 * @module session/watch
 * The engine's safety net for sessions left open (issue #12 item 4), outside PHP's behaviour: a
 * PHP request ends when its script does, a SessionRequest only when its caller calls end().
 *
 * - Hold limit: a session still active `session_engine.max_execution_time` seconds (PHP's
 *   max_execution_time stands in for the same thing; 0 = no limit) after session_start() was
 *   called is written and closed (session_write_close), as PHP writes the session of a script
 *   stopped by max_execution_time, with an E_WARNING naming the limit; its lock is released. A
 *   session function still running then (waiting for the lock) is not interrupted: the check comes
 *   again one period later.
 * - A SessionRequest garbage-collected, or the process exiting, after a session_start() and
 *   without end() is reported (process warning / stderr): its session may have stayed open and
 *   locked until then.
 *
 * Cheap by design: nothing per request until session_start() is called, then one registry entry
 * and a place in the list of open requests, dropped by end(); one process-wide sweep (every 250 ms,
 * unref'd, only while some session is open) checks the deadlines; the session state record is not
 * touched.
 *
 * The open requests are a doubly linked list through the watches themselves, not a Map or Set: a
 * Map that gains and loses an entry per request kept every request's objects alive through V8's
 * young-generation collections (Node 20). As the Map grows and shrinks its table is rebuilt; the
 * old table keeps its entries and a link to its successor (for iterators), so once one table has
 * reached the old generation, the chain of its successors and every request they held survive each
 * scavenge until the next full collection: the whole request (~2.3 KB) promoted, every request
 * (bench/adapters, README "Overhead"). A list node that leaves clears its own links.
 */
import type { RequestContext } from './context.ts';
import { PHP_SESSION_ACTIVE } from './state.ts';

/** The hold-limit diagnostic's text (E_WARNING). */
export const HOLD_LIMIT_WARNING = 'php-session-engine: session open longer than session_engine.max_execution_time';

/**
 * A request's entry in the registry (its holdings): kept small and cut from the watch at end(), as
 * V8 may keep a registry's cells through young collections after they are unregistered.
 */
interface Token {
  id: string | null;
  watch: RequestWatch | undefined;
}

/** The watches of requests between session_start() and end() (a list through the watches). */
let first: RequestWatch | undefined;
let exitHooked = false;
/** One sweep timer for the whole process (a timer per request cost ~15% of a request). */
let sweeper: ReturnType<typeof setInterval> | undefined;
const SWEEP_MS = 250;

const collected = new FinalizationRegistry<Token>((t) => {
  if (t.watch?.leave() !== true) return;
  process.emitWarning(
    `a SessionRequest was garbage-collected after session_start() without end() (session ${t.id ?? '?'}): its session may have stayed open and locked until now`,
    'PhpSessionWarning',
  );
});

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (let w = first; w !== undefined; w = w.next) {
      process.stderr.write(`(php-session-engine) PhpSessionWarning: the process exits with session ${w.id ?? '?'} started and never ended (end() was not called): its data is not written\n`);
    }
  });
}

function sweep(): void {
  if (first === undefined) {
    clearInterval(sweeper);
    sweeper = undefined;
    return;
  }
  const now = Date.now();
  for (let w: RequestWatch | undefined = first; w !== undefined; ) {
    const next: RequestWatch | undefined = w.next;
    w.check(now);
    w = next;
  }
}

/** One request's watch: `started()` at each session_start(), `ended()` at end(). */
export class RequestWatch {
  readonly #r: RequestContext;
  readonly #owner: WeakRef<object>;
  readonly #close: (owner: object) => Promise<unknown>;
  #token: Token | undefined;
  #deadline = 0;
  #limitMs = 0;
  /** Neighbours in the list of open requests (undefined at the ends and when not in it). */
  prev: RequestWatch | undefined = undefined;
  next: RequestWatch | undefined = undefined;

  constructor(owner: object, r: RequestContext, closeNow: (owner: object) => Promise<unknown>) {
    this.#owner = new WeakRef(owner);
    this.#r = r;
    this.#close = closeNow;
  }

  /** session_start() was called (it may still be waiting for the lock). */
  started(): void {
    if (this.#token === undefined) {
      const owner = this.#owner.deref();
      if (owner === undefined) return;
      this.#token = { id: null, watch: this };
      collected.register(owner, this.#token, this.#token);
      hookExit();
    }
    if (this.#deadline === 0) this.#arm(Date.now());
    if (this.prev === undefined && first !== this) {
      this.next = first;
      if (first !== undefined) first.prev = this;
      first = this;
    }
    if (sweeper === undefined) {
      sweeper = setInterval(sweep, SWEEP_MS);
      sweeper.unref();
    }
  }

  /** end() ran: nothing left to watch. */
  ended(): void {
    this.#deadline = 0;
    const t = this.#token;
    if (t === undefined) return;
    this.leave();
    t.watch = undefined;
    collected.unregister(t);
  }

  /** Leaves the list of open requests; false when it was not in it. */
  leave(): boolean {
    const { prev, next } = this;
    if (prev === undefined && first !== this) return false;
    if (prev === undefined) first = next;
    else prev.next = next;
    if (next !== undefined) next.prev = prev;
    this.prev = undefined;
    this.next = undefined;
    return true;
  }

  #arm(now: number): void {
    const s = Number(this.#r.ini.get('session_engine.max_execution_time') ?? '0');
    this.#limitMs = Number.isFinite(s) && s > 0 ? s * 1000 : 0;
    this.#deadline = this.#limitMs === 0 ? 0 : now + this.#limitMs;
  }

  /** Called by the sweep: past the deadline, an active session is written and closed. */
  check(now: number): void {
    if (this.#deadline === 0 || now < this.#deadline) return;
    const r = this.#r;
    const owner = this.#owner.deref();
    if (owner === undefined || r.ps.status !== PHP_SESSION_ACTIVE) {
      this.#deadline = 0;
      return;
    }
    if (r.fn !== undefined || r.ps.inHandler > 0) {
      this.#arm(now); // a session function is running (waiting for the lock): look again later
      return;
    }
    this.#deadline = 0;
    const d = { level: 'E_WARNING' as const, message: `${HOLD_LIMIT_WARNING} (${this.#limitMs / 1000} s): session written and closed, lock released` };
    r.sapi.diagnostics.push(d);
    r.sapi.onDiagnostic?.(d);
    this.#close(owner).catch(() => undefined);
  }

  /** The id for the reports (set once known). */
  noteId(): void {
    if (this.#token !== undefined) this.#token.id = this.#r.ps.id;
  }

  /** The session id for the reports. */
  get id(): string | null {
    return this.#token?.id ?? null;
  }
}
