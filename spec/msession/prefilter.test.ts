/**
 * @module spec/msession/prefilter.test
 * find()/listvar()'s byte pre-filter (msession/prefilter.ts) never skips a session the decoded
 * comparison would match: fast-check (fixed seeds) over hand-written payloads of the three built-in
 * serializers, in the forms the decoder accepts and PHP never writes (`i:+042`, `i:-0`, `S:` escapes,
 * references, int64 overflow, floats), and over arrays the serializers encode themselves. The files
 * store's reader thread runs the same test where it reads the bytes: on the same payloads, written
 * to files, it rejects exactly what the filter rejects here and returns the others' bytes intact.
 */
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PhpArray, toPhp, type JsInput, type PhpValue } from '../../lib/value.ts';
import type { SessionSerializer } from '../../lib/serializer.ts';
import { php, php_binary, php_serialize } from '../../serializers/index.ts';
import { candidateFilter } from '../../msession/prefilter.ts';
import { comparable } from '../../msession/values.ts';
import { FileReaderPool } from '../../msession/stores/files-reader.ts';
import { PREFILTERED } from '../../msession/stores/index.ts';
import { tempDir } from '../files/support.ts';

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

/** Arbitrary session bytes: the hand-written payloads of php and php_serialize, and what each built-in serializer encodes. */
const scalar: fc.Arbitrary<JsInput> = fc.oneof(fc.constantFrom(...WANTS), fc.integer(), fc.string({ maxLength: 4 }), fc.boolean());
const sessionObj = fc.dictionary(fc.constantFrom(...NAMES.filter((n) => n !== '')), fc.oneof(scalar, fc.array(scalar, { maxLength: 2 })), { maxKeys: 4 });
const encoded = fc
  .tuple(sessionObj, fc.constantFrom(php, php_binary, php_serialize))
  .map(([obj, s]) => s.encode(PhpArray.from(obj), { maxDepth: 4096, diagnostic: () => {} }) ?? new Uint8Array(0));
const anyPayload: fc.Arbitrary<Uint8Array> = fc.oneof(phpPayload.map((p) => Buffer.from(p)), serializePayload.map((p) => Buffer.from(p)), encoded);

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
    fc.assert(
      fc.property(sessionObj, nameArb, wantArb, fc.constantFrom(php, php_binary, php_serialize), (obj, n, w, s) => {
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

describe('msession prefilter on the files reader thread: the same test as on the calling thread', () => {
  const tmp = tempDir('msession-prefilter-thread');
  afterAll(() => tmp.remove());

  it('rejects exactly what the filter rejects, for every name / value, and returns the other bytes intact', async () => {
    const payloads = fc.sample(anyPayload, { seed: SEED, numRuns: 500 });
    // Past the 64 KiB first read: the needles only in the second read (and an S: there).
    const pad = 'x'.repeat(70_000);
    payloads.push(Buffer.from(`pad|s:${pad.length}:"${pad}";user|i:42;`), Buffer.from(`pad|s:${pad.length}:"${pad}";user|S:2:"\\34\\32";`), new Uint8Array(0));
    const paths = payloads.map((p, i) => {
      const path = `${tmp.dir}/sess_${i}`;
      writeFileSync(path, p);
      return path;
    });
    const pool = new FileReaderPool(1, true);
    let rejected = 0;
    let passed = 0;
    try {
      // The filter depends on the serializer only in being built-in or not: php stands for the three.
      for (const s of [php]) {
        for (const name of NAMES) {
          for (const want of [undefined, ...WANTS]) {
            const filter = candidateFilter(s, name, want === undefined ? undefined : toPhp(want));
            if (filter === null) continue;
            const got = await pool.read(paths, filter);
            for (const [i, data] of payloads.entries()) {
              const label = `${name}=${String(want)} on ${Buffer.from(data).toString('latin1').slice(0, 80)}`;
              if (filter(data)) {
                passed++;
                expect(got[i], label).toBeInstanceOf(Uint8Array);
                expect(Buffer.from(got[i] as Uint8Array).equals(data), label).toBe(true);
              } else {
                rejected++;
                expect(got[i], label).toBe(PREFILTERED);
              }
            }
          }
        }
      }
    } finally {
      await pool.close();
    }
    // Both sides of the test were exercised (a filter that passes everything would prove nothing).
    expect(rejected).toBeGreaterThan(1000);
    expect(passed).toBeGreaterThan(1000);
  });
});
