/**
 * PhpArray's storage (packed lists, parallel key/value arrays, lazy index, holes) against a plain
 * Map model of PHP's array semantics: insertion order, in-place updates, append after deletes,
 * nNextFreeElement, and iteration while the array changes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PhpArray, PhpBytes, normalizeKey, serialize, unserialize, type PhpKey } from 'php-session-engine';

/** fast-check seed: fixed so runs are repeatable (set FC_SEED to explore others); printed on failure. */
const SEED = Number(process.env['FC_SEED'] ?? 20261122);

type Op =
  | { op: 'set'; k: PhpKey; v: number }
  | { op: 'replace'; k: PhpKey; v: number }
  | { op: 'push'; v: number }
  | { op: 'delete'; k: PhpKey }
  | { op: 'clear' };

const keyArb: fc.Arbitrary<PhpKey> = fc.oneof(
  fc.integer({ min: -3, max: 40 }),
  fc.constantFrom('a', 'b', 'c', '5', '05', 'x'.repeat(20), ''),
  fc.constantFrom(new PhpBytes(new Uint8Array([0xff])), new PhpBytes(new Uint8Array([0xfe, 0x41]))),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), k: keyArb, v: fc.integer() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('replace' as const), k: keyArb, v: fc.integer() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('push' as const), v: fc.integer() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), k: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
);

const id = (k: PhpKey): string => (k instanceof PhpBytes ? `b:${k.toBinaryString()}` : `${typeof k}:${String(k)}`);

class Model {
  map = new Map<string, [PhpKey, number]>();
  next = 0;
  put(k: PhpKey, v: number): void {
    const i = id(k);
    if (!this.map.has(i) && typeof k === 'number' && k >= this.next) this.next = k + 1;
    this.map.set(i, [k, v]);
  }
}

function check(a: PhpArray, m: Model): void {
  expect(a.size).toBe(m.map.size);
  expect(a.nextIndex).toBe(m.next);
  expect(a.has(-99)).toBe(m.map.has('number:-99'));
  expect([...a.keys()].map(id)).toEqual([...m.map.keys()]);
  expect([...a.values()]).toEqual([...m.map.values()].map(([, v]) => v));
  for (const [k, v] of m.map.values()) {
    expect(a.getExact(k)).toBe(v);
    expect(a.getSlot(k)).toBe(v);
    if (id(normalizeKey(k)) === id(k)) expect(a.has(k)).toBe(true);
  }
}

describe('PhpArray storage against a Map model', () => {
  it('random operation sequences', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const a = new PhpArray();
        const m = new Model();
        for (const o of ops) {
          if (o.op === 'set') {
            const k = normalizeKey(o.k);
            a.set(o.k, o.v);
            m.put(k, o.v);
          } else if (o.op === 'replace') {
            a.replaceExact(o.k, o.v);
            m.put(o.k, o.v);
          } else if (o.op === 'push') {
            const k = a.push(o.v);
            expect(k).toBe(m.next);
            m.put(k, o.v);
          } else if (o.op === 'delete') {
            expect(a.delete(o.k)).toBe(m.map.delete(id(normalizeKey(o.k))));
          } else {
            a.clear();
            m.map.clear();
            m.next = 0;
          }
        }
        check(a, m);
        check(a.clone(), m);
        // The codec sees the same array.
        // The codec walks the same slots: a fresh array built from the model encodes the same.
        const fresh = new PhpArray();
        for (const [k, v] of m.map.values()) fresh.replaceExact(k, v);
        expect(serialize(a)).toEqual(serialize(fresh));
        const once = serialize(unserialize(serialize(a)));
        expect(serialize(unserialize(once))).toEqual(once);
      }),
      { numRuns: 1000, seed: SEED },
    );
  });

  it('iteration while deleting and appending visits what a Map iterator would', () => {
    const a = new PhpArray();
    const m = new Map<number, number>();
    for (let i = 0; i < 100; i++) {
      a.set(i * 3, i);
      m.set(i * 3, i);
    }
    const seen: PhpKey[] = [];
    const seenM: number[] = [];
    for (const k of a.keys()) {
      seen.push(k);
      if (typeof k === 'number' && k % 2 === 0) a.delete(k + 3);
      if (seen.length === 10) a.set('tail', 1);
    }
    for (const k of m.keys()) {
      seenM.push(k);
      if (k % 2 === 0) m.delete(k + 3);
      if (seenM.length === 10) m.set('tail' as unknown as number, 1);
    }
    expect(seen).toEqual(seenM);
    expect([...a.keys()]).toEqual([...m.keys()]);
  });

  it('large hashed arrays (indexed lookups) and many deletes (compaction)', () => {
    const a = new PhpArray();
    for (let i = 0; i < 1000; i++) a.set(`k${i}`, i);
    for (let i = 0; i < 1000; i += 2) a.delete(`k${i}`);
    expect(a.size).toBe(500);
    expect(a.get('k1')).toBe(1);
    expect(a.get('k2')).toBeUndefined();
    for (let i = 0; i < 900; i++) a.delete(`k${i}`);
    expect([...a.keys()]).toEqual(Array.from({ length: 50 }, (_, j) => `k${901 + 2 * j}`));
    a.set('k0', 0);
    expect([...a.keys()].at(-1)).toBe('k0');
    expect(a.nextIndex).toBe(0);
    const list = PhpArray.from([1, 2, 3]);
    list.delete(2);
    expect(list.push(4)).toBe(3);
    expect([...list.keys()]).toEqual([0, 1, 3]);
  });
});
