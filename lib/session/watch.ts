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
 * Cheap by design: nothing per request until session_start() is called, then one timer, one
 * registry entry and one set entry, dropped by end(); the session state record is not touched.
 */
import type { RequestContext } from './context.ts';
import { PHP_SESSION_ACTIVE } from './state.ts';

/** The hold-limit diagnostic's text (E_WARNING). */
export const HOLD_LIMIT_WARNING = 'php-session-engine: session open longer than session_engine.max_execution_time';

/** What the watch knows of a request without holding it. */
interface Token {
  id: string | null;
}

const open = new Set<Token>();
let exitHooked = false;

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
    for (const t of open) {
      process.stderr.write(`(php-session-engine) PhpSessionWarning: the process exits with session ${t.id ?? '?'} started and never ended (end() was not called): its data is not written\n`);
    }
  });
}

/** One request's watch: `started()` at each session_start(), `ended()` at end(). */
export class RequestWatch {
  readonly #r: RequestContext;
  readonly #owner: WeakRef<object>;
  readonly #close: (owner: object) => Promise<unknown>;
  #token: Token | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

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
      open.add(this.#token);
      collected.register(owner, this.#token, this.#token);
      hookExit();
    }
    if (this.#timer === undefined) this.#arm();
  }

  /** end() ran: nothing left to watch. */
  ended(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const t = this.#token;
    if (t === undefined) return;
    open.delete(t);
    collected.unregister(t);
  }

  #arm(): void {
    const s = Number(this.#r.ini.get('session_engine.max_execution_time') ?? '0');
    const ms = Number.isFinite(s) && s > 0 ? s * 1000 : 0;
    if (ms === 0) return;
    this.#timer = setTimeout(() => this.#fire(ms), ms);
    this.#timer.unref();
  }

  #fire(ms: number): void {
    this.#timer = undefined;
    const r = this.#r;
    const owner = this.#owner.deref();
    if (this.#token !== undefined) this.#token.id = r.ps.id;
    if (owner === undefined || r.ps.status !== PHP_SESSION_ACTIVE) return;
    if (r.fn !== undefined || r.ps.inHandler > 0) {
      this.#arm(); // a session function is running (waiting for the lock): look again later
      return;
    }
    const d = { level: 'E_WARNING' as const, message: `${HOLD_LIMIT_WARNING} (${ms / 1000} s): session written and closed, lock released` };
    r.sapi.diagnostics.push(d);
    r.sapi.onDiagnostic?.(d);
    this.#close(owner).catch(() => undefined);
  }

  /** The id for the reports (set once known). */
  noteId(): void {
    if (this.#token !== undefined) this.#token.id = this.#r.ps.id;
  }
}
