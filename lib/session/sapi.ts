/**
 * @module session/sapi
 * What PHP's SAPI layer gives ext/session (SG() and the request globals): the response headers and
 * whether they were sent, the request variables, the clock, shutdown functions and the
 * diagnostics sink. A plain record; the request facade fills it from {@link RequestOptions}.
 */
import type { Diagnostic } from '../errors.ts';
import type { PhpArray } from '../value.ts';

/** A request variable: a string, or (as PHP allows, `?PHPSESSID[]=x`) an array. */
export type RequestVar = string | PhpArray;

/** Where output started, for the "(output started at file:line)" suffix. */
export interface OutputStart {
  file: string;
  line: number;
}

/** Input of {@link SessionEngine.request}: PHP's request globals and clock. */
export interface RequestOptions {
  /** $_COOKIE (decoded values). */
  cookies?: Record<string, RequestVar>;
  /** $_GET. */
  query?: Record<string, RequestVar>;
  /** $_POST. */
  body?: Record<string, RequestVar>;
  /** $_SERVER as the engine saw it (only HTTP_REFERER is read, for session.referer_check). */
  server?: Record<string, string>;
  /** Output already started: true, or where it started. */
  headersSent?: boolean | OutputStart;
  /** The request's clock in ms since the epoch; default Date.now() at each use. */
  now?: number;
  /** The running script (SAPI path_translated); its mtime gives the cache limiters' Last-Modified. */
  scriptPath?: string;
  /** Called for each diagnostic as it is raised (a runtime may print it live). */
  onDiagnostic?: (d: Diagnostic) => void;
}

/** A registered shutdown function; `name` marks PHP's named entry (`session_shutdown`). */
export interface ShutdownEntry {
  name?: string;
  fn: () => unknown;
}

/** SG() and the request globals ext/session reads. */
export interface Sapi {
  /** $_COOKIE as the script sees it now (session_start reads it, so changes count). */
  cookies: Record<string, RequestVar>;
  /** $_GET. */
  query: Record<string, RequestVar>;
  /** $_POST. */
  body: Record<string, RequestVar>;
  /** $_SERVER. */
  server: Record<string, string>;
  /** Header lines to send, in order (SG(sapi_headers)). */
  headers: Array<[string, string]>;
  /** false, or where output started (SG(headers_sent) with php_output_get_start_filename/lineno). */
  headersSent: false | { file?: string; line?: number };
  /** A fixed clock (ms), or undefined for Date.now(). */
  nowFixed: number | undefined;
  /** SG(request_info).path_translated. */
  scriptPath: string | undefined;
  /** register_shutdown_function()'s list. */
  shutdownFns: ShutdownEntry[];
  /** The shutdown phase has begun (end() was called). */
  ended: boolean;
  /** Diagnostics raised so far. */
  diagnostics: Diagnostic[];
  /** Live diagnostics sink. */
  onDiagnostic: ((d: Diagnostic) => void) | undefined;
}

export function newSapi(opts: RequestOptions): Sapi {
  const sent = opts.headersSent;
  return {
    cookies: opts.cookies ?? {},
    query: opts.query ?? {},
    body: opts.body ?? {},
    server: opts.server ?? {},
    headers: [],
    headersSent: sent === undefined || sent === false ? false : sent === true ? {} : { ...sent },
    nowFixed: opts.now,
    scriptPath: opts.scriptPath,
    shutdownFns: [],
    ended: false,
    diagnostics: [],
    onDiagnostic: opts.onDiagnostic,
  };
}

/** The request's clock, ms. */
export function sapiNow(sapi: Sapi): number {
  return sapi.nowFixed ?? Date.now();
}

/** sapi_add_header: `replace` removes earlier lines of the same name (case-insensitively). */
export function addHeader(sapi: Sapi, name: string, value: string, replace: boolean): void {
  if (replace && sapi.headers.some(([n]) => sameHeaderName(n, name))) {
    sapi.headers = sapi.headers.filter(([n]) => !sameHeaderName(n, name));
  }
  sapi.headers.push([name, value]);
}

/** a.toLowerCase() === b.toLowerCase(), without making the two strings when both are ASCII. */
export function sameHeaderName(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x > 0x7f || y > 0x7f) return a.toLowerCase() === b.toLowerCase();
    if (x !== y && (x >= 0x41 && x <= 0x5a ? x | 0x20 : x) !== (y >= 0x41 && y <= 0x5a ? y | 0x20 : y)) return false;
  }
  // Equal up to the shorter's end: lower-casing never maps a character to nothing, so the lengths decide.
  return a.length === b.length;
}

/** Records a diagnostic (already prefixed) and hands it to the live sink. */
export function emitDiagnostic(sapi: Sapi, d: Diagnostic): void {
  sapi.diagnostics.push(d);
  sapi.onDiagnostic?.(d);
}
