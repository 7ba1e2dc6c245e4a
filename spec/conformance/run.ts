/**
 * @module spec/conformance/run
 * One scenario, both sides: real php-cgi first (spec/php/driver.ts; its request time becomes the
 * engine's `now`), then the engine; both transcripts normalised (spec/php/normalize.ts) and
 * compared line by line.
 */
import { runStepsInPhp, type PhpRun } from '../php/driver.ts';
import type { Outcome } from '../php/expectations.ts';
import { diffLines, normalizeTranscript, transcriptLines } from '../php/normalize.ts';
import { runScenarioInEngine } from './engine.ts';
import type { Scenario } from './scenario.ts';

export interface Comparison extends Outcome {
  phpLines: string[];
  engineLines?: string[];
  /** The normalised diff (`-` PHP, `+` engine). */
  diff?: string;
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

export async function compareWithEngine(s: Scenario, php: PhpRun): Promise<Comparison> {
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
  return {
    status: 'fail',
    reason: reason.length > 300 ? `${reason.slice(0, 297)}...` : reason,
    details: diff,
    phpLines,
    engineLines,
    diff,
  };
}

export async function runBoth(s: Scenario): Promise<Comparison> {
  return compareWithEngine(s, await runStepsInPhp(s));
}
