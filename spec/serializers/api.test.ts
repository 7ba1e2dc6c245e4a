/**
 * The JS-facing contract of the codec: typed errors, the PHP-faithful variant, option validation
 * (messages compared with PHP), values PHP's format cannot hold, and prototype-pollution safety.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  PhpArray,
  PhpBytes,
  PhpFloat,
  PhpObject,
  PhpReference,
  PhpTypeError,
  PhpValueError,
  SerializeError,
  UnserializeError,
  serialize,
  unserialize,
  unserializePhp,
  type PhpValue,
} from 'php-session-engine';
import { describeWith } from '../support/tools.ts';
import { phpOracle, type OracleResult } from '../oracle/php-oracle.ts';

describe('codec API', () => {
  it('large inputs: strings on both sides of the decoder\'s 64 KB text windows come back exactly', () => {
    // ASCII, UTF-8 and binary strings of lengths 0..40,000, enough of them that the payload spans
    // several windows and strings straddle window edges; the decoded list must equal the input.
    // Each case is a payload of up to a few hundred KB, so this property runs 25 cases, not 1,000.
    const piece = fc.oneof(
      fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.integer({ min: 16_000, max: 40_000 }).map((n) => 'x'.repeat(n)),
      fc.uint8Array({ maxLength: 20 }).map((b) => new PhpBytes(b)),
    );
    fc.assert(
      fc.property(fc.array(piece, { minLength: 200, maxLength: 3000 }), (items) => {
        const arr = PhpArray.from(items as PhpValue[]);
        const bytes = serialize(arr);
        const back = unserialize(bytes) as PhpArray;
        expect(back.size).toBe(items.length);
        // Valid UTF-8 bytes decode to a string, so values are compared by their encoding.
        items.forEach((v, i) => expect(serialize(back.get(i)!).equals(serialize(v as PhpValue))).toBe(true));
        expect(serialize(back).equals(bytes)).toBe(true);
      }),
      { numRuns: 25, seed: 4242 },
    );
  });

  it('malformed input throws UnserializeError carrying the byte offset and length', () => {
    try {
      unserialize('a:1:{i:0;R:2;}');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UnserializeError);
      expect((e as UnserializeError).offset).toBe(13);
      expect((e as UnserializeError).length).toBe(14);
      expect((e as UnserializeError).code).toBe('ERR_UNSERIALIZE');
    }
    expect(() => unserialize('')).toThrow(UnserializeError);
  });

  it('unserializePhp() returns ok:false and the notice instead of throwing', () => {
    const diags: string[] = [];
    const r = unserializePhp('a:1:{i:0;R:2;}', { onDiagnostic: (_l, m) => diags.push(m) });
    expect(r).toEqual({ ok: false, offset: 13 });
    expect(diags).toEqual(['unserialize(): Error at offset 13 of 14 bytes']);
    const empty: string[] = [];
    expect(unserializePhp('', { onDiagnostic: (_l, m) => empty.push(m) }).ok).toBe(false);
    expect(empty).toEqual([]); // PHP returns false for '' without a notice
  });

  it('values the wire format cannot hold are SerializeErrors', () => {
    expect(() => serialize(2n ** 63n)).toThrow(SerializeError);
    expect(() => serialize(-(2n ** 63n) - 1n)).toThrow(SerializeError);
    expect(() => serialize('\uD800x')).toThrow(SerializeError);
    expect(() => serialize({ a: 1 } as unknown as PhpValue)).toThrow(SerializeError);
    expect(() => serialize(undefined as unknown as PhpValue)).toThrow(SerializeError);
  });

  it('keys like __proto__ and constructor are plain data', () => {
    const v = unserialize('a:2:{s:9:"__proto__";a:1:{s:8:"polluted";b:1;}s:11:"constructor";i:1;}') as PhpArray;
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(v.get('__proto__')).toBeInstanceOf(PhpArray);
    expect(v.get('constructor')).toBe(1);
    expect(Object.getPrototypeOf(v)).toBe(PhpArray.prototype);
  });

  it('decodes to the documented value model', () => {
    expect(unserialize('d:1;')).toEqual(new PhpFloat(1));
    expect(unserialize('d:0.5;')).toBe(0.5);
    expect(unserialize('i:9223372036854775807;')).toBe(2n ** 63n - 1n);
    expect(unserialize('i:9007199254740991;')).toBe(9007199254740991);
    const bytes = unserialize(Buffer.from('s:1:"\xff";', 'latin1'));
    expect(bytes).toBeInstanceOf(PhpBytes);
    expect([...(bytes as PhpBytes).bytes]).toEqual([0xff]);
    const a = unserialize('a:2:{i:0;i:1;i:1;R:2;}') as PhpArray;
    expect(a.getSlot(0)).toBeInstanceOf(PhpReference);
    expect(a.getSlot(0)).toBe(a.getSlot(1));
    const o = unserialize('O:1:"C":1:{s:4:"\0*\0p";i:1;}') as PhpObject;
    expect(o.className).toBe('C');
    expect(o.get('p')).toBe(1);
  });
});

const OPTION_ERRORS: Record<string, unknown>[] = [
  { allowed_classes: null },
  { allowed_classes: 1 },
  { allowed_classes: 'x' },
  { max_depth: 'x' },
  { max_depth: 1.5 },
  { max_depth: -1 },
];

describeWith(['php'], 'option errors match PHP', () => {
  let results: OracleResult[] = [];
  beforeAll(async () => {
    results = await phpOracle(
      OPTION_ERRORS.map((options) => ({ op: 'unserialize' as const, data: 'i:1;', options: options as never })),
    );
  }, 60_000);

  it('throws PhpTypeError / PhpValueError with PHP\'s message', () => {
    OPTION_ERRORS.forEach((options, i) => {
      const php = results[i]!.exception!;
      let ours = '';
      try {
        unserialize('i:1;', options as never);
      } catch (e) {
        expect(e instanceof PhpTypeError || e instanceof PhpValueError).toBe(true);
        ours = `${(e as Error).name}: ${(e as Error).message}`;
      }
      expect(ours, JSON.stringify(options)).toBe(php);
    });
  });
});
