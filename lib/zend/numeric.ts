/**
 * @module zend/numeric
 * PHP's numeric strings and number conversions (Zend/zend_operators.c): is_numeric_string()
 * (leading and trailing whitespace allowed, no hex, no trailing garbage), ZEND_DOUBLE_FITS_LONG,
 * zend_dval_to_lval(), zend_is_long_compatible(), zend_is_true() and zval_get_string() for the
 * scalar types.
 */
import { PhpArray, PhpBytes, PhpFloat } from '../value.ts';
import { doubleToStr } from './float.ts';
import { ZEND_LONG_MAX, ZEND_LONG_MIN } from './strtol.ts';
import { isPhpArrayLike, zvalType } from './types.ts';

/** What is_numeric_string() found: an int, a float, or nothing (`null`). */
export type NumericString = { type: 'int'; value: bigint } | { type: 'float'; value: number } | null;

const WS = '[ \\t\\n\\r\\v\\f]*';
const NUMERIC_PREFIX_RE = new RegExp(`^${WS}([+-]?)(\\d+(?:\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?`);
const TRAILING_WS_RE = new RegExp(`^${WS}$`);

/**
 * _is_numeric_string_ex(): like {@link isNumericString}; with `allowErrors` a string that only
 * starts with a number (`"12abc"`) counts too, with `trailing` set.
 */
export function isNumericStringEx(s: string, allowErrors: boolean): (NonNullable<NumericString> & { trailing: boolean }) | null {
  const m = NUMERIC_PREFIX_RE.exec(s);
  if (m === null) return null;
  const trailing = !TRAILING_WS_RE.test(s.slice(m[0].length));
  if (trailing && !allowErrors) return null;
  const body = m[2]!;
  if (m[3] === undefined && !body.includes('.')) {
    const v = BigInt(m[1] === '-' ? `-${body}` : body);
    if (v >= ZEND_LONG_MIN && v <= ZEND_LONG_MAX) return { type: 'int', value: v, trailing };
  }
  return { type: 'float', value: Number(`${m[1]}${body}${m[3] ?? ''}`), trailing };
}

/**
 * is_numeric_string(str, len, &lval, &dval, allow_errors = false): an int when the string is an
 * integer within zend_long (after whitespace, one sign and any leading zeros), a float for a
 * decimal point, an exponent or an integer out of range, otherwise null. Trailing whitespace is
 * allowed; anything else after the number is not.
 */
export function isNumericString(s: string): NumericString {
  const r = isNumericStringEx(s, false);
  return r === null ? null : r.type === 'int' ? { type: 'int', value: r.value } : { type: 'float', value: r.value };
}

/** ZEND_DOUBLE_FITS_LONG (64-bit): !(d >= 2^63 || d < -2^63). NaN "fits" (callers test it first). */
export function doubleFitsLong(d: number): boolean {
  return !(d >= 9223372036854775808 || d < -9223372036854775808);
}

/**
 * zend_dval_to_lval() (64-bit): truncation toward zero; 0 for NaN and infinities; a value outside
 * zend_long wraps modulo 2^64 (zend_dval_to_lval_slow).
 */
export function dvalToLval(d: number): bigint {
  if (!Number.isFinite(d)) return 0n;
  if (!doubleFitsLong(d)) return BigInt.asIntN(64, BigInt(d));
  return BigInt(Math.trunc(d));
}

/** zend_dval_to_lval_cap(): like {@link dvalToLval} but saturating at ZEND_LONG_MIN/MAX (string → int). */
export function dvalToLvalCap(d: number): bigint {
  if (!Number.isFinite(d)) return 0n;
  if (!doubleFitsLong(d)) return d > 0 ? ZEND_LONG_MAX : ZEND_LONG_MIN;
  return BigInt(Math.trunc(d));
}

/** zend_is_long_compatible(): the double survives the round trip through zend_long. */
export function isLongCompatible(d: number, l: bigint): boolean {
  return Number(l) === d;
}

/** The numeric value of an int or float zval (bigint for int, number for float), else undefined. */
export function numberOf(v: unknown): bigint | number | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (v instanceof PhpFloat) return v.value;
  return undefined;
}

/** zend_is_true() for the value model (objects are true). */
export function zendIsTrue(v: unknown): boolean {
  switch (zvalType(v)) {
    case 'null':
      return false;
    case 'bool':
      return v as boolean;
    case 'int':
      return numberOf(v) !== 0n;
    case 'float':
      return numberOf(v) !== 0;
    case 'string': {
      const s = phpStringBytes(v as string | PhpBytes | Uint8Array);
      return !(s.length === 0 || (s.length === 1 && s[0] === '0'));
    }
    case 'array':
      if (v instanceof PhpArray) return v.size > 0;
      if (Array.isArray(v)) return v.length > 0;
      if (v instanceof Map) return v.size > 0;
      return Object.keys(v as object).length > 0;
    case 'object':
      return true;
  }
}

/**
 * zval_get_long() (non-strict, no diagnostics): null/false → 0, true → 1, floats by
 * zend_dval_to_lval, strings by their leading number (is_numeric_string with allow_errors;
 * float strings saturate, "1e400" → 0), arrays → 0 or 1 by emptiness, objects → 1.
 */
export function zvalGetLong(v: unknown): bigint {
  switch (zvalType(v)) {
    case 'null':
      return 0n;
    case 'bool':
      return v ? 1n : 0n;
    case 'int':
      return numberOf(v) as bigint;
    case 'float':
      return dvalToLval(numberOf(v) as number);
    case 'string': {
      const r = isNumericStringEx(phpStringBytes(v as string | PhpBytes | Uint8Array), true);
      if (r === null) return 0n;
      return r.type === 'int' ? r.value : dvalToLvalCap(r.value);
    }
    case 'array':
      return zendIsTrue(v) ? 1n : 0n;
    case 'object':
      return 1n;
  }
}

/** A PHP string value as a binary (Latin-1, one char per byte) JS string, or a UTF-8 JS string as is. */
function phpStringBytes(v: string | PhpBytes | Uint8Array): string {
  if (typeof v === 'string') return v;
  if (v instanceof PhpBytes) return v.toBinaryString();
  return Buffer.from(v).toString('latin1');
}

/**
 * zval_get_string() for null, bool, int, float and strings (floats at `precision`); arrays give
 * `"Array"` (PHP also warns "Array to string conversion"; the caller reports it). Strings come back
 * as they are (PhpBytes stays PhpBytes). Objects: undefined (the caller decides).
 */
export function zvalGetString(v: unknown, precision?: number): string | PhpBytes | undefined {
  switch (zvalType(v)) {
    case 'null':
      return '';
    case 'bool':
      return v ? '1' : '';
    case 'int':
      return String(numberOf(v));
    case 'float':
      return doubleToStr(numberOf(v) as number, precision);
    case 'string':
      return v instanceof Uint8Array ? new PhpBytes(v) : (v as string | PhpBytes);
    case 'array':
      return isPhpArrayLike(v) ? 'Array' : undefined;
    case 'object':
      return undefined;
  }
}

/**
 * C atof() for decimal input (what zend_strtod reads): leading isspace() blanks, then the longest
 * decimal float prefix; 0 when there is none. Hex floats, "inf" and "nan" are not read.
 */
export function cAtof(s: string): number {
  const m = /^[ \t\n\r\v\f]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/.exec(s);
  return m === null ? 0 : Number(m[1]);
}
