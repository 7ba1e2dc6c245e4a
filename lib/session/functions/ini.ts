/**
 * @module session/functions/ini
 * ini_get, ini_set, ini_get_all and ini_restore for the directives the engine knows
 * (main/main.c and Zend/zend_ini.c behaviour over the request's ini scope).
 */
import type { SessionSerializer } from '../../serializer.ts';
import { PhpArray } from '../../value.ts';
import { alterIni, iniHost, report, type RequestContext } from '../context.ts';
import { invokeSync } from '../frame.ts';
import { argc, boolArg, scalarStringArg, strArg } from './args.ts';

export function ini_get(r: RequestContext, args: readonly unknown[]): string | false {
  argc('ini_get', args, 1, 1);
  const name = strArg(r, 'ini_get', 1, 'option', args[0], false)!;
  return r.ini.get(name) ?? false;
}

export function ini_set(r: RequestContext, args: readonly unknown[]): string | false {
  argc('ini_set', args, 2, 2);
  const name = strArg(r, 'ini_set', 1, 'option', args[0], false)!;
  const value = scalarStringArg(r, 'ini_set', 2, 'value', args[1]);
  return invokeSync(r, 'ini_set', () => {
    const old = r.ini.get(name);
    if (old === undefined) return false;
    return alterIni(r, name, value) ? old : false;
  });
}

/** ini_get_all()'s access bits. */
const ACCESS = { PHP_INI_ALL: 7, PHP_INI_PERDIR: 2, PHP_INI_SYSTEM: 4 } as const;

export function ini_get_all(r: RequestContext, args: readonly unknown[]): PhpArray | false {
  argc('ini_get_all', args, 0, 2);
  const ext = strArg(r, 'ini_get_all', 1, 'extension', args[0], true);
  const details = args.length < 2 ? true : boolArg(r, 'ini_get_all', 2, 'details', args[1], false) === true;
  return invokeSync(r, 'ini_get_all', () => {
    const names = r.ini
      .names()
      .filter((n) => ext === null || (r.ini.entry(n)?.extension ?? 'session') === ext.toLowerCase())
      .sort();
    if (ext !== null && names.length === 0) {
      report(r, 'E_WARNING', `Extension "${ext}" cannot be found`);
      return false;
    }
    const out = new PhpArray();
    for (const n of names) {
      const local = r.ini.get(n) ?? null;
      if (!details) {
        out.set(n, local);
        continue;
      }
      const row = new PhpArray();
      row.set('global_value', r.engine.masterIni.get(n) ?? local);
      row.set('local_value', local);
      row.set('access', ACCESS[r.ini.entry(n)!.changeable]);
      out.set(n, row);
    }
    return out;
  });
}

export function ini_restore(r: RequestContext, args: readonly unknown[]): void {
  argc('ini_restore', args, 1, 1);
  const name = strArg(r, 'ini_restore', 1, 'option', args[0], false)!;
  invokeSync(r, 'ini_restore', () => {
    const entry = r.ini.entry(name);
    if (entry === undefined || entry.changeable !== 'PHP_INI_ALL' || r.modified?.has(name) !== true) return;
    const master = r.engine.masterIni.value(name);
    if (master === undefined) return;
    if (r.ini.alter(name, master.raw, iniHost(r, 'runtime'), false)) {
      r.ini.setValue(name, { raw: master.raw, parsed: r.ini.parsed(name) });
      if (name === 'session.serialize_handler') {
        r.ps.serializer = r.ini.parsed<SessionSerializer | undefined>(name);
      }
      r.modified?.delete(name);
    }
  });
}
