/**
 * @module session/functions/cookie-params
 * PHP_FUNCTION(session_set_cookie_params) (both signatures) and
 * PHP_FUNCTION(session_get_cookie_params).
 */
import { PhpError, PhpValueError } from '../../errors.ts';
import { fmt, MSG } from '../../messages.ts';
import { normalizeInt, PhpArray, PhpBytes } from '../../value.ts';
import { alterIni, iniBool, iniLong, iniStr, report, type RequestContext } from '../context.ts';
import type { Routine } from '../drive.ts';
import { invoke } from '../frame.ts';
import {
  argc,
  arrayOrLongArg,
  binaryString,
  boolArg,
  strArg,
  toPhpArray,
  zendClassName,
  zendIsTrue,
  zvalGetString,
  zvalType,
} from './args.ts';
import { refuseChange } from './guard.ts';

const FN = 'session_set_cookie_params';

/** zval_get_string() of an option value: an array warns and is "Array"; an object is PHP's Error. */
function optionString(r: RequestContext, v: unknown): string {
  const s = zvalGetString(v);
  if (s === undefined) throw new PhpError(`Object of class ${zendClassName(v as object)} could not be converted to string`);
  if (zvalType(v) === 'array') report(r, 'E_WARNING', 'Array to string conversion', true);
  return binaryString(s);
}

export function session_set_cookie_params(r: RequestContext, args: readonly unknown[]): Promise<boolean> {
  return invoke(r, FN, () => setCookieParams(r, args));
}

// A routine only for its frame: it never waits, but PHP's errors surface as the promise's rejection.
function* setCookieParams(r: RequestContext, args: readonly unknown[]): Routine<boolean> {
  argc(FN, args, 1, 5);
  const [first, a2, a3, a4, a5] = args;
  const lifetimeOrOptions = arrayOrLongArg(r, FN, 1, 'lifetime_or_options', first);
  const options = typeof lifetimeOrOptions === 'bigint' ? undefined : toPhpArray(lifetimeOrOptions);
  let path = strArg(r, FN, 2, 'path', a2, true);
  let domain = strArg(r, FN, 3, 'domain', a3, true);
  let secure = boolArg(r, FN, 4, 'secure', a4, true);
  let httponly = boolArg(r, FN, 5, 'httponly', a5, true);
  let lifetime: string | null = null;
  let samesite: string | null = null;

  if (!iniBool(r, 'session.use_cookies')) {
    report(r, 'E_WARNING', MSG.COOKIES_DISABLED);
    return false;
  }
  if (refuseChange(r, MSG.COOKIE_PARAMS_ACTIVE, MSG.COOKIE_PARAMS_HEADERS)) return false;
  if (options !== undefined) {
    const argName = ['', '', 'path', 'domain', 'secure', 'httponly'];
    const given = [false, false, path !== null, domain !== null, secure !== null, httponly !== null];
    for (let i = 2; i <= 5; i++) {
      if (given[i]) throw new PhpValueError(`${FN}(): Argument #${i} ($${argName[i]}) ${MSG.COOKIE_PARAMS_MUST_BE_NULL}`);
    }
    let found = 0;
    for (const [key, value] of options) {
      if (typeof key !== 'string' && !(key instanceof PhpBytes)) {
        report(r, 'E_WARNING', MSG.COOKIE_PARAMS_NUMERIC_KEY);
        continue;
      }
      const k = typeof key === 'string' ? key : key.toBinaryString();
      switch (k.toLowerCase()) {
        case 'lifetime':
          lifetime = optionString(r, value);
          break;
        case 'path':
          path = optionString(r, value);
          break;
        case 'domain':
          domain = optionString(r, value);
          break;
        case 'secure':
          secure = zendIsTrue(value);
          break;
        case 'httponly':
          httponly = zendIsTrue(value);
          break;
        case 'samesite':
          samesite = optionString(r, value);
          break;
        default:
          report(r, 'E_WARNING', fmt(MSG.COOKIE_PARAMS_UNKNOWN_KEY, k));
          continue;
      }
      found++;
    }
    if (found === 0) throw new PhpValueError(`${FN}(): Argument #1 ($lifetime_or_options) ${MSG.COOKIE_PARAMS_NO_KEY}`);
  } else {
    lifetime = String(lifetimeOrOptions);
  }
  if (lifetime !== null && !alterIni(r, 'session.cookie_lifetime', lifetime)) return false;
  if (path !== null && !alterIni(r, 'session.cookie_path', path)) return false;
  if (domain !== null && !alterIni(r, 'session.cookie_domain', domain)) return false;
  if (secure !== null && !alterIni(r, 'session.cookie_secure', secure ? '1' : '0')) return false;
  if (httponly !== null && !alterIni(r, 'session.cookie_httponly', httponly ? '1' : '0')) return false;
  if (samesite !== null && !alterIni(r, 'session.cookie_samesite', samesite)) return false;
  return true;
}

export function session_get_cookie_params(r: RequestContext, args: readonly unknown[]): PhpArray {
  argc('session_get_cookie_params', args, 0, 0);
  const out = new PhpArray();
  out.set('lifetime', normalizeInt(iniLong(r, 'session.cookie_lifetime')));
  out.set('path', iniStr(r, 'session.cookie_path'));
  out.set('domain', iniStr(r, 'session.cookie_domain'));
  out.set('secure', iniBool(r, 'session.cookie_secure'));
  out.set('httponly', iniBool(r, 'session.cookie_httponly'));
  out.set('samesite', iniStr(r, 'session.cookie_samesite'));
  return out;
}
