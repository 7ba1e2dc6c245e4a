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
import { rememberEncoded, VerbatimRecord, writeSessionSlot } from './lazy.ts';
import { decodeNamedValues, forEachRawSlot, sessionSerializer, SKIPPING_NUMERIC_KEY, type NamePosition } from './session-common.ts';

const DELIMITER = 0x7c; // '|'

/** Names are short: look for the `|` byte by byte first, then natively (a long name, or no `|` at all). */
const SHORT_NAME = 32;

function locateName(buf: Buffer, p: number, end: number, at: NamePosition): boolean {
  let q = p;
  const stop = Math.min(end, p + SHORT_NAME);
  while (q < stop && buf[q] !== DELIMITER) q++;
  if (q === stop) {
    q = q < end ? buf.indexOf(DELIMITER, q) : -1;
    if (q < 0) return false;
  }
  at.nameStart = p;
  at.nameEnd = q;
  at.valueStart = q + 1;
  return true;
}

export const php: SessionSerializer = {
  name: 'php',

  encode(session: PhpArray, ctx: SerializerContext): Uint8Array | null {
    const out = sessionSerializer(session, ctx.output);
    const rec = ctx.validated === undefined ? null : new VerbatimRecord();
    let aborted = false;
    forEachRawSlot(session, (key, i, value) => {
      if (aborted) return;
      if (typeof key === 'number' || typeof key === 'bigint') {
        ctx.diagnostic('E_WARNING', SKIPPING_NUMERIC_KEY(key));
        return;
      }
      // '|' is ASCII: a JS string holds it exactly when its UTF-8 bytes do.
      if (typeof key === 'string' ? key.includes('|') : key.bytes.includes(DELIMITER)) {
        aborted = true;
        return;
      }
      out.writeRaw(key);
      out.writeByte(DELIMITER);
      writeSessionSlot(out, session, i, value, rec);
    });
    if (aborted || out.length === 0) return null;
    const bytes = out.result();
    if (rec !== null) rememberEncoded(ctx, bytes, rec, locateName);
    return bytes;
  },

  decode(data: Uint8Array, current: PhpArray, ctx: SerializerContext): DecodeResult {
    return decodeNamedValues(data, current, ctx, locateName);
  },
};

export default php;
