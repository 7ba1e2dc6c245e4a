/**
 * Fuzzing every decoder with malformed and hostile input: mutated valid payloads (byte flips,
 * inserts, deletes, truncations, digit inflation), huge declared lengths and counts, deep
 * nesting, bad references. Invariants: unserialize() either returns or throws UnserializeError;
 * unserializePhp() and the session decoders never throw; nothing hangs. A sample of mutated
 * inputs is also compared with PHP (success, offset, diagnostics, re-serialized bytes).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { PhpArray, UnserializeError, builtinSerializers, serialize, unserialize, unserializePhp } from 'php-session-engine';
import { describeWith } from '../support/tools.ts';
import { phpOracle, type OracleResult } from '../oracle/php-oracle.ts';
import { SESSION_PAYLOADS, VALID } from './cases.ts';
import { mutate, mutationArbitrary } from './mutate.ts';
import { latin1, localUnserialize, offsetFromDiagnostics, show } from './helpers.ts';

const SEED = Number(process.env['FC_SEED'] ?? 777);

const BASES = [
  ...VALID,
  'a:3:{s:4:"user";a:2:{s:2:"id";i:42;s:5:"roles";a:2:{i:0;s:5:"admin";i:1;s:4:"user";}}s:5:"cart";O:8:"stdClass":1:{s:5:"items";a:1:{i:0;d:19.99;}}s:4:"flag";R:3;}',
  'a:2:{i:0;O:8:"stdClass":1:{s:4:"self";r:2;}i:1;R:2;}',
];

const mutation = mutationArbitrary(':;{}"0123456789-+RrNabisdOCE|', 30);

const fuzzInput = fc.tuple(fc.constantFrom(...BASES), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([b, m]) => mutate(b, m));

const ctx = { diagnostic: () => undefined, maxDepth: 4096 };

function checkAllDecoders(input: Buffer): void {
  try {
    const v = unserialize(input);
    serialize(v); // whatever decodes must encode
  } catch (e) {
    expect(e).toBeInstanceOf(UnserializeError);
  }
  const r = unserializePhp(input, { allowed_classes: false, max_depth: 3 });
  if (r.ok) serialize(r.value);
  for (const s of builtinSerializers) {
    const d = s.decode(input, new PhpArray(), ctx);
    if (d.ok && d.session instanceof PhpArray) s.encode(d.session, ctx);
  }
}

describe(`fuzzing the decoders (fast-check seed ${SEED})`, () => {
  it('mutated payloads: only the typed error, never a crash', () => {
    fc.assert(fc.property(fuzzInput, checkAllDecoders), { seed: SEED, numRuns: 5000 });
  });

  it('random bytes and session payload mutations: never a crash', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => checkAllDecoders(Buffer.from(b))), { seed: SEED, numRuns: 3000 });
    const sess = fc.tuple(fc.constantFrom(...SESSION_PAYLOADS), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([b, m]) => mutate(b, m));
    fc.assert(fc.property(sess, checkAllDecoders), { seed: SEED, numRuns: 3000 });
  });

  it('hostile sizes are rejected without allocating them', () => {
    const hostile = [
      's:9223372036854775807:"x";',
      's:18446744073709551615:"x";',
      'a:1073741823:{i:0;i:1;}',
      'a:9223372036854775807:{}',
      'O:8:"stdClass":9223372036854775807:{}',
      'O:9223372036854775807:"x":0:{}',
      'C:3:"Ser":9223372036854775807:{x}',
      'E:9223372036854775807:"x";',
      'S:1000000000:"\\00";',
      'a:1:{i:0;R:9223372036854775807;}',
      'a:1:{i:0;r:18446744073709551616;}',
    ];
    for (const h of hostile) {
      expect(() => unserialize(h), h).toThrow(UnserializeError);
      checkAllDecoders(latin1(h));
    }
  });

  it('deep nesting: PHP\'s max_depth applies, and unlimited depth does not overflow the stack', () => {
    const deep = (n: number): string => `${'a:1:{i:0;'.repeat(n)}N;${'}'.repeat(n)}`;
    expect(serialize(unserialize(deep(4096))).toString()).toBe(deep(4096));
    expect(() => unserialize(deep(4097))).toThrow(UnserializeError);
    const big = deep(100_000);
    expect(serialize(unserialize(big, { max_depth: 0 })).length).toBe(big.length);
    const objs = `${'O:8:"stdClass":1:{s:1:"a";'.repeat(50_000)}N;${'}'.repeat(50_000)}`;
    expect(serialize(unserialize(objs, { max_depth: 0 })).length).toBe(objs.length);
    const unclosed = 'a:1:{i:0;'.repeat(200_000);
    expect(() => unserialize(unclosed, { max_depth: 0 })).toThrow(UnserializeError);
    for (const s of builtinSerializers) expect(s.decode(latin1(`x|${unclosed}`), new PhpArray(), { ...ctx, maxDepth: 0 }).ok).toBe(false);
  });

  it('reference bombs stay linear: many R:/r: to one big value', () => {
    const n = 20_000;
    const body = 'i:0;a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}' + Array.from({ length: n }, (_, i) => `i:${i + 1};R:2;`).join('');
    const s = `a:${n + 1}:{${body}}`;
    const v = unserialize(s);
    expect(serialize(v).toString()).toBe(s);
  });
});

describeWith(['php'], `fuzzed inputs compared with PHP (fast-check seed ${SEED})`, () => {
  // Class-dependent behaviour (C:, E:) is out of scope here: this library is class-agnostic.
  const inputs = fc
    .sample(fuzzInput, { seed: SEED, numRuns: 4000 })
    .filter((b) => !b.includes('C:') && !b.includes('E:'));
  let results: OracleResult[] = [];
  beforeAll(async () => {
    results = await phpOracle(inputs.map((data) => ({ op: 'unserialize' as const, data })));
  }, 60_000);

  it(`${inputs.length} mutated payloads: same success, offset, diagnostics and bytes as PHP`, () => {
    const failures: string[] = [];
    inputs.forEach((input, i) => {
      const php = results[i]!;
      const local = localUnserialize(input);
      const same =
        local.ok === php.ok &&
        JSON.stringify(local.diagnostics) === JSON.stringify(php.diagnostics) &&
        (php.ok ? show(local.reserialized) === show(php.reserialized) : local.offset === (offsetFromDiagnostics(php.diagnostics) ?? 0));
      if (!same) {
        failures.push(`${show(input)}\n  php: ${php.ok} ${show(php.reserialized)} ${JSON.stringify(php.diagnostics)}\n  ours: ${local.ok} ${show(local.reserialized)} ${JSON.stringify(local.diagnostics)} @${local.offset}`);
      }
    });
    if (failures.length > 0) console.error(`seed ${SEED}: ${failures.length} differences\n${failures.slice(0, 8).join('\n')}`);
    expect(failures.slice(0, 8)).toEqual([]);
  });
});
