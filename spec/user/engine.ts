/**
 * @module spec/user/engine
 * Runs a user-handler scenario in the library's SessionEngine, with the recording handler written
 * in TypeScript, and returns the same transcript shape as spec/php/driver.php (user-handler mode) in php-cgi.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PhpArray, PhpBytes, PhpException, PhpFloat, PhpObject, type PhpValue } from 'php-session-engine';
import { SessionHandler } from '../../handlers/user.ts';
import type { Action, Cb, UserScenario, Val } from './scenarios.ts';
import { type Event, type RequestTranscript, type Transcript, nextCookie } from './transcript.ts';

interface EngineRequest {
  functions: Record<string, (...args: unknown[]) => unknown>;
  session: unknown;
  /** $_SESSION as it is: undefined when unset. */
  sessionValue: unknown;
  headers: Array<[string, string]>;
  diagnostics: Array<{ level: string; message: string }>;
  end(): Promise<void>;
  /** Settles when request startup (auto_start) is done. */
  readonly ready: Promise<void>;
}
/** display_errors' label for a level (php_error_cb). */
const DISPLAY_LABEL: Record<string, string> = {
  E_ERROR: 'Fatal error',
  E_CORE_ERROR: 'Fatal error',
  E_WARNING: 'Warning',
  E_CORE_WARNING: 'Warning',
  E_NOTICE: 'Notice',
  E_DEPRECATED: 'Deprecated',
};
interface EngineLike {
  request(opts: { cookies?: Record<string, string> }): EngineRequest;
}
type EngineCtor = new (opts: { ini?: Record<string, string> }) => EngineLike;

/** The SessionEngine class, or null when the library does not export one (yet). */
export async function loadEngine(): Promise<EngineCtor | null> {
  try {
    const mod = (await import('php-session-engine')) as unknown as { SessionEngine?: EngineCtor };
    return mod.SessionEngine ?? null;
  } catch {
    return null;
  }
}

/** PHP's typed-JSON encoding of a value (see driver.php's enc()). */
function enc(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (v instanceof PhpFloat) return { $float: v.value };
  if (typeof v === 'number' && !Number.isInteger(v)) return { $float: v };
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof PhpBytes) return v.toBinaryString();
  if (v instanceof PhpArray) {
    // json_encode: a list (keys 0..n-1 in order) is a JSON array, anything else an object.
    const entries = [...v.entries()];
    if (entries.every(([k], i) => k === i || k === BigInt(i))) return entries.map(([, x]) => enc(x));
    const out: Record<string, unknown> = {};
    for (const [k, x] of entries) out[String(k)] = enc(x);
    return out;
  }
  if (v instanceof PhpObject) return { $obj: v.className };
  if (Array.isArray(v)) return v.map(enc);
  if (typeof v === 'object') return { $obj: (v as { constructor: { name: string } }).constructor.name };
  return v;
}
/** A typed-JSON value as the PHP value a script assigns into $_SESSION (driver.php's dec()). */
function decValue(v: Val): PhpValue {
  if (v === null || typeof v !== 'object') return v;
  if (!Array.isArray(v) && '$float' in v) return new PhpFloat(v.$float as number);
  if (!Array.isArray(v) && '$obj' in v) return new PhpObject(v.$obj as string);
  const a = new PhpArray();
  for (const [k, x] of Object.entries(v)) a.set(/^(0|-?[1-9][0-9]*)$/.test(k) ? Number(k) : k, decValue(x as Val));
  return a;
}

const classes = new Map<string, new () => object>();
/** Decodes typed JSON into the value a TypeScript callback returns. */
function dec(v: Val): unknown {
  if (Array.isArray(v)) return v.map(dec);
  if (v !== null && typeof v === 'object') {
    if ('$float' in v) return new PhpFloat(v.$float as number);
    if ('$obj' in v) {
      const name = v.$obj as string;
      if (!classes.has(name)) classes.set(name, { [name]: class {} }[name] as new () => object);
      return new (classes.get(name)!)();
    }
  }
  return v;
}

function describe(e: unknown): { class: string; message: string; previous: string | null } {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return { class: e.name, message: e.message, previous: cause instanceof Error ? cause.message : null };
  }
  return { class: 'non-Error', message: String(e), previous: null };
}

interface Store {
  data: Record<string, string>;
  n: number;
}

