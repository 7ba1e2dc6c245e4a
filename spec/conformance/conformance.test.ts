/**
 * The differential conformance suite: every scenario in spec/conformance/scenarios runs in real
 * php-cgi and in the engine; the normalised transcripts must be equal. The outcome is checked
 * against expectations.json, and any change (a new failure or a surprise pass) fails the test.
 * `UPDATE_EXPECTATIONS=1 npx vitest run spec/conformance` rewrites expectations.json;
 * `npm run test:php:report -- <name...>` (report.ts) prints the diffs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../support/tools.ts';
import { runScenarioInPhp, type PhpRun } from './php.ts';
import { compareWithEngine, limiter, loadExpectations, saveExpectations, type Expectation } from './run.ts';
import { loadScenarios } from './scenario.ts';

const UPDATE = process.env['UPDATE_EXPECTATIONS'] === '1';
const scenarios = loadScenarios();
const expectations = loadExpectations();
const results: Record<string, Expectation> = {};
const PHP_CONCURRENCY = 3;

describeWith(['php-cgi'], 'conformance with PHP 8.2 (php-cgi)', () => {
  const php = new Map<string, Promise<PhpRun>>();

  beforeAll(() => {
    const limit = limiter(PHP_CONCURRENCY);
    for (const s of scenarios) {
      if (expectations[s.name]?.status === 'skip') continue;
      const p = limit(() => runScenarioInPhp(s));
      p.catch(() => undefined); // reported by the scenario's own test
      php.set(s.name, p);
    }
  });

  afterAll(() => {
    if (!UPDATE) return;
    // Keep skips as they are; record everything else as it is now.
    const next: Record<string, Expectation> = {};
    for (const s of scenarios) {
      const old = expectations[s.name];
      // A scenario filtered out of this run (vitest -t) keeps its old expectation.
      next[s.name] = old?.status === 'skip' ? old : (results[s.name] ?? old ?? { status: 'fail', reason: 'did not run' });
    }
    saveExpectations(next);
  });

  it('has at least 200 uniquely named scenarios, each covering a phpt', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(200);
    for (const s of scenarios) expect(s.covers.length, s.name).toBeGreaterThan(0);
  });

  it('has an expectation for every scenario and none for unknown ones', () => {
    if (UPDATE) return;
    const names = new Set(scenarios.map((s) => s.name));
    expect(scenarios.filter((s) => expectations[s.name] === undefined).map((s) => s.name)).toEqual([]);
    expect(Object.keys(expectations).filter((n) => !names.has(n))).toEqual([]);
  });

  for (const s of scenarios) {
    const exp = expectations[s.name];
    if (exp?.status === 'skip') {
      it.skip(`${s.name} (skip: ${exp.reason})`, () => undefined);
      continue;
    }
    it(s.name, async () => {
      // A PHP-side failure is a broken scenario or driver: always an error, whatever is expected.
      const run = await (php.get(s.name) as Promise<PhpRun>);
      const outcome = await compareWithEngine(s, run);
      results[s.name] = outcome.status === 'pass' ? { status: 'pass' } : { status: 'fail', reason: outcome.reason ?? '' };
      if (UPDATE) return;
      const expected = exp?.status ?? 'pass';
      if (expected === 'pass' && outcome.status === 'fail') {
        expect.fail(`${s.name}: expected to pass, but ${outcome.reason}\n${outcome.diff ?? ''}`);
      }
      if (expected === 'fail' && outcome.status === 'pass') {
        expect.fail(`${s.name}: expected to fail (${exp?.status === 'fail' ? exp.reason : ''}) but now passes: update expectations.json`);
      }
    });
  }
});
