/**
 * @module ini/session
 * The session.* directives as one declarative table, row for row like PHP_INI_BEGIN in
 * ext/session/session.c, with their OnUpdate* validators: the "session active" and "headers sent"
 * guards (written once), and each entry's parsing through lib/zend's rules.
 */
import type { DiagnosticLevel } from '../errors.ts';
import { fmt, MSG } from '../messages.ts';
import { cAtof, cStrtol, cString, isNumericString, toCInt, zendAtol, zendIniParseBool, zendIniParseQuantity, ZEND_LONG_MAX } from '../zend/index.ts';
import type { IniEntry, IniHost } from './entry.ts';

// ---------------------------------------------------------------------------------------------
// Validators (OnUpdate* in session.c)

/** @deprecated lib/zend's cString; kept for callers of lib/ini.ts. */
export { cString };

/** SESSION_CHECK_ACTIVE_STATE + SESSION_CHECK_OUTPUT_STATE; true when the change may go on. */
function guards(host: IniHost): boolean {
  if (host.sessionActive()) {
    host.report('E_WARNING', MSG.INI_ACTIVE);
    return false;
  }
  if (host.headersSent() && host.stage !== 'deactivate') {
    host.report('E_WARNING', MSG.INI_HEADERS);
    return false;
  }
  return true;
}

function quantity(name: string, value: string, host: IniHost): bigint {
  const r = zendIniParseQuantity(value);
  if (r.error !== undefined) host.report('E_WARNING', fmt(MSG.INVALID_SETTING, name, r.error), true);
  return r.value;
}

const sessionString = (_name: string) => (value: string, host: IniHost) => (guards(host) ? { parsed: cString(value) } : false);
const sessionBool = () => (value: string, host: IniHost) => (guards(host) ? { parsed: zendIniParseBool(value) } : false);
const sessionLong = (name: string) => (value: string, host: IniHost) =>
  guards(host) ? { parsed: quantity(name, value, host) } : false;

function errType(host: IniHost): DiagnosticLevel {
  return host.stage === 'runtime' ? 'E_WARNING' : 'E_ERROR';
}

function onUpdateSaveHandler(value: string, host: IniHost): { parsed: unknown } | false {
  if (!guards(host)) return false;
  // _php_find_ps_module(ZSTR_VAL(new_value)) and the message read the C string (up to a NUL).
  const mod = host.findModule(cString(value));
  if (host.modulesActivated && mod === undefined) {
    if (host.stage !== 'deactivate') host.report(errType(host), fmt(MSG.SAVE_HANDLER_NOT_FOUND, cString(value)));
    return false;
  }
  if (!host.settingUserHandler && mod !== undefined && mod.name.toLowerCase() === 'user') {
    host.report(errType(host), MSG.SAVE_HANDLER_USER);
    return false;
  }
  host.saveHandlerChanged?.(mod);
  return { parsed: mod };
}

function onUpdateSerializer(value: string, host: IniHost): { parsed: unknown } | false {
  if (!guards(host)) return false;
  // _php_find_ps_serializer(ZSTR_VAL(new_value)) and the message read the C string (up to a NUL).
  const ser = host.findSerializer(cString(value));
  if (host.modulesActivated && ser === undefined) {
    if (host.stage !== 'deactivate') host.report(errType(host), fmt(MSG.SERIALIZER_NOT_FOUND, cString(value)));
    return false;
  }
  return { parsed: ser };
}

function onUpdateSaveDir(value: string, host: IniHost): { parsed: unknown } | false {
  if (!guards(host)) return false;
  if (host.stage === 'runtime' && value.includes('\0')) return false;
  return { parsed: cString(value) };
}

function onUpdateName(value: string, host: IniHost): { parsed: unknown } | false {
  if (!guards(host)) return false;
  if (value === '' || isNumericString(value) !== null) {
    const level: DiagnosticLevel = host.stage === 'deactivate' ? 'E_ERROR' : 'E_WARNING';
    if (host.stage !== 'deactivate') host.report(level, fmt(MSG.NAME_NUMERIC, value));
    return false;
  }
  if (value.startsWith('\0')) return false;
  return { parsed: cString(value) };
}

