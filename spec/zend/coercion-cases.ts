/**
 * The generated cases of the coercion property test (spec/zend/coercion.test.ts): PHP values in
 * this library's JS representation (lib/zend/types: safe-integer numbers and bigints are ints,
 * other numbers and PhpFloat are floats) and, per function parameter, how a value becomes a call.
 */
import fc from 'fast-check';
import { PhpArray, PhpFloat, PhpObject, type PhpValue } from '../../lib/index.ts';

export const SEED = Number(process.env['FC_SEED'] ?? 20261203);
/** Cases per parameter (a smaller number is for debugging only: KNOWN_FAILURES entries may then go unused). */
export const RUNS = Number(process.env['COERCION_RUNS'] ?? 1000);

// ------------------------------------------------------------------------------------------------
// Generated PHP values (JS representation per lib/zend/types: safe-integer numbers and bigints are
// ints, other numbers and PhpFloat are floats)

const WS = ['', '', '', ' ', '  ', '\t', '\n', '\r\n', '\v', '\f'];
const TAIL = ['', '', '', '', ' ', '\n', '\t', 'x', 'abc', ' 1', '.', 'e5', 'k', '\0', '%'];

const intArb: fc.Arbitrary<number | bigint> = fc
  .oneof(
    fc.integer({ min: -5, max: 300 }),
    fc.constantFrom(0, 1, -1, 3, 4, 5, 6, 7, 21, 22, 23, 100, 255, 256, 257, 2147483647, 2147483648, -2147483649, Number.MAX_SAFE_INTEGER),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.constantFrom(2n ** 63n - 1n, -(2n ** 63n)),
  )
  .map((v) => (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v));

const doubleArb: fc.Arbitrary<number> = fc.oneof(
  fc.double(),
  fc.double({ min: -1000, max: 1000, noNaN: true }),
  fc.integer({ min: -2000, max: 2000 }).map((i) => i / 4),
  fc.constantFrom(0.1 + 0.2, 1e25, 1e15, 1e20, 1.5, -1.5, 0.5, 22.5, 32.0, 4.0, 100.0, 2 ** 63, -(2 ** 63), 1e-7, NaN, Infinity, -Infinity, -0, 0),
);

/** A float zval: integral values as PhpFloat (a plain integral number would be an int). */
const floatArb: fc.Arbitrary<number | PhpFloat> = fc
  .tuple(doubleArb, fc.boolean())
  .map(([d, wrap]) => (Number.isSafeInteger(d) || (wrap && Number.isFinite(d)) ? new PhpFloat(d) : d));

const numberText: fc.Arbitrary<string> = fc.oneof(
  intArb.map(String),
  doubleArb.filter(Number.isFinite).map((d) => String(d)),
  doubleArb.filter(Number.isFinite).map((d) => d.toExponential()),
  fc.integer({ min: -999, max: 999 }).map((i) => (i / 8).toFixed(3)),
  fc.constantFrom('0x1A', '0b11', '0o17', '1e3', '1E-3', '.5', '5.', '+5', '-0', '-0.0', '00012', '9223372036854775807', '9223372036854775808',
    '-9223372036854775809', '1e400', '-1e400', '32', '22', '256', '1k', '1M', '0', '1', '1.0', '2.5', '4', '6', '1e1', '1e-1'),
);

const numericString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...WS), numberText, fc.constantFrom(...WS, ...TAIL))
  .map(([a, b, c]) => a + b + c);

const CHARS = 'abcXYZ019,-_ ./%;=|\0\né'.split('');
const otherString: fc.Arbitrary<string> = fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 12 });

const arrayArb: fc.Arbitrary<unknown> = fc.constantFrom<() => unknown>(
  () => [],
  () => [1],
  () => ['a'],
  () => PhpArray.from({ a: 1 }),
  () => PhpArray.from([[1]]),
).map((f) => f());

const objectArb: fc.Arbitrary<unknown> = fc.constantFrom('stdClass', 'Foo').map((c) => new PhpObject(c));

