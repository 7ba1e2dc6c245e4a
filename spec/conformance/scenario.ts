/**
 * @module spec/conformance/scenario
 * The scenario format (data in spec/conformance/scenarios/*.json) and the transcript both sides
 * produce. Values use the typed JSON encoding described in values.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A typed JSON value (see values.ts). */
export type Enc =
  | null
  | boolean
  | number
  | string
  | Enc[]
  | { int: string }
  | { float: number | 'INF' | '-INF' | 'NAN' }
  | { bytes: string }
  | { map: [Enc, Enc][] }
  | { object: string; props: [Enc, Enc][] }
  | { undef: true };

export type Step =
  | { call: string; args?: Enc[] }
  | { set: (string | number)[]; value: Enc }
  | { unset: (string | number)[] }
  | { assign: Enc }
  | { output: string };

/** A preexisting session file: its contents, and optionally how many seconds old its mtime is. */
export type Preexisting = string | { data: string; ageSeconds?: number; mode?: string };

export interface Scenario {
  /** Named after the phpt whose subject it covers, plus a suffix when there are several. */
  name: string;
  /** The phpt files (ext/session/tests, without directory) whose subject this scenario covers. */
  covers: string[];
  /** What the scenario checks, in one line. */
  description?: string;
  /** ini settings passed as `-d name=value`; `{dir}` is replaced by the temp save directory. */
  ini?: Record<string, string>;
  request?: {
    cookies?: Record<string, string>;
    query?: Record<string, string>;
    body?: Record<string, string>;
    /** Output is sent before the first step (headers are sent). */
    headersSent?: boolean;
  };
  steps: Step[];
  /** Files to create under the save directory before the run: relative path → contents. */
  preexisting?: Record<string, Preexisting>;
  /** Directories to create under the save directory before the run (relative). */
  dirs?: string[];
  /** The save directory (`{dir}`) is removed before the run (to test a missing directory). */
  noSaveDir?: boolean;
}

export interface Diag {
  level: string;
  message: string;
}

export interface StepRecord {
  ret?: Enc;
  throw?: { class: string; message: string };
  diag: Diag[];
  sid: Enc;
  status: Enc;
  session: Enc;
}

export interface Transcript {
  /** Diagnostics raised before the first step (engine/request startup, e.g. invalid ini values). */
  startup: Diag[];
  steps: StepRecord[];
  /** Diagnostics raised after the last step (request shutdown: write and close). */
  late: Diag[];
  /** Response header lines [name, value] in order (X-Powered-By and Content-type dropped). */
  headers: [string, string][];
  /** Files left under the save directory: relative path → contents (base64 `b64:` when binary). */
  files: Record<string, string>;
  /** File modes (octal) of the files above. */
  modes: Record<string, string>;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const SCENARIO_DIR = join(HERE, 'scenarios');

/** All scenarios, from every scenarios/*.json file (each holds an array), sorted by name. */
export function loadScenarios(): Scenario[] {
  const out: Scenario[] = [];
  const seen = new Set<string>();
  for (const f of readdirSync(SCENARIO_DIR).filter((n) => n.endsWith('.json')).sort()) {
    const list = JSON.parse(readFileSync(join(SCENARIO_DIR, f), 'utf8')) as Scenario[];
    for (const s of list) {
      if (seen.has(s.name)) throw new Error(`duplicate scenario name ${s.name} in ${f}`);
      seen.add(s.name);
      out.push(s);
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