/** Largest cookie lifetime PHP 8.2 stores (ZEND_LONG_MAX - INT_MAX - 1 on 64-bit builds). */
const MAX_COOKIE_LIFETIME = ZEND_LONG_MAX - 2147483647n - 1n;

export function onUpdateCookieLifetime(value: string, host: IniHost, current: () => unknown): { parsed: unknown } | false {
  if (!guards(host)) return false;
  const v = zendAtol(value);
  if (v < 0n) {
    host.report('E_WARNING', MSG.COOKIE_LIFETIME_NEGATIVE);
    return false;
  }
  // Too large: PHP reports success but keeps the effective value.
  if (v > MAX_COOKIE_LIFETIME) return { parsed: current() };
  const q = quantity('session.cookie_lifetime', value, host);
  if (q < 0n) return false;
  return { parsed: q };
}

function sidRange(value: string, min: bigint, max: bigint): bigint | undefined {
  // ZEND_STRTOL(value, &endptr, 10) must stop at the end of the C string (the first NUL).
  const r = cStrtol(value, 10);
  if (r.end !== value.length && value[r.end] !== '\0') return undefined;
  return r.value >= min && r.value <= max ? r.value : undefined;
}

function onUpdateSidLength(value: string, host: IniHost): { parsed: unknown } | false {
  if (!guards(host)) return false;
  const v = sidRange(value, 22n, 256n);
  if (v === undefined) {
    host.report('E_WARNING', MSG.SID_LENGTH);
    return false;
  }
  return { parsed: Number(v) };
}

function onUpdateSidBits(value: string, host: IniHost): { parsed: unknown } | false {
  if (!guards(host)) return false;
  const v = sidRange(value, 4n, 6n);
  if (v === undefined) {
    host.report('E_WARNING', MSG.SID_BITS);
    return false;
  }
  return { parsed: Number(v) };
}

function onUpdateFreq(value: string, host: IniHost): { parsed: unknown } | false {
  // int tmp = ZEND_ATOL(value)
  const tmp = toCInt(zendAtol(value));
  if (tmp < 0) {
    host.report('E_WARNING', MSG.FREQ_NEGATIVE);
    return false;
  }
  if (value.endsWith('%')) {
    if (tmp > 100) {
      host.report('E_WARNING', MSG.FREQ_PERCENT);
      return false;
    }
    return { parsed: -tmp };
  }
  return { parsed: tmp };
}

const plainBool = (value: string) => ({ parsed: zendIniParseBool(value) });
const plainString = (value: string) => ({ parsed: value });

