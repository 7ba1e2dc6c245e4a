/**
 * @module spec/php/expectations
 * The one expectations file of the differential suites against PHP (undici's expectation.json):
 * spec/php/expectations.json says, per scenario, `pass`, `fail` (with the reason, and optionally
 * the first difference it must still produce) or `skip` (with the reason). Any other outcome fails
 * the scenario's test, a surprise pass included.
 *
 * Names: conformance scenarios as they are (`bug71972`), spec/user's as `user/<name>`, spec/engine's
 * as `engine/<name>` (the names PHPT.md shows).
 *
 * Update mode (`npm run test:php:update`, i.e. UPDATE_EXPECTATIONS=1): each suite records what it
 * saw for its own scenarios; skips stay as they are; scenarios a filtered run did not reach keep
 * their entry. Suites run in parallel processes, so the file is rewritten under a lock.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import lockfile from 'proper-lockfile';

export type Expectation =
  | { status: 'pass' }
  | { status: 'fail'; reason: string; /** The first difference, when it must stay the same. */ diff?: string }
  | { status: 'skip'; reason: string };

/** What one run of a scenario showed. */
export interface Outcome {
  status: 'pass' | 'fail';
  /** One line: why it failed (the first difference, or the engine's crash). */
  reason?: string;
  /** The whole difference, for the failure message. */
  details?: string;
}

export const EXPECTATIONS_FILE = fileURLToPath(new URL('./expectations.json', import.meta.url));
export const UPDATE = process.env['UPDATE_EXPECTATIONS'] === '1';

export function loadExpectations(): Record<string, Expectation> {
  if (!existsSync(EXPECTATIONS_FILE)) return {};
  return JSON.parse(readFileSync(EXPECTATIONS_FILE, 'utf8')) as Record<string, Expectation>;
}

function write(e: Record<string, Expectation>): void {
  const sorted: Record<string, Expectation> = {};
  for (const k of Object.keys(e).sort()) sorted[k] = e[k] as Expectation;
  writeFileSync(EXPECTATIONS_FILE, `${JSON.stringify(sorted, null, 2)}\n`);
}

/**
 * Why `outcome` does not meet `expected` (undefined when it does). A scenario without an entry is
 * expected to pass.
 */
export function mismatch(name: string, expected: Expectation | undefined, outcome: Outcome): string | undefined {
  const exp = expected ?? { status: 'pass' };
  if (exp.status === 'skip') return undefined;
  if (exp.status === 'pass' && outcome.status === 'fail') {
    return `${name}: expected to pass, but ${outcome.reason ?? ''}\n${outcome.details ?? ''}`;
  }
  if (exp.status === 'fail' && outcome.status === 'pass') {
    return `${name}: expected to fail (${exp.reason}) but now passes: update spec/php/expectations.json (npm run test:php:update)`;
  }
  if (exp.status === 'fail' && exp.diff !== undefined && outcome.reason !== exp.diff) {
    return `${name}: expected to fail (${exp.reason}) with\n  ${exp.diff}\nbut the difference changed to\n  ${outcome.reason ?? ''}`;
  }
  return undefined;
}

/**
 * The entry update mode records for an outcome: a failure keeps its written reason (else the
 * difference stands in for it) and records its current first difference.
 */
export function recorded(old: Expectation | undefined, outcome: Outcome): Expectation {
  if (outcome.status === 'pass') return { status: 'pass' };
  return { status: 'fail', reason: old?.status === 'fail' ? old.reason : (outcome.reason ?? ''), diff: outcome.reason ?? '' };
}

/**
 * Update mode: records `results` for the suite's scenarios `names` (skips kept, unreached
 * scenarios keep their entry, entries of other suites untouched).
 */
export async function saveSuiteResults(names: readonly string[], results: Readonly<Record<string, Expectation>>): Promise<void> {
  if (!existsSync(EXPECTATIONS_FILE)) writeFileSync(EXPECTATIONS_FILE, '{}\n');
  const release = await lockfile.lock(EXPECTATIONS_FILE, { retries: { retries: 100, minTimeout: 20, maxTimeout: 200 } });
  try {
    const all = loadExpectations();
    for (const n of names) {
      const old = all[n];
      if (old?.status === 'skip') continue;
      const now = results[n] ?? old;
      if (now !== undefined) all[n] = now;
    }
    write(all);
  } finally {
    await release();
  }
}
