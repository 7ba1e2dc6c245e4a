/**
 * fast-check arbitraries for PHP values built on the JS side: every scalar shape (safe ints,
 * int64 bigints, integral floats as PhpFloat, NaN/±INF/-0, UTF-8 strings, raw bytes), arrays with
 * normalised keys, objects with public/protected/private properties, enums and `C:` payloads of
 * the classes in GEN_PRELUDE, then a linking pass that shares objects between slots and turns
 * pairs of slots into PHP references (cycles included).
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { PhpArray, PhpBytes, PhpEnum, PhpFloat, PhpObject, PhpReference, PhpSerializable, type PhpKey, type PhpValue } from 'php-session-engine';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export const phpInt = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.maxSafeInteger(),
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }).filter((b) => b < -(2n ** 53n) + 1n || b > 2n ** 53n - 1n),
  fc.constantFrom(INT64_MIN, INT64_MAX),
);

export const phpFloat = fc
  .oneof(
    fc.double(),
    fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 0.1, 1e15, 1e16, 1e17, 1e25, 5e-324, 1e-5, 1e-4, 2 ** 53, 2 ** 63, Number.MAX_VALUE),
    fc.integer({ min: -1e6, max: 1e6 }).map((i) => i / 8),
  )
  .map((d): PhpValue => (Number.isInteger(d) && Math.abs(d) <= Number.MAX_SAFE_INTEGER ? new PhpFloat(d) : d));

export const phpString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', '5', '05', '-0', '__proto__', 'constructor', 'x|y', 'a\0b', '";}', 'é'),
);

export const phpBytes = fc.uint8Array({ maxLength: 16 }).map((b): PhpValue => {
  const v = Buffer.from(b);
  return isUtf8(v) ? v.toString('utf8') : new PhpBytes(b);
});


export const phpKey: fc.Arbitrary<PhpKey> = fc.oneof(fc.integer({ min: -5, max: 50 }), phpInt, phpString);

const propName = fc.tuple(phpString, fc.constantFrom('public', 'protected', 'private'), fc.constantFrom('P', 'Zz', 'A\\B')).map(
  ([n, vis, cls]) => PhpObject.mangle(n, vis as 'public' | 'protected' | 'private', cls),
);

const scalar: fc.Arbitrary<PhpValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  phpInt,
  phpFloat,
  phpString,
  phpBytes,
  fc.constantFrom(new PhpEnum('E1', 'A'), new PhpEnum('E1', 'B'), new PhpEnum('E2', 'X')),
  fc.oneof(phpString, phpBytes).map((d) => new PhpSerializable('S', d as string | PhpBytes)),
);

export const tree = fc.letrec<{ value: PhpValue; array: PhpValue; object: PhpValue }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, scalar, tie('array'), tie('object')),
  array: fc.array(fc.tuple(phpKey, tie('value')), { maxLength: 6 }).map((pairs) => {
    const a = new PhpArray();
    for (const [k, v] of pairs) a.set(k, v);
    return a;
  }),
  object: fc
    .tuple(fc.constantFrom('stdClass', 'Zz', 'App\\Model'), fc.array(fc.tuple(propName, tie('value')), { maxLength: 5 }))
    .map(([cls, props]) => {
      const o = new PhpObject(cls);
      for (const [k, v] of props) o.properties.setExact(k, v);
      return o;
    }),
})).value;

interface Slot {
  c: PhpArray;
  k: PhpKey;
}

function collect(root: PhpValue, slots: Slot[], objects: PhpObject[], seen = new Set<object>()): void {
  if (root instanceof PhpArray || root instanceof PhpObject) {
    if (seen.has(root)) return;
    seen.add(root);
    if (root instanceof PhpObject) objects.push(root);
    const c = root instanceof PhpArray ? root : root.properties;
    c.forEachSlot((k, v) => {
      slots.push({ c, k });
      collect(v instanceof PhpReference ? v.value : v, slots, objects, seen);
    });
  }
}

/** A root array with objects shared between slots and PHP references between pairs of slots. */
export const linkedGraph: fc.Arbitrary<PhpValue> = fc
  .tuple(
    fc.array(fc.tuple(phpKey, tree), { minLength: 1, maxLength: 6 }),
    fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean()), { maxLength: 4 }),
  )
  .map(([pairs, links]) => {
    const root = new PhpArray();
    for (const [k, v] of pairs) root.set(k, v);
    const slots: Slot[] = [];
    const objects: PhpObject[] = [];
    collect(root, slots, objects);
    for (const [i, j, byRef] of links) {
      if (slots.length < 2) break;
      const a = slots[i % slots.length]!;
      const b = slots[j % slots.length]!;
      if (a.c === b.c && a.k === b.k) continue;
      if (byRef) {
        const cur = a.c.getSlot(a.k)!;
        const box = cur instanceof PhpReference ? cur : new PhpReference(cur);
        a.c.replaceExact(a.k, box);
        b.c.replaceExact(b.k, box);
      } else if (objects.length > 0) {
        b.c.replaceExact(b.k, objects[i % objects.length]!);
      }
    }
    return root;
  });
