/**
 * @module ini
 * PHP's ini machinery for the session engine (level 1): typed entries (entry.ts), the session
 * directives table with its OnUpdate* validators (session.ts), value tables with PHP's change
 * rules (table.ts), the php.ini reader (php-ini.ts) and a per-request scope with typed getters
 * (scope.ts) that modules use instead of re-parsing raw strings. The value rules themselves
 * (zend_ini_parse_bool, zend_ini_parse_quantity, strtol) live in lib/zend.
 *
 * The names lib/ini.ts exported before the split are all exported here, with the same meaning.
 */
import { isNumericString as zendIsNumericString, zendAtol, zendIniParseBool, zendIniParseQuantity } from '../zend/index.ts';

export * from './entry.ts';
export { SESSION_INI, sessionEntryMap, cString } from './session.ts';
export { IniTable, moduleIniEntry, iniString } from './table.ts';
export { parseIniText } from './php-ini.ts';
export { INI_SCOPE_SLOT, IniScope, iniScope, type IniScopeSlot, type IniSource } from './scope.ts';

/** C atol (ZEND_ATOL): lib/zend's zendAtol. */
export const cAtol: (s: string) => bigint = zendAtol;
/** zend_ini_parse_bool (OnUpdateBool): lib/zend's zendIniParseBool. */
export const parseIniBool: (s: string) => boolean = zendIniParseBool;
/** zend_ini_parse_quantity: lib/zend's zendIniParseQuantity. */
export const parseQuantity: (s: string) => { value: bigint; error?: string } = zendIniParseQuantity;
/** PHP's is_numeric_string() as a yes/no (session.name refuses numeric names). */
export function isNumericString(s: string): boolean {
  return zendIsNumericString(s) !== null;
}
