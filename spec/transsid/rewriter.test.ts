/**
 * lib/session/url-rewriter.ts against php-cgi's URL rewriter: every case of cases.ts runs in PHP
 * (spec/php/driver.php, rewrite mode) and through an OutputRewriter driven the way PHP's session
 * module and output_add_rewrite_var() drive theirs; the bodies must be byte-identical. Cases marked
 * `everySplit` are also fed in two pieces cut at every position (and the sample page in three
 * pieces at random cuts, fast-check): the pieces must give PHP's output for the whole.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { OutputRewriter, type RewriterSettings, toBinary, type UrlScanner } from '../../lib/session/url-rewriter.ts';
import { runRewriteInPhp } from '../php/driver.ts';
import { limiter } from '../php/runner.ts';
import { describeWith } from '../support/tools.ts';
import { CASES, type RewriteCase, SAMPLE_PAGE, TRANS_SID_INI, caseSteps, normalizeIds } from './cases.ts';

const DEFAULT_TAGS = 'a=href,area=href,frame=src,form=';

/**
 * The session and output steps of a case, played as PHP plays them: php_session_reset_id and
 * output_add_rewrite_var add the variables (the session state machine itself is the engine's,
 * tested in integration.test.ts); each scanner is an output buffer on PHP's stack, started by its
 * first variable; output goes into the top buffer and is rewritten when flushed (ob_flush, end of
 * request), with the variables of that moment, then handed to the buffer below. `split` cuts echo
 * output; `stream` instead rewrites every echo at once through OutputRewriter.write (what the
 * engine's rewriteOutput does), which equals PHP whenever no variable changes after output.
 */
function simulate(c: RewriteCase, split: (s: string) => string[] = (s) => [s], stream = false): string {
  const ini: Record<string, string> = { ...TRANS_SID_INI, ...(c.ini ?? {}) };
  const settings = (): RewriterSettings => ({
    sessionTags: ini['session.trans_sid_tags'] ?? DEFAULT_TAGS,
    sessionHosts: ini['session.trans_sid_hosts'] ?? '',
    outputTags: ini['url_rewriter.tags'] ?? 'form=',
    outputHosts: ini['url_rewriter.hosts'] ?? '',
    httpHost: c.httpHost ?? 'localhost',
    argSeparator: ini['arg_separator.output'] ?? '&',
  });
  const rw = new OutputRewriter(settings);
  let name = ini['session.name'] ?? 'PHPSESSID';
  let id = '';
  const cookieHasName = c.cookie !== undefined && c.cookie.split(/;\s*/).some((kv) => kv.split('=')[0] === name);
  const trans = (): boolean =>
    ini['session.use_trans_sid'] === '1' && ini['session.use_only_cookies'] !== '1' && !(ini['session.use_cookies'] === '1' && cookieHasName);
  // PHP's buffer stack: [scanner, pending binary output], bottom first.
  const stack: [UrlScanner, string][] = [];
  let out = '';
  const emit = (s: string): void => {
    if (stream) out += toBinary(rw.write(s, false) as string);
    else if (stack.length === 0) out += toBinary(s);
    else stack[stack.length - 1]![1] += toBinary(s);
  };
  const flushFrom = (level: number, final: boolean): void => {
    for (let i = level; i >= 0; i--) {
      const [scanner, pending] = stack[i]!;
      stack[i]![1] = '';
      const done = scanner.handle(pending, true);
      if (i > 0) stack[i - 1]![1] += done;
      else out += done;
      if (!final) break;
    }
  };
  const addVar = (kind: 'session' | 'output', n: string, v: string): void => {
    const scanner = kind === 'session' ? rw.session : rw.output;
    if (!scanner.active) stack.push([scanner, '']);
    rw.addVar(kind, n, v);
  };
  const resetId = (): void => {
    if (!trans()) return;
    rw.resetVar('session', name);
    addVar('session', name, id);
  };
  for (const st of caseSteps(c)) {
    const a = st.args ?? [];
    switch (st.op) {
      case 'echo':
        for (const piece of split(Buffer.from(a[0]!, 'base64').toString('utf8'))) emit(piece);
        break;
      case 'session_id':
        id = a[0]!;
        break;
      case 'session_name':
        name = a[0]!;
        break;
      case 'session_start':
        resetId();
        break;
      case 'session_regenerate_id':
        id = '0123456789abcdef0123456789abcdef';
        resetId();
        break;
      case 'output_add_rewrite_var':
        addVar('output', a[0]!, a[1]!);
        emit('[true]');
        break;
      case 'output_reset_rewrite_vars':
        rw.resetVars('output');
        emit('[true]');
        break;
      case 'ob_flush':
        if (stream) out += toBinary(rw.write('', true) as string);
        else if (stack.length > 0) flushFrom(stack.length - 1, false);
        break;
      case 'header':
      case 'session_write_close':
        break;
      case 'ini_set':
        ini[a[0]!] = a[1]!;
        break;
      default:
        throw new Error(`simulate: no ${st.op}`);
    }
  }
  if (stream) out += toBinary(rw.write('', true) as string);
  else if (stack.length > 0) flushFrom(stack.length - 1, true);
  return Buffer.from(out, 'latin1').toString('utf8');
}

