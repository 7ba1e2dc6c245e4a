/**
 * unserialize() options go through lib/zend's type rules (php_unserialize_with_options,
 * ext/standard/var.c). Expected texts printed by `php -n` 8.2 for the same calls:
 *   unserialize('i:1;', ['max_depth' => 2.0])        TypeError ... must be of type int, float given
 *   unserialize('i:1;', ['allowed_classes' => null])  TypeError ... must be of type array|bool, null given
 *   unserialize('O:3:"Foo":0:{}', ['allowed_classes' => [[1]]])   E_WARNING Array to string conversion
 *   unserialize('O:3:"Foo":0:{}', ['allowed_classes' => [new stdClass]])
 *                                    Error: Object of class stdClass could not be converted to string
 * Before lib/zend, a PhpFloat max_depth said "array given", a bigint max_depth (a PHP int) was
 * refused with "int given", and a PhpArray allowed_classes was refused with "array given".
 */
import { describe, expect, it } from 'vitest';
import { PhpArray, PhpFloat, PhpObject, unserialize, type Diagnostic } from '../../lib/index.ts';

describe('unserialize() options', () => {
  it('max_depth must be a PHP int: names the real type, accepts bigint', () => {
    expect(() => unserialize('i:1;', { max_depth: new PhpFloat(2) })).toThrow(
      'unserialize(): Option "max_depth" must be of type int, float given',
    );
    expect(() => unserialize('i:1;', { max_depth: 1.5 })).toThrow('must be of type int, float given');
    expect(() => unserialize('i:1;', { max_depth: '1' })).toThrow('must be of type int, string given');
    expect(() => unserialize('i:1;', { max_depth: true })).toThrow('must be of type int, bool given');
    expect(() => unserialize('i:1;', { max_depth: null })).toThrow('must be of type int, null given');
    expect(() => unserialize('i:1;', { max_depth: -1n })).toThrow(
      'unserialize(): Option "max_depth" must be greater than or equal to 0',
    );
    expect(unserialize('i:1;', { max_depth: 2n })).toBe(1);
  });

  it('allowed_classes: any PHP array, entries converted as convert_to_string() does', () => {
    expect(() => unserialize('i:1;', { allowed_classes: null })).toThrow(
      'unserialize(): Option "allowed_classes" must be of type array|bool, null given',
    );
    const allowed = unserialize('O:3:"Foo":0:{}', { allowed_classes: PhpArray.from(['FOO']) });
    expect(allowed).toBeInstanceOf(PhpObject);
    expect((allowed as PhpObject).className).toBe('Foo');
    const diags: Diagnostic[] = [];
    const v = unserialize('O:5:"Array":0:{}', {
      allowed_classes: [[1]],
      onDiagnostic: (level, message) => diags.push({ level, message }),
    });
    expect((v as PhpObject).className).toBe('Array');
    expect(diags).toEqual([{ level: 'E_WARNING', message: 'Array to string conversion' }]);
    expect(() => unserialize('O:3:"Foo":0:{}', { allowed_classes: [new PhpObject('stdClass')] })).toThrow(
      'Object of class stdClass could not be converted to string',
    );
    const one = unserialize('O:1:"1":0:{}', { allowed_classes: [true] });
    expect((one as PhpObject).className).toBe('1');
  });
});
