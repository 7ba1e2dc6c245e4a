/**
 * Differential suite for the user save handler: each scenario in scenarios.ts runs in real php-cgi
 * (a recording handler written in PHP, driver.php) and in the engine (the same handler written in
 * TypeScript, engine.ts). Call sequence with arguments and results, step results, $_SESSION,
 * headers, diagnostics and the final store must be identical.
 *
 * expectations.json lists the scenarios known to differ, each with the reason; any other outcome
 * (a new mismatch, or a listed scenario that now passes) fails. `UPDATE_EXPECTATIONS=1` rewrites it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { describeWith } from '../support/tools.ts';
import { loadEngine, runScenarioInEngine } from './engine.ts';
import { runScenarioInPhp } from './php.ts';
import { scenarios } from './scenarios.ts';
import { normalize } from './transcript.ts';

const EXPECTATIONS = fileURLToPath(new URL('./expectations.json', import.meta.url));
/** A known mismatch: why (the engine fix needed) and the first difference it produces. */
type Expectation = { status: 'fail'; reason: string; diff: string };
const expectations = JSON.parse(readFileSync(EXPECTATIONS, 'utf8')) as Record<string, Expectation>;
const UPDATE = process.env['UPDATE_EXPECTATIONS'] === '1';
const outcome: Record<string, Expectation> = {};

function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (JSON.stringify(a) === JSON.stringify(b)) return '';
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d !== '') return d;
    }
  }
  return `${path}: php=${JSON.stringify(a)} engine=${JSON.stringify(b)}`;
}

describeWith(['php-cgi'], 'user save handler: engine vs php-cgi', () => {
  for (const s of scenarios) {
    it(s.name, async () => {
      const Engine = await loadEngine();
      const php = normalize(await runScenarioInPhp(s));
      let diff: string;
      if (Engine === null) diff = 'SessionEngine is not exported by php-session-engine';
      else {
        let mine: unknown;
        try {
          mine = normalize(await runScenarioInEngine(s, Engine));
        } catch (e) {
          mine = { crashed: String(e) };
        }
        diff = firstDifference(php, mine);
      }
      if (diff !== '') outcome[s.name] = { status: 'fail', reason: expectations[s.name]?.reason ?? 'TODO: explain', diff };
      if (UPDATE) return;
      const expected = expectations[s.name];
      if (expected === undefined) expect(diff, 'engine differs from php-cgi').toBe('');
      else {
        expect(diff, `listed as failing (${expected.reason}) but now matches php-cgi: update expectations.json`).not.toBe('');
        expect(diff, `listed as failing (${expected.reason}) but the difference changed`).toBe(expected.diff);
      }
    });
  }
  afterAll(() => {
    if (UPDATE) writeFileSync(EXPECTATIONS, `${JSON.stringify(outcome, null, 2)}\n`);
  });
});
