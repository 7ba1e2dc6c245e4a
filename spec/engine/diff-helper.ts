/**
 * @module spec/engine/diff-helper
 * Differential scenarios: the same steps as PHP code (run by php-cgi through spec/php/driver.php's
 * code mode) and as engine calls; the recorded values, diagnostics and header lines must be equal
 * after spec/php/normalize.ts (random ids and clock-dependent dates). Outcomes are checked against
 * spec/php/expectations.json (`engine/<name>`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import type { SessionRequest } from '../../lib/request.ts';
import { PhpArray, toJs, type PhpValue } from '../../lib/value.ts';
import { runCodeInPhp, type PhpOutcome } from '../php/driver.ts';
import { loadExpectations, mismatch, recorded, saveSuiteResults, UPDATE, type Expectation, type Outcome } from '../php/expectations.ts';
import { firstDifference, normalizeLog } from '../php/normalize.ts';
import { cookieHeader } from '../php/runner.ts';
import { describeWith } from '../support/tools.ts';

/** How many times the shutdown-phase recorder goes to the back of the shutdown-function list. */
export const SHUTDOWN_PASSES = 3;

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

export async function runJs(s: Scenario): Promise<{ outcome: PhpOutcome; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pse-eng-js-'));
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
      return { outcome: out, dir };
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
    return { outcome: out, dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Both sides of a scenario, normalised. */
export async function runBoth(s: Scenario): Promise<{ php: unknown; js: unknown }> {
  const query = s.query === undefined ? undefined : new URLSearchParams(s.query).toString();
  const php = await runCodeInPhp(s.php, scenarioIni(s), {
    ...(s.shutdown === true ? { shutdownPasses: SHUTDOWN_PASSES } : {}),
    ...(s.cookies !== undefined ? { cookie: cookieHeader(s.cookies) } : {}),
    ...(query !== undefined ? { query } : {}),
  });
  const js = await runJs(s);
  // What the scenario supplies (code, cookies, query) is data: ids in it are never placeholders.
  const literals = [s.php, s.js.toString(), JSON.stringify(s.cookies ?? {}), JSON.stringify(s.query ?? {})];
  return {
    php: normalizeLog(php.outcome, { dirs: [php.dir], literals }),
    js: normalizeLog(js.outcome, { dirs: [js.dir], literals }),
  };
}

/** Defines one test per scenario, checked against spec/php/expectations.json as `engine/<name>`. */
export function engineDifferential(title: string, scenarios: Readonly<Record<string, Scenario>>): void {
  const expectations = loadExpectations();
  const results: Record<string, Expectation> = {};
  const key = (name: string): string => `engine/${name}`;
  describeWith(['php-cgi'], title, () => {
    afterAll(async () => {
      if (UPDATE) await saveSuiteResults(Object.keys(scenarios).map(key), results);
    });
    for (const [name, s] of Object.entries(scenarios)) {
      const exp = expectations[key(name)];
      if (exp?.status === 'skip') {
        it.skip(`${name} (skip: ${exp.reason})`, () => undefined);
        continue;
      }
      it(name, async () => {
        const { php, js } = await runBoth(s);
        const diff = firstDifference(php, js);
        const outcome: Outcome = diff === '' ? { status: 'pass' } : { status: 'fail', reason: diff };
        results[key(name)] = recorded(exp, outcome);
        if (UPDATE) return;
        // Expected to pass: vitest's own diff of the two sides says most.
        if (exp === undefined || exp.status === 'pass') expect(js).toEqual(php);
        const why = mismatch(key(name), exp, outcome);
        if (why !== undefined) expect.fail(why);
      });
    }
  });
}
