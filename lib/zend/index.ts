/**
 * @module zend
 * Level 0 of the library: PHP's runtime rules, one implementation each, as php-src keeps them in
 * Zend/ and main/. Imports nothing but the value model (lib/value.ts) and the error classes
 * (lib/errors.ts). Every other layer (ini, serializers, handlers, the session core) calls these
 * instead of keeping a copy.
 *
 * - types: the JS ↔ zval type mapping, zend_zval_type_name()
 * - float: zend_gcvt(), `precision` 14 and `serialize_precision` -1 conversions
 * - numeric: is_numeric_string(), double ↔ long rules, zend_is_true(), zval_get_string()
 * - strtol: strtol/strtoul/atol/atoi with C's rules
 * - ini: zend_ini_parse_bool(), zend_ini_parse_quantity()
 * - zpp: zend_parse_parameters' weak-mode argument checks and their error/deprecation texts
 * - strerror: errno texts
 * - session-key: php_session_valid_key()
 */
export * from './types.ts';
export * from './float.ts';
export * from './numeric.ts';
export * from './strtol.ts';
export * from './ini.ts';
export * from './zpp.ts';
export * from './strerror.ts';
export * from './session-key.ts';
