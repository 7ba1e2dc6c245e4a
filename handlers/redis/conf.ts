/**
 * @module handlers/redis/conf
 * How phpredis reads its settings: INI_INT (zend_ini_long: strtol with base 0, so "0x10" is 16 and
 * "010" is 8) and the redis_conf_* helpers that read save_path parameters from the parse_str()
 * array (zval_get_long / zval_get_double / a bool that only "1", "true" and "yes" turn on).
 */
import type { SaveHandlerContext } from '../../lib/handler.ts';
import type { QueryValue } from '../../lib/zend/url.ts';

const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;

/** C strtol(s, NULL, 0), saturating at the 64-bit limits as glibc does. */
export function strtolBase0(s: string): bigint {
  // The common case, a plain decimal without a leading zero, needs no BigInt parsing.
  if (/^[1-9]\d{0,14}$/.test(s) || s === '0') return BigInt(Number(s));
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)/.exec(s);
  if (m === null) return 0n;
  const digits = m[2]!;
  let v: bigint;
  if (/^0[xX]/.test(digits)) v = BigInt(digits);
  else if (digits.length > 1 && digits[0] === '0') v = BigInt(`0o${digits.slice(1)}`);
  else v = BigInt(digits);
  if (m[1] === '-') v = -v;
  return v > LONG_MAX ? LONG_MAX : v < LONG_MIN ? LONG_MIN : v;
}

/** INI_INT(name) as a zend_long (a JS number; exact up to 2^53). */
export function iniLong(ctx: SaveHandlerContext, name: string): number {
  const v = ctx.ini(name);
  if (v === undefined) return 0;
  if (v === '0' || /^[1-9]\d{0,14}$/.test(v)) return Number(v);
  return Number(strtolBase0(v));
}

/** INI_INT(name) stored into a C `int` (truncated to 32 bits). */
export function iniCInt(ctx: SaveHandlerContext, name: string): number {
  const v = ctx.ini(name);
  if (v === undefined) return 0;
  // A plain decimal of up to 9 digits fits an int as it is: no BigInt on the per-request path.
  if (v === '0' || /^-?[1-9]\d{0,8}$/.test(v)) return Number(v);
  return Number(BigInt.asIntN(32, strtolBase0(v)));
}

/** The leading numeric part of a PHP string, as is_numeric_string with errors allowed reads it. */
function numericPrefix(s: string): { value: number; isInt: boolean } | null {
  const m = /^[ \t\n\r\v\f]*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)/.exec(s);
  if (m === null) return null;
  const isInt = m[3] === undefined && m[4] === undefined && !m[1]!.includes('.');
  return { value: Number(m[1]), isInt };
}

/** zval_get_double of a parse_str value (arrays are 1.0 when non-empty). */
export function zvalDouble(v: QueryValue): number {
  if (typeof v !== 'string') return v.size > 0 ? 1 : 0;
  return numericPrefix(v)?.value ?? 0;
}

/** zval_get_long of a parse_str value. */
export function zvalLong(v: QueryValue): number {
  if (typeof v !== 'string') return v.size > 0 ? 1 : 0;
  const n = numericPrefix(v);
  if (n === null) return 0;
  if (n.isInt) {
    const b = BigInt(/^[ \t\n\r\v\f]*([+-]?\d+)/.exec(v)![1]!);
    return Number(b > LONG_MAX ? LONG_MAX : b < LONG_MIN ? LONG_MIN : b);
  }
  // A float string: truncated toward zero, 0 when out of range (zend_dval_to_lval).
  if (!Number.isFinite(n.value) || Math.abs(n.value) >= 2 ** 63) return 0;
  return Math.trunc(n.value);
}

/** zval_get_long stored into a C int. */
export function zvalInt(v: QueryValue): number {
  return Number(BigInt.asIntN(32, BigInt(zvalLong(v))));
}

/** zval_get_string: arrays read as "Array" (PHP also warns "Array to string conversion"). */
export function zvalString(v: QueryValue): string {
  return typeof v === 'string' ? v : 'Array';
}

/** zend_is_true of a parse_str value: '' and '0' are false, other strings and non-empty arrays true. */
export function zvalTrue(v: QueryValue): boolean {
  return typeof v === 'string' ? v !== '' && v !== '0' : v.size > 0;
}

/** redis_conf_bool: only "true", "yes" and "1" (any case) turn it on. */
export function confBool(v: QueryValue): boolean {
  const s = zvalString(v).toLowerCase();
  return s === 'true' || s === 'yes' || s === '1';
}

/** redis_extract_auth_info: a string is the password; an array gives [user, pass] or [pass]. */
export function confAuth(v: QueryValue): { user?: string; pass: string } | { warning: string } | null {
  if (typeof v === 'string') return { pass: v };
  if (v.size !== 1 && v.size !== 2) return { warning: 'When passing an array as auth it must have one or two elements!' };
  const pick = (named: string, index: number): string | undefined => {
    const x = v.get(named) ?? v.get(index);
    return x === undefined ? undefined : zvalString(x);
  };
  if (v.size === 2) {
    const user = pick('user', 0);
    const pass = pick('pass', 1);
    if (pass === undefined) return null;
    return user === undefined ? { pass } : { user, pass };
  }
  const pass = pick('pass', 0);
  return pass === undefined ? null : { pass };
}
