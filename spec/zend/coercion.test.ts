/**
 * The coercion property test: every parameter of every session_* function (plus ini_set/ini_get
 * for the session directives and unserialize()'s max_depth / allowed_classes options) is called
 * with generated arguments — ints, floats (fractional, huge, NaN, ±INF, -0, integral), numeric
 * and non-numeric strings with leading/trailing whitespace, bools, null, arrays, objects —
 * 1,000 cases per parameter (fast-check, fixed seed), in ONE `php -n` process and through the
 * engine's `req.functions`. Compared per case: the return value (serialized), the thrown error
 * (class and message), the diagnostics (level and text), the ini values the call may have stored,
 * session_status() and session_id().
 *
 * Every case starts from the same state: no session, headers not sent, the session ini at its
 * defaults (PHP: session_abort(), ini_restore(), session_id(''); engine: a fresh request).
 *
 * Known deviations are listed in KNOWN_FAILURES below, one entry per bug with the inputs it
 * covers. A mismatch no entry covers fails the test, and so does an entry that no longer matches
 * any mismatch (the bug was fixed: delete the entry). Nothing is skipped silently.
 *
 * The same cases also go through lib/zend's zpp parsers alone (ZPP_SPECS), which must agree with
 * PHP on every TypeError, parsing deprecation and converted value: that is the API the session
 * functions move onto. Cases: coercion-cases.ts; running both sides: coercion-run.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PhpBytes } from '../../lib/index.ts';
import {
  zppArray,
  zppArrayOrLong,
  zppBool,
  zppLong,
  zppScalarString,
  zppString,
  type ParamInfo,
  type ZppScope,
} from '../../lib/zend/index.ts';
import { describeWith } from '../support/tools.ts';
import { buildCases, NO_PARAM_FUNCTIONS, PARAMS, RUNS, type Case } from './coercion-cases.ts';
import { describeValue, diff, latin1, runEngine, runPhpSide, type Mismatch, type Outcome } from './coercion-run.ts';

// ------------------------------------------------------------------------------------------------
// Known deviations. One entry per bug; the `when` predicate names the inputs it covers. Delete an
// entry once the test reports it unused.

interface KnownFailure {
  fn: string;
  params?: readonly string[];
  why: string;
  when: (value: unknown, c: Case) => boolean;
}

/**
 * Known deviations from PHP, one entry per bug (an entry that no longer matches fails). Empty: the
 * session functions parse their arguments with lib/zend (lib/session/functions/).
 */
const KNOWN_FAILURES: KnownFailure[] = [];

// ------------------------------------------------------------------------------------------------
// lib/zend's zpp on the same cases: the argument parsing the session functions will call (the
// core helper moves lib/request.ts onto it), checked against PHP on its own.

type ZppParser = (scope: ZppScope, p: ParamInfo, v: unknown) => unknown;

interface ZppSpec {
  parse: ZppParser;
  info: ParamInfo;
  /** Where PHP shows the converted value after a successful call, as the driver captured it. */
  stored?: (o: Outcome) => string;
}

