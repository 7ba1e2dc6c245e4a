/**
 * @module spec/php/driver
 * The TypeScript side of spec/php/driver.php: one function per driver mode, each running a
 * scenario in real PHP through spec/php/runner.ts and returning PHP's raw transcript (the suites
 * normalise it with spec/php/normalize.ts and compare it with the engine's).
 *
 * - {@link runStepsInPhp}: a conformance scenario (spec/conformance) in php-cgi;
 * - {@link runUserScenarioInPhp}: a user-save-handler scenario (spec/user) in php-cgi, one
 *   process per request;
 * - {@link runCodeInPhp}: free-form PHP code (spec/engine) in php-cgi;
 * - {@link runOracleInPhp}: batched codec operations (spec/oracle) in `php -n`;
 * - {@link runRewriteInPhp}: output steps through PHP's URL rewriter (spec/transsid) in php-cgi.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diag, Scenario, StepRecord, Transcript } from '../conformance/scenario.ts';
import { expandDir, prepareSaveDir, readSaveDir, removeRoot } from '../conformance/savedir.ts';
import type { UserScenario } from '../user/scenarios.ts';
import { type Event, type RequestTranscript, type Transcript as UserTranscript, nextCookie } from '../user/transcript.ts';
import { cookieHeader, formEncode, runPhpCgi, runPhpCli, withTempDir } from './runner.ts';

/** The driver script; the engine side uses its path too (Last-Modified, "output started at"). */
export const DRIVER = fileURLToPath(new URL('./driver.php', import.meta.url));

// ---- steps (spec/conformance) ----------------------------------------------------------------

export interface PhpRun {
  transcript: Transcript;
  /** PHP's REQUEST_TIME_FLOAT in ms: the engine side uses it as its `now`. */
  requestTimeMs: number;
  /** The save directory that `{dir}` meant on this run (for normalising paths). */
  dir: string;
  stdout: string;
  stderr: string;
}

/** Parses display_errors text output (html_errors=0) into diagnostics. */
export function parseDisplayedErrors(text: string): Diag[] {
  const out: Diag[] = [];
  const levels: Record<string, string> = {
    Warning: 'E_WARNING',
    Notice: 'E_NOTICE',
    Deprecated: 'E_DEPRECATED',
    'Fatal error': 'E_ERROR',
  };
  const re = /^(?:PHP )?(Warning|Notice|Deprecated|Fatal error): (.*) in (?:.*) on line \d+$/gm;
  for (const m of text.matchAll(re)) {
    out.push({ level: levels[m[1] ?? ''] ?? String(m[1]), message: m[2] ?? '' });
  }
  return out;
}

/**
 * Runs a conformance scenario in `php-cgi -n` (ini values quoted: the engine gets them as
 * written) and returns the driver's transcript, the response header lines, the warnings printed
 * after the transcript (request shutdown) and the files left in the save directory.
 */
export async function runStepsInPhp(s: Scenario): Promise<PhpRun> {
  const { root, dir } = prepareSaveDir(s, 'php');
  try {
    // Scenario files live next to the save dir, not in it, so they never show up in `files`.
    const scenarioFile = join(root, 'scenario.json');
    writeFileSync(scenarioFile, JSON.stringify({ steps: s.steps, headersSent: s.request?.headersSent === true }));
    const ini: Record<string, string> = {
      display_errors: '1',
      html_errors: '0',
      log_errors: '0',
      error_reporting: '-1',
    };
    for (const [k, v] of Object.entries({ 'session.save_path': '{dir}', ...(s.ini ?? {}) })) ini[k] = expandDir(v, dir);
    const cookies = s.request?.cookies ?? {};
    const res = await runPhpCgi({
      script: DRIVER,
      ini,
      quoteIni: true,
      env: { DRIVER_MODE: 'steps', DRIVER_SCENARIO: scenarioFile },
      query: formEncode(s.request?.query ?? {}),
      ...(Object.keys(cookies).length > 0 ? { cookie: cookieHeader(cookies) } : {}),
      ...(s.request?.body !== undefined ? { body: formEncode(s.request.body) } : {}),
      timeoutMs: 30_000,
    });
    const files = readSaveDir(dir);
    const parsed = parseStepsBody(res.body, res.stdout, res.stderr);
    return { requestTimeMs: parsed.requestTimeMs, dir, stdout: res.stdout, stderr: res.stderr, transcript: { ...parsed.transcript, headers: res.headers, ...files } };
  } finally {
    removeRoot(root);
  }
}