const run = limiter(2);
const php = new Map<string, string>();
const MODULE_CASES = CASES.filter((c) => !(c.steps ?? []).some((s) => s.op === 'sid' || s.op === 'echo_sid' || s.op === 'session_destroy'));

describeWith(['php-cgi'], 'URL rewriter vs php-cgi', () => {
  beforeAll(async () => {
    await Promise.all(
      MODULE_CASES.map((c) =>
        run(async () => {
          const res = await runRewriteInPhp({
            steps: caseSteps(c),
            ini: { ...TRANS_SID_INI, ...(c.ini ?? {}) },
            ...(c.cookie !== undefined ? { cookie: c.cookie } : {}),
            ...(c.httpHost !== undefined ? { httpHost: c.httpHost } : {}),
            ...(c.query !== undefined ? { query: c.query } : {}),
          });
          php.set(c.name, Buffer.from(res.body, 'latin1').toString('utf8'));
        }),
      ),
    );
  }, 120_000);

  for (const c of MODULE_CASES) {
    it(c.name, () => {
      const expected = php.get(c.name)!;
      expect(normalizeIds(simulate(c))).toBe(normalizeIds(expected));
    });
  }

  for (const c of MODULE_CASES.filter((k) => k.everySplit === true)) {
    it(`${c.name}: split in two at every position gives PHP's output for the whole`, () => {
      const expected = php.get(c.name)!;
      const html = c.html ?? '';
      const chars = Array.from(html);
      for (let i = 0; i <= chars.length; i++) {
        const got = simulate(c, () => [chars.slice(0, i).join(''), chars.slice(i).join('')], true);
        if (got !== expected) expect({ at: i, got }).toEqual({ at: i, got: expected });
      }
    });
  }

  for (const c of MODULE_CASES.filter((k) => k.everySplit === true)) {
    it(`${c.name}: its UTF-8 bytes split in two at every byte give PHP's bytes`, () => {
      const expected = Buffer.from(php.get(c.name)!, 'utf8');
      const bytes = Buffer.from(c.html ?? '', 'utf8');
      const settings = (): RewriterSettings => ({
        sessionTags: c.ini?.['session.trans_sid_tags'] ?? DEFAULT_TAGS,
        sessionHosts: c.ini?.['session.trans_sid_hosts'] ?? '',
        outputTags: 'form=',
        outputHosts: '',
        httpHost: c.httpHost ?? 'localhost',
        argSeparator: '&',
      });
      for (let i = 0; i <= bytes.length; i++) {
        const rw = new OutputRewriter(settings);
        rw.addVar('session', c.ini?.['session.name'] ?? 'PHPSESSID', 'abc123');
        const got = Buffer.concat([rw.write(bytes.subarray(0, i), false) as Buffer, rw.write(bytes.subarray(i), true) as Buffer]);
        if (!got.equals(expected)) expect({ at: i, got: got.toString('latin1') }).toEqual({ at: i, got: expected.toString('latin1') });
      }
    });
  }

  it('the sample page cut at three random points gives the whole output (fast-check)', () => {
    const c = CASES[0]!;
    const expected = php.get(c.name)!;
    const chars = Array.from(SAMPLE_PAGE);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: chars.length }), { minLength: 1, maxLength: 3 }), (cuts) => {
        const at = [0, ...cuts.sort((x, y) => x - y), chars.length];
        const got = simulate(c, () => at.slice(1).map((e, k) => chars.slice(at[k], e).join('')), true);
        expect(got).toBe(expected);
      }),
      { seed: 15, numRuns: 300 },
    );
  });
});

