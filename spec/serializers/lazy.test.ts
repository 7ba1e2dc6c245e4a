/**
 * Lazy $_SESSION (serializers/lazy.ts) against the eager decode, for the `php`, `php_binary` and
 * `php_serialize` serializers (php_serialize: the hand-written payloads as one root array): generated sessions (encoded by the eager encoder), hand-written payloads PHP would
 * rewrite on re-encode, the session fuzz payloads and their mutations are decoded both ways, then
 * the same generated access pattern (reads, writes, unsets, iteration, references, clones, nested
 * mutation through returned arrays, shared objects written after untouched entries) runs on both
 * sessions. Decode success, diagnostics (texts and order), every value read, and the encoded
 * bytes (with either serializer, and serialize() of the whole session) must be identical.
 * fast-check with a fixed seed (FC_SEED).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PhpArray, PhpObject, PhpReference, SessionEngine, serialize, type PhpKey, type PhpValue } from 'php-session-engine';
import { DeferredSlot } from '../../lib/array-internals.ts';
import { arrayInternals } from '../../serializers/internal.ts';
import type { OracleDiagnostic } from '../oracle/php-oracle.ts';
import { phpString, tree } from './arbitraries.ts';
import { SESSION_PAYLOADS } from './cases.ts';
import { recordingContext, serializerNamed, sessionPayloadAs } from './helpers.ts';
import { mutate, mutationArbitrary } from './mutate.ts';

const SEED = Number(process.env['FC_SEED'] ?? 4711);
const HANDLERS = ['php', 'php_binary', 'php_serialize'] as const;

/** Payloads whose entries PHP writes back differently from how they came (or that fall back to eager). */
const REWRITTEN: readonly string[] = [
  'a|i:007;b|i:1;', 'a|i:-0;b|i:1;', 'a|i:+5;', 'a|i:99999999999999999999;b|i:2;', 'a|d:1.0;b|d:0.10;c|d:1e2;d|d:0.5;',
  'a|d:1;b|d:-0;c|d:NAN;d|d:INF;e|d:-INF;f|d:0.1;g|d:1.0E+25;h|d:1.0e+25;', 'a|S:1:"\\61";', 'a|s:01:"x";b|s:1:"y";',
  'a|a:01:{i:0;i:1;}', 'a|a:2:{i:0;i:1;i:0;i:2;}', 'a|a:2:{i:1;i:1;i:0;i:2;}', 'a|a:1:{s:1:"5";i:1;}',
  'a|a:2:{s:1:"x";i:1;s:1:"x";i:2;}', 'a|a:3:{s:1:"x";i:1;s:1:"y";i:2;s:1:"x";i:3;}', 'a|a:1:{i:+1;i:1;}', 'a|a:1:{i:01;i:1;}',
  'a|a:1:{i:-1;i:1;}', 'a|a:1:{s:2:"-1";i:1;}', 'a|a:1:{s:2:"05";i:1;}', 'a|O:8:"stdclass":0:{}b|i:1;',
  'a|O:8:"stdClass":1:{i:0;i:1;}', 'a|O:8:"stdClass":2:{s:1:"x";i:1;s:1:"x";i:2;}b|i:1;', 'a|O:8:"stdClass":01:{s:1:"x";i:1;}',
  'a|O:8:"stdClass":+1:{s:1:"x";i:1;}', 'a|O:8:"stdClass":1:{s:01:"x";i:1;}', 'a|O:8:"stdClass":1:{s:1:"5";i:1;}b|i:1;',
  'a|O:8:"stdClass":1:{s:0:"";i:1;}', 'a|O:8:"stdClass":1:{s:1:"\0";i:1;}', 'a|O:8:"stdClass":1:{s:4:"\0*\0p";i:1;}',
  'a|O:8:"stdClass":2:{s:1:"o";O:8:"stdClass":1:{s:1:"d";d:0.10;}s:1:"a";a:1:{s:1:"5";i:1;}}',
  'a|O:8:"stdClass":1:{s:1:"o";O:8:"stdClass":0:{}}b|O:8:"stdClass":0:{}', 'a|O:1:"Z":1:{s:27:"__PHP_Incomplete_Class_Name";s:1:"Y";}', 'a|C:8:"stdClass":0:{}',
  'a|E:5:"\\E:Ab";b|E:4:"E:Ab";', 'a|a:1:{i:0;a:1:{i:0;a:0:{}}}b|b:1;c|N;', 'a|s:3:"r:1";b|i:1;', 'a|i:1;b|R:1;c|i:2;',
  'a|a:1:{i:0;O:8:"stdClass":0:{}}b|r:3;', 'a|i:1;a|i:2;b|i:3;', 'a|a:2:{i:0;i:1;i:1;d:0.30000000000000004;}',
  'a|s:2:"\xc3\xa9";b|s:1:"\xff";', 'a|a:1:{s:1:"\xff";i:1;}', 'a|d:0.00001;b|d:0.0001;c|d:123456789012345;',
  // Many string keys (compared through a Set), one repeated, and none repeated.
  `a|a:41:{${Array.from({ length: 40 }, (_, i) => `s:3:"k${String(i).padStart(2, '0')}";i:${i};`).join('')}s:3:"k07";i:0;}`,
  `a|a:40:{${Array.from({ length: 40 }, (_, i) => `s:3:"k${String(i).padStart(2, '0')}";i:${i};`).join('')}}`,
];

