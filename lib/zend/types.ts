/**
 * @module zend/types
 * How a JavaScript value stands for a PHP value (the zval type it has), and PHP's type names for
 * messages: zend_zval_type_name() (TypeError texts: `int`, `float`, `array`, a class name) and
 * zend_zval_get_legacy_type() (gettype(): `integer`, `double`, `boolean`).
 *
 * The one mapping, used by every argument check and message in the library:
 * `null`/`undefined` → null; `boolean` → bool; a `number` that is a safe integer, or a `bigint` →
 * int; any other `number` and {@link PhpFloat} → float; `string`, {@link PhpBytes} and `Uint8Array`
 * → string; {@link PhpArray}, JS arrays, Maps and plain objects (prototype Object or null) without
 * function-valued properties → array; {@link PhpObject} (and the other object classes of the value
 * model) → object of that class; any other JS object (a class instance, or a plain object carrying
 * methods, as a save handler does) → object of its constructor's name (`stdClass` for a plain
 * object); a function → `Closure`.
 *
 * PHP 8.2 has no zend_zval_value_name() (8.3 added it and prints `true given`); 8.2's TypeErrors
 * use zend_zval_type_name(), so `bool given`.
 */
import { PhpArray, PhpBytes, PhpEnum, PhpFloat, PhpObject, PhpSerializable } from '../value.ts';

/** The zval type of a value (Z_TYPE, with IS_TRUE/IS_FALSE folded into `bool`). */
export type ZvalType = 'null' | 'bool' | 'int' | 'float' | 'string' | 'array' | 'object';

/** True for the JS shapes the library accepts as a PHP array. */
export function isPhpArrayLike(v: unknown): v is PhpArray | readonly unknown[] | ReadonlyMap<unknown, unknown> | Record<string, unknown> {
  if (v instanceof PhpArray || Array.isArray(v) || v instanceof Map) return true;
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto !== null && proto !== Object.prototype) return false;
  for (const k in v) if (typeof (v as Record<string, unknown>)[k] === 'function') return false;
  return true;
}

/** Z_TYPE_P() of a value under the mapping above. */
export function zvalType(v: unknown): ZvalType {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isSafeInteger(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'string':
      return 'string';
    case 'function':
      return 'object';
    default:
      break;
  }
  if (v instanceof PhpFloat) return 'float';
  if (v instanceof PhpBytes || v instanceof Uint8Array) return 'string';
  if (isPhpArrayLike(v)) return 'array';
  return 'object';
}

/** The class name of an object value (PhpObject's own, else the JS constructor's, else stdClass). */
export function zendClassName(v: object): string {
  if (v instanceof PhpObject || v instanceof PhpSerializable || v instanceof PhpEnum) return v.className;
  if (typeof v === 'function') return 'Closure';
  const ctor = (v as { constructor?: unknown }).constructor;
  if (typeof ctor === 'function' && ctor !== Object && ctor.name !== '') return ctor.name;
  return 'stdClass';
}

/** zend_zval_type_name(): `null`, `bool`, `int`, `float`, `string`, `array` or the class name. */
export function zendZvalTypeName(v: unknown): string {
  const t = zvalType(v);
  return t === 'object' ? zendClassName(v as object) : t;
}

/** zend_zval_get_legacy_type() (gettype()): `NULL`, `boolean`, `integer`, `double`, `string`, `array`, `object`. */
export function zendLegacyTypeName(v: unknown): string {
  switch (zvalType(v)) {
    case 'null':
      return 'NULL';
    case 'bool':
      return 'boolean';
    case 'int':
      return 'integer';
    case 'float':
      return 'double';
    case 'string':
      return 'string';
    case 'array':
      return 'array';
    case 'object':
      return 'object';
  }
}

/** The values of an array-like argument, in order (ZEND_HASH_FOREACH_VAL). */
export function phpArrayValues(v: PhpArray | readonly unknown[] | ReadonlyMap<unknown, unknown> | Readonly<Record<string, unknown>>): Iterable<unknown> {
  if (v instanceof PhpArray) return [...v].map(([, x]) => x);
  if (Array.isArray(v)) return v as readonly unknown[];
  if (v instanceof Map) return v.values();
  return Object.values(v);
}