describe('OutputRewriter byte streams', () => {
  const settings = (): RewriterSettings => ({
    sessionTags: DEFAULT_TAGS,
    sessionHosts: '',
    outputTags: 'form=',
    outputHosts: '',
    httpHost: 'localhost',
    argSeparator: '&',
  });

  it('bytes split inside a multi-byte character come out byte for byte', () => {
    const html = Buffer.from('<a href="caf\u00e9.php">\u00e9\u20ac</a>\n', 'utf8');
    const whole = new OutputRewriter(settings);
    whole.addVar('session', 'PHPSESSID', 'x');
    const expected = Buffer.concat([whole.write(html, false) as Buffer, whole.write(Buffer.alloc(0), true) as Buffer]);
    for (let i = 0; i <= html.length; i++) {
      const rw = new OutputRewriter(settings);
      rw.addVar('session', 'PHPSESSID', 'x');
      const got = Buffer.concat([rw.write(html.subarray(0, i), false) as Buffer, rw.write(html.subarray(i), true) as Buffer]);
      expect(got.equals(expected)).toBe(true);
    }
    expect(expected.toString('utf8')).toBe('<a href="caf\u00e9.php?PHPSESSID=x">\u00e9\u20ac</a>\n');
  });

  it('a string chunk never ends inside a character: a cut UTF-8 sequence waits for the next call', () => {
    const rw = new OutputRewriter(settings);
    rw.addVar('session', 'PHPSESSID', 'x');
    // "<\u00e9" makes the scanner pass the first byte of \u00e9 on its own (state_tag's `any`).
    const a = rw.write('<\u00e9', false) as string;
    const b = rw.write(' <a href="y">', false) as string;
    const c = rw.write('', true) as string;
    expect(a + b + c).toBe('<\u00e9 <a href="y?PHPSESSID=x">');
    expect(a.includes('\ufffd') || b.includes('\ufffd')).toBe(false);
  });

  it('random HTML-ish input split at random points gives the unsplit output (fast-check)', () => {
    const piece = fc.constantFrom('<a', '<A ', '<form', '<FORM', ' href', '=', ' = ', '"', "'", '>', '/>', 'x.php', '?q=1', '#f', 'http://localhost/', ' action', '\n', '<', 'é', '&amp;', 'area', ' src', '<frame');
    const html = fc.array(piece, { maxLength: 40 }).map((p) => p.join(''));
    fc.assert(
      fc.property(html, fc.array(fc.nat(), { maxLength: 4 }), (s, cuts) => {
        const once = new OutputRewriter(settings);
        once.addVar('session', 'PHPSESSID', 'abc');
        const whole = (once.write(s, false) as string) + (once.write('', true) as string);
        const chars = Array.from(s);
        const at = [0, ...cuts.map((n) => n % (chars.length + 1)).sort((x, y) => x - y), chars.length];
        const rw = new OutputRewriter(settings);
        rw.addVar('session', 'PHPSESSID', 'abc');
        let got = '';
        for (let k = 1; k < at.length; k++) got += rw.write(chars.slice(at[k - 1], at[k]).join(''), false) as string;
        got += rw.write('', true) as string;
        expect(got).toBe(whole);
      }),
      { seed: 1515, numRuns: 500 },
    );
  });
});
