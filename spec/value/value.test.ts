import { describe, expect, it } from 'vitest';
import { PhpArray, PhpBytes, PhpObject, PhpReference, normalizeKey } from 'php-session-engine';

describe('PhpArray', () => {
  it('normalises canonical numeric string keys as PHP does', () => {
    expect(normalizeKey('5')).toBe(5);
    expect(normalizeKey('-3')).toBe(-3);
    expect(normalizeKey('05')).toBe('05');
    expect(normalizeKey('+5')).toBe('+5');
    expect(normalizeKey('-0')).toBe('-0');
    expect(normalizeKey('9223372036854775807')).toBe(9223372036854775807n);
    expect(normalizeKey('9223372036854775808')).toBe('9223372036854775808');
  });

  it('keeps insertion order, and position on overwrite', () => {
    const a = new PhpArray().set('b', 1).set('a', 2).set('b', 3);
    expect([...a.keys()]).toEqual(['b', 'a']);
    expect(a.get('b')).toBe(3);
  });

  it('push uses the next free integer key', () => {
    const a = new PhpArray().set(7, 'x');
    expect(a.push('y')).toBe(8);
    expect(a.nextIndex).toBe(9);
  });

  it('setExact keeps "5" distinct from 5', () => {
    const a = new PhpArray().setExact('5', 'str').set(5, 'int');
    expect(a.size).toBe(2);
    expect(a.getExact('5')).toBe('str');
    expect(a.get('5')).toBe('int');
  });

  it('treats __proto__ and constructor as data', () => {
    const a = PhpArray.from(JSON.parse('{"__proto__": {"polluted": 1}, "constructor": 2}'));
    expect(a.has('__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const js = a.toJS() as Record<string, unknown>;
    expect(Object.getPrototypeOf(js)).toBeNull();
  });

  it('binary keys are distinct from text keys', () => {
    const bytes = new PhpBytes(Uint8Array.from([0xff, 0x41]));
    const a = new PhpArray().set(bytes, 1).set('\u00ffA', 2);
    expect(a.size).toBe(2);
    expect(a.get(new PhpBytes(Uint8Array.from([0xff, 0x41])))).toBe(1);
  });

  it('writes through references', () => {
    const ref = new PhpReference(1);
    const a = new PhpArray().set('a', ref).set('b', ref);
    a.set('a', 5);
    expect(a.get('b')).toBe(5);
  });
});

describe('PhpObject', () => {
  it('mangles and unmangles property names', () => {
    const o = new PhpObject('Foo');
    o.set('a', 1).set('b', 2, 'protected').set('c', 3, 'private');
    expect([...o.properties.keys()]).toEqual(['a', '\0*\0b', '\0Foo\0c']);
    expect(o.get('c')).toBe(3);
    expect(PhpObject.unmangle('\0Foo\0c')).toEqual({ name: 'c', visibility: 'private', declaringClass: 'Foo' });
  });
});
