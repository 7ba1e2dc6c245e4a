/**
 * @module serializers/php_serialize
 * The `php_serialize` session serializer: the whole `$_SESSION` array as one `serialize()`.
 *
 * Encode: `serialize($_SESSION)` (integer keys kept; an empty session is `a:0:{}`). Decode: one
 * value from the whole input, trailing bytes ignored; the result *replaces* `$_SESSION` (it may
 * even be a non-array, as in PHP; `N;` gives an empty array). Empty input succeeds with an empty array; a parse failure fails.
 * With lazy decoding, a root array's elements are validated and built on first access
 * (serializers/lazy.ts decodeRootLazy).
 */
import type { DecodeResult, SerializerContext, SessionSerializer } from '../lib/serializer.ts';
import { PhpArray } from '../lib/value.ts';
import { decodeRootLazy, encodeRootLazy, hasDeferred, rememberRoot, VerbatimRecord } from './lazy.ts';
import { Serializer } from './serialize.ts';
import { sessionSerializer, sessionUnserializer } from './session-common.ts';

export const php_serialize: SessionSerializer = {
  name: 'php_serialize',

  encode(session: PhpArray, ctx: SerializerContext): Uint8Array | null {
    if (hasDeferred(session)) {
      // After a lazy decode: the root's entries nobody read are copied as they came.
      const lazy = sessionSerializer(session, ctx.output);
      const rec = ctx.validated === undefined ? null : new VerbatimRecord();
      encodeRootLazy(lazy, session, rec);
      const bytes = lazy.result();
      if (rec !== null) rememberRoot(ctx, bytes, rec);
      return bytes;
    }
    const out = new Serializer(() => [session]);
    out.writeValue(session);
    return out.result();
  },

  decode(data: Uint8Array, _current: PhpArray, ctx: SerializerContext): DecodeResult {
    if (data.length === 0) return { ok: true, session: new PhpArray() };
    if (ctx.lazy === true) {
      const lazy = decodeRootLazy(data, ctx);
      if (lazy !== null) return lazy;
    }
    const u = sessionUnserializer(data, ctx);
    const holder = new PhpArray();
    if (!u.parseInto(holder, 0)) return { ok: false };
    const v = holder.getExact(0);
    // A decoded null (`N;`) becomes an empty array, as in PHP.
    return { ok: true, session: v === undefined || v === null ? new PhpArray() : v };
  },
};

export default php_serialize;
