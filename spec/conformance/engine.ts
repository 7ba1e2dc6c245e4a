/**
 * @module spec/conformance/engine
 * Runs a scenario against the library's SessionEngine and produces the same transcript shape as
 * spec/php/driver.php's steps mode does in php-cgi.
 */
import { PhpArray } from 'php-session-engine';
import type { Diag, Enc, Scenario, StepRecord, Transcript } from './scenario.ts';
import { expandDir, prepareSaveDir, readSaveDir, removeRoot } from './savedir.ts';
import { decodeValue, encodeValue } from './values.ts';
import { DRIVER, widenOpenBasedir } from '../php/driver.ts';


/** The engine API this runner is written against (lib/engine.ts, exported by lib/index.ts). */
interface EngineRequest {
  functions: Record<string, (...args: unknown[]) => unknown>;
  /** $_SESSION exactly (undefined while it does not exist). */
  sessionValue: unknown;
  headers: Array<[string, string]>;
  diagnostics: Array<{ level: string; message: string }>;
  markHeadersSent(file?: string, line?: number): void;
  /** Settles when request startup (RINIT, session.auto_start) is done. */
  readonly ready?: Promise<void>;
  end(): Promise<void>;
}
interface EngineLike {
  request(opts: {
    cookies?: Record<string, string | PhpArray>;
    query?: Record<string, string | PhpArray>;
    body?: Record<string, string | PhpArray>;
    headersSent?: boolean | { file: string; line: number };
    now?: number;
    scriptPath?: string;
  }): EngineRequest;
}
type EngineCtor = new (opts: { ini?: Record<string, string> }) => EngineLike;

let ctor: EngineCtor | null | undefined;

/** The SessionEngine class, or null when the library does not export one (yet). */
export async function loadEngine(): Promise<EngineCtor | null> {
  if (ctor === undefined) {
    try {
      const mod = (await import('php-session-engine')) as unknown as { SessionEngine?: EngineCtor };
      ctor = mod.SessionEngine ?? null;
    } catch (e) {
      console.warn(`[conformance] cannot import php-session-engine: ${String(e)}`);
      ctor = null;
    }
  }
  return ctor;
}

export interface EngineRun {
  transcript: Transcript;
  dir: string;
}

const PHP_THROWABLES = new Set(['Error', 'TypeError', 'ValueError', 'ArgumentCountError', 'Exception', 'JsonException']);

function describeThrow(e: unknown): { class: string; message: string } {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const fromLibrary = typeof code === 'string' && code.startsWith('ERR_PHP');
    if (fromLibrary && PHP_THROWABLES.has(e.name)) return { class: e.name, message: e.message };
    return { class: `internal ${e.name}`, message: e.message };
  }
  return { class: 'internal non-Error', message: String(e) };
}

/**
 * PHP's request-variable parsing (php_register_variable), the SAPI's job rather than the session
 * engine's: `a[]=x` and `a[k]=x` make arrays, and `.`/` ` in the base name become `_`.
 */
export function phpRequestVars(rec: Record<string, string>): Record<string, string | PhpArray> {
  const out: Record<string, string | PhpArray> = {};
  for (const [rawName, value] of Object.entries(rec)) {
    const m = /^([^[]*)((?:\[[^\]]*\])*)$/.exec(rawName);
    const base = (m?.[1] ?? rawName).replace(/[. ]/g, '_');
    const subs = m?.[2] ? [...m[2].matchAll(/\[([^\]]*)\]/g)].map((x) => x[1] ?? '') : [];
    if (subs.length === 0) {
      out[base] = value;
      continue;
    }
    let arr = out[base];
    if (!(arr instanceof PhpArray)) out[base] = arr = new PhpArray();
    for (let i = 0; i < subs.length; i++) {
      const k = subs[i] as string;
      if (i === subs.length - 1) {
        if (k === '') arr.push(value);
        else arr.set(k, value);
      } else {
        let next: unknown = k === '' ? undefined : arr.get(k);
        if (!(next instanceof PhpArray)) {
          next = new PhpArray();
          if (k === '') arr.push(next as PhpArray);
          else arr.set(k, next as PhpArray);
        }
        arr = next as PhpArray;
      }
    }
  }
  return out;
}

