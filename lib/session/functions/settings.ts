/**
 * @module session/functions/settings
 * The session functions that read and change one setting: session_name, session_module_name,
 * session_save_path, session_cache_limiter and session_cache_expire.
 */
import { PhpValueError } from '../../errors.ts';
import { fmt, MSG } from '../../messages.ts';
import { normalizeInt } from '../../value.ts';
import { alterIni, iniLong, iniStr, report, type RequestContext } from '../context.ts';
import { invokeSync } from '../frame.ts';
import { isOpen, modName } from '../module.ts';
import { argc, nullableLongArg, strArg } from './args.ts';
import { refuseChange } from './guard.ts';

export function session_name(r: RequestContext, args: readonly unknown[]): string | false {
  argc('session_name', args, 0, 1);
  const name = strArg(r, 'session_name', 1, 'name', args[0], true);
  return invokeSync(r, 'session_name', () => {
    if (name !== null && refuseChange(r, MSG.NAME_ACTIVE, MSG.NAME_HEADERS)) return false;
    const old = iniStr(r, 'session.name');
    if (name !== null) alterIni(r, 'session.name', name);
    return old;
  });
}

export function session_module_name(r: RequestContext, args: readonly unknown[]): string | false {
  argc('session_module_name', args, 0, 1);
  const name = strArg(r, 'session_module_name', 1, 'module', args[0], true);
  return invokeSync(r, 'session_module_name', () => {
    if (name !== null && refuseChange(r, MSG.MODULE_ACTIVE, MSG.MODULE_HEADERS)) return false;
    const ret = modName(r);
    if (name !== null) {
      if (name.toLowerCase() === 'user') {
        throw new PhpValueError(`session_module_name(): Argument #1 ($module) ${MSG.MODULE_USER}`);
      }
      // PHP looks the module up, and names it in the warning, as a C string (up to a NUL).
      const cName = name.split('\0')[0]!;
      if (r.engine.findModule(cName) === undefined) {
        report(r, 'E_WARNING', fmt(MSG.MODULE_NOT_FOUND, cName));
        return false;
      }
      const h = r.ps.handler;
      if (isOpen(r) && h !== null) {
        // PHP closes the module data here without waiting for anything else.
        void Promise.resolve()
          .then(() => h.close())
          .catch(() => undefined);
      }
      r.ps.handlerOpen = false;
      r.ps.handler = null;
      alterIni(r, 'session.save_handler', name);
    }
    return ret;
  });
}

export function session_save_path(r: RequestContext, args: readonly unknown[]): string | false {
  argc('session_save_path', args, 0, 1);
  const path = strArg(r, 'session_save_path', 1, 'path', args[0], true);
  if (path !== null && path.includes('\0')) {
    throw new PhpValueError(`session_save_path(): Argument #1 ($path) ${MSG.SAVE_PATH_NUL}`);
  }
  return invokeSync(r, 'session_save_path', () => {
    if (path !== null && refuseChange(r, MSG.SAVE_PATH_ACTIVE, MSG.SAVE_PATH_HEADERS)) return false;
    const old = iniStr(r, 'session.save_path');
    if (path !== null) alterIni(r, 'session.save_path', path);
    return old;
  });
}

export function session_cache_limiter(r: RequestContext, args: readonly unknown[]): string | false {
  argc('session_cache_limiter', args, 0, 1);
  const v = strArg(r, 'session_cache_limiter', 1, 'value', args[0], true);
  return invokeSync(r, 'session_cache_limiter', () => {
    if (v !== null && refuseChange(r, MSG.CACHE_LIMITER_ACTIVE, MSG.CACHE_LIMITER_HEADERS)) return false;
    const old = iniStr(r, 'session.cache_limiter');
    if (v !== null) alterIni(r, 'session.cache_limiter', v);
    return old;
  });
}

export function session_cache_expire(r: RequestContext, args: readonly unknown[]): number | bigint | false {
  argc('session_cache_expire', args, 0, 1);
  const v = nullableLongArg(r, 'session_cache_expire', 1, 'value', args[0]);
  return invokeSync(r, 'session_cache_expire', () => {
    const cur = normalizeInt(iniLong(r, 'session.cache_expire'));
    if (v !== null) {
      // PHP answers the current value when the session is active, false when headers were sent.
      const refused = refuseChange(r, MSG.CACHE_EXPIRE_ACTIVE, MSG.CACHE_EXPIRE_HEADERS);
      if (refused === 'active') return cur;
      if (refused === 'headers') return false;
      alterIni(r, 'session.cache_expire', v.toString());
    }
    return cur;
  });
}
