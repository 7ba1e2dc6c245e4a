/**
 * @module spec/conformance/savedir
 * The temporary save directory each side of a scenario runs in: prepared from the scenario's
 * `dirs`/`preexisting`, then read back (files and modes) after the run.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Scenario } from './scenario.ts';

/** Creates a fresh temp root; `{dir}` of the scenario is `<root>/save`. */
export function prepareSaveDir(s: Scenario, side: string): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), `pse-conf-${side}-`));
  const dir = join(root, 'save');
  if (s.noSaveDir === true) return { root, dir };
  mkdirSync(dir);
  for (const d of s.dirs ?? []) mkdirSync(join(dir, d), { recursive: true });
  const now = Date.now() / 1000;
  for (const [rel, p] of Object.entries(s.preexisting ?? {})) {
    const file = join(dir, rel);
    mkdirSync(dirname(file), { recursive: true });
    const data = typeof p === 'string' ? p : p.data;
    writeFileSync(file, data, { mode: 0o600 });
    if (typeof p !== 'string' && p.ageSeconds !== undefined) {
      const t = now - p.ageSeconds;
      utimesSync(file, t, t);
    }
  }
  return { root, dir };
}

/** Files under dir (recursive): relative path → contents (UTF-8, or `b64:` + base64) and modes. */
export function readSaveDir(dir: string): { files: Record<string, string>; modes: Record<string, string> } {
  const files: Record<string, string> = {};
  const modes: Record<string, string> = {};
  const walk = (abs: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(abs).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const a = join(abs, n);
      const r = rel === '' ? n : `${rel}/${n}`;
      const st = statSync(a);
      if (st.isDirectory()) {
        walk(a, r);
      } else {
        const buf = readFileSync(a);
        const text = buf.toString('utf8');
        files[r] = Buffer.from(text, 'utf8').equals(buf) ? text : `b64:${buf.toString('base64')}`;
        modes[r] = (st.mode & 0o7777).toString(8).padStart(4, '0');
      }
    }
  };
  walk(dir, '');
  return { files, modes };
}

export function removeRoot(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

/** Replaces `{dir}` in an ini value by the real save directory. */
export function expandDir(value: string, dir: string): string {
  return value.split('{dir}').join(dir);
}
