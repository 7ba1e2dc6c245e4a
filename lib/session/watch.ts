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
 * and one map entry, dropped by end(); one process-wide sweep (every 250 ms, unref'd, only while
 * some session is open) checks the deadlines; the session state record is not touched.
 */
import type { RequestContext } from './context.ts';
import { PHP_SESSION_ACTIVE } from './state.ts';

/** The hold-limit diagnostic's text (E_WARNING). */
export const HOLD_LIMIT_WARNING = 'php-session-engine: session open longer than session_engine.max_execution_time';

/** What the watch knows of a request without holding it. */
interface Token {
  id: string | null;
}

/** Requests between session_start() and end(), with their hold deadlines (ms, 0 = none). */
const open = new Map<Token, RequestWatch>();
let exitHooked = false;
/** One sweep timer for the whole process (a timer per request cost ~15% of a request). */
let sweeper: ReturnType<typeof setInterval> | undefined;
const SWEEP_MS = 250;

const collected = new FinalizationRegistry<Token>((t) => {
  if (!open.delete(t)) return;
  process.emitWarning(
    `a SessionRequest was garbage-collected after session_start() without end() (session ${t.id ?? '?'}): its session may have stayed open and locked until now`,
    'PhpSessionWarning',
  );
});

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const t of open.keys()) {
      process.stderr.write(`(php-session-engine) PhpSessionWarning: the process exits with session ${t.id ?? '?'} started and never ended (end() was not called): its data is not written\n`);
    }
  });
}

function sweep(): void {
  if (open.size === 0) {
    clearInterval(sweeper);
    sweeper = undefined;
    return;
  }
  const now = Date.now();
  for (const w of open.values()) w.check(now);
}

/** One request's watch: `started()` at each session_start(), `ended()` at end(). */
export class RequestWatch {
  readonly #r: RequestContext;
  readonly #owner: WeakRef<object>;
  readonly #close: (owner: object) => Promise<unknown>;
  #token: Token | undefined;
  #deadline = 0;
  #limitMs = 0;

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
      this.#token = { id: null };
      collected.register(owner, this.#token, this.#token);
      hookExit();
    }
    if (this.#deadline === 0) this.#arm(Date.now());
    open.set(this.#token, this);
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
    open.delete(t);
    collected.unregister(t);
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
}