/** Any PHP value, with extra weight on the given vocabulary (strings the parameter cares about). */
function phpValue(vocab: readonly unknown[] = []): fc.Arbitrary<unknown> {
  const arbs: fc.WeightedArbitrary<unknown>[] = [
    { arbitrary: intArb, weight: 3 },
    { arbitrary: floatArb, weight: 3 },
    { arbitrary: numericString, weight: 3 },
    { arbitrary: otherString, weight: 2 },
    { arbitrary: fc.boolean(), weight: 1 },
    { arbitrary: fc.constant(null), weight: 1 },
    { arbitrary: arrayArb, weight: 1 },
    { arbitrary: objectArb, weight: 1 },
  ];
  if (vocab.length > 0) arbs.push({ arbitrary: fc.constantFrom(...vocab), weight: 3 });
  return fc.oneof(...arbs);
}

// ------------------------------------------------------------------------------------------------
// The cases

export interface Case {
  /** Function as the driver calls it (`fn#variant` for calls the driver builds itself). */
  fn: string;
  /** The parameter under test (`options[gc_maxlifetime]` for an option key). */
  param: string;
  args: unknown[];
  /** The generated value under test (what KNOWN_FAILURES look at). */
  value: unknown;
  /** ini directives read back after the call. */
  capture: string[];
}

export interface ParamSpec {
  fn: string;
  param: string;
  vocab?: readonly unknown[];
  capture?: string[];
  /** Builds the argument list around the generated value (default: `[v]`). */
  args?: (v: unknown) => unknown[];
}

const COOKIE_INI = ['session.cookie_lifetime', 'session.cookie_path', 'session.cookie_domain', 'session.cookie_secure', 'session.cookie_httponly', 'session.cookie_samesite'];

