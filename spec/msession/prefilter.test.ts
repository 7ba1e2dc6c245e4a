/**
 * @module spec/msession/prefilter.test
 * find()/listvar()'s byte pre-filter (msession/prefilter.ts) never skips a session the decoded
 * comparison would match: fast-check (fixed seeds) over hand-written payloads of the three built-in
 * serializers, in the forms the decoder accepts and PHP never writes (`i:+042`, `i:-0`, `S:` escapes,
 * references, int64 overflow, floats), and over arrays the serializers encode themselves.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PhpArray, toPhp, type JsInput, type PhpValue } from '../../lib/value.ts';
import type { SessionSerializer } from '../../lib/serializer.ts';
import { php, php_binary, php_serialize } from '../../serializers/index.ts';
import { candidateFilter } from '../../msession/prefilter.ts';
import { comparable } from '../../msession/values.ts';

const SEED = 1405;
const NAMES = ['user', 'u', 'use', '5', '-5', '05', '0', '1', '9223372036854775807', '-9223372036854775808', 'é', ''];
const WANTS: JsInput[] = [42, '42', -42, '-42', '042', 0, '0', 1, '1', true, false, null, '', 'user', 'é', 4.2, 9223372036854775807n, [42]];

/** The unfiltered path: decode (as Msession.decode) and compare (as find / listvar). */
function decoded(s: SessionSerializer, data: Uint8Array): PhpArray | null {
  try {
    const r = s.decode(data, new PhpArray(), { maxDepth: 4096, diagnostic: () => {} });
    return r.ok && r.session instanceof PhpArray ? r.session : null;
  } catch {
    return null;
  }
}

const digits = fc.constantFrom('0', '1', '5', '42', '0042', '9223372036854775807', '9223372036854775808', '99999999999999999999');
const intTok = fc.tuple(fc.constantFrom('', '+', '-'), digits).map(([s, d]) => `i:${s}${d};`);
const text = fc.constantFrom('42', '-42', '042', '1', 'user', 'u', 'é', '5', '', 'x42y');
const strTok = text.map((t) => `s:${Buffer.byteLength(t)}:"${t}";`);
/** `S:` strings with every byte escaped (\xx), so the plain bytes are absent. */
const escTok = text.map((t) => `S:${Buffer.byteLength(t)}:"${[...Buffer.from(t)].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('')}";`);
const valueTok: fc.Arbitrary<string> = fc.oneof(
  intTok,
  strTok,
  escTok,
  fc.constantFrom('b:0;', 'b:1;', 'N;', 'd:42;', 'd:4.2E1;', 'd:-42;', 'R:1;', 'r:1;', 'R:2;', 'a:1:{i:0;i:42;}', 'a:1:{i:0;s:2:"42";}'),
);
const keyTok = fc.oneof(intTok, strTok, escTok);

/** php: name|value... (names may be any of NAMES, written raw). */
const phpPayload = fc.array(fc.tuple(fc.constantFrom(...NAMES.filter((n) => n !== '')), valueTok), { maxLength: 4 }).map((parts) => parts.map(([k, v]) => `${k}|${v}`).join(''));
/** php_serialize: a:N:{key;value;...}. */
const serializePayload = fc.array(fc.tuple(keyTok, valueTok), { maxLength: 4 }).map((parts) => `a:${parts.length}:{${parts.map(([k, v]) => k + v).join('')}}`);

function check(s: SessionSerializer, payload: string | Uint8Array, name: string, want: JsInput): void {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const session = decoded(s, data);
  if (session === null || !session.has(name)) return;
  // listvar: the session has the variable, so the name-only filter must pass it.
  expect(candidateFilter(s, name)?.(data) ?? true, `listvar ${name} on ${String(payload)}`).toBe(true);
  const v = toPhp(want);
  if (comparable(session.get(name)!) === comparable(v)) {
    expect(candidateFilter(s, name, v)?.(data) ?? true, `find ${name}=${JSON.stringify(String(want))} on ${String(payload)}`).toBe(true);
  }
}

describe('msession prefilter: never skips a session that matches', () => {
  const nameArb = fc.constantFrom(...NAMES);
  const wantArb = fc.constantFrom(...WANTS);

  it('php serializer, hand-written payloads', () => {
    fc.assert(fc.property(phpPayload, nameArb, wantArb, (p, n, w) => check(php, p, n, w)), { seed: SEED, numRuns: 20000 });
  });

  it('php_serialize serializer, hand-written payloads', () => {
    fc.assert(fc.property(serializePayload, nameArb, wantArb, (p, n, w) => check(php_serialize, p, n, w)), { seed: SEED, numRuns: 20000 });
  });

  it('every built-in serializer, on what it encodes itself', () => {
    const scalar: fc.Arbitrary<JsInput> = fc.oneof(fc.constantFrom(...WANTS), fc.integer(), fc.string({ maxLength: 4 }), fc.boolean());
    const session = fc.dictionary(fc.constantFrom(...NAMES.filter((n) => n !== '')), fc.oneof(scalar, fc.array(scalar, { maxLength: 2 })), { maxKeys: 4 });
    fc.assert(
      fc.property(session, nameArb, wantArb, fc.constantFrom(php, php_binary, php_serialize), (obj, n, w, s) => {
        const bytes = s.encode(PhpArray.from(obj), { maxDepth: 4096, diagnostic: () => {} });
        if (bytes === null) return;
        check(s, bytes, n, w);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it('does skip what cannot match, and never filters an application serializer', () => {
    const data = Buffer.from('user|i:7;tenant|s:4:"acme";');
    expect(candidateFilter(php, 'user', toPhp(42))!(data)).toBe(false);
    expect(candidateFilter(php, 'nobody')!(data)).toBe(false);
    expect(candidateFilter(php, 'user', toPhp(7))!(data)).toBe(true);
    // An S: string anywhere turns the filter off for that payload.
    expect(candidateFilter(php, 'user', toPhp(42))!(Buffer.from('user|S:2:"\\34\\32";'))).toBe(true);
    // Nothing certain to look for: no filter.
    expect(candidateFilter(php, '9223372036854775807')).toBeNull();
    expect(candidateFilter(php, '', toPhp(null as PhpValue))).toBeNull();
    expect(candidateFilter({ ...php, name: 'php' }, 'user', toPhp(42))).toBeNull();
  });
});