export async function runScenarioInEngine(s: UserScenario, Engine: EngineCtor): Promise<Transcript> {
  const root = mkdtempSync(join(tmpdir(), 'pse-user-engine-'));
  try {
    const saveDir = join(root, 'save');
    mkdirSync(saveDir);
    const ini: Record<string, string> = { 'session.save_path': saveDir, 'session.gc_probability': '0', ...(s.ini ?? {}) };
    const engine = new Engine({ ini });
    let store: Store | null = null;
    const load = (): Store => store ?? { data: {}, n: 0 };
    const requests: RequestTranscript[] = [];
    let cookie: string | null = null;
    for (let i = 0; i < s.requests.length; i++) {
      const r = s.requests[i]!;
      const sent: string | null = r.cookie === undefined ? cookie : r.cookie;
      const req = engine.request(sent === null ? {} : { cookies: { PHPSESSID: sent } });
      const events: Event[] = [];
      // Startup diagnostics (MINIT: ini values refused before the script runs) are no script
      // events: php-cgi prints them into the body as display_errors does, so render them the same way.
      const startupThrew = await req.ready.then(
        () => undefined,
        (e: unknown) => describe(e),
      );
      let seen = req.diagnostics.length;
      const output = req.diagnostics
        .map((d) => `${DISPLAY_LABEL[d.level] ?? d.level}: ${d.message} in Unknown on line 0`)
        .join('\n\n');
      const flush = (): void => {
        for (; seen < req.diagnostics.length; seen++) {
          const d = req.diagnostics[seen]!;
          events.push(['diag', d.level, d.message]);
        }
      };
      const ev = (e: Event): void => {
        flush();
        events.push(e);
      };
      if (startupThrew !== undefined) events.push(['startup-threw', startupThrew]);
      const counts = new Map<Cb, number>();

      const memory = (cb: Cb, a: unknown[]): unknown => {
        const st = load();
        switch (cb) {
          case 'open':
          case 'close':
          case 'updateTimestamp':
            return true;
          case 'read':
            return st.data[a[0] as string] ?? '';
          case 'write':
            st.data[a[0] as string] = String(a[1]);
            store = st;
            return true;
          case 'destroy':
            delete st.data[a[0] as string];
            store = st;
            return true;
          case 'gc':
            return 0;
          case 'create_sid':
            st.n++;
            store = st;
            return `usersid${String(st.n).padStart(4, '0')}`;
          case 'validateId':
            return Object.hasOwn(st.data, a[0] as string);
        }
      };

      const dispatch = async (cb: Cb, args: unknown[], parent: ((...a: unknown[]) => unknown) | null): Promise<unknown> => {
        const n = (counts.get(cb) ?? 0) + 1;
        counts.set(cb, n);
        ev(['call', cb, args.map(enc)]);
        let action: Action | undefined = s.handler.behave?.find((b) => b.cb === cb && (b.nth === undefined || b.nth === n))?.do;
        if (action !== undefined && 'throw' in action) {
          ev(['throws', cb, action.throw]);
          throw new PhpException(action.throw);
        }
        if (action !== undefined && 'call' in action) {
          try {
            const fn = req.functions[action.call]!;
            ev(['inner', action.call, enc(await fn(...(action.args ?? []).map(dec)))]);
          } catch (e) {
            ev(['inner', action.call, describe(e)]);
          }
          action = undefined;
        }
        let ret: unknown;
        if (action !== undefined && 'return' in action) ret = dec(action.return);
        else if (action !== undefined && 'nothing' in action) {
          ev(['ret', cb, 'nothing']);
          return undefined;
        } else ret = parent !== null ? await parent(...args) : memory(cb, args);
        ev(['ret', cb, enc(ret)]);
        return ret;
      };

      const setup = s.handler;
      let handler: Record<string, (...a: unknown[]) => unknown> | undefined;
      let register: () => unknown;
      if (setup.form === 'callables') {
        const names: Cb[] = ['open', 'close', 'read', 'write', 'destroy', 'gc', 'create_sid', 'validateId', 'updateTimestamp'];
        const cbs = names.slice(0, setup.callables ?? 6).map((name) => (...a: unknown[]) => dispatch(name, a, null));
        register = () => req.functions['session_set_save_handler']!(...cbs);
      } else {
        const extendsParent = setup.form === 'extends';
        const Base = (extendsParent ? SessionHandler : Object) as new () => object;
        const name = setup.className ?? 'RecHandler';
        const Cls = { [name]: class extends Base {} }[name]!;
        const methods: Cb[] = ['open', 'close', 'read', 'write', 'destroy', 'gc', ...(setup.optional ?? [])];
        for (const m of methods) {
          const hasParent = extendsParent && m !== 'validateId' && m !== 'updateTimestamp';
          Object.defineProperty(Cls.prototype, m, {
            configurable: true,
            writable: true,
            value: function (this: Record<string, (...a: unknown[]) => unknown>, ...a: unknown[]) {
              const parentFn = hasParent
                ? (...pa: unknown[]) => (SessionHandler.prototype as unknown as Record<string, (...x: unknown[]) => unknown>)[m]!.apply(this, pa)
                : null;
              return dispatch(m, a, parentFn);
            },
          });
        }
        handler = new Cls() as Record<string, (...a: unknown[]) => unknown>;
        const h = handler;
        register = Object.hasOwn(setup, 'registerShutdown')
          ? () => req.functions['session_set_save_handler']!(h, dec(setup.registerShutdown as Val))
          : () => req.functions['session_set_save_handler']!(h);
      }

      for (const step of r.steps) {
        let what = 'register';
        try {
          if ('register' in step) {
            const ret = await register();
            ev(['step', 'register', enc(ret)]);
          } else if ('fn' in step) {
            what = step.fn;
            const fn = req.functions[step.fn];
            if (fn === undefined) throw new Error(`engine has no ${step.fn}`);
            const ret = await fn(...(step.args ?? []).map(dec));
            ev(['step', step.fn, enc(ret)]);
          } else if ('handler' in step) {
            what = `handler.${step.handler}`;
            const ret = await handler![step.handler]!(...(step.args ?? []).map(dec));
            ev(['step', what, enc(ret)]);
          } else if ('set' in step) {
            if (!(req.session instanceof PhpArray)) req.session = new PhpArray();
            (req.session as PhpArray).set(step.set, decValue(step.value));
          } else if ('unset' in step) {
            if (req.session instanceof PhpArray) req.session.delete(step.unset);
          }
        } catch (e) {
          ev(['step', what, { threw: describe(e) }]);
        }
      }
      const status = await req.functions['session_status']!();
      // isset($_SESSION): read without the `session` getter, which creates $_SESSION on first use.
      const sv = req.sessionValue;
      ev(['end', sv === undefined || sv === null ? null : enc(sv), status]);
      try {
        await req.end();
      } catch (e) {
        ev(['shutdown-threw', describe(e)]);
      }
      flush();
      const headers = req.headers.map(([n, v]): [string, string] => [n, v]);
      requests.push({ events, headers, output });
      cookie = nextCookie(headers) ?? sent;
    }
    return { requests, store, savePath: saveDir };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