function parseStepsBody(body: string, stdout: string, stderr: string): { transcript: Transcript; requestTimeMs: number } {
  const start = body.indexOf('\n@@CONFORMANCE-TRANSCRIPT@@\n');
  const end = body.indexOf('\n@@CONFORMANCE-END@@\n');
  if (start < 0 || end < 0) throw new Error(`driver printed no transcript:\n${stdout}\n${stderr}`);
  const json = JSON.parse(body.slice(start + 28, end)) as { requestTime: number; steps: StepRecord[] };
  // Startup errors are displayed too, but they belong before the first step.
  const shown = parseDisplayedErrors(Buffer.from(body.slice(end + 21), 'latin1').toString('utf8'));
  const isStartup = (d: Diag): boolean => /^PHP (Request )?Startup: /.test(d.message);
  return {
    requestTimeMs: json.requestTime * 1000,
    transcript: { startup: shown.filter(isStartup), steps: json.steps, late: shown.filter((d) => !isStartup(d)), headers: [], files: {}, modes: {} },
  };
}

// ---- user-handler (spec/user) ----------------------------------------------------------------

/** Runs a user-handler scenario in php-cgi, one process per request, and returns its transcript. */
export async function runUserScenarioInPhp(s: UserScenario): Promise<UserTranscript> {
  return withTempDir('user-php', async (root) => {
    const saveDir = join(root, 'save');
    const scenarioFile = join(root, 'scenario.json');
    const storeFile = join(root, 'store.json');
    writeFileSync(scenarioFile, JSON.stringify(s));
    mkdirSync(saveDir);
    const ini: Record<string, string> = {
      output_buffering: '0',
      display_errors: '1',
      html_errors: '0',
      'session.save_path': saveDir,
      'session.gc_probability': '0',
      ...(s.ini ?? {}),
    };
    const requests: RequestTranscript[] = [];
    let cookie: string | null = null;
    for (let i = 0; i < s.requests.length; i++) {
      const r = s.requests[i]!;
      const sent: string | null = r.cookie === undefined ? cookie : r.cookie;
      const logFile = join(root, `log${i}.jsonl`);
      const res = await runPhpCgi({
        script: DRIVER,
        ini,
        env: { DRIVER_MODE: 'user-handler', DRIVER_SCENARIO: scenarioFile, DRIVER_REQUEST: String(i), DRIVER_LOG: logFile, DRIVER_STORE: storeFile },
        ...(sent !== null ? { cookie: `PHPSESSID=${sent}` } : {}),
        timeoutMs: 30_000,
      });
      const events: Event[] = existsSync(logFile)
        ? readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Event)
        : [];
      const headers = res.headers.map(([n, v]): [string, string] => [n, v.trim()]);
      requests.push({ events, headers, output: Buffer.from(res.body, 'latin1').toString('utf8').trim() });
      cookie = nextCookie(headers) ?? sent;
    }
    const store = existsSync(storeFile) ? (JSON.parse(readFileSync(storeFile, 'utf8')) as unknown) : null;
    return { requests, store, savePath: saveDir };
  });
}

// ---- code (spec/engine) ------------------------------------------------------------------------

/** What free-form PHP code recorded: the engine must reproduce it. */
export interface PhpOutcome {
  /** What the code put in `$R[]` (json-decoded). */
  results: unknown[];
  diagnostics: { level: string; message: string }[];
  headers: Array<[string, string]>;
  /** An uncaught throwable: [class, message]. */
  thrown?: [string, string];
}

export interface CodeInput {
  /** Raw Cookie header. */
  cookie?: string;
  /** Raw query string. */
  query?: string;
  /**
   * Record the shutdown-function phase too: the transcript is taken by a shutdown function
   * registered after the code, which goes to the back of the list this many times, so that it
   * runs after the shutdown functions the code's own ones append (session_set_save_handler's
   * `session_shutdown` appends `session_write_close`). RSHUTDOWN (the module's own final write)
   * is still not recorded.
   */
  shutdownPasses?: number;
}

/**
 * Runs PHP `code` (it records values with `$R[] = ...;`) under php-cgi, so real response headers
 * exist. A fresh temp dir is the save path, available to the code as `$DIR` (returned as `dir`,
 * for normalising paths).
 */
