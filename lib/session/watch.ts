/**
 * @module session/watch
 * The engine's safety net for sessions left open (issue #12 item 4), outside PHP's behaviour: a
 * PHP request ends when its script does, a SessionRequest only when its caller calls end().
 *
 * - Hold limit: a session active longer than `session_engine.max_execution_time` seconds (PHP's
 *   max_execution_time stands in for the same thing; 0 = no limit) is written and closed, as PHP
 *   writes the session of a script stopped by max_execution_time, with an E_WARNING naming the limit;
 *   its lock is released. The limit counts from when the session became active; a session function
 *   still running when it passes (waiting for the lock) is not interrupted: the check comes again
 *   one period later.
 * - A SessionRequest garbage-collected, or the process exiting, with its session still active is
 *   reported (process warning / stderr), since its lock may stay held until then.
 */
import type { RequestContext } from './context.ts';
import { PHP_SESSION_ACTIVE, type SessionStatus } from './state.ts';

/** The hold-limit diagnostic's text (E_WARNING), after "PHP Request Shutdown: "-style prefixing is skipped. */
export const HOLD_LIMIT_WARNING = 'php-session-engine: session open longer than session_engine.max_execution_time';

/** What the watch knows of a request without holding it. */
interface Token {
  active: boolean;
  id: string | null;
}

const open = new Set<Token>();
let exitHooked = false;

const collected = new FinalizationRegistry<Token>((t) => {
  if (!t.active) return;
  open.delete(t);
  process.emitWarning(
    `a SessionRequest was garbage-collected with its session (id ${t.id ?? '?'}) still open: end() was never called; its lock was held until now`,
    'PhpSessionWarning',
  );
});

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const t of open) {
      if (t.active) process.stderr.write(`(php-session-engine) PhpSessionWarning: the process exits with session ${t.id ?? '?'} still open (end() was never called): its data is not written\n`);
    }
  });
}

/**
 * Watches one request: turns `r.ps.status` into an accessor that arms the hold limit when the
 * session becomes active and disarms it when it stops being so. `closeNow` writes and closes the
 * session (session_write_close) for the hold limit.
 */
export function watchRequest(owner: object, r: RequestContext, closeNow: (owner: object) => Promise<unknown>): void {
  const ps = r.ps;
  let status: SessionStatus = ps.status;
  const token: Token = { active: false, id: null };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ref = new WeakRef(owner);
  collected.register(owner, token);

  const limitMs = (): number => {
    const s = Number(r.ini.get('session_engine.max_execution_time') ?? '0');
    return Number.isFinite(s) && s > 0 ? s * 1000 : 0;
  };
  const arm = (): void => {
    const ms = limitMs();
    if (ms === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      const o = ref.deref();
      if (o === undefined || status !== PHP_SESSION_ACTIVE) return;
      if (r.fn !== undefined || ps.inHandler > 0) {
        arm(); // a session function is running (waiting for the lock): look again later
        return;
      }
      const d = { level: 'E_WARNING' as const, message: `${HOLD_LIMIT_WARNING} (${ms / 1000} s): session written and closed, lock released` };
      r.sapi.diagnostics.push(d);
      r.sapi.onDiagnostic?.(d);
      closeNow(o).catch(() => undefined);
    }, ms);
    timer.unref();
  };

  let id = ps.id;
  Object.defineProperty(ps, 'id', {
    configurable: true,
    enumerable: true,
    get: () => id,
    set: (v: string | null) => {
      id = v;
      token.id = v;
    },
  });
  Object.defineProperty(ps, 'status', {
    configurable: true,
    enumerable: true,
    get: () => status,
    set: (v: SessionStatus) => {
      const was = status === PHP_SESSION_ACTIVE;
      status = v;
      const now = v === PHP_SESSION_ACTIVE;
      if (now === was) return;
      token.active = now;
      if (now) {
        token.id = id;
        open.add(token);
        hookExit();
        arm();
      } else {
        open.delete(token);
        clearTimeout(timer);
        timer = undefined;
      }
    },
  });
}
