/**
 * @module spec/support/tools
 * Finding the external programs tests need (php, php-cgi, memcached, redis-server) and the rule for
 * when they are missing: locally a test group is skipped with a loud message; under CI=true a
 * missing tool is a failure, never a silent skip.
 */
import { execFileSync } from 'node:child_process';
import { describe } from 'vitest';
import { runPhpCli, type RunResult } from '../php/runner.ts';

export const IN_CI = process.env['CI'] === 'true' || process.env['CI'] === '1';

const found = new Map<string, string | null>();

/** Absolute path of a program on PATH, or null. */
export function which(tool: string): string | null {
  if (!found.has(tool)) {
    try {
      found.set(tool, execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim() || null);
    } catch {
      found.set(tool, null);
    }
  }
  return found.get(tool) ?? null;
}

/** True when `php -n -m` lists the extension (memcached, memcache, redis). */
export function phpHasExtension(ext: string): boolean {
  const php = which('php');
  if (php === null) return false;
  try {
    // Debian's extensions are loaded by its conf.d ini files, so ask without -n.
    const mods = execFileSync(php, ['-m'], { encoding: 'utf8' });
    return mods.split('\n').some((l) => l.trim().toLowerCase() === ext.toLowerCase());
  } catch {
    return false;
  }
}

/**
 * describe() that needs some tools. Missing locally: skipped, with a loud message. Missing under
 * CI=true: the group still runs and fails at once with a message naming the tool.
 */
export function describeWith(
  tools: readonly string[],
  name: string,
  fn: () => void,
): void {
  const missing = tools.filter((t) => (t.startsWith('php-ext:') ? !phpHasExtension(t.slice(8)) : which(t) === null));
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const msg = `[php-session-engine] MISSING TOOL(S) ${missing.join(', ')}: "${name}" cannot run`;
  if (IN_CI) {
    describe(name, () => {
      throw new Error(`${msg} (CI=true: a missing tool is a failure; .ci/run should have installed it)`);
    });
    return;
  }
  console.warn(`\n*** ${msg}; SKIPPED locally. Install it (see .ci/run) to run these tests. ***\n`);
  // The reason goes into the suite's name, so every reporter line and the summary that
  // spec/support/run-tests.mjs prints say why these tests did not run.
  describe.skip(`${name} [SKIPPED: missing ${missing.join(', ')}; see .ci/run]`, fn);
}

export type { RunResult } from '../php/runner.ts';

/**
 * Runs PHP code with `php -n` (PHP's built-in defaults) plus the given ini settings and
 * extensions, feeding `stdin`. Resolves with raw stdout bytes. Kept here for the many callers;
 * it is spec/php/runner.ts's runPhpCli.
 */
export function runPhp(
  code: string,
  opts: { ini?: Record<string, string>; extensions?: string[]; stdin?: Uint8Array | string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<RunResult> {
  return runPhpCli({ code }, opts);
}
