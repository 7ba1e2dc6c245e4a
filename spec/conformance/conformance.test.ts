/**
 * The differential conformance suite: every scenario in spec/conformance/scenarios runs in real
 * php-cgi and in the engine; the normalised transcripts must be equal. The outcome is checked
 * against spec/php/expectations.json, and any change (a new failure or a surprise pass) fails the
 * test. `npm run test:php:update` rewrites the expectations; `npm run test:php:report -- <name...>`
 * (report.ts) prints the diffs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runStepsInPhp, type PhpRun } from '../php/driver.ts';
import { loadExpectations, mismatch, recorded, saveSuiteResults, UPDATE, type Expectation } from '../php/expectations.ts';
import { limiter } from '../php/runner.ts';
import { describeWith } from '../support/tools.ts';
import { compareWithEngine } from './run.ts';
import { loadScenarios } from './scenario.ts';

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
      const p = limit(() => runStepsInPhp(s));
      p.catch(() => undefined); // reported by the scenario's own test
      php.set(s.name, p);
    }
  });

  afterAll(async () => {
    if (UPDATE) await saveSuiteResults(scenarios.map((s) => s.name), results);
  });

  it('has at least 200 uniquely named scenarios, each covering a phpt', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(200);
    for (const s of scenarios) expect(s.covers.length, s.name).toBeGreaterThan(0);
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
      results[s.name] = recorded(exp, outcome);
      if (UPDATE) return;
      const why = mismatch(s.name, exp, outcome);
      if (why !== undefined) expect.fail(why);
    });
  }
});
