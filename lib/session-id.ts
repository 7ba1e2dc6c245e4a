/**
 * @module session-id
 * Session ids as PHP 8.2 makes and checks them (php_session_create_id, bin_to_readable,
 * php_session_valid_key in session.c).
 */
import { randomBytes } from 'node:crypto';
import { phpSessionValidKey, PS_MAX_SID_LENGTH } from './zend/session-key.ts';

/** PS_MAX_SID_LENGTH. */
export const MAX_SID_LENGTH = PS_MAX_SID_LENGTH;

/** PHP's id alphabet; 4 bits use the first 16 characters, 5 bits the first 32, 6 bits all 64. */
export const SID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,-';

/**
 * Packs random bytes into `length` characters, `bits` bits each, least significant bits first.
 * Port of bin_to_readable(), ext/session/session.c.
 */
export function binToReadable(input: Uint8Array, length: number, bits: number): string {
  const mask = (1 << bits) - 1;
  let acc = 0;
  let have = 0;
  let p = 0;
  let out = '';
  for (let i = 0; i < length; i++) {
    if (have < bits) {
      if (p >= input.length) throw new RangeError('binToReadable: not enough input bytes');
      acc |= input[p++]! << have;
      have += 8;
    }
    out += SID_ALPHABET[acc & mask];
    acc >>>= bits;
    have -= bits;
  }
  return out;
}

/**
 * A new id of `length` characters with `bits` bits per character from the CSPRNG.
 * Port of php_session_create_id(); PHP draws `length` (+60 unused) bytes, of which only
 * ceil(length * bits / 8) are consumed.
 */
export function createSessionId(length: number, bits: number): string {
  const need = Math.ceil((length * bits) / 8);
  return binToReadable(randomBytes(need), length, bits);
}

/** php_session_valid_key (the one copy lives in lib/zend, shared with the save handlers). */
export const isValidSessionId = phpSessionValidKey;

const DANGEROUS = /[\r\n\t <>'"\\]/;

/** Characters that make the engine drop an id before use (they could break HTML or headers). */
export function hasDangerousChars(id: string): boolean {
  const nul = id.indexOf('\0');
  return DANGEROUS.test(nul < 0 ? id : id.slice(0, nul));
}
