/**
 * Property tests, JS side: values built with fast-check (spec/serializers/arbitraries.ts).
 * 1) Everywhere: unserialize(serialize(v)) re-serializes to the same bytes (2,000 runs).
 * 2) With PHP: 1,200 sampled values, ONE php process: PHP's unserialize() + serialize() of our
 *    bytes gives our bytes back, and PHP's session_encode() of them equals ours per serializer.
 * The seed is fixed (FC_SEED env to vary it) and printed on failure.
 */
import fc from 'fast-check';
import { beforeAll, expect, it, describe } from 'vitest';
import { PhpArray, serialize, unserialize, type PhpValue } from 'php-session-engine';
import { describeWith } from '../support/tools.ts';
import { phpOracle, type OracleResult } from '../oracle/php-oracle.ts';
import { GEN_PRELUDE } from '../oracle/generate.ts';
import { linkedGraph } from './arbitraries.ts';
import { localSessionEncode, show } from './helpers.ts';

const SEED = Number(process.env['FC_SEED'] ?? 424242);

describe(`JS-generated values round-trip through this library (fast-check seed ${SEED})`, () => {
  it('unserialize(serialize(v)) serializes to the same bytes', () => {
    fc.assert(
      fc.property(linkedGraph, (v) => {
        const bytes = serialize(v);
        expect(show(serialize(unserialize(bytes)))).toBe(show(bytes));
      }),
      { seed: SEED, numRuns: 2000, verbose: true },
    );
  });
});

describeWith(['php'], `JS-generated values read by PHP (fast-check seed ${SEED})`, () => {
  const N = 1200;
  let values: PhpValue[] = [];
  let results: OracleResult[] = [];
  const HANDLERS = ['php', 'php_binary', 'php_serialize'] as const;
  beforeAll(async () => {
    values = fc.sample(linkedGraph, { seed: SEED, numRuns: N });
    const ops = values.flatMap((v) => {
      const bytes = serialize(v);
      return [
        { op: 'unserialize' as const, data: bytes },
        ...HANDLERS.map((handler) => ({ op: 'session_encode' as const, handler, value: bytes })),
      ];
    });
    results = await phpOracle(ops, { prelude: GEN_PRELUDE });
  }, 60_000);

  it(`PHP re-serializes ${N} values to our exact bytes and session-encodes them as we do`, () => {
    const failures: string[] = [];
    values.forEach((v, i) => {
      const bytes = serialize(v);
      const php = results[i * 4]!;
      if (!php.ok || show(php.reserialized) !== show(bytes)) {
        failures.push(`#${i} serialize: ours ${show(bytes)}\n  php ${show(php.reserialized)} ${JSON.stringify(php.diagnostics)}`);
      }
      HANDLERS.forEach((h, j) => {
        const phpEnc = results[i * 4 + 1 + j]!;
        const ours = localSessionEncode(h, v as PhpArray);
        if (show(ours.encoded) !== show(phpEnc.encoded)) {
          failures.push(`#${i} ${h}: ours ${show(ours.encoded)}\n  php ${show(phpEnc.encoded)}`);
        }
        const phpDiags = phpEnc.diagnostics.filter((d) => d.message.startsWith('session_encode()'));
        if (JSON.stringify(ours.diagnostics) !== JSON.stringify(phpDiags)) {
          failures.push(`#${i} ${h} diagnostics: ours ${JSON.stringify(ours.diagnostics)} php ${JSON.stringify(phpDiags)}`);
        }
      });
    });
    if (failures.length > 0) console.error(`fast-check seed ${SEED}: ${failures.length} failures\n${failures.slice(0, 6).join('\n')}`);
    expect(failures.slice(0, 6)).toEqual([]);
  });
});
