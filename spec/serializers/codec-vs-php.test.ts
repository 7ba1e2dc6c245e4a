/**
 * Hand-written edge cases, every truncation of the valid ones, and session payloads: this
 * library against real PHP (one php process per group), comparing success, PHP's error offset,
 * PHP's diagnostics and the re-serialized bytes.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeWith } from '../support/tools.ts';
import { phpOracle, type OracleOp, type OracleResult } from '../oracle/php-oracle.ts';
import { INVALID, PRELUDE, SESSION_PAYLOADS, VALID } from './cases.ts';
import { latin1, localSessionDecode, localUnserialize, offsetFromDiagnostics, serializerDiagnostics, show } from './helpers.ts';

function truncations(s: string): string[] {
  const out: string[] = [];
  for (let i = 1; i < s.length; i++) out.push(s.slice(0, i));
  return out;
}

const UNSER_INPUTS: string[] = [...new Set([...VALID, ...INVALID, ...VALID.filter((s) => s.length < 80).flatMap(truncations)])];

const OPTION_CASES: { data: string; options: { allowed_classes?: boolean | string[]; max_depth?: number } }[] = [
  { data: 'O:1:"C":1:{s:1:"p";i:1;}', options: { allowed_classes: false } },
  { data: 'O:1:"C":1:{s:1:"p";i:1;}', options: { allowed_classes: ['c'] } },
  { data: 'O:1:"C":1:{s:1:"p";i:1;}', options: { allowed_classes: ['D'] } },
  { data: 'a:2:{i:0;O:1:"C":0:{}i:1;r:2;}', options: { allowed_classes: false } },
  { data: 'O:8:"stdClass":1:{s:1:"a";O:1:"C":0:{}}', options: { allowed_classes: ['stdClass'] } },
  { data: 'C:3:"Ser":5:{hello}', options: { allowed_classes: false } },
  { data: 'E:7:"Foo:Bar";', options: { allowed_classes: false } },
  { data: 'O:3:"A-B":0:{}', options: { allowed_classes: false } },
  { data: 'a:1:{i:0;a:1:{i:0;a:0:{}}}', options: { max_depth: 1 } },
  { data: 'a:1:{i:0;a:1:{i:0;a:0:{}}}', options: { max_depth: 2 } },
  { data: 'a:1:{i:0;a:1:{i:0;a:1:{i:0;i:1;}}}', options: { max_depth: 2 } },
  { data: 'a:1:{i:0;a:1:{i:0;a:1:{i:0;i:1;}}}', options: { max_depth: 3 } },
  { data: 'O:8:"stdClass":0:{}', options: { max_depth: 1 } },
  { data: 'a:1:{i:0;O:8:"stdClass":0:{}}', options: { max_depth: 1 } },
  { data: 'a:1:{i:0;O:8:"stdClass":0:{}}', options: { max_depth: 0 } },
  { data: `${'a:1:{i:0;'.repeat(200)}N;${'}'.repeat(200)}`, options: { max_depth: 128 } },
  { data: `${'a:1:{i:0;'.repeat(128)}N;${'}'.repeat(128)}`, options: { max_depth: 128 } },
];

function compareUnserialize(input: string, php: OracleResult, options?: (typeof OPTION_CASES)[number]['options']): void {
  const local = localUnserialize(latin1(input), options);
  const label = `${JSON.stringify(input)} ${options ? JSON.stringify(options) : ''}`;
  expect(local.ok, `ok for ${label}`).toBe(php.ok);
  expect(local.diagnostics, `diagnostics for ${label}`).toEqual(php.diagnostics);
  if (php.ok) {
    expect(show(local.reserialized), `re-serialized ${label}`).toBe(show(php.reserialized));
  } else {
    expect(local.offset, `offset for ${label}`).toBe(offsetFromDiagnostics(php.diagnostics) ?? 0);
  }
}

describeWith(['php'], 'unserialize() against PHP 8.2', () => {
  let results: OracleResult[] = [];
  beforeAll(async () => {
    const ops: OracleOp[] = [
      ...UNSER_INPUTS.map((data): OracleOp => ({ op: 'unserialize', data })),
      ...OPTION_CASES.map((c): OracleOp => ({ op: 'unserialize', data: c.data, options: c.options })),
    ];
    results = await phpOracle(ops, { prelude: PRELUDE });
  }, 60_000);

  it(`matches PHP on ${UNSER_INPUTS.length} payloads (valid, invalid, truncated)`, () => {
    const failures: string[] = [];
    UNSER_INPUTS.forEach((input, i) => {
      try {
        compareUnserialize(input, results[i]!);
      } catch (e) {
        failures.push((e as Error).message.split('\n')[0]!);
      }
    });
    expect(failures).toEqual([]);
  });

  it(`matches PHP with allowed_classes / max_depth (${OPTION_CASES.length} cases)`, () => {
    OPTION_CASES.forEach((c, i) => compareUnserialize(c.data, results[UNSER_INPUTS.length + i]!, c.options));
  });
});

const HANDLERS = ['php', 'php_binary', 'php_serialize'] as const;

/**
 * Cases where this library knowingly differs from PHP (documented in the README):
 * php_serialize data whose root array refers to itself with `R:1` leaves PHP's `$_SESSION`
 * as a reference to a reference; the library's `$_SESSION` is a plain array.
 */
const KNOWN_DIVERGENCES = new Set(['php_serialize a:1:{i:0;R:1;}']);
const SESSION_INPUTS = [...new Set([...SESSION_PAYLOADS, ...SESSION_PAYLOADS.filter((s) => s.length < 60).flatMap(truncations)])];

describeWith(['php'], 'session_decode()/session_encode() against PHP 8.2', () => {
  let results: OracleResult[] = [];
  beforeAll(async () => {
    const ops: OracleOp[] = HANDLERS.flatMap((handler) => SESSION_INPUTS.map((data): OracleOp => ({ op: 'session_decode', handler, data })));
    results = await phpOracle(ops, { prelude: PRELUDE });
  }, 60_000);

  for (const [h, handler] of HANDLERS.entries()) {
    it(`${handler}: ${SESSION_INPUTS.length} payloads decode, re-encode and warn as in PHP`, () => {
      const failures: string[] = [];
      SESSION_INPUTS.forEach((input, i) => {
        if (KNOWN_DIVERGENCES.has(`${handler} ${input}`)) return;
        const php = results[h * SESSION_INPUTS.length + i]!;
        try {
        const local = localSessionDecode(handler, latin1(input));
        const label = `${handler} ${JSON.stringify(input)}`;
        expect(local.ok, `ok for ${label}`).toBe(php.ok);
        const phpDiags = serializerDiagnostics(php.diagnostics);
        expect(local.diagnostics, `diagnostics for ${label}`).toEqual(phpDiags);
        if (php.ok) {
          expect(show(local.session), `$_SESSION for ${label}`).toBe(show(php.session));
          expect(show(local.encoded), `session_encode for ${label}`).toBe(show(php.encoded));
        }
        } catch (e) {
          failures.push((e as Error).message.split('\n')[0]!);
        }
      });
      expect(failures).toEqual([]);
    });
  }
});