/** The session.* directives of PHP 8.2, in PHP's order, with PHP's built-in defaults. */
export const SESSION_INI: readonly IniEntry[] = [
  { name: 'session.save_path', default: '', type: 'string', changeable: 'PHP_INI_ALL', onModify: onUpdateSaveDir },
  { name: 'session.name', default: 'PHPSESSID', type: 'string', changeable: 'PHP_INI_ALL', onModify: onUpdateName },
  { name: 'session.save_handler', default: 'files', type: 'module', changeable: 'PHP_INI_ALL', onModify: onUpdateSaveHandler },
  { name: 'session.auto_start', default: '0', type: 'bool', changeable: 'PHP_INI_PERDIR', onModify: plainBool },
  { name: 'session.gc_probability', default: '1', type: 'long', changeable: 'PHP_INI_ALL', onModify: sessionLong('session.gc_probability') },
  { name: 'session.gc_divisor', default: '100', type: 'long', changeable: 'PHP_INI_ALL', onModify: sessionLong('session.gc_divisor') },
  { name: 'session.gc_maxlifetime', default: '1440', type: 'long', changeable: 'PHP_INI_ALL', onModify: sessionLong('session.gc_maxlifetime') },
  { name: 'session.serialize_handler', default: 'php', type: 'serializer', changeable: 'PHP_INI_ALL', onModify: onUpdateSerializer },
  { name: 'session.cookie_lifetime', default: '0', type: 'long', changeable: 'PHP_INI_ALL' }, // onModify bound per table (needs the current value)
  { name: 'session.cookie_path', default: '/', type: 'string', changeable: 'PHP_INI_ALL', onModify: sessionString('session.cookie_path') },
  { name: 'session.cookie_domain', default: '', type: 'string', changeable: 'PHP_INI_ALL', onModify: sessionString('session.cookie_domain') },
  { name: 'session.cookie_secure', default: '0', type: 'bool', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  { name: 'session.cookie_httponly', default: '0', type: 'bool', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  { name: 'session.cookie_samesite', default: '', type: 'string', changeable: 'PHP_INI_ALL', onModify: sessionString('session.cookie_samesite') },
  { name: 'session.use_cookies', default: '1', type: 'bool', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  { name: 'session.use_only_cookies', default: '1', type: 'bool', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  { name: 'session.use_strict_mode', default: '0', type: 'bool', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  { name: 'session.referer_check', default: '', type: 'string', changeable: 'PHP_INI_ALL', onModify: sessionString('session.referer_check') },
  { name: 'session.cache_limiter', default: 'nocache', type: 'string', changeable: 'PHP_INI_ALL', onModify: sessionString('session.cache_limiter') },
  { name: 'session.cache_expire', default: '180', type: 'long', changeable: 'PHP_INI_ALL', onModify: sessionLong('session.cache_expire') },
  { name: 'session.use_trans_sid', default: '0', type: 'bool', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  { name: 'session.sid_length', default: '32', type: 'long', changeable: 'PHP_INI_ALL', onModify: onUpdateSidLength },
  { name: 'session.sid_bits_per_character', default: '4', type: 'long', changeable: 'PHP_INI_ALL', onModify: onUpdateSidBits },
  { name: 'session.lazy_write', default: '1', type: 'bool', changeable: 'PHP_INI_ALL', onModify: sessionBool() },
  // php-src declares "1", but the PHP 8.2 we check against (Debian 8.2.36, `php -n`) reports "0".
  { name: 'session.upload_progress.enabled', default: '0', type: 'bool', changeable: 'PHP_INI_PERDIR', onModify: plainBool },
  { name: 'session.upload_progress.cleanup', default: '1', type: 'bool', changeable: 'PHP_INI_PERDIR', onModify: plainBool },
  { name: 'session.upload_progress.prefix', default: 'upload_progress_', type: 'string', changeable: 'PHP_INI_PERDIR', onModify: plainString },
  { name: 'session.upload_progress.name', default: 'PHP_SESSION_UPLOAD_PROGRESS', type: 'string', changeable: 'PHP_INI_PERDIR', onModify: plainString },
  { name: 'session.upload_progress.freq', default: '1%', type: 'freq', changeable: 'PHP_INI_PERDIR', onModify: onUpdateFreq },
  { name: 'session.upload_progress.min_freq', default: '1', type: 'real', changeable: 'PHP_INI_PERDIR', onModify: (v) => ({ parsed: cAtof(v) }) },
  // ext/standard (url_scanner_ex): no session guards
  { name: 'session.trans_sid_tags', default: 'a=href,area=href,frame=src,form=', type: 'string', changeable: 'PHP_INI_ALL', onModify: plainString, extension: 'standard' },
  { name: 'session.trans_sid_hosts', default: '', type: 'string', changeable: 'PHP_INI_ALL', onModify: plainString, extension: 'standard' },
  { name: 'url_rewriter.tags', default: 'form=', type: 'string', changeable: 'PHP_INI_ALL', onModify: plainString, extension: 'standard' },
  { name: 'url_rewriter.hosts', default: '', type: 'string', changeable: 'PHP_INI_ALL', onModify: plainString, extension: 'standard' },
  // main/main.c: OnUpdateStringUnempty (an empty value is refused without a warning)
  { name: 'arg_separator.output', default: '&', type: 'string', changeable: 'PHP_INI_ALL', onModify: (v) => (v === '' ? false : { parsed: v }), extension: 'core' },
  // main/main.c: the files module's fallback directory
  { name: 'sys_temp_dir', default: '', type: 'string', changeable: 'PHP_INI_SYSTEM', onModify: plainString, extension: 'core' },
  // ext/standard/var.c: the serializers' depth limit
  {
    name: 'unserialize_max_depth',
    default: '4096',
    type: 'long',
    changeable: 'PHP_INI_ALL',
    extension: 'standard',
    onModify: (v, host) => ({ parsed: quantity('unserialize_max_depth', v, host) }),
  },
];


export function sessionEntryMap(): Map<string, IniEntry> {
  return new Map(SESSION_INI.map((e) => [e.name, e]));
}