export const PARAMS: ParamSpec[] = [
  { fn: 'session_name', param: 'name', vocab: ['PHPSESSID', 'sess', 'a b', '0', ''], capture: ['session.name'] },
  { fn: 'session_module_name', param: 'module', vocab: ['files', 'FILES', 'user', 'php', ''], capture: ['session.save_handler'] },
  { fn: 'session_save_path', param: 'path', vocab: ['/tmp', '2;/tmp', 'a\0b', ''], capture: ['session.save_path'] },
  { fn: 'session_id', param: 'id', vocab: ['abc', 'abc,-DEF0', 'a b', '', 'x'.repeat(300)] },
  { fn: 'session_create_id', param: 'prefix', vocab: ['abc', 'a,b-c', 'a b', '', 'x'.repeat(300)] },
  { fn: 'session_regenerate_id', param: 'delete_old_session', vocab: ['0', '1', ''] },
  { fn: 'session_decode', param: 'data', vocab: ['a|i:1;', '', 'x'] },
  { fn: 'session_cache_limiter', param: 'value', vocab: ['nocache', 'private', 'public', 'private_no_expire', ''], capture: ['session.cache_limiter'] },
  { fn: 'session_cache_expire', param: 'value', vocab: ['180', '1.5', ' 12 ', '12abc'], capture: ['session.cache_expire'] },
  { fn: 'session_set_cookie_params', param: 'lifetime_or_options', vocab: ['100', '-1', '1k'], capture: COOKIE_INI },
  { fn: 'session_set_cookie_params', param: 'path', vocab: ['/', '/a', ''], capture: COOKIE_INI, args: (v) => [100, v] },
  { fn: 'session_set_cookie_params', param: 'domain', vocab: ['example.com', ''], capture: COOKIE_INI, args: (v) => [100, '/p', v] },
  { fn: 'session_set_cookie_params', param: 'secure', vocab: ['0', '1', ''], capture: COOKIE_INI, args: (v) => [100, '/p', 'd', v] },
  { fn: 'session_set_cookie_params', param: 'httponly', vocab: ['0', '1', ''], capture: COOKIE_INI, args: (v) => [100, '/p', 'd', true, v] },
  ...['lifetime', 'path', 'domain', 'secure', 'httponly', 'samesite'].map((k): ParamSpec => ({
    fn: 'session_set_cookie_params',
    param: `options[${k}]`,
    vocab: ['Lax', 'Strict', 'None', '/x', '0', '1', '100'],
    capture: COOKIE_INI,
    args: (v) => [PhpArray.from({ [k]: v as PhpValue })],
  })),
  { fn: 'session_start', param: 'options', capture: ['session.gc_maxlifetime'] },
  ...[
    ['read_and_close', 'session.gc_maxlifetime'],
    ['gc_maxlifetime', 'session.gc_maxlifetime'],
    ['sid_length', 'session.sid_length'],
    ['use_strict_mode', 'session.use_strict_mode'],
    ['cache_limiter', 'session.cache_limiter'],
  ].map(([k, ini]): ParamSpec => ({
    fn: 'session_start',
    param: `options[${k}]`,
    vocab: ['0', '1', 'nocache', '40', 'On'],
    capture: [ini!],
    args: (v) => [PhpArray.from({ [k!]: v as PhpValue, ...(k === 'read_and_close' ? {} : { read_and_close: true }) })],
  })),
  { fn: 'session_set_save_handler', param: 'open', vocab: ['SessionHandler', 'strlen'] },
  { fn: 'session_set_save_handler#close', param: 'close', capture: ['session.save_handler'] },
  { fn: 'ini_get', param: 'option', vocab: ['session.name', 'session.gc_maxlifetime', 'nope', 'session.sid_length'] },
  { fn: 'ini_set', param: 'option', vocab: ['session.name', 'session.gc_maxlifetime', 'nope', 'session.upload_progress.freq'], args: (v) => [v, '1'] },
  ...[
    'session.gc_maxlifetime', 'session.gc_probability', 'session.cache_expire', 'session.cookie_lifetime', 'session.use_strict_mode',
    'session.cookie_httponly', 'session.lazy_write', 'session.cache_limiter', 'session.cookie_path', 'session.name',
    'session.cookie_samesite', 'session.sid_length', 'session.sid_bits_per_character', 'session.serialize_handler',
    'session.save_handler', 'session.upload_progress.freq', 'unserialize_max_depth',
  ].map((name): ParamSpec => ({
    fn: 'ini_set',
    param: `value(${name})`,
    vocab: ['files', 'php', 'php_serialize', 'user', '1%', '101%', 'On', 'off', 'Lax'],
    capture: [name],
    args: (v) => [name, v],
  })),
  { fn: 'unserialize#max_depth', param: 'max_depth', vocab: [0, 1, 2, 4096] },
  { fn: 'unserialize#allowed_classes', param: 'allowed_classes', vocab: [true, false, ['Foo'], ['foo', 1.5]] },
];

export const NO_PARAM_FUNCTIONS = [
  'session_encode', 'session_destroy', 'session_unset', 'session_gc', 'session_get_cookie_params', 'session_write_close',
  'session_commit', 'session_abort', 'session_reset', 'session_status', 'session_register_shutdown',
];

export function buildCases(): Case[] {
  const cases: Case[] = [];
  PARAMS.forEach((p, i) => {
    // ini_set's value parameter is spread over 17 directives; each still gets RUNS / 4 cases and
    // the parameter as a whole far more than RUNS.
    const runs = p.param.startsWith('value(') ? Math.ceil(RUNS / 4) : RUNS;
    const values = fc.sample(phpValue(p.vocab), { numRuns: runs, seed: SEED + i });
    for (const v of values) {
      cases.push({ fn: p.fn, param: p.param, args: p.args?.(v) ?? [v], value: v, capture: p.capture ?? [] });
    }
  });
  for (const fn of NO_PARAM_FUNCTIONS) {
    for (const v of [1, null, 'x']) cases.push({ fn, param: '(none)', args: [v], value: v, capture: [] });
  }
  return cases;
}