export async function runCodeInPhp(
  code: string,
  ini: Record<string, string> = {},
  input: CodeInput = {},
): Promise<{ outcome: PhpOutcome; dir: string }> {
  return withTempDir('eng-oracle', async (dir) => {
    const file = join(dir, 'scenario.php');
    writeFileSync(file, `<?php\n${code}\n`);
    const res = await runPhpCgi({
      script: DRIVER,
      ini: { 'session.save_path': dir, display_errors: '0', log_errors: '0', html_errors: '0', ...ini },
      env: { DRIVER_MODE: 'code', DRIVER_CODE: file, DRIVER_DIR: dir, DRIVER_SHUTDOWN: String(input.shutdownPasses ?? 0) },
      ...(input.cookie !== undefined ? { cookie: input.cookie } : {}),
      query: input.query ?? '',
      timeoutMs: 30_000,
    });
    const all = Buffer.from(res.stdout, 'latin1').toString('utf8');
    const start = all.indexOf('@@JSON@@') + 8;
    const end = all.indexOf('@@END@@', start);
    const text = all.slice(start, end < 0 ? undefined : end);
    let parsed: { r: unknown[]; e: Array<[string, string]>; h: string[]; t: [string, string] | null };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new Error(`php output was not JSON: ${text}\n${res.stderr}`);
    }
    const out: PhpOutcome = {
      results: parsed.r,
      diagnostics: parsed.e.map(([level, message]) => ({ level, message })),
      headers: parsed.h
        .filter((h) => !h.startsWith('X-Powered-By') && !h.toLowerCase().startsWith('content-type'))
        .map((h) => {
          const i = h.indexOf(':');
          return [h.slice(0, i), h.slice(i + 1).trimStart()] as [string, string];
        }),
    };
    if (parsed.t !== null) out.thrown = parsed.t;
    return { outcome: out, dir };
  });
}

// ---- oracle (spec/oracle) ----------------------------------------------------------------------

/** Runs the oracle mode in `php -n` with `request` (JSON) on stdin; returns PHP's JSON answer. */
export async function runOracleInPhp(request: unknown, opts: { ini: Record<string, string>; timeoutMs: number }): Promise<unknown> {
  const res = await runPhpCli(
    { script: DRIVER },
    { ini: opts.ini, stdin: JSON.stringify(request), timeoutMs: opts.timeoutMs, env: { DRIVER_MODE: 'oracle' } },
  );
  if (res.code !== 0) throw new Error(`php oracle failed (exit ${res.code}): ${res.stderr.slice(0, 2000)}`);
  return JSON.parse(res.stdout.toString('utf8')) as unknown;
}

// ---- rewrite (spec/transsid) -------------------------------------------------------------------

/** One output step of the rewrite mode (`echo` takes the bytes as base64). */
export interface RewriteStep {
  op: string;
  args?: string[];
}

export interface RewriteInput {
  steps: RewriteStep[];
  /** `-d` settings (the driver adds the save path). */
  ini?: Record<string, string>;
  cookie?: string;
  query?: string;
  /** $_SERVER['HTTP_HOST'] (the runner's default is `localhost`). */
  httpHost?: string;
}

/** Runs the rewrite mode in php-cgi; returns the response headers and the body (latin1, byte-exact). */
export async function runRewriteInPhp(input: RewriteInput): Promise<{ headers: [string, string][]; body: string; stderr: string }> {
  return withTempDir('rewrite', async (dir) => {
    const file = join(dir, 'scenario.json');
    writeFileSync(file, JSON.stringify({ steps: input.steps }));
    const res = await runPhpCgi({
      script: DRIVER,
      ini: { 'session.save_path': dir, display_errors: '0', log_errors: '0', html_errors: '0', ...(input.ini ?? {}) },
      quoteIni: true,
      env: { DRIVER_MODE: 'rewrite', DRIVER_SCENARIO: file, ...(input.httpHost !== undefined ? { HTTP_HOST: input.httpHost } : {}) },
      ...(input.cookie !== undefined ? { cookie: input.cookie } : {}),
      query: input.query ?? '',
      timeoutMs: 30_000,
    });
    return { headers: res.headers, body: res.body, stderr: res.stderr };
  });
}
