/**
 * @module serializers/php
 * The default session serializer `php`: `name|<serialized value>` repeated, one serialize
 * context (slot table) shared by every value.
 *
 * Encode: integer keys are skipped with the warning `Skipping numeric key N`; a key containing
 * `|` aborts the whole encode (null, no warning); nothing written → null (session_encode()
 * returns false). Decode: names are kept as exact string keys (`"5"` stays a string) and merged
 * into the current session; a name without a following `|`, or a value that does not parse,
 * fails the decode (values decoded before the failure stay, as in PHP).
 */
import type { DecodeResult, SerializerContext, SessionSerializer } from '../lib/serializer.ts';
import type { PhpArray } from '../lib/value.ts';
import { decodeNamedValues, keyBytes, sessionSerializer, SKIPPING_NUMERIC_KEY } from './session-common.ts';

const DELIMITER = 0x7c; // '|'

export const php: SessionSerializer = {
  name: 'php',

  encode(session: PhpArray, ctx: SerializerContext): Uint8Array | null {
    const out = sessionSerializer(session);
    let aborted = false;
    session.forEachSlot((key, value) => {
      if (aborted) return;
      if (typeof key === 'number' || typeof key === 'bigint') {
        ctx.diagnostic('E_WARNING', SKIPPING_NUMERIC_KEY(key));
        return;
      }
      const kb = keyBytes(key);
      if (kb.includes(DELIMITER)) {
        aborted = true;
        return;
      }
      out.writeBytes(kb);
      out.writeByte(DELIMITER);
      out.writeValue(value);
    });
    if (aborted || out.length === 0) return null;
    return out.result();
  },

  decode(data: Uint8Array, current: PhpArray, ctx: SerializerContext): DecodeResult {
    return decodeNamedValues(data, current, ctx, (buf, p) => {
      const q = buf.indexOf(DELIMITER, p);
      return q < 0 ? null : [p, q, q + 1];
    });
  },
};

export default php;
