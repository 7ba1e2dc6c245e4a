/**
 * The session decoders against PHP on mutated payloads: session data in each of the three formats
 * (and data of one format fed to another handler, the "serializer mismatch" case) is mutated by
 * byte flips, inserts, deletes, truncations and digit inflation, then decoded by php, php_binary
 * and php_serialize in PHP 8.2 (session_decode) and here. Success, diagnostics, the resulting
 * `$_SESSION` and its re-encoding must match. fast-check with a fixed seed (FC_SEED).
 */
import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { describeWith } from '../support/tools.ts';
import { phpOracle, type OracleOp, type OracleResult } from '../oracle/php-oracle.ts';
import { PRELUDE, SESSION_PAYLOADS } from './cases.ts';
import { mutate, mutationArbitrary } from './mutate.ts';
import { latin1, localSessionDecode, serializerDiagnostics, show } from './helpers.ts';

const SEED = Number(process.env['FC_SEED'] ?? 4711);
const RUNS = 3000;
const HANDLERS = ['php', 'php_binary', 'php_serialize'] as const;

/** Realistic payloads of each format, plus the hand-written edge cases. */
const BASES: readonly string[] = [
  ...SESSION_PAYLOADS,
  'user|a:2:{s:2:"id";i:42;s:5:"roles";a:2:{i:0;s:5:"admin";i:1;s:4:"user";}}cart|O:8:"stdClass":1:{s:5:"items";a:1:{i:0;d:19.99;}}flag|R:2;',
  '\x04usera:2:{s:2:"id";i:42;s:5:"roles";a:1:{i:0;s:5:"admin";}}\x04cartO:8:"stdClass":1:{s:5:"items";a:1:{i:0;d:19.99;}}\x04flagR:2;',
  'a:3:{s:4:"user";a:2:{s:2:"id";i:42;s:5:"roles";a:1:{i:0;s:5:"admin";}}s:4:"cart";O:8:"stdClass":1:{s:5:"items";a:1:{i:0;d:19.99;}}s:4:"flag";R:3;}',
  'a|s:20:"x|O:8:"stdClass":0:{}";b|i:2;',
  'a:1:{s:1:"a";s:24:"|O:8:"stdClass":0:{}b|i:1";}',
];

const mutation = mutationArbitrary(':;{}"0123456789-+RrNabisdO|!\x01\x04\x7f\x80', 12);

const inputs: Buffer[] = [
  // Every base under every handler, unmutated (the cross-format cases among them).
  ...BASES.map((b) => latin1(b)),
  // Mutated ones. Class-dependent tokens (C:, E:) are left out: this library is class-agnostic (a
  // mutated enum case name exists here and not in PHP); the unmutated bases cover them.
  ...fc
    .sample(
      fc.tuple(fc.constantFrom(...BASES), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([b, m]) => mutate(b, m)),
      { seed: SEED, numRuns: RUNS },
    )
    .filter((b) => !b.includes('C:') && !b.includes('E:')),
];

/**
 * Known difference (README, "PHP compatibility"): php_serialize data whose root array refers to
 * itself with R:1 leaves PHP's $_SESSION a reference to a reference; here it is a plain array.
 */
function knownDivergence(handler: string, input: Buffer, php: OracleResult): boolean {
  return handler === 'php_serialize' && php.ok && /R:1;/.test(input.toString('latin1'));
}

describeWith(['php'], `session_decode() on mutated payloads against PHP 8.2 (fast-check seed ${SEED})`, () => {
  let results: OracleResult[] = [];
  beforeAll(async () => {
    const ops: OracleOp[] = HANDLERS.flatMap((handler) => inputs.map((data): OracleOp => ({ op: 'session_decode', handler, data })));
    results = await phpOracle(ops, { prelude: PRELUDE });
  }, 120_000);

  for (const [h, handler] of HANDLERS.entries()) {
    it(`${handler}: ${inputs.length} payloads (${BASES.length} unmutated) decode, warn and re-encode as in PHP`, () => {
      const failures: string[] = [];
      inputs.forEach((input, i) => {
        const php = results[h * inputs.length + i]!;
        if (knownDivergence(handler, input, php)) return;
        const local = localSessionDecode(handler, input);
        const phpDiags = serializerDiagnostics(php.diagnostics);
        const same =
          local.ok === php.ok &&
          JSON.stringify(local.diagnostics) === JSON.stringify(phpDiags) &&
          (!php.ok || (show(local.session) === show(php.session) && show(local.encoded) === show(php.encoded)));
        if (!same) {
          failures.push(
            `${show(input)}\n  php:  ${php.ok} ${show(php.session)} ${show(php.encoded)} ${JSON.stringify(phpDiags)}\n  ours: ${local.ok} ${show(local.session)} ${show(local.encoded)} ${JSON.stringify(local.diagnostics)}`,
          );
        }
      });
      if (failures.length > 0) console.error(`${handler}, seed ${SEED}: ${failures.length} differences\n${failures.slice(0, 6).join('\n')}`);
      expect(failures.slice(0, 6)).toEqual([]);
    });
  }
});
