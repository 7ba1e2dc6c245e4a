/**
 * @module zend/zpp
 * zend_parse_parameters in coercive (weak) mode, as an internal PHP function parses its
 * arguments (Zend/zend_API.c): the argument count check (ArgumentCountError), the weak
 * conversions of zend_parse_arg_{bool,long,double,str}_weak, PHP's TypeError / ValueError texts,
 * "Passing null to parameter #N ($name) of type T is deprecated" (prefixed with the function, as
 * PHP prints it) and "Implicit conversion from float X to int loses precision" (unprefixed, as PHP
 * prints it).
 *
 * Each parser takes the {@link ZppScope} (function name and a diagnostics sink receiving the
 * exact text), the parameter's {@link ParamInfo} and the argument value (see zend/types for how JS
 * values stand for PHP values; `undefined` counts as null). They return the converted value or
 * throw {@link PhpTypeError}; deprecations go to the sink and parsing goes on, as in PHP.
 *
 * @example
 * ```ts
 * const scope = { fn: 'session_cache_expire', report: (l, m) => diagnostics.push({ level: l, message: m }) };
 * zppArgCount(scope.fn, args.length, 0, 1);
 * const value = zppLong(scope, { n: 1, name: 'value', type: '?int' }, args[0]); // bigint | null
 * ```
 */
import { PhpArgumentCountError, PhpTypeError, PhpValueError, type DiagnosticLevel } from '../errors.ts';
import type { PhpArray, PhpBytes } from '../value.ts';
import { doubleToShortest } from './float.ts';
import { doubleFitsLong, dvalToLval, isLongCompatible, isNumericString, numberOf, zendIsTrue, zvalGetString } from './numeric.ts';
import { zendZvalTypeName, zvalType } from './types.ts';

/** Where the parsers report: the running function (PHP's name, e.g. `session_start`) and a sink for exact texts. */
export interface ZppScope {
  readonly fn: string;
  report(level: DiagnosticLevel, message: string): void;
}

/** One parameter as its arginfo declares it: position (from 1), name (no `$`), type (`?int`, `array|int`). */
export interface ParamInfo {
  readonly n: number;
  readonly name: string;
  readonly type: string;
}

/** A PHP array argument as the caller passed it (PhpArray or a plain JS array, Map or object). */
export type ArrayArg = PhpArray | readonly unknown[] | ReadonlyMap<unknown, unknown> | Readonly<Record<string, unknown>>;

function nullable(p: ParamInfo): boolean {
  return p.type.startsWith('?') || p.type.split('|').includes('null');
}

/** zend_wrong_parameters_count_error(): `f() expects exactly 1 argument, 2 given`. */
export function zppArgCount(fn: string, argc: number, min: number, max: number): void {
  if (argc >= min && argc <= max) return;
  const bound = argc < min ? min : max;
  const word = min === max ? 'exactly' : argc < min ? 'at least' : 'at most';
  throw new PhpArgumentCountError(`${fn}() expects ${word} ${bound} argument${bound === 1 ? '' : 's'}, ${argc} given`);
}

/** zend_wrong_parameter_type_error(): `f(): Argument #1 ($x) must be of type T, U given`. */
export function zppTypeError(fn: string, p: ParamInfo, v: unknown): PhpTypeError {
  return new PhpTypeError(`${fn}(): Argument #${p.n} ($${p.name}) must be of type ${p.type}, ${zendZvalTypeName(v)} given`);
}

/** zend_argument_value_error(): `f(): Argument #1 ($x) <message>`. */
export function zppValueError(fn: string, p: Pick<ParamInfo, 'n' | 'name'>, message: string): PhpValueError {
  return new PhpValueError(`${fn}(): Argument #${p.n} ($${p.name}) ${message}`);
}

/** zend_argument_type_error(): `f(): Argument #1 ($x) <message>` as a TypeError. */
export function zppArgumentTypeError(fn: string, p: Pick<ParamInfo, 'n' | 'name'>, message: string): PhpTypeError {
  return new PhpTypeError(`${fn}(): Argument #${p.n} ($${p.name}) ${message}`);
}

/** zend_null_arg_deprecated(): null given to a scalar parameter that does not take null. */
export function nullArgDeprecated(scope: ZppScope, p: ParamInfo): void {
  scope.report('E_DEPRECATED', `${scope.fn}(): Passing null to parameter #${p.n} ($${p.name}) of type ${p.type} is deprecated`);
}

/** zend_incompatible_double_to_long_error() (no function prefix). */
export function implicitFloatToIntMessage(d: number): string {
  return `Implicit conversion from float ${doubleToShortest(d)} to int loses precision`;
}

/** zend_incompatible_string_to_long_error() (no function prefix). */
export function implicitFloatStringToIntMessage(s: string): string {
  const nul = s.indexOf('\0');
  return `Implicit conversion from float-string "${nul < 0 ? s : s.slice(0, nul)}" to int loses precision`;
}

function binary(v: unknown): string {
  if (typeof v === 'string') return v;
  return Buffer.from((v as PhpBytes).bytes ?? (v as Uint8Array)).toString('latin1');
}

