/**
 * @module spec/user/php
 * Runs a user-handler scenario in real php-cgi (one process per request) and returns its transcript.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from '../support/tools.ts';
import type { UserScenario } from './scenarios.ts';
import { type Event, type RequestTranscript, type Transcript, nextCookie } from './transcript.ts';

const DRIVER = fileURLToPath(new URL('./driver.php', import.meta.url));

function cgi(args: string[], env: Record<string, string>): Promise<{ stdout: string; code: number | null }> {
  const bin = which('php-cgi');
  if (bin === null) return Promise.reject(new Error('php-cgi not found'));
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 30_000 });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout: out, code }));
    child.stdin.end();
  });
}

/** Response headers of a php-cgi run, without X-Powered-By and Content-type. */
function parseHeaders(stdout: string): { headers: [string, string][]; body: string } {
  const cut = stdout.indexOf('\r\n\r\n');
  const head = cut < 0 ? stdout : stdout.slice(0, cut);
  const body = cut < 0 ? '' : stdout.slice(cut + 4);
  const headers: [string, string][] = [];
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i);
    if (/^(x-powered-by|content-type)$/i.test(name)) continue;
    headers.push([name, line.slice(i + 1).trim()]);
  }
  return { headers, body };
}

export async function runScenarioInPhp(s: UserScenario): Promise<Transcript> {
  const root = mkdtempSync(join(tmpdir(), 'pse-user-php-'));
  try {
    const saveDir = join(root, 'save');
    const scenarioFile = join(root, 'scenario.json');
    const storeFile = join(root, 'store.json');
    writeFileSync(scenarioFile, JSON.stringify(s));
    mkdirSync(saveDir);
    const ini: Record<string, string> = {
      'session.save_path': saveDir,
      'session.gc_probability': '0',
      ...(s.ini ?? {}),
    };
    const args = ['-n', '-d', 'output_buffering=0', '-d', 'display_errors=1', '-d', 'html_errors=0'];
    for (const [k, v] of Object.entries(ini)) args.push('-d', `${k}=${v}`);
    args.push(DRIVER);
    const requests: RequestTranscript[] = [];
    let cookie: string | null = null;
    for (let i = 0; i < s.requests.length; i++) {
      const r = s.requests[i]!;
      const sent: string | null = r.cookie === undefined ? cookie : r.cookie;
      const logFile = join(root, `log${i}.jsonl`);
      const env: Record<string, string> = {
        USER_SCENARIO: scenarioFile,
        USER_REQUEST: String(i),
        USER_LOG: logFile,
        USER_STORE: storeFile,
        REQUEST_METHOD: 'GET',
        REDIRECT_STATUS: '200',
        SCRIPT_FILENAME: DRIVER,
      };
      if (sent !== null) env['HTTP_COOKIE'] = `PHPSESSID=${sent}`;
      const res = await cgi(args, env);
      const { headers, body } = parseHeaders(res.stdout);
      const events: Event[] = existsSync(logFile)
        ? readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Event)
        : [];
      requests.push({ events, headers, output: body.trim() });
      cookie = nextCookie(headers) ?? sent;
    }
    const store = existsSync(storeFile) ? (JSON.parse(readFileSync(storeFile, 'utf8')) as unknown) : null;
    return { requests, store, savePath: saveDir };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