const mutation = mutationArbitrary(':;{}"0123456789-+RrNabisdO|!\x01\x04\x7f\x80', 12);

/** A generated session (names as strings: what php/php_binary can store), encoded eagerly by `handler`. */
function encodedSessions(handler: string): fc.Arbitrary<Buffer> {
  return fc
    .array(fc.tuple(phpString, tree), { minLength: 1, maxLength: 6 })
    .map((pairs) => {
      const s = new PhpArray();
      for (const [k, v] of pairs) s.setExact(typeof k === 'string' ? k : 'k', v);
      const enc = serializerNamed(handler).encode(s, recordingContext('session_encode', []));
      return enc === null ? Buffer.alloc(0) : Buffer.from(enc);
    });
}

type Op =
  | { op: 'get'; i: number }
  | { op: 'set'; i: number; v: PhpValue }
  | { op: 'unset'; i: number }
  | { op: 'iterate' }
  | { op: 'nested'; i: number; v: PhpValue }
  | { op: 'ref'; i: number; j: number }
  | { op: 'clone'; i: number }
  | { op: 'shared'; i: number };

const small = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.string({ maxLength: 4 }), fc.constant(null));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('get' as const), i: fc.nat(9) }),
  fc.record({ op: fc.constant('set' as const), i: fc.nat(9), v: small }),
  fc.record({ op: fc.constant('unset' as const), i: fc.nat(9) }),
  fc.record({ op: fc.constant('iterate' as const) }),
  fc.record({ op: fc.constant('nested' as const), i: fc.nat(9), v: small }),
  fc.record({ op: fc.constant('ref' as const), i: fc.nat(9), j: fc.nat(9) }),
  fc.record({ op: fc.constant('clone' as const), i: fc.nat(9) }),
  fc.record({ op: fc.constant('shared' as const), i: fc.nat(9) }),
);

function show(v: PhpValue | undefined): string {
  return v === undefined ? '<undefined>' : serialize(v).toString('latin1');
}

/** Runs ops on the session; returns what the caller saw. */
function apply(s: PhpArray, ops: readonly Op[]): string[] {
  const seen: string[] = [];
  const keyAt = (i: number): PhpKey => {
    const keys = [...s.keys()];
    return i < keys.length ? keys[i]! : `new${i}`;
  };
  for (const o of ops) {
    switch (o.op) {
      case 'get':
        seen.push(show(s.getExact(keyAt(o.i))));
        break;
      case 'set':
        s.setExact(keyAt(o.i), o.v);
        break;
      case 'unset':
        s.deleteExact(keyAt(o.i));
        break;
      case 'iterate':
        for (const [k, v] of s) seen.push(`${String(k)}=${show(v)}`);
        break;
      case 'nested': {
        // A caller who changes an array it got out of $_SESSION changes the session.
        const v = s.getExact(keyAt(o.i));
        if (v instanceof PhpArray) v.set('zz', o.v);
        else if (v instanceof PhpObject) v.set('zz', o.v);
        break;
      }
      case 'ref': {
        const a = keyAt(o.i);
        const b = keyAt(o.j);
        if (a === b) break;
        const cur = s.getSlot(a) ?? null;
        const box = cur instanceof PhpReference ? cur : new PhpReference(cur);
        s.replaceExact(a, box);
        s.replaceExact(b, box);
        break;
      }
      case 'clone': {
        const c = s.clone();
        c.setExact(keyAt(o.i), 'cloned');
        seen.push(show(c));
        break;
      }
      case 'shared': {
        // r: numbers after entries written verbatim must count their slots.
        const obj = new PhpObject('stdClass');
        s.setExact(keyAt(o.i), PhpArray.from([obj, obj]));
        break;
      }
    }
  }
  return seen;
}

interface Outcome {
  ok: boolean;
  diagnostics: OracleDiagnostic[];
  seen: string[];
  encoded: (string | null)[];
  whole: string;
}

function run(handler: string, data: Buffer, ops: readonly Op[], lazy: boolean): Outcome {
  const diagnostics: OracleDiagnostic[] = [];
  const ctx = { ...recordingContext('session_decode', diagnostics), lazy };
  const r = serializerNamed(handler).decode(data, new PhpArray(), ctx);
  if (!r.ok) return { ok: false, diagnostics, seen: [], encoded: [], whole: '' };
  if (!(r.session instanceof PhpArray)) return { ok: true, diagnostics, seen: [show(r.session)], encoded: [], whole: '' };
  const s = r.session;
  // The bytes before any access (lazy_write's case), then after the access pattern with both encoders.
  const encoded: (string | null)[] = [];
  const enc = (name: string): void => {
    const e = serializerNamed(name).encode(s, recordingContext('session_encode', diagnostics));
    encoded.push(e === null ? null : Buffer.from(e).toString('latin1'));
  };
  enc(handler);
  const seen = apply(s, ops);
  enc('php');
  enc('php_binary');
  return { ok: true, diagnostics, seen, encoded, whole: serialize(s).toString('latin1') };
}

