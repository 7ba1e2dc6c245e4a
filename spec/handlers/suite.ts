/**
 * @module spec/handlers/suite
 * The behavioural suite every save handler must pass: the contracts written on top of each
 * PS_*_FUNC in php-src (mod_files.c, php_session.h) and in lib/handler.ts, run against a real
 * backend. `spec/handlers/<name>.test.ts` calls {@link testSaveHandler} with a factory, lists any
 * cases it knowingly cannot pass (with a reason), and adds its own cases.
 *
 * @example
 * testSaveHandler({
 *   name: 'files',
 *   setup: async () => ({ module: filesModule, savePath: await mkdtemp(...), cleanup: ... }),
 *   skip: [{ reason: 'no locking in this backend', tests: ['locks: ...'] }],
 * });
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SaveHandler, SaveHandlerContext, SaveHandlerModule } from '../../lib/handler.ts';
import type { Diagnostic, DiagnosticLevel } from '../../lib/errors.ts';

/** A SaveHandlerContext for tests: fixed ini map, collected diagnostics, a movable clock. */
export interface TestContext extends SaveHandlerContext {
  readonly diagnostics: Diagnostic[];
  /** ini values; edit freely between calls. */
  readonly iniValues: Record<string, string>;
  /** Milliseconds added to the real clock by now(). */
  clockOffsetMs: number;
}

let idCounter = 0;

/** Ids as PHP's default generator makes them (32 hex characters), unique within the run. */
export function testSessionId(): string {
  idCounter++;
  return (randomBytes(12).toString('hex') + idCounter.toString(16).padStart(8, '0')).slice(0, 32);
}

export function makeTestContext(ini: Record<string, string> = {}): TestContext {
  const diagnostics: Diagnostic[] = [];
  const ctx: TestContext = {
    diagnostics,
    iniValues: { ...ini },
    clockOffsetMs: 0,
    ini: (name) => ctx.iniValues[name],
    diagnostic: (level: DiagnosticLevel, message: string) => {
      diagnostics.push({ level, message });
    },
    createId: () => testSessionId(),
    now: () => Date.now() + ctx.clockOffsetMs,
  };
  return ctx;
}

/** What a handler's setup() hands the suite for one test. */
export interface HandlerFixture {
  module: SaveHandlerModule;
  /** The save_path given to open(). */
  savePath: string;
  /** ini values the handler reads through ctx.ini(). */
  ini?: Record<string, string>;
  /** Removes whatever setup made (temp dirs, keys); called after each test. */
  cleanup?: () => Promise<void> | void;
}

export interface SaveHandlerSuiteOptions {
  /** The module name, as `session.save_handler` selects it. */
  name: string;
  /** Tells several runs of the same module apart in the report (e.g. a configuration). */
  label?: string;
  /** Makes a fresh backend for one test (a temp dir, a key prefix, ...). */
  setup: () => Promise<HandlerFixture> | HandlerFixture;
  /** Cases this handler knowingly does not pass, each group with its reason. */
  skip?: { reason: string; tests: string[] }[];
  /** Extra cases; `env()` gives the current test's fixture and a ready-made opener. */
  additionalTests?: (env: () => SuiteEnv) => void;
}

export interface SuiteEnv {
  fixture: HandlerFixture;
  /** A new handler instance (a new "request"), already opened on the fixture's save path. */
  openHandler(ctx?: TestContext): Promise<{ handler: SaveHandler; ctx: TestContext }>;
}

const te = new TextEncoder();
const bytes = (s: string): Uint8Array => te.encode(s);

/** The suite's case names, so skip lists can be checked for typos. */
export const SUITE_CASES = [
  'matches interface',
  'open and close succeed',
  'read of an unknown id returns empty data, not false',
  'write then read round-trips the exact bytes',
  'empty data round-trips',
  'a 1 MiB payload round-trips',
  'rewriting with shorter data leaves no stale bytes',
  'sessions are isolated by id',
  'destroy removes the session',
  'destroying a missing id succeeds',
  'validateSid fails for an unknown id and succeeds once written',
  'updateTimestamp on a new id stores the data',
  'updateTimestamp keeps the stored data',
  'createSid returns a valid id that is not in use',
  'gc returns a count',
  'gc removes sessions older than maxlifetime and keeps fresh ones',
  'locks: a second request on the same id waits for close',
  'locks: different ids do not wait for each other',
] as const;

export type SuiteCase = (typeof SUITE_CASES)[number];

