/**
 * @module spec/engine/php-oracle
 * Runs a PHP session scenario under `php -n` and returns what the engine must reproduce: the
 * values the scenario recorded, every diagnostic (level + exact text) and the header lines PHP
 * queued. Output is buffered (ob_start) so PHP's headers stay unsent unless the scenario says so.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../support/tools.ts';
import type { Diagnostic } from '../../lib/errors.ts';

export interface PhpOutcome {
  /** What the scenario put in `$R[]` (json-decoded). */
  results: unknown[];
  diagnostics: Diagnostic[];
  headers: Array<[string, string]>;
  /** An uncaught throwable: [class, message]. */
  thrown?: [string, string];
}

const LEVELS: Record<number, Diagnostic['level']> = { 2: 'E_WARNING', 8: 'E_NOTICE', 8192: 'E_DEPRECATED', 1: 'E_ERROR' };

/**
 * `body` is PHP code; it records values with `$R[] = ...;`. A fresh temp dir is the save path
 * (available to the code as `$DIR`).
 */
export interface ScenarioInput {
  /** Raw Cookie header. */
  cookie?: string;
  /** Raw query string. */
  query?: string;
  /**
   * Also record the shutdown-function phase: the transcript is taken by a shutdown function
   * registered after the body, which re-registers itself {@link SHUTDOWN_PASSES} - 1 times so that
   * it runs after the shutdown functions the body's own ones append (session_set_save_handler's
   * `session_shutdown` appends `session_write_close`). RSHUTDOWN (the module's own final write) is
   * still not recorded.
   */
  shutdown?: boolean;
}

/** How many times the shutdown-phase recorder goes to the back of the shutdown-function list. */
export const SHUTDOWN_PASSES = 3;

function runCgi(script: string, ini: Record<string, string>, input: ScenarioInput): Promise<{ stdout: Buffer; stderr: string }> {
  const bin = which('php-cgi');
  if (bin === null) return Promise.reject(new Error('php-cgi not found'));
  const args = ['-n'];
  for (const [k, v] of Object.entries(ini)) args.push('-d', `${k}=${v}`);
  args.push(script);
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    REDIRECT_STATUS: '200',
    REQUEST_METHOD: 'GET',
    SCRIPT_FILENAME: script,
    QUERY_STRING: input.query ?? '',
  };
  if (input.cookie !== undefined) env['HTTP_COOKIE'] = input.cookie;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve({ stdout: Buffer.concat(out), stderr: err }));
  });
}

/**
 * Runs `body` under php-cgi (so real response headers exist); see {@link PhpOutcome}.
 */
export async function phpScenario(
  body: string,
  ini: Record<string, string> = {},
  input: ScenarioInput = {},
): Promise<PhpOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'eng-oracle-'));
  try {
    const emit = `function __oracle_emit() {
  global $R, $E, $T;
  $H = headers_list();
  while (ob_get_level() > 0) ob_end_clean();
  echo "\\n@@JSON@@", json_encode(['r' => $R, 'e' => $E, 'h' => $H, 't' => $T], JSON_PARTIAL_OUTPUT_ON_ERROR), "@@END@@";
}
function __oracle_shutdown($pass) {
  if ($pass > 1) { register_shutdown_function('__oracle_shutdown', $pass - 1); return; }
  __oracle_emit();
}
`;
    const code = `<?php
$DIR = ${JSON.stringify(dir)};
$R = []; $E = []; $T = null;
${emit}
set_error_handler(function ($n, $s) use (&$E) { $E[] = [$n, $s]; return true; });
ob_start();
try { ${body} } catch (\\Throwable $t) { $T = [get_class($t), $t->getMessage()]; }
${input.shutdown === true ? `register_shutdown_function('__oracle_shutdown', ${SHUTDOWN_PASSES});` : '__oracle_emit();'}
`;
    const script = join(dir, 'scenario.php');
    writeFileSync(script, code);
    const res = await runCgi(script, { 'session.save_path': dir, display_errors: '0', log_errors: '0', html_errors: '0', ...ini }, input);
    const all = res.stdout.toString('utf8');
    const start = all.indexOf('@@JSON@@') + 8;
    const end = all.indexOf('@@END@@', start);
    const text = all.slice(start, end < 0 ? undefined : end);
    let parsed: { r: unknown[]; e: Array<[number, string]>; h: string[]; t: [string, string] | null };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new Error(`php output was not JSON: ${text}\n${res.stderr}`);
    }
    const out: PhpOutcome = {
      results: parsed.r,
      diagnostics: parsed.e.map(([n, s]) => ({ level: LEVELS[n] ?? 'E_WARNING', message: s })),
      headers: parsed.h
        .filter((h) => !h.startsWith('X-Powered-By') && !h.toLowerCase().startsWith('content-type'))
        .map((h) => {
          const i = h.indexOf(':');
          return [h.slice(0, i), h.slice(i + 1).trimStart()] as [string, string];
        }),
    };
    if (parsed.t !== null) out.thrown = parsed.t;
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
