/**
 * @module handlers/shared/memcache/hash
 * The key hash functions the two PHP memcache extensions use to pick a server:
 * - CRC-32 (IEEE, as PHP's ext/standard crc32 table) and FNV-1a 32-bit: pecl memcache's
 *   `memcache.hash_function` = crc32 (default) / fnv;
 * - Jenkins one-at-a-time (libmemcached's default key hash) and the MD5-based ketama point hash:
 *   php-memcached through libmemcached.
 *
 * All take raw bytes. Where the C code reads the key through a (signed) `char`, bytes >= 0x80
 * are sign-extended before mixing, exactly as the C code does on x86/ARM Linux.
 */
import { createHash } from 'node:crypto';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Standard CRC-32 (init ~0, final ~), unsigned. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return (crc ^ 0xffffffff) >>> 0;
}

/** Sign-extends a byte as a C `char` read into an unsigned int. */
function signedChar(b: number): number {
  return b >= 0x80 ? (b | 0xffffff00) >>> 0 : b;
}

/** FNV-1a 32-bit as pecl memcache computes it (init 0x811c9dc5, prime 0x01000193, signed chars). */
export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h = (h ^ signedChar(bytes[i]!)) >>> 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Jenkins one-at-a-time, libmemcached's default key hash (hashkit_one_at_a_time). */
export function oneAtATime(bytes: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < bytes.length; i++) {
    v = (v + signedChar(bytes[i]!)) >>> 0;
    v = (v + (v << 10)) >>> 0;
    v = (v ^ (v >>> 6)) >>> 0;
  }
  v = (v + (v << 3)) >>> 0;
  v = (v ^ (v >>> 11)) >>> 0;
  v = (v + (v << 15)) >>> 0;
  return v;
}

/** The 16-byte MD5 digest. */
export function md5(bytes: Uint8Array): Buffer {
  return createHash('md5').update(bytes).digest();
}

/** Word `n` (0..3) of an MD5 digest read little-endian: libmemcached's ketama point / MD5 key hash. */
export function md5Word(digest: Uint8Array, n: number): number {
  const o = n * 4;
  return (digest[o]! | (digest[o + 1]! << 8) | (digest[o + 2]! << 16) | (digest[o + 3]! << 24)) >>> 0;
}

const enc = new TextEncoder();
/** Bytes of a latin1/ASCII key string (keys here are ids and host names). */
export function keyBytes(key: string | Uint8Array): Uint8Array {
  return typeof key === 'string' ? enc.encode(key) : key;
}
