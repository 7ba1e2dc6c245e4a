/**
 * Large sessions against PHP 8.2: thousands of names, repeated names, names PHP keeps as strings
 * although they look numeric ("5", "05", "-1"), UTF-8 and binary names, arrays of hundreds of keys
 * with repeated and numeric-string keys, in all three formats. Each payload is decoded as is, with
 * a back reference appended (the decoder then keeps PHP's temporary slots), and cut short (the
 * decode fails after thousands of values). The result, its re-encoding and the diagnostics must be
 * PHP's. These sizes exercise the key index of large arrays and the session decoder's direct store.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeWith } from '../support/tools.ts';
import { phpOracle, type OracleOp, type OracleResult } from '../oracle/php-oracle.ts';
import { PRELUDE } from './cases.ts';
import { latin1, localSessionDecode, serializerDiagnostics, show } from './helpers.ts';

const HANDLERS = ['php', 'php_binary', 'php_serialize'] as const;
type Handler = (typeof HANDLERS)[number];

// Deterministic PRNG: the same payloads every run.
let state = 0x1badb002;
function rnd(n: number): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) % n;
}

/** A name, as latin1 text of its bytes: mostly distinct, some repeated, numeric-looking, UTF-8, binary. */
function name(i: number): string {
  switch (rnd(12)) {
    case 0:
      return `k${rnd(i + 1)}`; // repeats an earlier name (or itself)
    case 1:
      return String(rnd(40) - 5); // "5", "-1": stay string keys in $_SESSION
    case 2:
      return `0${rnd(9)}`; // "05"
    case 3:
      return Buffer.from(`ключ${i}`, 'utf8').toString('latin1');
    case 4:
      return `bin\xff${i}`;
    default:
      return `k${i}`;
  }
}

const str = (s: string): string => `s:${Buffer.byteLength(s, 'latin1')}:"${s}";`;

/** A value: scalars, and now and then an array of up to 300 keys (repeats and numeric strings). */
function value(i: number): string {
  switch (rnd(10)) {
    case 0: {
      const n = 17 + rnd(300);
      let body = '';
      for (let j = 0; j < n; j++) {
        const k = rnd(4) === 0 ? `i:${rnd(n)};` : rnd(3) === 0 ? str(String(rnd(n))) : str(`e${rnd(2 * n)}`);
        body += k + `i:${j};`;
      }
      return `a:${n}:{${body}}`;
    }
    case 1:
      return str(`v${i}|x`);
    case 2:
      return `d:${i}.5;`;
    case 3:
      return 'N;';
    case 4:
      return `b:${i & 1};`;
    default:
      return `i:${i * 7 - 1000};`;
  }
}

/** The three payloads of one format: plain, with a back reference appended, cut short. */
function payloads(handler: Handler, count: number): { label: string; data: string }[] {
  const names: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    names.push(name(i));
    values.push(value(i));
  }
  const encode = (ns: string[], vs: string[]): string => {
    if (handler === 'php_serialize') return `a:${ns.length}:{${ns.map((n, i) => str(n) + vs[i]).join('')}}`;
    if (handler === 'php_binary') return ns.map((n, i) => String.fromCharCode(n.length) + n + vs[i]).join('');
    return ns.map((n, i) => `${n}|${vs[i]}`).join('');
  };
  const plain = encode(names, values);
  const withRef = encode([...names, 'ref', 'again'], [...values, 'R:7;', 'R:3;']);
  const cut = plain.slice(0, Math.floor(plain.length * 0.9));
  return [
    { label: 'plain', data: plain },
    { label: 'with back references', data: withRef },
    { label: 'cut short', data: cut },
  ];
}

const cases = HANDLERS.flatMap((handler) => payloads(handler, 4000).map((p) => ({ handler, ...p, input: latin1(p.data) })));

describeWith(['php'], 'session_decode() of large sessions (4,000 names, arrays of hundreds of keys) against PHP 8.2', () => {
  let results: OracleResult[] = [];
  beforeAll(async () => {
    const ops: OracleOp[] = cases.map((c): OracleOp => ({ op: 'session_decode', handler: c.handler, data: c.input }));
    results = await phpOracle(ops, { prelude: PRELUDE });
  }, 120_000);

  cases.forEach((c, i) => {
    it(`${c.handler}, ${c.label} (${(c.input.length / 1024).toFixed(0)} KB)`, () => {
      const php = results[i]!;
      const local = localSessionDecode(c.handler, c.input);
      expect(local.ok).toBe(php.ok);
      expect(local.diagnostics).toEqual(serializerDiagnostics(php.diagnostics));
      if (php.ok) {
        expect(show(local.session)).toBe(show(php.session));
        expect(show(local.encoded)).toBe(show(php.encoded));
      }
    });
  });

  it('the payloads reach what they are meant to', () => {
    // Some decodes succeed with repeated names, the cut ones fail.
    expect(cases.filter((c) => c.label === 'cut short').map((c) => results[cases.indexOf(c)]!.ok)).toEqual([false, false, false]);
    expect(cases.filter((c) => c.label !== 'cut short').every((c) => results[cases.indexOf(c)]!.ok)).toBe(true);
  });
});
