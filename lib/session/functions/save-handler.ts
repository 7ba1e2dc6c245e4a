/**
 * @module session/functions/save-handler
 * PHP_FUNCTION(session_set_save_handler): the `user` module parses the arguments (the seam in
 * lib/handler.ts); the engine checks its state, records the registration, keeps the
 * `session_shutdown` shutdown function, and switches session.save_handler to `user`.
 */
import { PhpError } from '../../errors.ts';
import { MSG } from '../../messages.ts';
import { alterIni, report, type RequestContext } from '../context.ts';
import { invokeSync } from '../frame.ts';
import { isUserMod } from '../module.ts';
import { refuseChange } from './guard.ts';

/** `registerShutdown` is session_register_shutdown as the runtime bound it. */
export function session_set_save_handler(r: RequestContext, args: readonly unknown[], registerShutdown: () => unknown): boolean {
  return invokeSync(r, 'session_set_save_handler', () => {
    const api = r.engine.userApi;
    if (api === undefined) {
      throw new PhpError('session_set_save_handler(): the "user" save handler module is not available');
    }
    const spec = api.parseSaveHandlerArgs(args, r.ps.userSpec);
    for (const d of spec.argumentDiagnostics) report(r, d.level, d.message);
    if (refuseChange(r, MSG.SAVE_HANDLER_ACTIVE, MSG.SAVE_HANDLER_HEADERS)) return false;
    const objectForm = args.length <= 2;
    r.ps.userSpec = spec;
    r.ps.userClassName = spec.className;
    // PHP keeps its shutdown functions in a hash table: registering `session_shutdown` again
    // updates the entry where it is, so it keeps its place before shutdown functions registered
    // since; the callable form (and `false`) removes it. While end() runs the list, a removed entry
    // leaves a hole (as a hash table's deleted bucket does), so no later function is skipped.
    const fns = r.sapi.shutdownFns;
    const at = fns.findIndex((s) => s.name === 'session_shutdown');
    if (objectForm && spec.registerShutdown) {
      const entry = { name: 'session_shutdown', fn: registerShutdown };
      if (at >= 0) fns[at] = entry;
      else fns.push(entry);
    } else if (at >= 0) {
      if (r.sapi.ended) fns[at] = { fn: () => undefined };
      else fns.splice(at, 1);
    }
    if (!isUserMod(r)) {
      r.ps.settingUserHandler = true;
      try {
        alterIni(r, 'session.save_handler', 'user');
      } finally {
        r.ps.settingUserHandler = false;
      }
    }
    return true;
  });
}
