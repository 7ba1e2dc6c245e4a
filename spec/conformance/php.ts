/**
 * @module spec/conformance/php
 * Runs a scenario in real `php-cgi -n` through driver.php and returns its raw transcript: the
 * driver's JSON, the response header lines, the warnings printed after the transcript (request
 * shutdown) and the files left in the save directory.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from '../support/tools.ts';
import type { Diag, Scenario, StepRecord, Transcript } from './scenario.ts';
import { expandDir, prepareSaveDir, readSaveDir, removeRoot } from './savedir.ts';

const DRIVER = fileURLToPath(new URL('./driver.php', import.meta.url));

/** Headers every CGI response has, unrelated to sessions. */
const IGNORED_HEADERS = new Set(['x-powered-by', 'content-type']);

export interface PhpRun {
  transcript: Transcript;
  /** PHP's REQUEST_TIME_FLOAT in ms: the engine side uses it as its `now`. */
  requestTimeMs: number;
  /** The save directory that `{dir}` meant on this run (for normalising paths). */
  dir: string;
  stdout: string;
  stderr: string;
}

/** Quotes an ini value for `-d`: the INI parser would otherwise read `;`, `off`, `none`... its own way. */
function iniQuote(v: string): string {
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function formEncode(rec: Record<string, string>): string {
  return Object.entries(rec)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
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

export async function runScenarioInPhp(s: Scenario): Promise<PhpRun> {
  const bin = which('php-cgi');
  if (bin === null) throw new Error('php-cgi not found');
  const { root, dir } = prepareSaveDir(s, 'php');
  try {
    const scenarioFile = join(root, 'scenario.json');
    writeFileSync(scenarioFile, JSON.stringify({ steps: s.steps, headersSent: s.request?.headersSent === true }));
    const args = ['-n', '-d', 'display_errors=1', '-d', 'html_errors=0', '-d', 'log_errors=0', '-d', 'error_reporting=-1'];
    const ini: Record<string, string> = { 'session.save_path': '{dir}', ...(s.ini ?? {}) };
    for (const [k, v] of Object.entries(ini)) args.push('-d', `${k}=${iniQuote(expandDir(v, dir))}`);
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      CONFORMANCE_SCENARIO: scenarioFile,
      SCRIPT_FILENAME: DRIVER,
      SCRIPT_NAME: '/driver.php',
      REQUEST_URI: '/driver.php',
      REDIRECT_STATUS: '1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_NAME: 'localhost',
      HTTP_HOST: 'localhost',
      REQUEST_METHOD: 'GET',
      QUERY_STRING: formEncode(s.request?.query ?? {}),
    };
    const cookies = Object.entries(s.request?.cookies ?? {});
    if (cookies.length > 0) env['HTTP_COOKIE'] = cookies.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ');
    let stdin = '';
    if (s.request?.body !== undefined) {
      stdin = formEncode(s.request.body);
      env['REQUEST_METHOD'] = 'POST';
      env['CONTENT_TYPE'] = 'application/x-www-form-urlencoded';
      env['CONTENT_LENGTH'] = String(Buffer.byteLength(stdin));
    }
    const { stdout, stderr } = await spawnCollect(bin, args, env, stdin);
    const files = readSaveDir(dir);
    // Scenario files live next to the save dir, not in it, so they never show up in `files`.
    const parsed = parseCgiOutput(stdout, stderr);
    return { requestTimeMs: parsed.requestTimeMs, dir, stdout, stderr, transcript: { ...parsed.transcript, ...files } };
  } finally {
    removeRoot(root);
  }
}

function parseCgiOutput(stdout: string, stderr: string): { transcript: Transcript; requestTimeMs: number } {
  const sep = stdout.indexOf('\r\n\r\n');
  if (sep < 0) throw new Error(`php-cgi printed no header block:\n${stdout}\n${stderr}`);
  const headers: [string, string][] = [];
  for (const line of stdout.slice(0, sep).split('\r\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i);
    if (IGNORED_HEADERS.has(name.toLowerCase())) continue;
    headers.push([name, line.slice(i + 1).replace(/^ /, '')]);
  }
  const body = stdout.slice(sep + 4);
  const start = body.indexOf('\n@@CONFORMANCE-TRANSCRIPT@@\n');
  const end = body.indexOf('\n@@CONFORMANCE-END@@\n');
  if (start < 0 || end < 0) throw new Error(`driver printed no transcript:\n${stdout}\n${stderr}`);
  const json = JSON.parse(body.slice(start + 28, end)) as { requestTime: number; steps: StepRecord[] };
  // Startup errors are displayed too, but they belong before the first step.
  const shown = parseDisplayedErrors(Buffer.from(body.slice(end + 21), 'latin1').toString('utf8'));
  const isStartup = (d: Diag): boolean => /^PHP (Request )?Startup: /.test(d.message);
  return {
    requestTimeMs: json.requestTime * 1000,
    transcript: { startup: shown.filter(isStartup), steps: json.steps, late: shown.filter((d) => !isStartup(d)), headers, files: {}, modes: {} },
  };
}

function spawnCollect(
  bin: string,
  args: string[],
  env: Record<string, string>,
  stdin: string,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve({ stdout: Buffer.concat(out).toString('latin1'), stderr: err }));
    child.stdin.on('error', () => undefined); // php-cgi may exit without reading the body
    child.stdin.end(stdin);
  });
}
