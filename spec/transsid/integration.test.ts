/**
 * Trans-sid through the engine against php-cgi: every case of cases.ts runs in PHP (driver.php,
 * rewrite mode) and as engine calls on a SessionRequest: session_start / session_regenerate_id
 * arm the rewriter as PHP does, output_add_rewrite_var / output_reset_rewrite_vars are
 * req.functions, SID is req.SID, and the body is what req.rewriteOutput() returns, chunk by chunk.
 * Bodies (and the Location header) must be byte-identical after generated ids are replaced by one
 * token. Cases whose variables change after output (`phpBuffers`) pass the whole body through
 * rewriteOutput once at the end, as PHP's buffering handler does; streaming them differs, as the
 * README says, and one test shows how.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import { runRewriteInPhp } from '../php/driver.ts';
import { limiter } from '../php/runner.ts';
import { describeWith } from '../support/tools.ts';
import { CASES, type RewriteCase, TRANS_SID_INI, caseSteps, normalizeIds } from './cases.ts';

function parsePairs(s: string | undefined, sep: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  if (s === undefined || s === '') return out;
  for (const kv of s.split(sep)) {
    const i = kv.indexOf('=');
    out[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
  }
  return out;
}

interface EngineRun {
  body: string;
  headers: [string, string][];
}

/** The case's steps as engine calls; `buffered` collects the body and rewrites it once at the end. */
async function runEngine(c: RewriteCase, buffered = false): Promise<EngineRun> {
  const dir = mkdtempSync(join(tmpdir(), 'pse-transsid-'));
  try {
    const engine = new SessionEngine({ ini: { 'session.save_path': dir, 'session.gc_probability': '0', ...TRANS_SID_INI, ...(c.ini ?? {}) } });
    let out = '';
    let pending = '';
    let sids = '';
    let write = (_s: string): void => undefined;
    const req = engine.request({
      cookies: parsePairs(c.cookie, /;\s*/),
      query: parsePairs(c.query, /&/),
      server: { HTTP_HOST: c.httpHost ?? 'localhost' },
      onDiagnostic: (d) => write(`[${d.level}: ${d.message}]`),
    });
    write = (s: string): void => {
      if (buffered) pending += s;
      else out += req.rewriteOutput(s);
    };
    const f = req.functions;
    for (const st of caseSteps(c)) {
      const a = st.args ?? [];
      switch (st.op) {
        case 'echo':
          write(Buffer.from(a[0]!, 'base64').toString('utf8'));
          break;
        case 'sid':
          sids += req.SID === undefined ? '[SID undefined]' : `[SID=${req.SID}]`;
          break;
        case 'echo_sid':
          write(req.SID ?? '');
          break;
        case 'ob_flush':
          out += req.rewriteOutput(pending, { final: true });
          pending = '';
          break;
        case 'header': {
          const i = a[0]!.indexOf(':');
          req.addHeader(a[0]!.slice(0, i), a[0]!.slice(i + 1).trim());
          break;
        }
        case 'ini_set':
          f.ini_set(a[0]!, a[1]!);
          break;
        case 'session_id':
          f.session_id(a[0]!);
          break;
        case 'session_name':
          f.session_name(a[0]!);
          break;
        case 'session_start':
          await f.session_start();
          break;
        case 'session_regenerate_id':
          await f.session_regenerate_id();
          break;
        case 'session_write_close':
          await f.session_write_close();
          break;
        case 'session_destroy':
          await f.session_destroy();
          break;
        case 'output_add_rewrite_var':
          write(`[${String(f.output_add_rewrite_var(a[0]!, a[1]!))}]`);
          break;
        case 'output_reset_rewrite_vars':
          write(`[${String(f.output_reset_rewrite_vars())}]`);
          break;
        default:
          throw new Error(`no engine step for ${st.op}`);
      }
    }
    write(sids);
    out += req.rewriteOutput(pending, { final: true });
    await req.end();
    return { body: out, headers: req.headers };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const run = limiter(2);
const php = new Map<string, { body: string; headers: [string, string][] }>();

describeWith(['php-cgi'], 'trans-sid through the engine vs php-cgi', () => {
  beforeAll(async () => {
    await Promise.all(
      CASES.map((c) =>
        run(async () => {
          const res = await runRewriteInPhp({
            steps: caseSteps(c),
            ini: { ...TRANS_SID_INI, 'session.gc_probability': '0', ...(c.ini ?? {}) },
            ...(c.cookie !== undefined ? { cookie: c.cookie } : {}),
            ...(c.httpHost !== undefined ? { httpHost: c.httpHost } : {}),
            ...(c.query !== undefined ? { query: c.query } : {}),
          });
          php.set(c.name, { body: Buffer.from(res.body, 'latin1').toString('utf8'), headers: res.headers });
        }),
      ),
    );
  }, 180_000);

  for (const c of CASES) {
    it(c.name, async () => {
      const expected = php.get(c.name)!;
      const got = await runEngine(c, c.phpBuffers === true);
      expect(normalizeIds(got.body)).toBe(normalizeIds(expected.body));
      const location = (h: [string, string][]): string[] => h.filter(([n]) => n.toLowerCase() === 'location').map(([, v]) => v);
      expect(location(got.headers)).toEqual(location(expected.headers));
    });
  }

  it('streaming differs from PHP only where a variable changes after output (regenerate: earlier links keep the old id)', async () => {
    const c = CASES.find((k) => k.name.startsWith('regenerate_id after output'))!;
    const streamed = await runEngine(c, false);
    expect(streamed.body).toContain('1.php?PHPSESSID=abc123');
    expect(normalizeIds(php.get(c.name)!.body)).toContain('1.php?PHPSESSID=<NEWID>');
  });
});

describe('rewriteOutput without PHP', () => {
  it('passes output through unchanged until trans-sid applies, and keeps a tag cut between chunks', async () => {
    const engine = new SessionEngine({ ini: { ...TRANS_SID_INI, 'session.save_handler': 'files', 'session.save_path': tmpdir() } });
    const req = engine.request({ server: { HTTP_HOST: 'localhost' } });
    expect(req.SID).toBeUndefined();
    expect(req.rewriteOutput('<a href="x.php">')).toBe('<a href="x.php">');
    req.functions.session_id('abc');
    await req.functions.session_start();
    expect(req.transSidActive).toBe(true);
    expect(req.SID).toBe('PHPSESSID=abc');
    const parts = [req.rewriteOutput('<a hr'), req.rewriteOutput('ef="y.php">'), req.rewriteOutput('<form>', { final: true })];
    expect(parts.join('')).toBe('<a href="y.php?PHPSESSID=abc"><form>');
    expect(Buffer.isBuffer(req.rewriteOutput(Buffer.from('<form>\n')))).toBe(true);
    await req.functions.session_destroy();
    expect(req.SID).toBe('PHPSESSID=abc');
    await req.end();
  });

  it('output_add_rewrite_var checks its arguments as PHP does', () => {
    const req = new SessionEngine().request();
    expect(() => req.functions.output_add_rewrite_var('a')).toThrow('output_add_rewrite_var() expects exactly 2 arguments, 1 given');
    expect(() => req.functions.output_add_rewrite_var([], 'b')).toThrow('output_add_rewrite_var(): Argument #1 ($name) must be of type string, array given');
    expect(req.functions.output_add_rewrite_var('a', 5)).toBe(true);
    // The newline is held back (it could start a longer run of text) until the final call.
    expect(req.rewriteOutput('<form>\n')).toBe('<form><input type="hidden" name="a" value="5" />');
    expect(req.rewriteOutput('', { final: true })).toBe('\n');
    expect(req.functions.output_reset_rewrite_vars()).toBe(true);
    expect(req.rewriteOutput('<form>\n', { final: true })).toBe('<form>\n');
  });
});
