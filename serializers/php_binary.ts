/**
 * @module serializers/php_binary
 * The `php_binary` session serializer: `<length byte><name><serialized value>` repeated, one
 * serialize context shared by every value.
 *
 * Encode: integer keys are skipped with `Skipping numeric key N`; names longer than 127 bytes are
 * skipped silently; nothing written → null. Decode: the length byte's high bit (the old
 * "undefined" marker) is masked off and ignored; the name and at least one more byte must be
 * present; names are exact string keys merged into the current session.
 */
import type { DecodeResult, SerializerContext, SessionSerializer } from '../lib/serializer.ts';
import type { PhpArray } from '../lib/value.ts';
import { rememberEncoded, VerbatimRecord, writeSessionSlot } from './lazy.ts';
import { decodeNamedValues, forEachRawSlot, sessionSerializer, SKIPPING_NUMERIC_KEY, type NamePosition } from './session-common.ts';

/** Longest name php_binary can store (PS_BIN_MAX). */
export const PS_BIN_MAX = 127;

/** The length byte's high bit (the old "undefined" marker) is ignored; the name and one more byte must be there. */
function locateName(buf: Buffer, p: number, end: number, at: NamePosition): boolean {
  const n = buf[p]! & 0x7f;
  if (p + n >= end) return false;
  at.nameStart = p + 1;
  at.nameEnd = at.valueStart = p + 1 + n;
  return true;
}

export const php_binary: SessionSerializer = {
  name: 'php_binary',

  encode(session: PhpArray, ctx: SerializerContext): Uint8Array | null {
    const out = sessionSerializer(session, ctx.output);
    const rec = ctx.validated === undefined ? null : new VerbatimRecord();
    forEachRawSlot(session, (key, i, value) => {
      if (typeof key === 'number' || typeof key === 'bigint') {
        ctx.diagnostic('E_WARNING', SKIPPING_NUMERIC_KEY(key));
        return;
      }
      // The length byte goes first; the name is written after it and measured there.
      const at = out.length;
      out.writeByte(0);
      const n = out.writeRaw(key);
      if (n > PS_BIN_MAX) {
        out.truncate(at);
        return;
      }
      out.setByte(at, n);
      writeSessionSlot(out, session, i, value, rec);
    });
    if (out.length === 0) return null;
    const bytes = out.result();
    if (rec !== null) rememberEncoded(ctx, bytes, rec, locateName);
    return bytes;
  },

  decode(data: Uint8Array, current: PhpArray, ctx: SerializerContext): DecodeResult {
    return decodeNamedValues(data, current, ctx, locateName);
  },
};

export default php_binary;
