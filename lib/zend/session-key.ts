/**
 * @module zend/session-key
 * php_session_valid_key() (ext/session/session.c, exported by php_session.h to every save
 * handler): the one rule for which session ids may name storage. It sits at level 0 so that both
 * the session core and the save handlers (peers that must not import each other) call this one
 * copy.
 */

/** PS_MAX_SID_LENGTH. */
export const PS_MAX_SID_LENGTH = 256;

/**
 * php_session_valid_key(): 1..256 characters from `[A-Za-z0-9,-]`. The check reads a C string,
 * so it stops at a NUL byte (`"abc\0!"` counts as `"abc"`).
 */
export function phpSessionValidKey(key: string): boolean {
  let i = 0;
  for (; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 0) break;
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 44 || c === 45;
    if (!ok) return false;
  }
  return i > 0 && i <= PS_MAX_SID_LENGTH;
}