const ini1 = (o: Outcome): string => o.ini;
const ZPP_SPECS: Record<string, ZppSpec> = {
  'session_name:name': { parse: zppString, info: { n: 1, name: 'name', type: '?string' }, stored: ini1 },
  'session_module_name:module': { parse: zppString, info: { n: 1, name: 'module', type: '?string' } },
  'session_save_path:path': { parse: zppString, info: { n: 1, name: 'path', type: '?string' }, stored: ini1 },
  'session_id:id': { parse: zppString, info: { n: 1, name: 'id', type: '?string' }, stored: (o) => `s:${o.sid}` },
  'session_create_id:prefix': { parse: zppString, info: { n: 1, name: 'prefix', type: 'string' } },
  'session_regenerate_id:delete_old_session': { parse: zppBool, info: { n: 1, name: 'delete_old_session', type: 'bool' } },
  'session_decode:data': { parse: zppString, info: { n: 1, name: 'data', type: 'string' } },
  'session_cache_limiter:value': { parse: zppString, info: { n: 1, name: 'value', type: '?string' }, stored: ini1 },
  'session_cache_expire:value': { parse: zppLong, info: { n: 1, name: 'value', type: '?int' }, stored: ini1 },
  'session_set_cookie_params:lifetime_or_options': { parse: zppArrayOrLong, info: { n: 1, name: 'lifetime_or_options', type: 'array|int' } },
  'session_set_cookie_params:path': { parse: zppString, info: { n: 2, name: 'path', type: '?string' } },
  'session_set_cookie_params:domain': { parse: zppString, info: { n: 3, name: 'domain', type: '?string' } },
  'session_set_cookie_params:secure': { parse: zppBool, info: { n: 4, name: 'secure', type: '?bool' } },
  'session_set_cookie_params:httponly': { parse: zppBool, info: { n: 5, name: 'httponly', type: '?bool' } },
  'session_start:options': { parse: zppArray, info: { n: 1, name: 'options', type: 'array' } },
  'ini_get:option': { parse: zppString, info: { n: 1, name: 'option', type: 'string' } },
  'ini_set:option': { parse: zppString, info: { n: 1, name: 'option', type: 'string' } },
  'ini_set:value': {
    parse: zppScalarString,
    info: { n: 2, name: 'value', type: 'string|int|float|bool|null' },
    stored: ini1,
  },
};

/** The stored form of a converted argument, as the driver prints ini values (`s:<bytes>`). */
function storedForm(v: unknown): string | undefined {
  if (typeof v === 'string') return `s:${latin1(v)}`;
  if (v instanceof PhpBytes) return `s:${v.toBinaryString()}`;
  if (typeof v === 'bigint') return `s:${v}`;
  return undefined;
}

/** What lib/zend's parser gives for one case, compared with what PHP did; undefined when they agree. */
function zppDisagreement(spec: ZppSpec, fn: string, value: unknown, php: Outcome): string | undefined {
  const diags: string[] = [];
  const scope: ZppScope = { fn, report: (l, m) => diags.push(latin1(`${l}: ${m}`)) };
  let err = '';
  let converted: unknown;
  try {
    converted = spec.parse(scope, spec.info, value);
  } catch (e) {
    err = latin1(`${(e as Error).name}: ${(e as Error).message}`);
  }
  const parseError = `Argument #${spec.info.n} ($${spec.info.name}) must be of type`;
  if (err !== '') return php.error === err ? undefined : `zpp threw ${err}; PHP: ${php.error || 'no error'}`;
  if (php.error.includes(parseError)) return `zpp accepted; PHP threw ${php.error}`;
  const mine = diags.join('\x02');
  const phpParse = php.diags.split('\x02').filter((d) => /Passing null to parameter|Implicit conversion from/.test(d)).join('\x02');
  if (mine !== phpParse) return `zpp diagnostics ${JSON.stringify(mine)}; PHP ${JSON.stringify(phpParse)}`;
  if (spec.stored !== undefined && php.error === '' && php.ret !== 'b:0;' && php.diags.split('\x02').every((d) => d === '' || phpParse.includes(d))) {
    const want = spec.stored(php);
    const got = storedForm(converted);
    // A NUL byte makes the function body read a C string (or refuse the value silently): that is
    // the function's business, not argument parsing, so only NUL-free values are compared.
    if (got !== undefined && !got.includes('\0') && want !== got) return `zpp converted to ${JSON.stringify(got)}; PHP stored ${JSON.stringify(want)}`;
  }
  return undefined;
}

/**
 * Deliberate, documented deviations of lib/zend (not bugs to fix): a mismatch they describe is
 * accepted, checked against both sides' texts, not just the input.
 */
const DOCUMENTED_DEVIATIONS: { why: string; accepts: (m: Mismatch) => boolean }[] = [
  {
    // zend_ini_parse_quantity formats the byte after a leading "0" with %c: for a non-ASCII
    // character PHP prints only its first byte (invalid UTF-8), which a JS string cannot hold.
    why: 'Invalid prefix "0<non-ASCII>": the whole character is printed where PHP prints its first byte',
    accepts: (m) =>
      Object.keys(m.php).join() === 'diags' &&
      /Invalid prefix "0[^\x00-\x7f]/.test(m.php.diags ?? '') &&
      (m.php.diags ?? '').replace(/Invalid prefix "0[^"]*"/g, '') === (m.engine.diags ?? '').replace(/Invalid prefix "0[^"]*"/g, ''),
  },
];

