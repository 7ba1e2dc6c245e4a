/**
 * @module spec/files/support
 * Helpers for the files-handler tests: temp save paths, hashed trees, one PHP request against a
 * save path, and one handler-level "request" (open, read, write, close).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesModule } from '../../handlers/files.ts';
import { runPhp } from '../support/tools.ts';
import { makeTestContext, type TestContext } from '../handlers/suite.ts';

export const HEX = '0123456789abcdef';

/** Creates the one-character subdirectories of a hashed save path, `depth` levels deep. */
export function makeHashedTree(base: string, depth: number, alphabet = HEX): void {
  if (depth === 0) return;
  for (const c of alphabet) {
    mkdirSync(join(base, c), { recursive: true });
    makeHashedTree(join(base, c), depth - 1, alphabet);
  }
}

/** A fresh temp directory; remove it with the returned function. */
export function tempDir(tag: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `pse-${tag}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A PHP string literal for any JS string (bytes via base64, so nothing needs escaping). */
export function phpStr(s: string | Uint8Array): string {
  return `base64_decode('${Buffer.from(typeof s === 'string' ? Buffer.from(s) : s).toString('base64')}')`;
}

/**
 * Runs PHP code after setting the save path (which may hold `;`, so it is set with ini_set rather
 * than -d). Diagnostics go to stdout with display_errors, so warnings can be compared.
 */
export async function php(savePath: string, code: string, ini: Record<string, string> = {}): Promise<string> {
  const res = await runPhp(`ini_set('session.save_path', ${phpStr(savePath)});\n${code}`, {
    // Start-time GC off (PHP's default would collect at 1 in 100 starts and make counts random).
    ini: { display_errors: '1', 'session.use_cookies': '0', 'session.cache_limiter': '', 'session.gc_probability': '0', ...ini },
  });
  if (res.code !== 0) throw new Error(`php exited ${res.code}: ${res.stderr}\n${res.stdout.toString()}`);
  return res.stdout.toString('latin1');
}

/** The PHP warning lines in some output, without the " in Command line code on line N" tail. */
export function phpWarnings(out: string): string[] {
  return [...out.matchAll(/^(?:Warning|Notice): (.*) in Command line code on line \d+$/gm)].map((m) => m[1]!);
}

/** One handler-level request: open, read, transform, write, close. Returns what was read. */
export async function handlerRequest(
  savePath: string,
  id: string,
  change: ((data: Uint8Array) => Uint8Array) | null,
  ini: Record<string, string> = {},
  ctx: TestContext = makeTestContext(ini),
): Promise<{ data: Uint8Array | false; ctx: TestContext }> {
  const h = filesModule.create(ctx);
  if (!(await h.open(savePath, 'PHPSESSID'))) return { data: false, ctx };
  try {
    const data = await h.read(id, 1440);
    if (data !== false && change !== null) await h.write(id, change(data), 1440);
    return { data, ctx };
  } finally {
    await h.close();
  }
}