function walkSet(req: EngineRequest, path: (string | number)[], value: Enc | undefined): void {
  if (!(req.sessionValue instanceof PhpArray)) req.sessionValue = new PhpArray();
  let arr = req.sessionValue as PhpArray;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i] as string | number;
    let next = arr.get(k);
    if (!(next instanceof PhpArray)) {
      next = new PhpArray();
      arr.set(k, next);
    }
    arr = next;
  }
  const last = path[path.length - 1] as string | number;
  if (value === undefined) arr.delete(last);
  else arr.set(last, decodeValue(value));
}

export async function runScenarioInEngine(s: Scenario, nowMs: number): Promise<EngineRun> {
  const Engine = await loadEngine();
  if (Engine === null) throw new Error('SessionEngine is not exported by php-session-engine (lib/engine.ts missing?)');
  const { root, dir } = prepareSaveDir(s, 'engine');
  try {
    const ini: Record<string, string> = { 'session.save_path': '{dir}', ...(s.ini ?? {}) };
    for (const k of Object.keys(ini)) ini[k] = expandDir(ini[k] as string, dir);
    widenOpenBasedir(ini, dir);
    const engine = new Engine({ ini });
    // scriptPath: the very file php-cgi ran, so Last-Modified (its mtime) can match.
    const reqOpts: Parameters<EngineLike['request']>[0] = { now: nowMs, scriptPath: DRIVER };
    if (s.request?.cookies !== undefined) reqOpts.cookies = phpRequestVars(s.request.cookies);
    if (s.request?.query !== undefined) reqOpts.query = phpRequestVars(s.request.query);
    if (s.request?.body !== undefined) reqOpts.body = phpRequestVars(s.request.body);
    // Where output started is the driver's own line number; normalize.ts masks the line.
    if (s.request?.headersSent === true) reqOpts.headersSent = { file: DRIVER, line: 0 };
    const req = engine.request(reqOpts);
    await req.ready;
    const fns = req.functions;
    const startup: Diag[] = req.diagnostics.map((d) => ({ level: d.level, message: d.message }));
    const steps: StepRecord[] = [];
    for (const step of s.steps) {
      const before = req.diagnostics.length;
      const rec: Partial<StepRecord> = {};
      if ('call' in step) {
        const fn = fns[step.call];
        if (typeof fn !== 'function') {
          rec.throw = { class: 'internal missing', message: `engine has no function ${step.call}` };
        } else {
          try {
            const args = (step.args ?? []).map(decodeValue);
            // A void PHP function returns null.
            rec.ret = encodeValue((await fn(...args)) ?? null);
          } catch (e) {
            rec.throw = describeThrow(e);
          }
        }
      } else if ('set' in step) {
        walkSet(req, step.set, step.value);
      } else if ('unset' in step) {
        if (step.unset.length === 0) req.sessionValue = undefined;
        else if (req.sessionValue instanceof PhpArray) walkSet(req, step.unset, undefined);
      } else if ('assign' in step) {
        req.sessionValue = decodeValue(step.assign);
      } else if ('output' in step) {
        req.markHeadersSent(DRIVER, 0);
      }
      const diag: Diag[] = req.diagnostics.slice(before).map((d) => ({ level: d.level, message: d.message }));
      let sid: Enc;
      let status: Enc;
      try {
        sid = encodeValue(fns['session_id']?.());
        status = encodeValue(fns['session_status']?.());
      } catch (e) {
        sid = describeThrow(e).message;
        status = null;
      }
      steps.push({ ...rec, diag, sid, status, session: encodeValue(req.sessionValue) });
    }
    const before = req.diagnostics.length;
    await req.end();
    const late = req.diagnostics.slice(before).map((d) => ({ level: d.level, message: d.message }));
    const headers = req.headers.map(([n, v]): [string, string] => [n, v]);
    return { dir, transcript: { startup, steps, late, headers, ...readSaveDir(dir) } };
  } finally {
    removeRoot(root);
  }
}