// ------------------------------------------------------------------------------------------------

describeWith(['php'], 'coercion of session_* arguments: engine vs php -n', () => {
  const cases = buildCases();
  const mismatches = new Map<string, Mismatch[]>();
  const zppDisagreements: { fn: string; param: string; input: string; why: string }[] = [];
  let zppChecked = 0;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pse-coercion-'));
    // One save path for both sides (session_save_path() returns it); ids are random, so the two
    // never touch each other's files.
    const save = join(dir, 'save');
    mkdirSync(save);
    const [php, eng] = await Promise.all([runPhpSide(cases, save), runEngine(cases, save)]);
    cases.forEach((c, i) => {
      const fnName = c.fn.split('#')[0]!;
      const spec = ZPP_SPECS[`${fnName}:${c.param.replace(/^value\(.*\)$/, 'value')}`];
      if (spec !== undefined) {
        zppChecked++;
        const why = zppDisagreement(spec, fnName, c.value, php[i]!);
        if (why !== undefined) zppDisagreements.push({ fn: fnName, param: c.param, input: describeValue(c.value), why });
      }
      const m = diff(c, php[i]!, eng[i]!);
      if (m === undefined) return;
      const fn = c.fn.split('#')[0]!;
      mismatches.set(fn, [...(mismatches.get(fn) ?? []), m]);
    });
    // COERCION_DUMP=<file>: every mismatch as one JSON line, for studying a failure.
    const dump = process.env['COERCION_DUMP'];
    if (dump !== undefined) {
      const rows = [...mismatches.values()].flat().map(({ c, input, php, engine }) => JSON.stringify({ fn: c.fn, param: c.param, input, php, engine }));
      writeFileSync(dump, rows.join('\n') + '\n');
    }
  }, 600_000);

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const fns = [...new Set([...PARAMS.map((p) => p.fn.split('#')[0]!), ...NO_PARAM_FUNCTIONS])];
  it('runs at least 1,000 generated cases per parameter', () => {
    const per = new Map<string, number>();
    for (const c of cases) {
      const key = `${c.fn.split('#')[0]}:${c.param.replace(/^value\(.*\)$/, 'value')}`;
      per.set(key, (per.get(key) ?? 0) + 1);
    }
    for (const [key, n] of per) if (!key.endsWith(':(none)')) expect([key, n >= RUNS]).toEqual([key, true]);
  });

  it('lib/zend zpp parses every argument as PHP does (TypeErrors, deprecations, converted values)', () => {
    expect(zppChecked).toBeGreaterThan(15 * RUNS);
    expect({ disagreements: zppDisagreements.length, sample: zppDisagreements.slice(0, 8) }).toEqual({ disagreements: 0, sample: [] });
  });

  for (const fn of fns) {
    it(`${fn}: same results, errors, diagnostics and stored ini values as PHP`, () => {
      const ms = mismatches.get(fn) ?? [];
      const known = KNOWN_FAILURES.filter((k) => k.fn === fn);
      const covered = (m: Mismatch, k: KnownFailure): boolean => (k.params === undefined || k.params.includes(m.param)) && k.when(m.value, m.c);
      const unexpected = ms.filter((m) => !known.some((k) => covered(m, k)) && !DOCUMENTED_DEVIATIONS.some((d) => d.accepts(m)));
      const unused = known.filter((k) => !ms.some((m) => covered(m, k))).map((k) => k.why);
      const sample = unexpected.slice(0, 8).map(({ param, input, php, engine }) => ({ param, input, php, engine }));
      expect({ unexpected: unexpected.length, sample, unused }).toEqual({ unexpected: 0, sample: [], unused: [] });
    });
  }
});
