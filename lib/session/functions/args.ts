/**
 * @module session/functions/args
 * zend_parse_parameters for the session functions: lib/zend's weak-mode parsers bound to a
 * request (deprecations go to its diagnostics with PHP's exact text), with the string results as
 * the session code keeps them (binary strings for PhpBytes).
 */
import {
  zendZvalTypeName,
  zppArgumentTypeError,
  zvalType,
  zppArgCount,
  zppArrayOrLong,
  zppBool,
  zppLong,
  zppScalarString,
  zppString,
  type ArrayArg,
  type ZppScope,
} from '../../zend/index.ts';
import { PhpArray, PhpBytes, type JsInput } from '../../value.ts';
import { report, type RequestContext } from '../context.ts';

export { isPhpArrayLike, zendClassName, zendIsTrue, zvalGetLong, zvalGetString, zvalType } from '../../zend/index.ts';

/** The zpp scope of `fn` on this request: zend's texts are complete, so they go out unprefixed. */
function scope(r: RequestContext, fn: string): ZppScope {
  return { fn, report: (level, message) => report(r, level, message, true) };
}

/** A PHP value's type name as zend_zval_type_name() words it. */
export const typeName = zendZvalTypeName;

export function toPhpArray(v: ArrayArg): PhpArray {
  return v instanceof PhpArray ? v : PhpArray.from(v as JsInput);
}

/** A PHP string as the session code keeps it (PhpBytes as its binary string). */
export function binaryString(s: string | PhpBytes): string {
  return typeof s === 'string' ? s : s.toBinaryString();
}

/** ZEND_PARSE_PARAMETERS' count check. */
export const argc = (fn: string, args: readonly unknown[], min: number, max: number): void =>
  zppArgCount(fn, args.length, min, max);

/** Z_PARAM_STR / Z_PARAM_STR_OR_NULL. */
export function strArg(r: RequestContext, fn: string, n: number, pname: string, v: unknown, nullable: boolean): string | null {
  const s = zppString(scope(r, fn), { n, name: pname, type: nullable ? '?string' : 'string' }, v);
  return s === null ? null : binaryString(s);
}

/** Z_PARAM_BOOL / Z_PARAM_BOOL_OR_NULL; an omitted (undefined) optional argument takes its default, false. */
export function boolArg(r: RequestContext, fn: string, n: number, pname: string, v: unknown, nullable: boolean): boolean | null {
  if (v === undefined) return nullable ? null : false;
  return zppBool(scope(r, fn), { n, name: pname, type: nullable ? '?bool' : 'bool' }, v);
}

/** Z_PARAM_ARRAY_HT_OR_LONG (`array|int`, as session_set_cookie_params' first parameter). */
export function arrayOrLongArg(r: RequestContext, fn: string, n: number, pname: string, v: unknown): ArrayArg | bigint {
  return zppArrayOrLong(scope(r, fn), { n, name: pname, type: 'array|int' }, v)!;
}

/** Z_PARAM_LONG_OR_NULL. */
export function nullableLongArg(r: RequestContext, fn: string, n: number, pname: string, v: unknown): bigint | null {
  return zppLong(scope(r, fn), { n, name: pname, type: '?int' }, v);
}

/**
 * A `string|int|float|bool|null` parameter read as a string (ini_set()'s `$value`). PHP 8.2
 * refuses an array or object with zend_argument_type_error(), whose text has no ", X given".
 */
export function scalarStringArg(r: RequestContext, fn: string, n: number, pname: string, v: unknown): string {
  const t = zvalType(v);
  if (t === 'array' || t === 'object') {
    throw zppArgumentTypeError(fn, { n, name: pname }, 'must be of type string|int|float|bool|null');
  }
  return binaryString(zppScalarString(scope(r, fn), { n, name: pname, type: 'string|int|float|bool|null' }, v));
}
