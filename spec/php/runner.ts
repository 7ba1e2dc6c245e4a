/**
 * @module spec/php/runner
 * The one way tests run PHP: `php -n` (CLI: code or a script, stdin in, raw stdout out) and
 * `php-cgi -n` (one HTTP request: CGI environment, cookies, query, form body, response headers
 * split from the body). `-n` means PHP's built-in defaults and no extensions: load them with
 * `extensions` (`['igbinary', 'msgpack', 'memcached']`, in load order). Temp directories and free
 * ports for whatever the PHP side needs come from here too.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../support/tools.ts';

export interface PhpOptions {
  /** `-d name=value` settings. */
  ini?: Record<string, string>;
  /**
   * Quote ini values (`-d name="value"`), so PHP's ini parser keeps them as written instead of
   * reading `;`, `off`, `none`, `yes` its own way. Default false: the value is parsed as php.ini
   * would parse it.
   */
  quoteIni?: boolean;
  /** Extensions to load (`-d extension=NAME`), in order. */
  extensions?: readonly string[];
  stdin?: Uint8Array | string;
  /** Extra environment (CLI: added to the test's environment; CGI: added to the request's). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  code: number | null;
}

/** Quotes an ini value for `-d`. */
function iniQuote(v: string): string {
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `-n`, the extensions, then the ini settings, as php and php-cgi take them. */
export function phpArgs(opts: PhpOptions): string[] {
  const args = ['-n'];
  for (const ext of opts.extensions ?? []) args.push('-d', `extension=${ext}`);
  for (const [k, v] of Object.entries(opts.ini ?? {})) args.push('-d', `${k}=${opts.quoteIni === true ? iniQuote(v) : v}`);
  return args;
}

function spawnCollect(bin: string, args: string[], env: NodeJS.ProcessEnv, opts: PhpOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 60_000 });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout: Buffer.concat(out), stderr: err, code }));
    child.stdin.on('error', () => undefined); // PHP may exit without reading its input
    child.stdin.end(opts.stdin ?? '');
  });
}

/**
 * Runs PHP code (`-r`) or a script file with `php -n` plus the given ini settings and extensions,
 * feeding `stdin`. Resolves with raw stdout bytes.
 */
export function runPhpCli(source: { code: string } | { script: string; args?: string[] }, opts: PhpOptions = {}): Promise<RunResult> {
  const bin = which('php');
  if (bin === null) return Promise.reject(new Error('php not found'));
  const args = phpArgs(opts);
  if ('code' in source) args.push('-r', source.code);
  else args.push(source.script, ...(source.args ?? []));
  return spawnCollect(bin, args, { ...process.env, ...(opts.env ?? {}) }, opts);
}

export interface CgiRequest extends PhpOptions {
  /** The script php-cgi runs (SCRIPT_FILENAME). */
  script: string;
  /** The Cookie header, raw. */
  cookie?: string;
  /** QUERY_STRING, raw. */
  query?: string;
  /** A form body (application/x-www-form-urlencoded, POST), raw. */
  body?: string;
  /** The body's Content-Type when it is not a url-encoded form (e.g. `multipart/form-data; boundary=...`). */
  contentType?: string;
}

export interface CgiResponse {
  /** Response header lines in order, without X-Powered-By and Content-type (every CGI response has them). */
  headers: [string, string][];
  /** The response body as latin1 text (one char per byte). */
  body: string;
  /** All of stdout as latin1 text. */
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Headers every CGI response has, unrelated to sessions. */
const IGNORED_HEADERS = new Set(['x-powered-by', 'content-type']);

/** Splits php-cgi's output into its header lines and body. */
export function parseCgiResponse(stdout: string): { headers: [string, string][]; body: string } | undefined {
  const cut = stdout.indexOf('\r\n\r\n');
  if (cut < 0) return undefined;
  const headers: [string, string][] = [];
  for (const line of stdout.slice(0, cut).split('\r\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i);
    if (IGNORED_HEADERS.has(name.toLowerCase())) continue;
    headers.push([name, line.slice(i + 1).replace(/^ /, '')]);
  }
  return { headers, body: stdout.slice(cut + 4) };
}

/** One request through `php-cgi -n`: a GET, or a POST when `body` is given. */
export async function runPhpCgi(req: CgiRequest): Promise<CgiResponse> {
  const bin = which('php-cgi');
  if (bin === null) throw new Error('php-cgi not found');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    SCRIPT_FILENAME: req.script,
    SCRIPT_NAME: '/index.php',
    REQUEST_URI: '/index.php',
    REDIRECT_STATUS: '200',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_NAME: 'localhost',
    HTTP_HOST: 'localhost',
    REQUEST_METHOD: 'GET',
    QUERY_STRING: req.query ?? '',
    ...(req.env ?? {}),
  };
  if (req.cookie !== undefined) env['HTTP_COOKIE'] = req.cookie;
  let stdin = req.stdin ?? '';
  if (req.body !== undefined) {
    stdin = req.body;
    env['REQUEST_METHOD'] = 'POST';
    env['CONTENT_TYPE'] = req.contentType ?? 'application/x-www-form-urlencoded';
    env['CONTENT_LENGTH'] = String(Buffer.byteLength(req.body));
  }
  const res = await spawnCollect(bin, [...phpArgs(req), req.script], env, { ...req, stdin });
  const stdout = res.stdout.toString('latin1');
  const parsed = parseCgiResponse(stdout);
  if (parsed === undefined) throw new Error(`php-cgi printed no header block (exit ${res.code}):\n${stdout}\n${res.stderr}`);
  return { ...parsed, stdout, stderr: res.stderr, code: res.code };
}

/** `a=1&b=2` from a record (names and values percent-encoded). */
export function formEncode(rec: Record<string, string>): string {
  return Object.entries(rec)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

/** A Cookie header from a record (values percent-encoded, as a browser sends what PHP set). */
export function cookieHeader(rec: Record<string, string>): string {
  return Object.entries(rec)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('; ');
}

/** A fresh temp directory under the system temp dir, with its remover. */
export function tempDir(tag: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `pse-${tag}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn` with a fresh temp directory, removed afterwards whatever happens. */
export async function withTempDir<T>(tag: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const { dir, remove } = tempDir(tag);
  try {
    return await fn(dir);
  } finally {
    remove();
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for `php -S` or a server PHP talks to). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Runs `fn` over items with at most `limit` in flight (PHP processes are not free). */
export function limiter(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return <T>(fn: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const start = (): void => {
        active++;
        fn()
          .then(resolve, reject)
          .finally(() => {
            active--;
            queue.shift()?.();
          });
      };
      if (active < limit) start();
      else queue.push(start);
    });
}
