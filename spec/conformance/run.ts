/**
 * @module spec/conformance/run
 * One scenario, both sides: real php-cgi first (its request time becomes the engine's `now`), then
 * the engine; both transcripts normalised and compared line by line.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScenarioInEngine } from './engine.ts';
import { diffLines, normalizeTranscript, transcriptLines } from './normalize.ts';
import { runScenarioInPhp, type PhpRun } from './php.ts';
import type { Scenario } from './scenario.ts';

export type Expectation = { status: 'pass' } | { status: 'fail'; reason: string } | { status: 'skip'; reason: string };

export const EXPECTATIONS_FILE = join(fileURLToPath(new URL('.', import.meta.url)), 'expectations.json');

export function loadExpectations(): Record<string, Expectation> {
  if (!existsSync(EXPECTATIONS_FILE)) return {};
  return JSON.parse(readFileSync(EXPECTATIONS_FILE, 'utf8')) as Record<string, Expectation>;
}

export function saveExpectations(e: Record<string, Expectation>): void {
  const sorted: Record<string, Expectation> = {};
  for (const k of Object.keys(e).sort()) sorted[k] = e[k] as Expectation;
  writeFileSync(EXPECTATIONS_FILE, `${JSON.stringify(sorted, null, 2)}\n`);
}

export interface Outcome {
  status: 'pass' | 'fail';
  /** One line: why it failed (the first difference, or the engine's crash). */
  reason?: string;
  phpLines: string[];
  engineLines?: string[];
  diff?: string;
}

/** Runs a function over items with at most `limit` in flight (php-cgi processes are not free). */
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

/** An engine run that takes longer than this (a lock wait that never ends...) is a failure. */
export const ENGINE_TIMEOUT_MS = 10_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`engine timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function compareWithEngine(s: Scenario, php: PhpRun): Promise<Outcome> {
  const phpLines = transcriptLines(normalizeTranscript(php.transcript, s, php.dir, php.requestTimeMs));
  let engineLines: string[];
  try {
    const eng = await withTimeout(runScenarioInEngine(s, php.requestTimeMs), ENGINE_TIMEOUT_MS);
    engineLines = transcriptLines(normalizeTranscript(eng.transcript, s, eng.dir, php.requestTimeMs));
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { status: 'fail', reason: `engine crashed: ${msg.split('\n')[0] ?? ''}`, phpLines };
  }
  if (phpLines.join('\n') === engineLines.join('\n')) return { status: 'pass', phpLines, engineLines };
  const diff = diffLines(phpLines, engineLines);
  const first = diff.split('\n').find((l) => l.startsWith('- ') || l.startsWith('+ ')) ?? '';
  const reason = `${first.startsWith('- ') ? 'PHP has' : 'engine has'}: ${first.slice(2)}`;
  return { status: 'fail', reason: reason.length > 300 ? `${reason.slice(0, 297)}...` : reason, phpLines, engineLines, diff };
}

export async function runBoth(s: Scenario): Promise<Outcome> {
  return compareWithEngine(s, await runScenarioInPhp(s));
}
