/**
 * @module zend/ini
 * The value rules of Zend/zend_ini.c that every ini entry shares: zend_ini_parse_bool() (what
 * OnUpdateBool stores), zend_ini_parse_quantity() (what OnUpdateLong stores in PHP 8.2, with its
 * "Invalid quantity" explanations), and smart_str_append_escaped() (how those messages quote a
 * value). The session table and its validators live in lib/ini/.
 */
import { cAtoi, cStrtoul, isCSpace, toZendLong, ZEND_LONG_MAX, ZEND_LONG_MIN } from './strtol.ts';

/** zend_ini_parse_bool() (OnUpdateBool): "true", "yes", "on" in any case, else atoi() != 0 (a C int: "4294967296" is false). */
export function zendIniParseBool(s: string): boolean {
  const l = s.length;
  if (l === 4 || l === 3 || l === 2) {
    const lower = s.toLowerCase();
    if (lower === 'true' || lower === 'yes' || lower === 'on') return true;
  }
  return cAtoi(s) !== 0;
}

/** smart_str_append_escaped() over bytes: printable ASCII kept, `\\`, `\n` … and `\xNN` (upper-case hex) for the rest. */
export function escapeBytesForMessage(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (b >= 32 && b <= 126 && b !== 92) out += String.fromCharCode(b);
    else if (b === 10) out += '\\n';
    else if (b === 13) out += '\\r';
    else if (b === 9) out += '\\t';
    else if (b === 12) out += '\\f';
    else if (b === 11) out += '\\v';
    else if (b === 92) out += '\\\\';
    else if (b === 27) out += '\\e';
    else out += '\\x' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** smart_str_append_escaped() of a string's UTF-8 bytes. */
export function escapeForMessage(s: string): string {
  return escapeBytesForMessage(Buffer.from(s, 'utf8'));
}

/** zend_ini_parse_quantity()'s result: the value and, for a doubtful input, the text PHP warns with. */
export interface Quantity {
  value: bigint;
  /** Appended by PHP to `Invalid "<name>" setting. ` in an E_WARNING. */
  error?: string;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** zend_ini_parse_quantity() (signed): `1k`, `0x10`, `0o17`, `0b101`, `-2M`, with PHP's warnings. */
export function zendIniParseQuantity(value: string): Quantity {
  let strEnd = value.length;
  let digits = 0;
  while (digits < strEnd && isCSpace(value[digits])) digits++;
  while (digits < strEnd && isCSpace(value[strEnd - 1])) strEnd--;
  if (digits === strEnd) return { value: 0n };
  const esc = (): string => escapeForMessage(value);
  let negative = false;
  if (value[digits] === '+') digits++;
  else if (value[digits] === '-') {
    negative = true;
    digits++;
  }
  // Built only when returned: escaping the value for the message costs a Buffer and a string, and
  // every ini read of a number (several a request) comes through here.
  const noDigits = (): { value: bigint; error: string } => ({
    value: 0n,
    error: `Invalid quantity "${esc()}": no valid leading digits, interpreting as "0" for backwards compatibility`,
  });
  if (!isDigit(value[digits])) return noDigits();
  let base = 0;
  if (value[digits] === '0' && !isDigit(value[digits + 1])) {
    if (digits + 1 === strEnd) return { value: 0n };
    const c = value[digits + 1]!;
    let skipPrefix = true;
    if ('gGmMkK'.includes(c)) skipPrefix = false;
    else if (c === 'x' || c === 'X') base = 16;
    else if (c === 'o' || c === 'O') base = 8;
    else if (c === 'b' || c === 'B') base = 2;
    else {
      // PHP formats the byte with %c: a NUL ends the message there. (A non-ASCII character is
      // printed whole here; PHP prints only its first byte, which a JS string cannot hold alone.)
      if (c === '\0') return { value: 0n, error: 'Invalid prefix "0' };
      return { value: 0n, error: `Invalid prefix "0${c}", interpreting as "0" for backwards compatibility` };
    }
    if (skipPrefix) {
      digits += 2;
      const noAfter = {
        value: 0n,
        error: `Invalid quantity "${esc()}": no digits after base prefix, interpreting as "0" for backwards compatibility`,
      };
      if (digits === strEnd) return noAfter;
      // a second sign or prefix after the first prefix
      let d = digits;
      while (d < strEnd && isCSpace(value[d])) d++;
      if (value[d] === '+' || value[d] === '-') d++;
      if (value[d] === '0' && !isDigit(value[d + 1]) && d + 1 !== strEnd && 'xXoObB'.includes(value[d + 1] ?? '')) d += 2;
      if (d !== digits) return noAfter;
    }
  }
  const r = cStrtoul(value.slice(digits, strEnd), base);
  let retval = r.value;
  let overflow = r.erange;
  if (!overflow) {
    if (negative && retval === ZEND_LONG_MAX + 1n) retval = toZendLong(-retval);
    else if (retval > ZEND_LONG_MAX) overflow = true;
    else if (negative) retval = -retval;
  }
  if (r.end === 0) return noDigits();
  let digitsEnd = digits + r.end;
  while (digitsEnd < strEnd && isCSpace(value[digitsEnd])) digitsEnd++;
  const finish = (v: bigint): Quantity =>
    overflow
      ? {
          value: toZendLong(v),
          error: `Invalid quantity "${esc()}": value is out of range, using overflow result for backwards compatibility`,
        }
      : { value: toZendLong(v) };
  if (digitsEnd === strEnd) return finish(retval);
  // PHP looks at the last byte: for a non-ASCII last character that is the end of its UTF-8 form.
  const lastChar = value[strEnd - 1]!;
  const lastBytes = Buffer.from(value.slice(strEnd - 1 - (/[\udc00-\udfff]/.test(lastChar) ? 1 : 0), strEnd), 'utf8');
  const last = lastChar.charCodeAt(0) < 0x80 ? lastChar : '';
  let factor: bigint;
  if (last === 'g' || last === 'G') factor = 1n << 30n;
  else if (last === 'm' || last === 'M') factor = 1n << 20n;
  else if (last === 'k' || last === 'K') factor = 1n << 10n;
  else {
    return {
      value: toZendLong(retval),
      error: `Invalid quantity "${esc()}": unknown multiplier "${escapeBytesForMessage(lastBytes.subarray(lastBytes.length - 1))}", interpreting as "${escapeForMessage(value.slice(0, digitsEnd))}" for backwards compatibility`,
    };
  }
  const s = toZendLong(retval);
  if (!overflow) overflow = s > 0n ? s > ZEND_LONG_MAX / factor : s < ZEND_LONG_MIN / factor;
  retval = toZendLong(s * factor);
  if (digitsEnd !== strEnd - 1) {
    return {
      value: retval,
      error: `Invalid quantity "${esc()}", interpreting as "${escapeForMessage(value.slice(0, digitsEnd))}${escapeForMessage(last)}" for backwards compatibility`,
    };
  }
  return finish(retval);
}

/** The C string PHP keeps for a char* setting: everything before the first NUL byte. */
export function cString(value: string): string {
  const i = value.indexOf('\0');
  return i < 0 ? value : value.slice(0, i);
}
