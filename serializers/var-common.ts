/**
 * @module serializers/var-common
 * What serialize.ts and unserialize.ts share (as PHP's var.c and var_unserializer.re share
 * php_var.h): the incomplete-class names, the lossless form of non-UTF-8 class names, and small
 * predicates on names and values.
 */
import { SerializeError } from '../lib/errors.ts';
import { PhpBytes, PhpEnum, PhpObject, PhpSerializable } from '../lib/value.ts';

export const INCOMPLETE_CLASS = '__PHP_Incomplete_Class';
export const INCOMPLETE_CLASS_LC = '__php_incomplete_class';
export const MAGIC_MEMBER = '__PHP_Incomplete_Class_Name';

/**
 * Class, enum and case names are JS strings. PHP allows any byte >= 0x80 in them, so a name that
 * is not valid UTF-8 is held losslessly as this prefix (a lone surrogate, which no decoded UTF-8
 * text contains) followed by the raw bytes as Latin-1 characters.
 */
export const BINARY_NAME_PREFIX = '\uD800';

/** The wire bytes of a class/enum/case name (see {@link BINARY_NAME_PREFIX}). */
export function nameBytes(name: string): Buffer {
  if (name.startsWith(BINARY_NAME_PREFIX)) return Buffer.from(name.slice(1), 'latin1');
  if (!isWellFormed(name)) throw new SerializeError('Class name contains a lone UTF-16 surrogate');
  return Buffer.from(name, 'utf8');
}

/** A name as a PHP string value (the `__PHP_Incomplete_Class_Name` property). */
export function nameValue(name: string): string | PhpBytes {
  return name.startsWith(BINARY_NAME_PREFIX) ? new PhpBytes(nameBytes(name)) : name;
}

const LONE_SURROGATE = /\p{Cs}/u;
/** True when a JS string has no lone UTF-16 surrogate (so it has an exact UTF-8 form). */
export function isWellFormed(s: string): boolean {
  const f = (s as unknown as { isWellFormed?: () => boolean }).isWellFormed;
  return typeof f === 'function' ? f.call(s) : !LONE_SURROGATE.test(s);
}

export function isObjectValue(v: unknown): v is PhpObject | PhpSerializable | PhpEnum {
  return v instanceof PhpObject || v instanceof PhpSerializable || v instanceof PhpEnum;
}

/** ASCII-only lower-casing, as PHP compares class names. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}
