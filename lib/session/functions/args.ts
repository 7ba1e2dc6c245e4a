/**
 * @module session/functions/args
 * zend_parse_parameters for the session functions: argument counts, coercive-mode string, bool
 * and int parameters with PHP's TypeError and deprecation texts, and the zval conversions the
 * functions apply to option values.
 */
import { PhpArgumentCountError, PhpTypeError } from '../../errors.ts';
import { PhpArray, PhpBytes, PhpFloat, PhpObject, phpTypeName, type JsInput, type PhpValue } from '../../value.ts';
import { report, type RequestContext } from '../context.ts';
import { invokeSync } from '../frame.ts';

/** A PHP value's type name as zend_zval_type_name() words it. */
export function typeName(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string' || v instanceof PhpBytes || v instanceof Uint8Array) return 'string';
  if (v instanceof PhpFloat) return 'float';
  if (v instanceof PhpArray || Array.isArray(v) || v instanceof Map) return 'array';
  if (v instanceof PhpObject) return v.className;
  if (typeof v === 'function') return 'Closure';
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v) as object | null;
    if (proto === null || proto === Object.prototype) return 'array';
    return phpTypeName(v as PhpValue);
  }
  return 'mixed';
}

export type ArrayLike = PhpArray | Record<string, unknown> | unknown[] | Map<unknown, unknown>;

/** A value PHP would see as an array (PhpArray, JS array, Map, plain object). */
export function isPhpArrayLike(v: unknown): v is ArrayLike {
  if (v instanceof PhpArray || Array.isArray(v) || v instanceof Map) return true;
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto === null || proto === Object.prototype;
}

export function toPhpArray(v: ArrayLike): PhpArray {
  return v instanceof PhpArray ? v : PhpArray.from(v as JsInput);
}

/** PHP's float to string (precision 17 shortest round-trip, as PHP 8 prints floats). */
export function floatToString(f: number): string {
  if (Number.isNaN(f)) return 'NAN';
  if (!Number.isFinite(f)) return f > 0 ? 'INF' : '-INF';
  if (Number.isInteger(f) && Math.abs(f) < 1e15) return String(f);
  const s = String(f);
  return s.replace(/e\+?/, 'E+').replace('E+-', 'E-');
}

/** zval_get_string() for scalars (arrays give "Array"). */
export function zvalToString(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v === true) return '1';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floatToString(v);
  if (v instanceof PhpFloat) return floatToString(v.value);
  if (v instanceof PhpBytes) return v.toBinaryString();
  if (isPhpArrayLike(v)) return 'Array';
  return String(v);
}

/** zval_is_true(). */
export function zvalIsTrue(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (v === true) return true;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (v instanceof PhpFloat) return v.value !== 0;
  if (typeof v === 'string') return v !== '' && v !== '0';
  if (v instanceof PhpBytes) return !(v.bytes.length === 0 || (v.bytes.length === 1 && v.bytes[0] === 0x30));
  if (v instanceof PhpArray) return v.size > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isPhpArrayLike(v)) return Object.keys(v).length > 0;
  return true;
}

/** zval_get_long() for the read_and_close option (string, int, bool). */
export function zvalToLong(v: unknown): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'bigint') return v === 0n ? 0 : 1;
  if (typeof v === 'string') {
    const m = /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(v);
    return m === null ? 0 : Math.trunc(Number(m[0].trim())) || 0;
  }
  return 0;
}

/** ZEND_PARSE_PARAMETERS' count check. */
export function argc(fn: string, args: readonly unknown[], min: number, max: number): void {
  const n = args.length;
  if (n >= min && n <= max) return;
  const bound = n < min ? min : max;
  const word = min === max ? 'exactly' : n < min ? 'at least' : 'at most';
  throw new PhpArgumentCountError(`${fn}() expects ${word} ${bound} argument${bound === 1 ? '' : 's'}, ${n} given`);
}

/** Coercive-mode string parameter (`?string` when nullable). */
export function strArg(r: RequestContext, fn: string, n: number, pname: string, v: unknown, nullable: boolean): string | null {
  if (v === undefined || v === null) {
    if (nullable) return null;
    invokeSync(r, fn, () =>
      report(r, 'E_DEPRECATED', `Passing null to parameter #${n} ($${pname}) of type string is deprecated`),
    );
    return '';
  }
  if (typeof v === 'string') return v;
  if (v instanceof PhpBytes) return v.toBinaryString();
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v instanceof PhpFloat) {
    return zvalToString(v);
  }
  throw new PhpTypeError(
    `${fn}(): Argument #${n} ($${pname}) must be of type ${nullable ? '?string' : 'string'}, ${typeName(v)} given`,
  );
}

/** Coercive-mode bool parameter. */
export function boolArg(fn: string, n: number, pname: string, v: unknown, nullable: boolean): boolean | null {
  if (v === undefined || v === null) return nullable ? null : false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof PhpFloat) return zvalIsTrue(v);
  if (typeof v === 'string') return zvalIsTrue(v);
  throw new PhpTypeError(
    `${fn}(): Argument #${n} ($${pname}) must be of type ${nullable ? '?bool' : 'bool'}, ${typeName(v)} given`,
  );
}

/** Coercive-mode int parameter; `types` names the declared type in the TypeError. */
export function intArg(
  r: RequestContext,
  fn: string,
  n: number,
  pname: string,
  v: unknown,
  nullable: boolean,
  types = nullable ? '?int' : 'int',
): bigint | null {
  if (v === undefined || v === null) return nullable ? null : 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string' && /^[ \t\n\r\v\f]*[+-]?\d+[ \t\n\r\v\f]*$/.test(v)) return BigInt(v.trim());
  if ((typeof v === 'number' || v instanceof PhpFloat) && Number.isFinite(Number(v))) {
    const f = Number(v);
    if (Number.isInteger(f)) return BigInt(f);
    invokeSync(r, fn, () =>
      report(r, 'E_DEPRECATED', `Implicit conversion from float ${floatToString(f)} to int loses precision`),
    );
    return BigInt(Math.trunc(f));
  }
  throw new PhpTypeError(`${fn}(): Argument #${n} ($${pname}) must be of type ${types}, ${typeName(v)} given`);
}
