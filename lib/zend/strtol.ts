/**
 * @module zend/strtol
 * C's integer parsing as PHP calls it: strtol/strtoll (ZEND_STRTOL), strtoul, atol (ZEND_ATOL,
 * which is strtoll in base 10) and atoi, with glibc's rules — leading isspace() blanks, one sign,
 * an optional `0x` for base 16 (and base 0, which also reads a leading `0` as octal), digits up to
 * the first that is not one, saturation at the type's range with ERANGE. Values are bigints
 * (zend_long is 64 bits).
 */

export const ZEND_LONG_MAX = 9223372036854775807n;
export const ZEND_LONG_MIN = -9223372036854775808n;
const ULONG_MAX = 18446744073709551615n;
const ULONG_MOD = 1n << 64n;

/** C isspace() in the "C" locale. */
export function isCSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
}

/** The outcome of a strto* call: the value, the index of `*endptr` (0 when nothing was read), ERANGE. */
export interface StrtoResult {
  value: bigint;
  end: number;
  erange: boolean;
}

function digitValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 122) return c - 87;
  if (c >= 65 && c <= 90) return c - 55;
  return 99;
}

/** Reads sign, prefix and digits; returns the magnitude (unbounded) and where it stopped. */
function scan(s: string, base: number): { neg: boolean; mag: bigint; end: number } | null {
  let i = 0;
  while (isCSpace(s[i])) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  const hexPrefix = s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && digitValue(s.charCodeAt(i + 2)) < 16;
  if (base === 0) {
    if (hexPrefix) {
      base = 16;
      i += 2;
    } else base = s[i] === '0' ? 8 : 10;
  } else if (base === 16 && hexPrefix) i += 2;
  const start = i;
  let mag = 0n;
  const B = BigInt(base);
  for (; i < s.length; i++) {
    const d = digitValue(s.charCodeAt(i));
    if (d >= base) break;
    mag = mag * B + BigInt(d);
  }
  if (i === start) return null;
  return { neg, mag, end: i };
}

/** strtoll(s, &end, base) (ZEND_STRTOL): saturates at ZEND_LONG_MIN/MAX with ERANGE. */
export function cStrtol(s: string, base = 10): StrtoResult {
  const r = scan(s, base);
  if (r === null) return { value: 0n, end: 0, erange: false };
  const v = r.neg ? -r.mag : r.mag;
  if (v > ZEND_LONG_MAX) return { value: ZEND_LONG_MAX, end: r.end, erange: true };
  if (v < ZEND_LONG_MIN) return { value: ZEND_LONG_MIN, end: r.end, erange: true };
  return { value: v, end: r.end, erange: false };
}

/** strtoull(s, &end, base): a `-` negates modulo 2^64; saturates at ULONG_MAX with ERANGE. */
export function cStrtoul(s: string, base = 10): StrtoResult {
  const r = scan(s, base);
  if (r === null) return { value: 0n, end: 0, erange: false };
  if (r.mag > ULONG_MAX) return { value: ULONG_MAX, end: r.end, erange: true };
  return { value: r.neg ? (ULONG_MOD - r.mag) % ULONG_MOD : r.mag, end: r.end, erange: false };
}

/** ZEND_ATOL(s): strtoll(s, NULL, 10) — the leading integer, 0 when none, saturated. */
export function zendAtol(s: string): bigint {
  return cStrtol(s, 10).value;
}

/** atoi(s): (int) strtol(s, NULL, 10). */
export function cAtoi(s: string): number {
  return toCInt(zendAtol(s));
}

/** A zend_long cast to a C int (two's-complement truncation to 32 bits). */
export function toCInt(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** An unsigned 64-bit value reinterpreted as zend_long (two's complement). */
export function toZendLong(u: bigint): bigint {
  return BigInt.asIntN(64, u);
}
