/**
 * @module spec/engine/diff-helper
 * Differential scenarios: the same steps as PHP code (run by php-cgi) and as engine calls; the
 * recorded values, diagnostics and header lines must be equal after normalising random ids and
 * clock-dependent dates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import type { SessionRequest } from '../../lib/request.ts';
import { PhpArray, toJs, type PhpValue } from '../../lib/value.ts';
import { phpScenario, SHUTDOWN_PASSES, type PhpOutcome } from './php-oracle.ts';

export interface Scenario {
  ini?: Record<string, string>;
  /** Cookies sent by the client. */
  cookies?: Record<string, string>;
  /** Query parameters. */
  query?: Record<string, string>;
  /** PHP code; records values with `$R[] = ...;`. */
  php: string;
  /** The same steps against the engine; push values to R. */
  js: (req: SessionRequest, R: unknown[], engine: SessionEngine) => Promise<void>;
  /**
   * Record the shutdown-function phase too (PHP's register_shutdown_function, the engine's
   * registerShutdownFunction and end()): both sides take the transcript from a shutdown function
   * that goes to the back of the list {@link SHUTDOWN_PASSES} times. Off: the transcript is taken
   * right after the body.
   */
  shutdown?: boolean;
  /** The phpt files of PHP 8.2's ext/session/tests whose subject the scenario exercises. */
  covers?: string[];
}

/**
 * PHP's default GC (1 in 100 starts) would make a scenario's transcript random: both sides run
 * with session.gc_probability = 0 unless the scenario sets it.
 */
function scenarioIni(s: Scenario): Record<string, string> {
  return { 'session.gc_probability': '0', ...(s.ini ?? {}) };
}

function plain(v: unknown): unknown {
  if (v instanceof PhpArray) return toJs(v as PhpValue);
  if (typeof v === 'bigint') return Number(v);
  return v;
}

const DATE = /[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT/g;

/** Replaces each distinct random id by <ID1>, <ID2>... (in order of appearance) and dates by <DATE>. */
export function normalise(o: unknown): unknown {
  const ids = new Map<string, string>();
  const json = JSON.stringify(o)
    .replace(/"(?:[^"\\]|\\.)*"/g, (str) =>
      str.replace(/(?<![0-9a-zA-Z,%-])[0-9a-zA-Z,%-]{22,256}(?![0-9a-zA-Z,%-])/g, (m) => {
        if (!/\d/.test(m) || !/[a-z]/.test(m)) return m; // words, not ids
        if (!ids.has(m)) ids.set(m, `<ID${ids.size + 1}>`);
        return ids.get(m)!;
      }),
    )
    .replace(DATE, '<DATE>')
    .replace(/ \(output started at [^)]*\)/g, '')
    .replace(/\/tmp\/eng-(oracle|js)-[A-Za-z0-9]+/g, '<DIR>');
  return JSON.parse(json);
}

export async function runJs(s: Scenario): Promise<PhpOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'eng-js-'));
  try {
    const engine = new SessionEngine({
      ini: { 'session.save_path': dir, ...scenarioIni(s) },
    });
    const req = engine.request({
      cookies: s.cookies ?? {},
      query: s.query ?? {},
      scriptPath: new URL(import.meta.url).pathname,
    });
    const R: unknown[] = [];
    let thrown: [string, string] | undefined;
    try {
      await s.js(req, R, engine);
    } catch (e) {
      const err = e as Error;
      thrown = [err.name, err.message];
    }
    const snapshot = (): PhpOutcome => {
      const out: PhpOutcome = {
        results: R.map(plain),
        diagnostics: [...req.diagnostics],
        headers: req.headers.map(([n, v]) => [n, v]),
      };
      if (thrown !== undefined) out.thrown = thrown;
      return out;
    };
    if (s.shutdown !== true) {
      const out = snapshot();
      await req.end();
      return out;
    }
    let out: PhpOutcome | undefined;
    const recorder = (pass: number) => (): void => {
      if (pass > 1) req.registerShutdownFunction(recorder(pass - 1));
      else out = snapshot();
    };
    req.registerShutdownFunction(recorder(SHUTDOWN_PASSES));
    let endError: unknown;
    try {
      await req.end();
    } catch (e) {
      endError = e;
    }
    if (out === undefined) throw new Error(`the shutdown functions stopped before the recorder ran: ${String(endError)}`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cookieHeader(c: Record<string, string> | undefined): string | undefined {
  if (c === undefined) return undefined;
  return Object.entries(c)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('; ');
}

export async function expectSameAsPhp(s: Scenario): Promise<{ php: PhpOutcome; js: PhpOutcome }> {
  const query = s.query === undefined ? undefined : new URLSearchParams(s.query).toString();
  const cookie = cookieHeader(s.cookies);
  const php = await phpScenario(s.php, scenarioIni(s), {
    ...(s.shutdown === true ? { shutdown: true } : {}),
    ...(cookie !== undefined ? { cookie } : {}),
    ...(query !== undefined ? { query } : {}),
  });
  const js = await runJs(s);
  expect(normalise(js)).toEqual(normalise(php));
  return { php, js };
}
