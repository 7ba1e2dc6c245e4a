/**
 * The PHP harness itself (spec/php): the expectations file names exactly the scenarios that exist,
 * the expectation rules, the normaliser's rewrites (and what it must not hide), the CGI response
 * parser, and the runner's extension loading and request variables against real PHP.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarios } from '../conformance/scenario.ts';
import { scenarios as engineDiffScenarios } from '../engine/php-diff-scenarios.ts';
import { scenarios as engineUserScenarios } from '../engine/user-handler-scenarios.ts';
import { scenarios as userScenarios } from '../user/scenarios.ts';
import { describeWith } from '../support/tools.ts';
import { loadExpectations, mismatch, recorded } from './expectations.ts';
import { firstDifference, normalizeLog } from './normalize.ts';
import { parseCgiResponse, runPhpCgi, runPhpCli, withTempDir } from './runner.ts';

describe('spec/php/expectations.json', () => {
  it('has one entry per differential scenario (conformance, user/, engine/) and none for unknown ones', () => {
    const engineNames = [...Object.keys(engineDiffScenarios), ...Object.keys(engineUserScenarios)];
    expect(new Set(engineNames).size, 'engine scenario names are unique across both files').toBe(engineNames.length);
    const conformance = loadScenarios().map((s) => s.name);
    expect(conformance.filter((n) => n.includes('/')), 'conformance names carry no suite prefix').toEqual([]);
    const names = new Set([...conformance, ...userScenarios.map((s) => `user/${s.name}`), ...engineNames.map((n) => `engine/${n}`)]);
    const file = loadExpectations();
    expect([...names].filter((n) => file[n] === undefined), 'scenarios without an expectation').toEqual([]);
    expect(Object.keys(file).filter((n) => !names.has(n)), 'expectations for unknown scenarios').toEqual([]);
  });

  it('fails a regression, a surprise pass and a changed known difference; a skip never fails', () => {
    expect(mismatch('a', { status: 'pass' }, { status: 'pass' })).toBeUndefined();
    expect(mismatch('a', undefined, { status: 'fail', reason: 'x' })).toMatch(/expected to pass/);
    expect(mismatch('a', { status: 'pass' }, { status: 'fail', reason: 'x' })).toMatch(/expected to pass, but x/);
    expect(mismatch('a', { status: 'fail', reason: 'bug' }, { status: 'pass' })).toMatch(/now passes/);
    expect(mismatch('a', { status: 'fail', reason: 'bug' }, { status: 'fail', reason: 'anything' })).toBeUndefined();
    expect(mismatch('a', { status: 'fail', reason: 'bug', diff: 'd1' }, { status: 'fail', reason: 'd1' })).toBeUndefined();
    expect(mismatch('a', { status: 'fail', reason: 'bug', diff: 'd1' }, { status: 'fail', reason: 'd2' })).toMatch(/difference changed/);
    expect(mismatch('a', { status: 'skip', reason: 'n/a' }, { status: 'fail', reason: 'x' })).toBeUndefined();
  });

  it('update mode keeps a known failure\'s reason and records its current difference', () => {
    expect(recorded(undefined, { status: 'pass' })).toEqual({ status: 'pass' });
    expect(recorded({ status: 'fail', reason: 'bug' }, { status: 'fail', reason: 'd2' })).toEqual({ status: 'fail', reason: 'bug', diff: 'd2' });
    expect(recorded({ status: 'pass' }, { status: 'fail', reason: 'd' })).toEqual({ status: 'fail', reason: 'd', diff: 'd' });
  });
});

describe('normalizeLog', () => {
  const id1 = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
  const id2 = 'ffee0011ffee0011ffee0011ffee0011';
  const given = 'abcdef0123456789abcdef0123456789';

  it('numbers generated ids by first appearance, with length and alphabet, URL-encoded forms included', () => {
    const withComma = 'ab,cd-0123456789abcdefghij';
    const out = normalizeLog(
      { headers: [['Set-Cookie', `PHPSESSID=${encodeURIComponent(withComma)}; path=/`]], ids: [id1, id2, id1, withComma], file: `sess_${id2}` },
      { dirs: [], literals: [] },
    );
    expect(out).toEqual({
      headers: [['Set-Cookie', 'PHPSESSID=<ID1 len=26 b64>; path=/']],
      ids: ['<ID2 len=32 hex>', '<ID3 len=32 hex>', '<ID2 len=32 hex>', '<ID1 len=26 b64>'],
      file: 'sess_<ID3 len=32 hex>',
    });
  });

  it('keeps ids the scenario supplied, so a wrong one is not hidden', () => {
    const lit = { dirs: [], literals: [`session_id("${given}");`] };
    expect(normalizeLog([given], lit)).toEqual([given]);
    const php = normalizeLog([given, id1], lit);
    const engine = normalizeLog([id2, id1], lit);
    expect(firstDifference(php, engine)).toBe(`.0: php="${given}" engine="<ID1 len=32 hex>"`);
  });

  it('replaces temp dirs and dates, keeps PHP\'s fixed past date and words', () => {
    const out = normalizeLog(
      {
        m: 'open(/tmp/pse-x-1/sess_a) failed (output started at /tmp/pse-x-1/scenario.php:3)',
        h: ['Expires: Thu, 19 Nov 1981 08:52:00 GMT', 'Last-Modified: Mon, 01 Dec 2026 10:00:00 GMT'],
        w: 'Session_callback_must_have_a_return_value',
      },
      { dirs: ['/tmp/pse-x-1'], literals: [] },
    );
    expect(out).toEqual({
      m: 'open({dir}/sess_a) failed',
      h: ['Expires: Thu, 19 Nov 1981 08:52:00 GMT', 'Last-Modified: <date>'],
      w: 'Session_callback_must_have_a_return_value',
    });
  });
});

describe('runner', () => {
  it('splits a CGI response and drops the headers every response has', () => {
    expect(parseCgiResponse('X-Powered-By: PHP/8.2\r\nSet-Cookie: a=b\r\nContent-type: text/html\r\nExpires: x\r\n\r\nbody\r\n')).toEqual({
      headers: [
        ['Set-Cookie', 'a=b'],
        ['Expires', 'x'],
      ],
      body: 'body\r\n',
    });
    expect(parseCgiResponse('no header block')).toBeUndefined();
  });
});

describeWith(['php', 'php-cgi', 'php-ext:memcached'], 'runner against real PHP', () => {
  it('php -n loads exactly the extensions asked for, in order', async () => {
    const code = 'echo json_encode([extension_loaded("memcached"), extension_loaded("redis"), ini_get("session.name")]);';
    const bare = await runPhpCli({ code });
    expect(JSON.parse(bare.stdout.toString())).toEqual([false, false, 'PHPSESSID']);
    const loaded = await runPhpCli({ code }, { extensions: ['igbinary', 'msgpack', 'memcached'], ini: { 'session.name': 'S' } });
    expect(JSON.parse(loaded.stdout.toString())).toEqual([true, false, 'S']);
  });

  it('php-cgi -n gets the cookie, query and form body, and answers with header lines', async () => {
    await withTempDir('runner', async (dir) => {
      const script = join(dir, 'echo.php');
      writeFileSync(script, '<?php header("X-Test: 1"); echo json_encode([$_COOKIE, $_GET, $_POST, ini_get("session.use_strict_mode")]);');
      const res = await runPhpCgi({ script, cookie: 'a=1; b=x%2Cy', query: 'q=2', body: 'p=3&r%5B%5D=4', ini: { 'session.use_strict_mode': 'on' } });
      expect(res.headers).toEqual([['X-Test', '1']]);
      expect(JSON.parse(res.body)).toEqual([{ a: '1', b: 'x,y' }, { q: '2' }, { p: '3', r: ['4'] }, '1']);
      const quoted = await runPhpCgi({ script, ini: { 'session.use_strict_mode': 'on' }, quoteIni: true });
      expect(JSON.parse(quoted.body)[3]).toBe('on');
    });
  });
});