/**
 * zend_parse_arg_long_weak() for a value that is not null: the zend_long, or undefined when PHP
 * refuses it (the caller throws its TypeError). Reports the "Implicit conversion" deprecation.
 */
export function zendParseArgLongWeak(scope: ZppScope, v: unknown): bigint | undefined {
  switch (zvalType(v)) {
    case 'int':
      return numberOf(v) as bigint;
    case 'float': {
      const d = numberOf(v) as number;
      if (d !== d || !doubleFitsLong(d)) return undefined;
      const l = dvalToLval(d);
      if (!isLongCompatible(d, l)) scope.report('E_DEPRECATED', implicitFloatToIntMessage(d));
      return l;
    }
    case 'string': {
      const s = binary(v);
      const num = isNumericString(s);
      if (num === null) return undefined;
      if (num.type === 'int') return num.value;
      const d = num.value;
      if (d !== d || !doubleFitsLong(d)) return undefined;
      const l = dvalToLval(d);
      if (!isLongCompatible(d, l)) scope.report('E_DEPRECATED', implicitFloatStringToIntMessage(s));
      return l;
    }
    case 'bool':
      return v ? 1n : 0n;
    default:
      return undefined;
  }
}

/** Z_PARAM_LONG / Z_PARAM_LONG_OR_NULL. */
export function zppLong(scope: ZppScope, p: ParamInfo, v: unknown): bigint | null {
  if (v === undefined || v === null) {
    if (nullable(p)) return null;
    nullArgDeprecated(scope, p);
    return 0n;
  }
  const l = zendParseArgLongWeak(scope, v);
  if (l === undefined) throw zppTypeError(scope.fn, p, v);
  return l;
}

/** Z_PARAM_DOUBLE / Z_PARAM_DOUBLE_OR_NULL (zend_parse_arg_double_weak). */
export function zppDouble(scope: ZppScope, p: ParamInfo, v: unknown): number | null {
  if (v === undefined || v === null) {
    if (nullable(p)) return null;
    nullArgDeprecated(scope, p);
    return 0;
  }
  switch (zvalType(v)) {
    case 'int':
      return Number(numberOf(v));
    case 'float':
      return numberOf(v) as number;
    case 'bool':
      return v ? 1 : 0;
    case 'string': {
      const num = isNumericString(binary(v));
      if (num !== null) return Number(num.value);
      break;
    }
    default:
      break;
  }
  throw zppTypeError(scope.fn, p, v);
}

/** Z_PARAM_BOOL / Z_PARAM_BOOL_OR_NULL (zend_parse_arg_bool_weak: null, bool, int, float, string). */
export function zppBool(scope: ZppScope, p: ParamInfo, v: unknown): boolean | null {
  if (v === undefined || v === null) {
    if (nullable(p)) return null;
    nullArgDeprecated(scope, p);
    return false;
  }
  const t = zvalType(v);
  if (t === 'array' || t === 'object') throw zppTypeError(scope.fn, p, v);
  return zendIsTrue(v);
}

/**
 * Z_PARAM_STR / Z_PARAM_STR_OR_NULL (zend_parse_arg_str_weak): scalars become strings (floats at
 * `precision` 14). Returns the PHP string (a JS string, or PhpBytes for non-UTF-8 bytes).
 */
export function zppString(scope: ZppScope, p: ParamInfo, v: unknown): string | PhpBytes | null {
  if (v === undefined || v === null) {
    if (nullable(p)) return null;
    nullArgDeprecated(scope, p);
    return '';
  }
  const t = zvalType(v);
  if (t === 'array' || t === 'object') throw zppTypeError(scope.fn, p, v);
  return zvalGetString(v)!;
}

/** Z_PARAM_ARRAY / Z_PARAM_ARRAY_OR_NULL: arrays only (no weak conversion, so null is a TypeError unless nullable). */
export function zppArray(scope: ZppScope, p: ParamInfo, v: unknown): ArrayArg | null {
  if ((v === undefined || v === null) && nullable(p)) return null;
  if (zvalType(v) !== 'array') throw zppTypeError(scope.fn, p, v);
  return v as ArrayArg;
}

/** Z_PARAM_ARRAY_HT_OR_LONG(_OR_NULL): an array as is, else the weak int rules (`array|int`). */
export function zppArrayOrLong(scope: ZppScope, p: ParamInfo, v: unknown): ArrayArg | bigint | null {
  if (zvalType(v) === 'array') return v as ArrayArg;
  return zppLong(scope, p, v);
}

/**
 * A `string|int|float|bool|null` parameter taken as a zval and read as a string (ini_set()'s
 * `$value`): arrays and objects are refused with zend_argument_type_error()'s text, which names
 * no given type (`ini_set(): Argument #2 ($value) must be of type string|int|float|bool|null`);
 * everything else goes through zval_get_string() (null → "", no deprecation).
 */
export function zppScalarString(scope: ZppScope, p: ParamInfo, v: unknown): string | PhpBytes {
  const t = zvalType(v);
  if (t === 'array' || t === 'object') throw zppArgumentTypeError(scope.fn, p, `must be of type ${p.type}`);
  return zvalGetString(v)!;
}