function same(handler: string, data: Buffer, ops: readonly Op[]): void {
  const eager = run(handler, data, ops, false);
  const lazy = run(handler, data, ops, true);
  expect(lazy, `${handler} ${JSON.stringify(data.toString('latin1'))} ${JSON.stringify(ops)}`).toEqual(eager);
}

describe(`lazy and eager session decoding give the same results (fast-check seed ${SEED})`, () => {
  for (const handler of HANDLERS) {
    const toFormat = (p: string): Buffer => sessionPayloadAs(handler, p);

    it(`${handler}: generated sessions and access patterns`, () => {
      fc.assert(
        fc.property(encodedSessions(handler), fc.array(opArb, { maxLength: 8 }), (data, ops) => same(handler, data, ops)),
        { seed: SEED, numRuns: 400 },
      );
    });

    it(`${handler}: float texts, canonical or not`, () => {
      const digits = (max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: max });
      // Leading zeros, tiny values, trailing zeros, missing parts, up to 15 digits and beyond.
      const text = fc
        .tuple(
          fc.constantFrom('', '-'),
          fc.oneof(fc.constantFrom('', '0', '00', '1', '10', '100000000000000', '999999999999999'), digits(9)),
          fc.constantFrom('', '.'),
          fc.nat(7).map((n) => '0'.repeat(n)),
          digits(8),
        )
        .map(([sign, i, dot, zeros, f]) => `${sign}${i}${dot}${dot === '' ? '' : zeros + f}`);
      fc.assert(
        fc.property(fc.array(text, { minLength: 1, maxLength: 4 }), (texts) =>
          same(handler, toFormat(texts.map((t, i) => `f${i}|d:${t};`).join('')), []),
        ),
        { seed: SEED, numRuns: 1500 },
      );
    });

    it(`${handler}: payloads PHP rewrites, the fuzz payloads and their mutations`, () => {
      const bases = [...REWRITTEN, ...SESSION_PAYLOADS];
      for (const p of bases) same(handler, toFormat(p), [{ op: 'iterate' }]);
      fc.assert(
        fc.property(
          fc.constantFrom(...bases),
          fc.array(mutation, { maxLength: 3 }),
          fc.array(opArb, { maxLength: 6 }),
          (base, muts, ops) => same(handler, mutate(toFormat(base).toString('latin1'), muts), ops),
        ),
        { seed: SEED, numRuns: 1500 },
      );
    });
  }
});

describe('the engine decodes lazily by default', () => {
  const ID = 'lazyengine0000000000000000001';
  // An array (deferred), an int PHP rewrites (i:007; → i:7;) and a short string (both small
  // scalars, built at once), one read, one set.
  const STORED = 'a|a:2:{i:0;s:1:"x";i:1;d:0.5;}b|i:007;c|s:2:"hi";';

  async function cycle(options: { lazyDecode?: boolean }): Promise<{ deferred: number; stored: string; diagnostics: unknown[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'pse-lazy-'));
    try {
      writeFileSync(join(dir, `sess_${ID}`), STORED);
      const engine = new SessionEngine({ ini: { 'session.save_path': dir, 'session.cache_limiter': '' }, ...options });
      const req = engine.request({ cookies: { PHPSESSID: ID } });
      expect(await req.start()).toBe(true);
      const deferred = arrayInternals.rawVals(req.session).filter((v) => v instanceof DeferredSlot).length;
      expect(req.session.get('c')).toBe('hi');
      req.session.set('n', 1);
      expect(await req.writeClose()).toBe(true);
      await req.end();
      return { deferred, stored: readFileSync(join(dir, `sess_${ID}`), 'latin1'), diagnostics: req.diagnostics };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('keeps entries unbuilt until read, and writes what the eager decode writes', async () => {
    const lazy = await cycle({});
    const eager = await cycle({ lazyDecode: false });
    expect(lazy.deferred).toBe(process.env['PHP_SESSION_ENGINE_LAZY_DECODE'] === '0' ? 0 : 1);
    expect(eager.deferred).toBe(0);
    expect((await cycle({ lazyDecode: true })).deferred).toBe(1);
    // PHP 8.2 writes i:007; back as i:7; (session_decode + session_encode).
    expect(lazy.stored).toBe('a|a:2:{i:0;s:1:"x";i:1;d:0.5;}b|i:7;c|s:2:"hi";n|i:1;');
    expect(lazy).toEqual({ ...eager, deferred: lazy.deferred });
  });
});
