/**
 * @module zend/float
 * PHP's float-to-string conversions, one implementation each:
 *
 * - {@link zendGcvt}: zend_gcvt() (Zend/zend_strtod.c) over zend_dtoa() — mode 2 (`ndigit`
 *   significant digits, correctly rounded, ties to even) or, for `ndigit < 0`, mode 0 (the
 *   shortest string that reads back as the same double).
 * - {@link doubleToStr}: zend_double_to_str() / smart_str_append_double(), what `(string)$float`,
 *   string parameters and `ini_set()` store: ini `precision` (14) → `0.1 + 0.2` is `"0.3"`,
 *   `1e25` is `"1.0E+25"`, `1e15` is `"1.0E+15"`.
 * - {@link doubleToShortest}: the same at `serialize_precision = -1` (serialize(), var_export()
 *   without the `.0`, and the `%.*H` with -1 of "Implicit conversion from float %.*H to int loses
 *   precision"): `0.30000000000000004`, `1.0E+25`, `5.0E-324`.
 */

/** PHP's default `precision` ini value. */
export const PHP_PRECISION = 14;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The exact decimal expansion of a finite, non-zero |d|: digits (no leading/trailing zeros) and decpt. */
function exactDigits(d: number): { digits: string; decpt: number } {
  f64[0] = d;
  const hi = u32[LITTLE ? 1 : 0]!;
  const lo = u32[LITTLE ? 0 : 1]!;
  const bexp = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (bexp === 0) e = -1074;
  else {
    m |= 1n << 52n;
    e = bexp - 1075;
  }
  let digits: string;
  let decpt: number;
  if (e >= 0) {
    digits = (m << BigInt(e)).toString();
    decpt = digits.length;
  } else {
    digits = (m * 5n ** BigInt(-e)).toString();
    decpt = digits.length + e;
  }
  const z = /0+$/.exec(digits);
  if (z !== null) digits = digits.slice(0, z.index);
  return { digits, decpt };
}

/** zend_dtoa(value, 2, ndigit) for finite non-zero |value|: digits and decpt. */
function dtoaMode2(a: number, ndigit: number): { digits: string; decpt: number } {
  const n = ndigit <= 0 ? 1 : ndigit;
  const { digits, decpt } = exactDigits(a);
  if (digits.length <= n) return { digits, decpt };
  let head = digits.slice(0, n);
  const next = digits.charCodeAt(n) - 48;
  const tie = next === 5 && digits.length === n + 1;
  const up = next > 5 || (next === 5 && !tie) || (tie && (head.charCodeAt(n - 1) - 48) % 2 === 1);
  if (up) {
    let i = n - 1;
    while (i >= 0 && head[i] === '9') i--;
    if (i < 0) return { digits: '1', decpt: decpt + 1 };
    return { digits: head.slice(0, i) + String.fromCharCode(head.charCodeAt(i) + 1), decpt };
  }
  // zend_dtoa's "small integer" path (an integer below 1e15) keeps the zeros of a rounded-down
  // head; it is reached when the quick floating-point path gives up: on an exact tie, or always
  // for more than 14 digits.
  const smallInt = Number.isInteger(a) && decpt <= 15 && (tie || n > 14);
  if (!smallInt) head = head.replace(/0+$/, '');
  return { digits: head, decpt };
}

/** zend_dtoa(value, 0): the shortest digits that read back as `a` (finite, non-zero). */
function dtoaMode0(a: number): { digits: string; decpt: number } {
  const exp = a.toExponential();
  const ePos = exp.indexOf('e');
  const mant = exp.slice(0, ePos);
  const digits = mant.length > 1 ? mant[0]! + mant.slice(2) : mant;
  return { digits, decpt: Number(exp.slice(ePos + 1)) + 1 };
}

/**
 * zend_gcvt(value, ndigit, '.', 'E'): `ndigit` significant digits (mode 2), or the shortest
 * round-trip digits when `ndigit < 0` (mode 0, laid out as if `ndigit` were 17).
 */
export function zendGcvt(value: number, ndigit: number): string {
  const mode0 = ndigit < 0;
  if (mode0) ndigit = 17;
  if (value !== value || value === Infinity || value === -Infinity) {
    const s = value !== value ? 'NAN' : value > 0 ? 'INF' : '-INF';
    return s.slice(0, ndigit); // snprintf(buf, ndigit + 1, ...)
  }
  const neg = value < 0 || Object.is(value, -0);
  const sign = neg ? '-' : '';
  if (value === 0) return `${sign}0`;
  const a = neg ? -value : value;
  const { digits, decpt } = mode0 ? dtoaMode0(a) : dtoaMode2(a, ndigit);
  if ((decpt >= 0 && decpt > ndigit) || decpt < -3) {
    const e = decpt - 1;
    const rest = digits.length > 1 ? digits.slice(1) : '0';
    return `${sign}${digits[0]!}.${rest}E${e < 0 ? '-' : '+'}${e < 0 ? -e : e}`;
  }
  if (decpt < 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (digits.length <= decpt) return sign + digits + '0'.repeat(decpt - digits.length);
  return `${sign}${decpt === 0 ? '0' : digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/**
 * smart_str_append_double() / zend_double_to_str(): a float as PHP turns it into a string at ini
 * `precision` (default 14; 0 counts as 1; -1 is the shortest round-trip form). `zeroFraction`
 * appends `.0` to a finite value printed without a `.` (var_export, json).
 */
export function doubleToStr(d: number, precision = PHP_PRECISION, zeroFraction = false): string {
  const s = zendGcvt(d, precision === 0 ? 1 : precision);
  return zeroFraction && Number.isFinite(d) && !s.includes('.') ? `${s}.0` : s;
}

/**
 * A float at `serialize_precision = -1` (what serialize() writes after `d:`): `0.1`, `1.0E+25`,
 * `-0`, `INF`. Same result as `zendGcvt(d, -1)`, with a fast path for the common range.
 */
export function doubleToShortest(v: number): string {
  if (v !== v) return 'NAN';
  if (v === Infinity) return 'INF';
  if (v === -Infinity) return '-INF';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  // Between 1e-4 and 1e17 PHP and JS both write plain decimals with the same shortest digits.
  const a = v < 0 ? -v : v;
  if (a >= 1e-4 && a < 1e17) return String(v);
  return zendGcvt(v, -1);
}
