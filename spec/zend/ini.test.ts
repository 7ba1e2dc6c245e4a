/**
 * lib/ini: the session table's validators on lib/zend's rules, and the typed per-request scope.
 * Expected values printed by `php -n` 8.2 (script: ob_start(); ini_set(...); ini_get(...)):
 *   ini_set('session.sid_length', "40\0x")   → accepted (ZEND_STRTOL stops at the C string's end)
 *   ini_set('session.sid_length', " 41")     → accepted;  "42 " → refused with the range warning
 *   ini_set('session.sid_bits_per_character', "5\0") → accepted
 *   ini_set('session.serialize_handler', "php_serialize\0x") → "php" (looked up as a C string)
 *   ini_set('zend.enable_gc', "4294967296"); gc_enabled() → false (atoi() truncates to a C int)
 */
import { describe, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/index.ts';
import { INI_SCOPE_SLOT, IniScope, IniTable, iniScope, type IniScopeSlot, iniString, parseIniBool, sessionEntryMap, type IniHost } from '../../lib/ini/index.ts';

function engineRequest() {
  return new SessionEngine().request();
}

const host: IniHost = {
  stage: 'startup',
  modulesActivated: false,
  settingUserHandler: false,
  sessionActive: () => false,
  headersSent: () => false,
  report: () => undefined,
  findModule: () => undefined,
  findSerializer: () => undefined,
};

describe('session ini validators', () => {
  it('sid_length / sid_bits_per_character: strtol up to the first NUL, leading blanks allowed', () => {
    const r = engineRequest();
    expect(r.functions.ini_set('session.sid_length', '40\0x')).toBe('32');
    expect(r.functions.ini_get('session.sid_length')).toBe('40\0x');
    expect(r.functions.ini_set('session.sid_length', ' 41')).toBe('40\0x');
    expect(r.functions.ini_set('session.sid_length', '42 ')).toBe(false);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      'ini_set(): session.configuration "session.sid_length" must be between 22 and 256',
    ]);
    expect(r.functions.ini_set('session.sid_bits_per_character', '5\0')).toBe('4');
  });

  it('save_handler / serialize_handler are looked up as C strings (up to a NUL)', () => {
    const r = engineRequest();
    expect(r.functions.ini_set('session.serialize_handler', 'php_serialize\0x')).toBe('php');
    expect(r.functions.ini_set('session.save_handler', 'files\0x')).toBe('files');
    expect(r.diagnostics).toEqual([]);
  });

  it('ini booleans read a C int (atoi): "4294967296" is false, "4294967297" true', () => {
    expect([parseIniBool('4294967296'), parseIniBool('4294967297')]).toEqual([false, true]);
  });
});

describe('IniScope', () => {
  it('reads the parsed session values and parses other entries with the OnUpdate* rules', () => {
    const table = new IniTable(sessionEntryMap());
    for (const e of sessionEntryMap().values()) table.define(e, host);
    table.alter('session.gc_maxlifetime', '1k', host);
    table.alter('session.use_strict_mode', 'On', host);
    const ini = new IniScope(table);
    expect(ini.long('session.gc_maxlifetime')).toBe(1024n);
    expect(ini.int('session.sid_length')).toBe(32);
    expect(ini.bool('session.use_strict_mode')).toBe(true);
    expect(ini.bool('session.use_cookies')).toBe(true);
    expect(ini.real('session.upload_progress.min_freq')).toBe(1);
    expect(ini.string('session.name')).toBe('PHPSESSID');
    expect(ini.bool('no.such', false)).toBe(false);
    expect(ini.long('no.such')).toBeUndefined();
  });

  it('over a handler context: raw strings through zend_ini_parse_bool / quantity / atol / strtod', () => {
    const raw: Record<string, string> = { b1: 'yes', b2: ' on', b3: '4294967296', q: '2M', a: '2M', r: ' 1.5e1x', s: 'ab\0c' };
    const ini = iniScope({ ini: (n: string) => raw[n] });
    expect([ini.bool('b1'), ini.bool('b2'), ini.bool('b3')]).toEqual([true, false, false]);
    expect(ini.long('q')).toBe(2097152n);
    expect(ini.atol('a')).toBe(2n);
    expect(ini.real('r')).toBe(15);
    expect(ini.cString('s')).toBe('ab');
  });

  it('one scope per context, and a value changed between reads is seen at the next read', () => {
    const raw: Record<string, string> = { q: '1k', b: 'off', a: '7x', r: '2.5' };
    const ctx: { ini(n: string): string | undefined } & IniScopeSlot = { ini: (n: string) => raw[n], [INI_SCOPE_SLOT]: null };
    const ini = iniScope(ctx);
    expect(iniScope(ctx)).toBe(ini);
    // A source without the slot gets a new scope and is left as it was.
    const plain = { ini: ctx.ini };
    expect(iniScope(plain)).not.toBe(iniScope(plain));
    expect(Object.getOwnPropertySymbols(plain)).toEqual([]);
    expect([ini.long('q'), ini.bool('b'), ini.atol('a'), ini.real('r')]).toEqual([1024n, false, 7n, 2.5]);
    Object.assign(raw, { q: '2k', b: 'on', a: '8', r: '-1' });
    expect([ini.long('q'), ini.bool('b'), ini.atol('a'), ini.real('r')]).toEqual([2048n, true, 8n, -1]);
    // More distinct raw values than the parse memo keeps, then the first ones again.
    for (let i = 0; i < 600; i++) {
      raw.q = `${i}k`;
      expect(ini.int('q')).toBe(i * 1024);
    }
    raw.q = '1k';
    expect(ini.long('q')).toBe(1024n);
    raw.q = `${' '.repeat(100)}3k`;
    expect(ini.long('q')).toBe(3072n);
    raw.q = `${' '.repeat(100)}4k`;
    expect(ini.long('q')).toBe(4096n);
    // An IniTable scope sees ini_set()'s value at the next read.
    const table = new IniTable(sessionEntryMap());
    for (const e of sessionEntryMap().values()) table.define(e, host);
    const t = iniScope(table);
    expect(t.long('session.gc_maxlifetime')).toBe(1440n);
    table.alter('session.gc_maxlifetime', '2k', host);
    expect(t.long('session.gc_maxlifetime')).toBe(2048n);
  });

  it('iniString converts floats at precision 14', () => {
    expect([iniString(0.1 + 0.2), iniString(1e25), iniString(1e20), iniString(true), iniString(null), iniString(7n)]).toEqual([
      '0.3', '1.0E+25', '1.0E+20', '1', '', '7',
    ]);
  });
});
