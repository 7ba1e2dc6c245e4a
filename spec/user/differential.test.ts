/**
 * Differential suite for the user save handler: each scenario in scenarios.ts runs in real php-cgi
 * (a recording handler written in PHP: spec/php/driver.php's user-handler mode) and in the engine
 * (the same handler written in TypeScript, engine.ts). Call sequence with arguments and results,
 * step results, $_SESSION, headers, diagnostics and the final store must be identical after
 * spec/php/normalize.ts. Outcomes are checked against spec/php/expectations.json (`user/<name>`);
 * `npm run test:php:update` records them.
 */
import { afterAll, expect, it } from 'vitest';
import { runUserScenarioInPhp } from '../php/driver.ts';
import { loadExpectations, mismatch, recorded, saveSuiteResults, UPDATE, type Expectation, type Outcome } from '../php/expectations.ts';
import { firstDifference, normalizeLog } from '../php/normalize.ts';
import { describeWith } from '../support/tools.ts';
import { loadEngine, runScenarioInEngine } from './engine.ts';
import { scenarios, type UserScenario } from './scenarios.ts';
import type { Transcript } from './transcript.ts';

const expectations = loadExpectations();
const results: Record<string, Expectation> = {};
const key = (s: UserScenario): string => `user/${s.name}`;

/** The transcript with its temp save path and generated ids made comparable. */
function normalized(t: Transcript, s: UserScenario): unknown {
  return normalizeLog({ requests: t.requests, store: t.store }, { dirs: [t.savePath], literals: [JSON.stringify(s)] });
}

describeWith(['php-cgi'], 'user save handler: engine vs php-cgi', () => {
  afterAll(async () => {
    if (UPDATE) await saveSuiteResults(scenarios.map(key), results);
  });

  for (const s of scenarios) {
    const exp = expectations[key(s)];
    if (exp?.status === 'skip') {
      it.skip(`${s.name} (skip: ${exp.reason})`, () => undefined);
      continue;
    }
    it(s.name, async () => {
      const Engine = await loadEngine();
      const php = normalized(await runUserScenarioInPhp(s), s);
      let diff: string;
      if (Engine === null) diff = 'SessionEngine is not exported by php-session-engine';
      else {
        let mine: unknown;
        try {
          mine = normalized(await runScenarioInEngine(s, Engine), s);
        } catch (e) {
          mine = { crashed: String(e) };
        }
        diff = firstDifference(php, mine);
      }
      const outcome: Outcome = diff === '' ? { status: 'pass' } : { status: 'fail', reason: diff };
      results[key(s)] = recorded(exp, outcome);
      if (UPDATE) return;
      const why = mismatch(key(s), exp, outcome);
      if (why !== undefined) expect.fail(why);
    });
  }
});
