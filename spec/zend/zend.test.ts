/**
 * lib/zend: PHP's runtime rules. Two kinds of check:
 * - fixed cases whose expected texts were printed by `php -n` 8.2 (Debian 8.2, recorded 2026-12-03
 *   with the scripts quoted next to each table), so the rules are pinned without PHP;
 * - differential properties (fast-check, fixed seeds) that send thousands of generated inputs
 *   through one `php -n` process and compare with lib/zend: float → string at `precision` 14 and
 *   `serialize_precision` -1, is_numeric_string(), strtol (intval($s, $base)), zend_ini_parse_bool()
 *   (zend.enable_gc → gc_enabled()) and zend_ini_parse_quantity() (ini_parse_quantity()).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PhpArgumentCountError, PhpArray, PhpBytes, PhpFloat, PhpObject, PhpTypeError } from '../../lib/index.ts';
import {
  cStrtol,
  cStrtoul,
  doubleToShortest,
  doubleToStr,
  errnoOf,
  isNumericString,
  phpSessionValidKey,
  zendGcvt,
  zendIniParseBool,
  zendIniParseQuantity,
  zendZvalTypeName,
  zppArgCount,
  zppArrayOrLong,
  zppBool,
  zppLong,
  zppString,
  zvalGetLong,
  type ZppScope,
} from '../../lib/zend/index.ts';
import { describeWith, runPhp } from '../support/tools.ts';

const SEED = Number(process.env['FC_SEED'] ?? 1103);

function scope(fn: string): ZppScope & { out: string[] } {
  const out: string[] = [];
  return { fn, out, report: (l, m) => out.push(`${l}: ${m}`) };
}

describe('zend/float (expected texts from php -n 8.2: echo $f; serialize($f))', () => {
  // php -n -r 'foreach ([0.1+0.2, 1e25, 1e15, ...] as $f) echo $f, " | ", serialize($f), "\n";'
  const table: [number, string, string][] = [
    [0.1 + 0.2, '0.3', '0.30000000000000004'],
    [1e25, '1.0E+25', '1.0E+25'],
    [1e15, '1.0E+15', '1000000000000000'],
    [1e14, '1.0E+14', '100000000000000'],
    [100000000000005, '1.0000000000000E+14', '100000000000005'],
    [123456789012345, '1.2345678901234E+14', '123456789012345'],
    [-0, '-0', '-0'],
    [0.00001, '1.0E-5', '1.0E-5'],
    [0.0001, '0.0001', '0.0001'],
    [1.5e-7, '1.5E-7', '1.5E-7'],
    [1e100, '1.0E+100', '1.0E+100'],
    [-1.5e300, '-1.5E+300', '-1.5E+300'],
    [5e-324, '4.9406564584125E-324', '5.0E-324'],
    [NaN, 'NAN', 'NAN'],
    [-Infinity, '-INF', '-INF'],
  ];
  it.each(table)('%s → %s / %s', (f, str, ser) => {
    expect(doubleToStr(f)).toBe(str);
    expect(doubleToShortest(f)).toBe(ser);
    expect(zendGcvt(f, -1)).toBe(ser);
  });
});

describe('zend/zpp (texts from php -n 8.2, /tmp script calling session_* with these arguments)', () => {
  it('int parameters: the implicit-conversion deprecation is unprefixed; floats print at serialize_precision -1', () => {
    const s = scope('session_cache_expire');
    expect(zppLong(s, { n: 1, name: 'value', type: '?int' }, 0.1 + 0.2)).toBe(0n);
    expect(zppLong(s, { n: 1, name: 'value', type: '?int' }, '1.5')).toBe(1n);
    expect(s.out).toEqual([
      'E_DEPRECATED: Implicit conversion from float 0.30000000000000004 to int loses precision',
      'E_DEPRECATED: Implicit conversion from float-string "1.5" to int loses precision',
    ]);
    expect(zppLong(s, { n: 1, name: 'value', type: '?int' }, ' 12 ')).toBe(12n);
    expect(zppLong(s, { n: 1, name: 'value', type: '?int' }, null)).toBe(null);
    for (const bad of ['12abc', 'abc', 1e20, NaN]) {
      expect(() => zppLong(s, { n: 1, name: 'value', type: '?int' }, bad)).toThrow(PhpTypeError);
    }
    expect(() => zppLong(s, { n: 1, name: 'value', type: '?int' }, new PhpObject('stdClass'))).toThrow(
      'session_cache_expire(): Argument #1 ($value) must be of type ?int, stdClass given',
    );
    expect(() => zppLong(s, { n: 1, name: 'value', type: '?int' }, 1e20)).toThrow(
      'session_cache_expire(): Argument #1 ($value) must be of type ?int, float given',
    );
  });

  it('null to a non-nullable scalar parameter: the deprecation names the declared type', () => {
    const s = scope('session_regenerate_id');
    expect(zppBool(s, { n: 1, name: 'delete_old_session', type: 'bool' }, null)).toBe(false);
    const c = scope('session_set_cookie_params');
    expect(zppArrayOrLong(c, { n: 1, name: 'lifetime_or_options', type: 'array|int' }, null)).toBe(0n);
    expect([...s.out, ...c.out]).toEqual([
      'E_DEPRECATED: session_regenerate_id(): Passing null to parameter #1 ($delete_old_session) of type bool is deprecated',
      'E_DEPRECATED: session_set_cookie_params(): Passing null to parameter #1 ($lifetime_or_options) of type array|int is deprecated',
    ]);
    expect(() => zppBool(s, { n: 1, name: 'delete_old_session', type: 'bool' }, [])).toThrow(
      'session_regenerate_id(): Argument #1 ($delete_old_session) must be of type bool, array given',
    );
  });

  it('string parameters convert floats at precision 14', () => {
    const s = scope('session_id');
    expect(zppString(s, { n: 1, name: 'id', type: '?string' }, 0.1 + 0.2)).toBe('0.3');
    expect(zppString(s, { n: 1, name: 'id', type: '?string' }, new PhpFloat(1e15))).toBe('1.0E+15');
    expect(zppString(s, { n: 1, name: 'id', type: '?string' }, true)).toBe('1');
    expect(zppString(s, { n: 1, name: 'id', type: '?string' }, 12n)).toBe('12');
  });

  it('argument counts (ArgumentCountError)', () => {
    expect(() => zppArgCount('session_status', 1, 0, 0)).toThrow(new PhpArgumentCountError('session_status() expects exactly 0 arguments, 1 given'));
    expect(() => zppArgCount('session_decode', 0, 1, 1)).toThrow('session_decode() expects exactly 1 argument, 0 given');
    expect(() => zppArgCount('session_id', 2, 0, 1)).toThrow('session_id() expects at most 1 argument, 2 given');
  });

  it('zend_zval_type_name for the value model', () => {
    expect([null, undefined, true, 1, 1n, 1.5, 1e20, new PhpFloat(1), 's', new PhpBytes(new Uint8Array([0xff])), new PhpArray(), [], {}, new PhpObject('Foo'), new Map()].map(zendZvalTypeName)).toEqual(
      ['null', 'null', 'bool', 'int', 'int', 'float', 'float', 'float', 'string', 'string', 'array', 'array', 'array', 'Foo', 'array'],
    );
  });
});

describe('zend/strerror, session-key', () => {
  it('maps Node codes to glibc texts', () => {
    expect(errnoOf(Object.assign(new Error('x'), { code: 'EACCES', errno: -13 }))).toEqual({ errno: 13, text: 'Permission denied' });
  });
  it('php_session_valid_key stops at NUL and limits the length to 256', () => {
    expect(phpSessionValidKey('abc,-XYZ09')).toBe(true);
    expect(phpSessionValidKey('abc\0!')).toBe(true);
    expect(phpSessionValidKey('\0abc')).toBe(false);
    expect(phpSessionValidKey('a'.repeat(256))).toBe(true);
    expect(phpSessionValidKey('a'.repeat(257))).toBe(false);
    expect(phpSessionValidKey('ab c')).toBe(false);
  });
});

// ------------------------------------------------------------------------------------------------
// Differential properties against php -n

const TOKENS = ['é', '\x1b', ' ', '\t', '\n', '\v', '\f', '\r', '+', '-', '0', '1', '5', '9', '7', '.', 'e', 'E', 'x', 'X', 'o', 'b', 'k', 'M', 'G', 'a', 'f', 'z', '\0', 'on', 'yes', 'TRUE', 'Off', '99999999999999999999', '9223372036854775807', '9223372036854775808', '00', '1e', '.5', '0x'];
const numericish = fc.array(fc.constantFrom(...TOKENS), { maxLength: 8 }).map((a) => a.join(''));

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

describeWith(['php'], 'lib/zend against php -n', () => {
  it('doubles: (string)$d at precision 14, serialize() at serialize_precision -1, (int)$d', async () => {
    const ds = fc.sample(fc.oneof(fc.double(), fc.integer().map((i) => i * 1e10 + 5), fc.double({ min: -1e6, max: 1e6 })), { numRuns: 3000, seed: SEED });
    ds.push(100000000000005, 12345678901234.5, 0.1 + 0.2, 5e-324, 1e15);
    const buf = new Float64Array(1);
    const hex = ds.map((d) => ((buf[0] = d), Buffer.from(buf.buffer).toString('hex'))).join('\n');
    const r = await runPhp(
      `foreach (explode("\\n", stream_get_contents(STDIN)) as $h) { $d = unpack('e', hex2bin($h))[1]; echo $d, "\\t", serialize($d), "\\t", (int)$d, "\\n"; }`,
      { stdin: hex },
    );
    const lines = r.stdout.toString().split('\n');
    const mismatches = ds.flatMap((d, i) => {
      const want = lines[i];
      const got = `${doubleToStr(d)}\td:${doubleToShortest(d)};\t${zvalGetLong(d)}`;
      return want === got ? [] : [{ d, want, got }];
    });
    expect(mismatches).toEqual([]);
  });

  it('strings: is_numeric_string, strtol (intval with a base), zend_ini_parse_bool, zend_ini_parse_quantity', async () => {
    const ss = fc.sample(numericish, { numRuns: 3000, seed: SEED });
    const php = `
      set_error_handler(function ($no, $msg) { global $w; $w = $msg; return true; });
      foreach (explode("\\n", stream_get_contents(STDIN)) as $b) {
        $s = base64_decode($b); $w = '';
        $num = is_numeric($s) ? serialize(+$s) : '-';
        $q = ini_parse_quantity($s);
        ini_set('zend.enable_gc', $s); $gc = gc_enabled() ? 1 : 0;
        echo $num, "\\t", (int)$s, "\\t", intval($s, 8), "\\t", intval($s, 36), "\\t", $gc, "\\t", $q, "\\t", base64_encode($w), "\\n";
      }`;
    const r = await runPhp(php, { stdin: ss.map(b64).join('\n') });
    expect(r.stderr).toBe('');
    const lines = r.stdout.toString().split('\n');
    const mismatches = ss.flatMap((s, i) => {
      const n = isNumericString(s);
      const num = n === null ? '-' : n.type === 'int' ? `i:${n.value};` : `d:${doubleToShortest(n.value)};`;
      const q = zendIniParseQuantity(s);
      // intval($s, 8/36) = ZEND_STRTOL(s, NULL, base) for bases without a PHP-handled prefix
      const got = [num, zvalGetLong(s), cStrtol(s, 8).value, cStrtol(s, 36).value, zendIniParseBool(s) ? 1 : 0, q.value, b64(q.error ?? '')].join('\t');
      // Known, documented deviation: after a leading "0", PHP's "Invalid prefix" message holds only
      // the first byte of a non-ASCII character (invalid UTF-8); the library prints the character.
      if (/^[ \t\n\r\v\f]*[+-]?0[^\x00-\x7f]/.test(s) && lines[i]?.split('\t').slice(0, -1).join('\t') === got.split('\t').slice(0, -1).join('\t')) return [];
      return lines[i] === got ? [] : [{ s, want: lines[i], got }];
    });
    expect(mismatches.slice(0, 10)).toEqual([]);
  });
});

describe('zend/strtol', () => {
  it('saturates with ERANGE and reads prefixes as C does', () => {
    expect(cStrtol('  -99999999999999999999x')).toEqual({ value: -9223372036854775808n, end: 23, erange: true });
    expect(cStrtol('0x1f', 16)).toEqual({ value: 31n, end: 4, erange: false });
    expect(cStrtol('0x', 16)).toEqual({ value: 0n, end: 1, erange: false });
    expect(cStrtol('017', 0).value).toBe(15n);
    expect(cStrtol('abc').end).toBe(0);
    expect(cStrtoul('-1').value).toBe(18446744073709551615n);
  });
});
