/**
 * Mutations of serialized payloads for the fuzz tests: byte flips, inserts, deletes, truncations
 * and digit inflation, drawn by fast-check and applied in order.
 */
import fc from 'fast-check';
import { latin1 } from './helpers.ts';

export type Mutation = { kind: 'flip' | 'insert' | 'delete' | 'truncate' | 'digits'; at: number; byte: number; count: number };

/** One mutation; inserted and flipped bytes favour `special` (the format's own punctuation). */
export function mutationArbitrary(special: string, maxCount: number): fc.Arbitrary<Mutation> {
  return fc.record({
    kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate', 'digits'),
    at: fc.nat(),
    byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...latin1(special))),
    count: fc.integer({ min: 1, max: maxCount }),
  });
}

/** The Latin-1 bytes of base with the mutations applied in order. */
export function mutate(base: string, muts: readonly Mutation[]): Buffer {
  let b = latin1(base);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[at % b.length] = m.byte;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + m.count))]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'digits':
        b = Buffer.concat([b.subarray(0, at), Buffer.from('9'.repeat(m.count)), b.subarray(at)]);
        break;
    }
  }
  return b;
}
