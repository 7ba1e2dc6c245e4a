/**
 * @module session/functions/start
 * PHP_FUNCTION(session_start): the options array (ini settings and read_and_close), then
 * php_session_start.
 */
import { PhpTypeError } from '../../errors.ts';
import { iniString } from '../../ini/index.ts';
import { fmt, MSG } from '../../messages.ts';
import { PhpArray, PhpBytes } from '../../value.ts';
import { alterIni, iniBool, report, type RequestContext } from '../context.ts';
import type { Routine } from '../drive.ts';
import { invoke } from '../frame.ts';
import { boundArray } from '../codec.ts';
import { flush, start } from '../lifecycle.ts';
import { PHP_SESSION_ACTIVE } from '../state.ts';
import { argc, isPhpArrayLike, toPhpArray, typeName, zvalGetLong } from './args.ts';
import { refuseChange } from './guard.ts';

/** Re-reads the status after a routine changed it (TypeScript would keep the earlier narrowing). */
function isActive(r: RequestContext): boolean {
  return r.ps.status === PHP_SESSION_ACTIVE;
}

export function session_start(r: RequestContext, args: readonly unknown[]): Promise<boolean> {
  argc('session_start', args, 0, 1);
  const opt = args[0];
  let options: PhpArray | undefined;
  if (opt !== undefined) {
    if (!isPhpArrayLike(opt)) {
      throw new PhpTypeError(`session_start(): Argument #1 ($options) must be of type array, ${typeName(opt)} given`);
    }
    options = toPhpArray(opt);
  }
  return invoke(r, 'session_start', () => sessionStart(r, options));
}

/** The body of session_start() once its arguments are parsed. */
export function* sessionStart(r: RequestContext, options: PhpArray | undefined): Routine<boolean> {
  if (r.ps.status === PHP_SESSION_ACTIVE) {
    report(r, 'E_NOTICE', MSG.START_ACTIVE);
    return true;
  }
  if (refuseChange(r, undefined, iniBool(r, 'session.use_cookies') ? MSG.START_HEADERS : undefined)) return false;
  let readAndClose = 0n;
  if (options !== undefined) {
    for (const [key, value] of options) {
      if (typeof key !== 'string' && !(key instanceof PhpBytes)) continue;
      const k = typeof key === 'string' ? key : key.toBinaryString();
      if (
        typeof value === 'string' ||
        typeof value === 'boolean' ||
        typeof value === 'bigint' ||
        (typeof value === 'number' && Number.isSafeInteger(value)) ||
        value instanceof PhpBytes
      ) {
        if (k === 'read_and_close') {
          readAndClose = zvalGetLong(value);
        } else {
          const str = value instanceof PhpBytes ? value.toBinaryString() : iniString(value);
          if (!alterIni(r, `session.${k}`, str)) report(r, 'E_WARNING', fmt(MSG.START_OPTION_FAILED, k));
        }
      } else {
        throw new PhpTypeError(fmt(MSG.START_OPTION_TYPE, 'session_start', k, typeName(value)));
      }
    }
  }
  yield* start(r);
  if (!isActive(r)) {
    boundArray(r)?.clear();
    return false;
  }
  if (readAndClose !== 0n) yield* flush(r, false);
  return true;
}