/** Runs the shared save-handler behavioural suite. */
export function testSaveHandler(opts: SaveHandlerSuiteOptions): void {
  const skipped = new Map<string, string>();
  for (const group of opts.skip ?? []) {
    for (const t of group.tests) {
      if (!(SUITE_CASES as readonly string[]).includes(t)) throw new Error(`suite skip list names an unknown case: ${t}`);
      skipped.set(t, group.reason);
    }
  }

  describe(`save handler "${opts.name}"${opts.label === undefined ? '' : ` (${opts.label})`}: shared suite`, () => {
    let fixture: HandlerFixture | undefined;
    const opened: SaveHandler[] = [];

    beforeEach(async () => {
      fixture = await opts.setup();
    });
    afterEach(async () => {
      for (const h of opened.splice(0)) await h.close();
      await fixture?.cleanup?.();
      fixture = undefined;
    });

    const env: () => SuiteEnv = () => {
      const fx = fixture;
      if (fx === undefined) throw new Error('suite env used outside a test');
      return {
        fixture: fx,
        openHandler: async (ctx = makeTestContext(fx.ini)) => {
          const handler = fx.module.create(ctx);
          expect(await handler.open(fx.savePath, 'PHPSESSID')).toBe(true);
          opened.push(handler);
          return { handler, ctx };
        },
      };
    };

    const test = (name: SuiteCase, fn: () => Promise<void>): void => {
      const reason = skipped.get(name);
      if (reason !== undefined) {
        it.skip(`${name} [skipped: ${reason}]`, fn);
      } else {
        it(name, fn);
      }
    };

    /** One full request: open, read, write, close. */
    const store = async (id: string, data: Uint8Array): Promise<void> => {
      const { handler } = await env().openHandler();
      expect(await handler.read(id, 1440)).not.toBe(false);
      expect(await handler.write(id, data, 1440)).toBe(true);
      expect(await handler.close()).toBe(true);
    };
    const load = async (id: string): Promise<Uint8Array | false> => {
      const { handler } = await env().openHandler();
      const got = await handler.read(id, 1440);
      expect(await handler.close()).toBe(true);
      return got;
    };

    test('matches interface', async () => {
      const { handler } = await env().openHandler();
      expect(env().fixture.module.name).toBe(opts.name);
      expect(handler.name).toBe(opts.name);
      for (const m of ['open', 'close', 'read', 'write', 'destroy', 'gc'] as const) {
        expect(typeof handler[m]).toBe('function');
      }
      for (const m of ['createSid', 'validateSid', 'updateTimestamp'] as const) {
        expect(['function', 'undefined']).toContain(typeof handler[m]);
      }
    });

    test('open and close succeed', async () => {
      const { handler, ctx } = await env().openHandler();
      expect(await handler.close()).toBe(true);
      expect(ctx.diagnostics).toEqual([]);
    });

    test('read of an unknown id returns empty data, not false', async () => {
      const { handler, ctx } = await env().openHandler();
      const got = await handler.read(testSessionId(), 1440);
      expect(got).toBeInstanceOf(Uint8Array);
      expect((got as Uint8Array).length).toBe(0);
      expect(ctx.diagnostics).toEqual([]);
    });

    test('write then read round-trips the exact bytes', async () => {
      const id = testSessionId();
      const data = new Uint8Array([...bytes('a|s:3:"x\0y";'), 0, 0xff, 0x80, 10, 13, ...bytes('é|i:1;')]);
      await store(id, data);
      expect(await load(id)).toEqual(data);
    });

    test('empty data round-trips', async () => {
      const id = testSessionId();
      await store(id, new Uint8Array(0));
      const got = await load(id);
      expect(got).toBeInstanceOf(Uint8Array);
      expect((got as Uint8Array).length).toBe(0);
    });

    test('a 1 MiB payload round-trips', async () => {
      const id = testSessionId();
      const data = new Uint8Array(randomBytes(1 << 20));
      await store(id, data);
      expect(Buffer.from((await load(id)) as Uint8Array).equals(Buffer.from(data))).toBe(true);
    });

    test('rewriting with shorter data leaves no stale bytes', async () => {
      const id = testSessionId();
      await store(id, bytes('counter|i:1000000;name|s:5:"alice";'));
      await store(id, bytes('counter|i:1;'));
      expect(await load(id)).toEqual(bytes('counter|i:1;'));
    });

    test('sessions are isolated by id', async () => {
      const a = testSessionId();
      const b = testSessionId();
      await store(a, bytes('who|s:1:"a";'));
      await store(b, bytes('who|s:1:"b";'));
      expect(await load(a)).toEqual(bytes('who|s:1:"a";'));
      expect(await load(b)).toEqual(bytes('who|s:1:"b";'));
    });

    test('destroy removes the session', async () => {
      const id = testSessionId();
      await store(id, bytes('x|i:1;'));
      const { handler } = await env().openHandler();
      // As session_destroy() does: the session is open (read) when it is destroyed.
      expect(await handler.read(id, 1440)).toEqual(bytes('x|i:1;'));
      expect(await handler.destroy(id)).toBe(true);
      expect(await handler.close()).toBe(true);
      expect(await load(id)).toEqual(new Uint8Array(0));
    });

    test('destroying a missing id succeeds', async () => {
      const { handler } = await env().openHandler();
      const id = testSessionId();
      expect(await handler.read(id, 1440)).not.toBe(false);
      expect(await handler.destroy(id)).toBe(true);
      expect(await handler.destroy(testSessionId())).toBe(true);
    });

    test('validateSid fails for an unknown id and succeeds once written', async () => {
      const { handler } = await env().openHandler();
      if (handler.validateSid === undefined) return; // default: every id is valid
      const id = testSessionId();
      expect(await handler.validateSid(id)).toBe(false);
      await handler.close();
      await store(id, bytes('v|b:1;'));
      const again = await env().openHandler();
      expect(await again.handler.validateSid!(id)).toBe(true);
    });

    test('updateTimestamp on a new id stores the data', async () => {
      const { handler } = await env().openHandler();
      const id = testSessionId();
      const data = bytes('fresh|s:2:"ok";');
      if (handler.updateTimestamp === undefined) {
        expect(await handler.write(id, data, 1440)).toBe(true);
      } else {
        expect(await handler.updateTimestamp(id, data, 1440)).toBe(true);
      }
      expect(await handler.close()).toBe(true);
      expect(await load(id)).toEqual(data);
    });

    test('updateTimestamp keeps the stored data', async () => {
      const id = testSessionId();
      const data = bytes('kept|i:42;');
      await store(id, data);
      const { handler } = await env().openHandler();
      expect(await handler.read(id, 1440)).toEqual(data);
      if (handler.updateTimestamp !== undefined) {
        expect(await handler.updateTimestamp(id, data, 1440)).toBe(true);
      }
      expect(await handler.close()).toBe(true);
      expect(await load(id)).toEqual(data);
    });

    test('createSid returns a valid id that is not in use', async () => {
      const { handler } = await env().openHandler();
      if (handler.createSid === undefined) return; // default: the engine's generator
      const sid = await handler.createSid();
      expect(typeof sid).toBe('string');
      expect(sid as string).toMatch(/^[A-Za-z0-9,-]{22,256}$/);
      if (handler.validateSid !== undefined) expect(await handler.validateSid(sid as string)).toBe(false);
    });

    test('gc returns a count', async () => {
      await store(testSessionId(), bytes('g|i:1;'));
      const { handler } = await env().openHandler();
      const n = await handler.gc(1440);
      expect(Number.isInteger(n)).toBe(true);
      expect(n).toBeGreaterThanOrEqual(0);
    });

    test('gc removes sessions older than maxlifetime and keeps fresh ones', async () => {
      const old = testSessionId();
      await store(old, bytes('old|i:1;'));
      const { handler, ctx } = await env().openHandler();
      // Move this request's clock 100 s ahead: the session is now 100 s idle.
      ctx.clockOffsetMs = 100_000;
      expect(await handler.gc(50)).toBeGreaterThanOrEqual(1);
      expect(await handler.close()).toBe(true);
      expect(await load(old)).toEqual(new Uint8Array(0));
      const fresh = testSessionId();
      await store(fresh, bytes('new|i:1;'));
      const second = await env().openHandler();
      expect(await second.handler.gc(50)).toBe(0);
      expect(await load(fresh)).toEqual(bytes('new|i:1;'));
    });

    test('locks: a second request on the same id waits for close', async () => {
      const id = testSessionId();
      await store(id, bytes('n|i:0;'));
      const first = await env().openHandler();
      expect(await first.handler.read(id, 1440)).toEqual(bytes('n|i:0;'));
      const second = await env().openHandler();
      let secondGot: Uint8Array | false | undefined;
      const pending = Promise.resolve(second.handler.read(id, 1440)).then((d) => {
        secondGot = d;
      });
      await new Promise((r) => setTimeout(r, 150));
      expect(secondGot).toBeUndefined();
      expect(await first.handler.write(id, bytes('n|i:1;'), 1440)).toBe(true);
      expect(await first.handler.close()).toBe(true);
      await pending;
      expect(secondGot).toEqual(bytes('n|i:1;'));
    });

    test('locks: different ids do not wait for each other', async () => {
      const first = await env().openHandler();
      expect(await first.handler.read(testSessionId(), 1440)).not.toBe(false);
      const second = await env().openHandler();
      const got = await Promise.race([
        Promise.resolve(second.handler.read(testSessionId(), 1440)),
        new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 2000)),
      ]);
      expect(got).toBeInstanceOf(Uint8Array);
    });

    opts.additionalTests?.(env);
  });
}
