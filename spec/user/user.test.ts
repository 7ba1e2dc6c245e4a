/**
 * Unit tests of handlers/user.ts without the engine: argument parsing and each callback-result
 * rule, with the expected outcome taken from real PHP running the same handler behaviour.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { SaveHandler, SaveHandlerModule } from '../../lib/handler.ts';
import { PhpBytes, PhpFloat } from '../../lib/value.ts';
import {
  type UserHandlerContext,
  SessionHandler,
  createUserSaveHandler,
  jsTypeName,
  parseSaveHandlerArgs,
  toSessionData,
  userModule,
} from '../../handlers/user.ts';
import { describeWith, runPhp } from '../support/tools.ts';

/** Runs PHP code that fills $out (an array) and prints it as JSON. */
async function php(code: string): Promise<unknown> {
  if (process.env['DEBUG_PHP'] === '1') (await import('node:fs')).writeFileSync('/tmp/uh/debug.php', `<?php $out = []; ${code}; echo json_encode($out);`);
  const r = await runPhp(`$out = []; ${code}; echo json_encode($out);`, { ini: { 'session.save_path': '/tmp', 'session.gc_probability': '0' } });
  expect(r.stderr).toBe("");
  if (process.env["DEBUG_PHP"] === "1") console.log(r.stdout.toString("utf8"));
  return JSON.parse(r.stdout.toString('utf8')) as unknown;
}

/** Text after PHP's "function(): " prefix. */
const bare = (m: string): string => m.replace(/^[A-Za-z_:]+\(\): /, '');

interface Fake {
  ctx: UserHandlerContext;
  diags: { level: string; message: string; raw: boolean }[];
  setActive(v: boolean): void;
}
function fake(defaultModule?: SaveHandlerModule, pending?: { value: unknown }): Fake {
  const diags: Fake['diags'] = [];
  let active = true;
  const ctx: UserHandlerContext = {
    ini: (n) => (n === 'session.gc_maxlifetime' ? '1440' : undefined),
    diagnostic: (level, message, raw) => diags.push({ level, message, raw: raw === true }),
    createId: () => 'b'.repeat(32),
    now: () => 0,
    defaultModule,
    sessionActive: () => active,
  };
  if (pending !== undefined) {
    ctx.pendingException = () => pending.value;
    ctx.setPendingException = (e) => {
      pending.value = e;
    };
  }
  return { ctx, diags, setActive: (v) => (active = v) };
}

/** A handler object whose every callback returns `value` for the named callback. */
function handlerReturning(cb: string, value: unknown, calls: string[] = []): object {
  const h: Record<string, (...a: unknown[]) => unknown> = {};
  const defaults: Record<string, unknown> = { open: true, close: true, read: '', write: true, destroy: true, gc: 0, create_sid: 'sid1', validateId: true, updateTimestamp: true };
  for (const [name, def] of Object.entries(defaults)) {
    h[name] = (...a: unknown[]) => {
      calls.push(`${name}(${a.map((x) => JSON.stringify(x)).join(',')})`);
      return name === cb ? value : def;
    };
  }
  return h;
}

const PHP_HANDLER = `
class Obj {}
class H implements SessionHandlerInterface {
  public $cb; public $ret;
  function __construct($cb, $ret) { $this->cb = $cb; $this->ret = $ret; }
  function r($m, $d) { return $m === $this->cb ? $this->ret : $d; }
  #[ReturnTypeWillChange] function open($p, $n) { return $this->r('open', true); }
  #[ReturnTypeWillChange] function close() { return $this->r('close', true); }
  #[ReturnTypeWillChange] function read($id) { return $this->r('read', ''); }
  #[ReturnTypeWillChange] function write($id, $d) { return $this->r('write', true); }
  #[ReturnTypeWillChange] function destroy($id) { return $this->r('destroy', true); }
  #[ReturnTypeWillChange] function gc($m) { return $this->r('gc', 0); }
  #[ReturnTypeWillChange] function create_sid() { return $this->r('create_sid', 'sid1'); }
}
$diag = [];
set_error_handler(function ($no, $msg) use (&$diag) { $diag[] = [$no === E_DEPRECATED ? 'E_DEPRECATED' : ($no === E_WARNING ? 'E_WARNING' : "E$no"), $msg]; return true; });
function attempt($f) { global $diag; $diag = []; try { $r = $f(); $t = null; } catch (Throwable $e) { $r = null; $t = [get_class($e), $e->getMessage(), $e->getPrevious()?->getMessage()]; } return ['ret' => $r, 'threw' => $t, 'diag' => $diag]; }
`;

describeWith(['php'], 'parseSaveHandlerArgs: PHP argument errors', () => {
  let fromPhp: Record<string, [string, string] | null>;
  beforeAll(async () => {
    fromPhp = (await php(`${PHP_HANDLER}
      $cases = [
        'none' => [], 'three' => ['strlen','strlen','strlen'], 'ten' => array_fill(0, 10, 'strlen'),
        'not-handler' => [new Obj], 'string' => ['x'], 'int' => [5],
        'bad-arg2' => [new H('', 0), []],
        'cb1-string' => ['nofn','strlen','strlen','strlen','strlen','strlen'],
        'cb3-int' => ['strlen','strlen',5,'strlen','strlen','strlen'],
        'cb6-null' => ['strlen','strlen','strlen','strlen','strlen',null],
        'cb7-array' => ['strlen','strlen','strlen','strlen','strlen','strlen',[1,2]],
        'cb8-method' => ['strlen','strlen','strlen','strlen','strlen','strlen','strlen',['H','nope']],
        'cb9-true' => ['strlen','strlen','strlen','strlen','strlen','strlen','strlen','strlen',true],
      ];
      foreach ($cases as $k => $args) {
        try { session_set_save_handler(...$args); $out[$k] = null; } catch (Throwable $e) { $out[$k] = [get_class($e), $e->getMessage()]; }
      }
      $diag = [];
      session_set_save_handler(new H('', 0), null);
      $out['null-arg2'] = ['E_DEPRECATED', $diag[0][1] ?? ''];
    `)) as typeof fromPhp;
  });

  const fn = (): void => undefined;
  const six = [fn, fn, fn, fn, fn, fn];
  class Obj {}
  class H {}
  const cases: Record<string, unknown[]> = {
    none: [],
    three: [fn, fn, fn],
    ten: Array(10).fill(fn),
    'not-handler': [new Obj()],
    string: ['x'],
    int: [5],
    'bad-arg2': [handlerReturning('', 0), []],
    'cb1-string': ['nofn', ...six.slice(1)],
    'cb3-int': [fn, fn, 5, fn, fn, fn],
    'cb6-null': [fn, fn, fn, fn, fn, null],
    'cb7-array': [...six, [1, 2]],
    'cb8-method': [...six, fn, ['H', 'nope']],
    'cb9-true': [...six, fn, fn, true],
  };
  void H;
  for (const [name, args] of Object.entries(cases)) {
    it(`${name}: same error as PHP`, () => {
      const want = fromPhp[name];
      expect(want).not.toBeNull();
      let got: [string, string] | null = null;
      try {
        parseSaveHandlerArgs(args);
      } catch (e) {
        got = [(e as Error).name, (e as Error).message];
      }
      expect(got).toEqual(want);
    });
  }

  it('null register_shutdown: PHP deprecation carried in the spec, treated as false', () => {
    const spec = parseSaveHandlerArgs([handlerReturning('', 0), null]);
    expect(spec.registerShutdown).toBe(false);
    expect(spec.argumentDiagnostics.map((d) => [d.level, `session_set_save_handler(): ${d.message}`])).toEqual([fromPhp['null-arg2']]);
  });
});

describe('parseSaveHandlerArgs: accepted forms', () => {
  it('object form defaults register_shutdown to true and records the class name', () => {
    class MySession {
      open(): boolean { return true; }
      close(): boolean { return true; }
      read(): string { return ''; }
      write(): boolean { return true; }
      destroy(): boolean { return true; }
      gc(): number { return 0; }
    }
    const spec = parseSaveHandlerArgs([new MySession()]);
    expect(spec.registerShutdown).toBe(true);
    expect(spec.className).toBe('MySession');
    expect(parseSaveHandlerArgs([new MySession(), 0]).registerShutdown).toBe(false);
    expect(parseSaveHandlerArgs([new MySession(), 'yes']).registerShutdown).toBe(true);
  });

  it('method names are found case-insensitively, as PHP does', async () => {
    const h = { ...handlerReturning('', 0), VALIDATEID: () => false };
    delete (h as Record<string, unknown>)['validateId'];
    const { ctx } = fake();
    const uh = createUserSaveHandler(parseSaveHandlerArgs([h]), ctx);
    expect(await uh.validateSid!('x')).toBe(false);
  });

  it('the callable form keeps optional callbacks of an earlier registration', async () => {
    const f = (): boolean => true;
    const first = parseSaveHandlerArgs([f, f, f, f, f, f, () => 'from-first', f, f]);
    const second = parseSaveHandlerArgs([f, f, f, f, f, f], first);
    const uh = createUserSaveHandler(second, fake().ctx);
    expect(await uh.createSid!()).toBe('from-first');
    expect(second.registerShutdown).toBe(false);
    expect(second.className).toBeUndefined();
  });

  it('[object, "method"] pairs are callables', async () => {
    const store = { ok: () => true, data: () => 'a|i:1;' };
    const spec = parseSaveHandlerArgs([[store, 'ok'], [store, 'ok'], [store, 'data'], [store, 'ok'], [store, 'ok'], () => 3]);
    const uh = createUserSaveHandler(spec, fake().ctx);
    expect(Buffer.from((await uh.read('x', 1440)) as Uint8Array).toString()).toBe('a|i:1;');
  });
});

describeWith(['php'], 'callback results: the same outcome as PHP', () => {
  type Outcome = { ret: unknown; threw: [string, string, string | null] | null; diag: [string, string][] };
  let fromPhp: Record<string, Outcome>;
  const values: Record<string, [string, unknown]> = {
    'null': ['null', undefined],
    'string': ["'x'", 'x'],
    'float': ['1.5', 1.5],
    'float0': ['0.0', new PhpFloat(0)],
    'array': ['[]', []],
    'object': ['new Obj', new (class Obj {})()],
    'int2': ['2', 2],
    'int0': ['0', 0],
    'int-1': ['-1', -1],
    'true': ['true', true],
    'false': ['false', false],
  };
  beforeAll(async () => {
    let code = PHP_HANDLER;
    for (const [k, [expr]] of Object.entries(values)) {
      for (const cb of ['write', 'open', 'close']) {
        code += `
          session_set_save_handler(new H('${cb}', ${expr}));
          if ('${cb}' !== 'open') session_start();
          $out['${cb}:${k}'] = attempt(fn () => '${cb}' === 'open' ? session_start() : session_write_close());
          if (session_status() === PHP_SESSION_ACTIVE) session_abort();`;
      }
    }
    for (const [k, expr] of Object.entries({ 'empty': "''", data: "'a|i:1;'", 'false': 'false', 'null': 'null', 'int0': '0', bytes: '"\\xff|i:1;"' })) {
      code += `
        session_set_save_handler(new H('read', ${expr}));
        $out['read:${k}'] = attempt(fn () => session_start());
        $out['read:${k}']['session'] = ($e = session_encode()) === false ? false : bin2hex($e);
        if (session_status() === PHP_SESSION_ACTIVE) session_abort();`;
    }
    for (const [k, expr] of Object.entries({ int7: '7', int0: '0', 'true': 'true', 'false': 'false', str: "'5'", 'null': 'null', float: '2.0', neg: '-1' })) {
      code += `
        session_set_save_handler(new H('gc', ${expr}));
        session_start();
        $out['gc:${k}'] = attempt(fn () => session_gc());
        session_abort();`;
    }
    for (const [k, expr] of Object.entries({ int: '5', 'null': 'null', 'false': 'false', str: "'custom'" })) {
      code += `
        session_set_save_handler(new H('create_sid', ${expr}));
        session_id('');
        $out['create_sid:${k}'] = attempt(fn () => session_start());
        $out['create_sid:${k}']['id'] = session_id();
        if (session_status() === PHP_SESSION_ACTIVE) session_abort();`;
    }
    fromPhp = (await php(code)) as typeof fromPhp;
  });

  for (const [k, [, value]] of Object.entries(values)) {
    for (const cb of ['write', 'open', 'close'] as const) {
      it(`${cb} returning ${k}`, async () => {
        const want = fromPhp[`${cb}:${k}`]!;
        const { ctx, diags } = fake();
        const uh = createUserSaveHandler(parseSaveHandlerArgs([handlerReturning(cb, value)]), ctx);
        let ok: boolean | undefined;
        let threw: [string, string, null] | null = null;
        try {
          if (cb === 'open') ok = await uh.open('/tmp', 'PHPSESSID');
          else if (cb === 'write') ok = await uh.write('id', new Uint8Array(), 1440);
          else {
            await uh.open('/tmp', 'PHPSESSID');
            ok = await uh.close();
          }
        } catch (e) {
          threw = [(e as Error).name, (e as Error).message, null];
        }
        expect(threw).toEqual(want.threw);
        // PHP's own diagnostics from this callback (the deprecation), without the engine's wrapping warnings.
        const ownPhp = want.diag.filter(([, m]) => bare(m).startsWith('Session callback')).map(([l, m]) => [l, bare(m)]);
        expect(diags.map((d) => [d.level, d.message])).toEqual(ownPhp);
        // PHP reports a failed write or open with a warning; a failed close is not observable there.
        if (threw === null && cb !== 'close') {
          const phpFailed = want.diag.some(([l, m]) => l === 'E_WARNING' && /Failed to (write|initialize)/.test(m));
          expect(ok).toBe(!phpFailed);
        }
        if (threw === null && cb === 'close') expect(ok).toBe(value === true || value === 0);
      });
    }
  }

  for (const [k, value] of Object.entries({ empty: '', data: 'a|i:1;', false: false, null: null, int0: 0, bytes: new PhpBytes(Uint8Array.from([0xff, ...Buffer.from('|i:1;')])) })) {
    it(`read returning ${k}`, async () => {
      const want = fromPhp[`read:${k}`] as Outcome & { session: string | false };
      const uh = createUserSaveHandler(parseSaveHandlerArgs([handlerReturning('read', value)]), fake().ctx);
      const got = await uh.read('id', 1440);
      const phpFailed = want.diag.some(([, m]) => m.includes('Failed to read session data'));
      expect(got === false).toBe(phpFailed);
      expect(want.threw).toBeNull();
      // What PHP decoded and re-encoded equals the bytes the handler hands to the engine.
      // (session_encode() gives false for an empty session.)
      if (got !== false) expect(Buffer.from(got).toString('hex')).toBe(want.session === false ? '' : want.session);
    });
  }

  for (const [k, value] of Object.entries({ int7: 7, int0: 0, true: true, false: false, str: '5', null: null, float: new PhpFloat(2), neg: -1 })) {
    it(`gc returning ${k}`, async () => {
      const want = fromPhp[`gc:${k}`]!;
      const uh = createUserSaveHandler(parseSaveHandlerArgs([handlerReturning('gc', value)]), fake().ctx);
      const n = await uh.gc(1440);
      // session_gc() returns the count, or false for -1.
      expect(n < 0 ? false : n).toBe(want.ret);
    });
  }

  for (const [k, value] of Object.entries({ int: 5, null: null, false: false, str: 'custom' })) {
    it(`create_sid returning ${k}`, async () => {
      const want = fromPhp[`create_sid:${k}`] as Outcome & { id: string };
      const uh = createUserSaveHandler(parseSaveHandlerArgs([handlerReturning('create_sid', value)]), fake().ctx);
      let id: unknown;
      let threw: [string, string, null] | null = null;
      try {
        id = await uh.createSid!();
      } catch (e) {
        threw = [(e as Error).name, (e as Error).message, null];
      }
      expect(threw).toEqual(want.threw);
      if (threw === null) expect(id).toBe(want.id);
    });
  }
});

describeWith(['php'], 'recursion guard and exceptions: as PHP', () => {
  let fromPhp: Record<string, unknown>;
  beforeAll(async () => {
    fromPhp = (await php(`${PHP_HANDLER}
      class R extends H {
        public $inner = [];
        #[ReturnTypeWillChange] function write($id, $d) { $this->inner[] = session_gc(); $this->inner[] = session_gc(); return true; }
        #[ReturnTypeWillChange] function gc($m) { return 3; }
      }
      $h = new R('', 0);
      session_set_save_handler($h);
      session_start();
      $out['recursion'] = attempt(fn () => session_write_close());
      $out['recursion']['inner'] = $h->inner;
      class T extends H {
        public $calls = [];
        #[ReturnTypeWillChange] function create_sid() { $this->calls[] = 'create_sid'; throw new Exception('no ids'); }
        #[ReturnTypeWillChange] function close() { $this->calls[] = 'close'; return true; }
      }
      $t = new T('', 0);
      session_set_save_handler($t);
      session_id('');
      $out['create_sid-throws'] = attempt(fn () => session_start());
      $out['create_sid-throws']['calls'] = $t->calls;
    `)) as Record<string, unknown>;
  });

  it('a save-handler call from inside a callback warns once, and the guard is then clear', async () => {
    const want = fromPhp['recursion'] as { diag: [string, string][]; inner: unknown[] };
    const pending = { value: undefined as unknown };
    const { ctx, diags } = fake(undefined, pending);
    let uh: ReturnType<typeof createUserSaveHandler>;
    const inner: unknown[] = [];
    const h = {
      ...handlerReturning('', 0),
      write: async () => {
        for (let i = 0; i < 2; i++) {
          const n = await uh.gc(1440);
          inner.push(n < 0 ? false : n);
        }
        return true;
      },
      gc: () => 3,
    };
    uh = createUserSaveHandler(parseSaveHandlerArgs([h]), ctx);
    expect(await uh.write('id', new Uint8Array(), 1440)).toBe(true);
    expect(inner).toEqual(want.inner);
    expect(diags.map((d) => [d.level, d.message])).toEqual(want.diag.map(([l, m]) => [l, bare(m)]));
  });

  it('create_sid throwing: Error "Session id must be a string" whose cause is the exception; close is skipped', async () => {
    const want = fromPhp['create_sid-throws'] as { threw: [string, string, string]; calls: string[] };
    const pending = { value: undefined as unknown };
    const { ctx } = fake(undefined, pending);
    const calls: string[] = [];
    const h = {
      ...handlerReturning('', 0),
      create_sid: () => {
        calls.push('create_sid');
        throw new Error('no ids');
      },
      close: () => {
        calls.push('close');
        return true;
      },
    };
    const uh = createUserSaveHandler(parseSaveHandlerArgs([h]), ctx);
    await uh.open('', 'PHPSESSID');
    expect(await uh.createSid!()).toBeNull();
    // The engine's abort path closes the handler; with the exception pending PHP runs no callback.
    expect(await uh.close()).toBe(false);
    expect(uh.opened).toBe(false);
    const err = pending.value as Error;
    expect([err.name, err.message, (err.cause as Error).message]).toEqual(want.threw);
    expect(calls).toEqual(want.calls);
  });

  it('without the pending-exception hooks a callback exception is thrown at once', async () => {
    const boom = new Error('boom');
    const h = { ...handlerReturning('', 0), read: () => { throw boom; } };
    const uh = createUserSaveHandler(parseSaveHandlerArgs([h]), fake().ctx);
    await expect(uh.read('x', 0)).rejects.toBe(boom);
    expect(uh.inSaveHandler).toBe(false);
  });
});

describe('user handler: TypeScript data shapes and labels', () => {
  it('write receives a string for UTF-8 data and PhpBytes otherwise; read accepts all three shapes', async () => {
    const seen: unknown[] = [];
    const h = { ...handlerReturning('', 0), write: (_id: string, d: unknown) => (seen.push(d), true) };
    const uh = createUserSaveHandler(parseSaveHandlerArgs([h]), fake().ctx);
    await uh.write('id', Buffer.from('a|s:2:"é";'), 1440);
    await uh.write('id', Uint8Array.from([0x61, 0x7c, 0xff]), 1440);
    expect(seen[0]).toBe('a|s:2:"é";');
    expect(seen[1]).toBeInstanceOf(PhpBytes);
    expect([...(seen[1] as PhpBytes).bytes]).toEqual([0x61, 0x7c, 0xff]);
    expect(toSessionData(Uint8Array.from([0xc3]))).toBeInstanceOf(PhpBytes);
    for (const r of ['x', Buffer.from('x'), new PhpBytes(Buffer.from('x'))]) {
      const u = createUserSaveHandler(parseSaveHandlerArgs([handlerReturning('read', r)]), fake().ctx);
      expect(Buffer.from((await u.read('id', 0)) as Uint8Array).toString()).toBe('x');
    }
  });

  it('updateTimestamp falls back to write; optional createSid/validateSid exist only when supplied', async () => {
    const calls: string[] = [];
    const h = handlerReturning('', 0, calls) as Record<string, unknown>;
    delete h['updateTimestamp'];
    delete h['validateId'];
    delete h['create_sid'];
    const uh = createUserSaveHandler(parseSaveHandlerArgs([h]), fake().ctx);
    expect(await uh.updateTimestamp!('id', Buffer.from('a'), 0)).toBe(true);
    expect(calls).toEqual(['write("id","a")']);
    expect(uh.createSid).toBeUndefined();
    expect(uh.validateSid).toBeUndefined();
  });

  it('userModule with nothing registered: "User session functions are not defined"', async () => {
    const { ctx, diags } = fake();
    const h = userModule.create(ctx);
    expect(await h.open('', 'PHPSESSID')).toBe(false);
    expect(diags.map((d) => d.message)).toEqual(['User session functions are not defined']);
  });

  it('jsTypeName names values as PHP does', () => {
    // One mapping for the whole library (lib/zend/types): a plain data object is an array, as in
    // the value model (PhpArray.from); a plain object carrying methods is an object (stdClass).
    expect([null, undefined, 1, 1.5, new PhpFloat(1), 'x', [], {}, { open() {} }, new (class Foo {})()].map(jsTypeName)).toEqual([
      'null', 'null', 'int', 'float', 'float', 'string', 'array', 'array', 'stdClass', 'Foo',
    ]);
  });
});

describeWith(['php'], 'SessionHandler: sanity checks as PHP', () => {
  let fromPhp: Record<string, unknown>;
  beforeAll(async () => {
    fromPhp = (await php(`${PHP_HANDLER}
      $out['inactive'] = attempt(fn () => (new SessionHandler)->gc(1));
      session_set_save_handler(new class extends SessionHandler {
        #[ReturnTypeWillChange] function open($p, $n) { return true; }
        #[ReturnTypeWillChange] function read($id) { return ''; }
        #[ReturnTypeWillChange] function close() { return true; }
      });
      session_start();
      $h = new SessionHandler;
      $out['not-open'] = attempt(fn () => $h->read('x'));
      $out['close-args'] = attempt(fn () => $h->close(1));
      session_abort();
    `)) as Record<string, unknown>;
  });

  const memModule = (log: string[]): SaveHandlerModule => ({
    name: 'mem',
    create: (): SaveHandler => ({
      name: 'mem',
      open: () => (log.push('open'), true),
      close: () => (log.push('close'), true),
      read: () => Buffer.from('a|i:1;'),
      write: () => true,
      destroy: () => true,
      gc: () => -1,
    }),
  });

  it('no active session: Error "Session is not active"', async () => {
    const want = fromPhp['inactive'] as { threw: unknown[] };
    const { ctx, setActive } = fake(memModule([]));
    const sh = new SessionHandler();
    createUserSaveHandler(parseSaveHandlerArgs([sh]), ctx);
    setActive(false);
    await expect(sh.gc(1)).rejects.toMatchObject({ name: (want.threw as string[])[0], message: (want.threw as string[])[1] });
  });

  it('parent not open: PHP\'s warning and false; close with arguments closes, then ArgumentCountError', async () => {
    const notOpen = fromPhp['not-open'] as { ret: unknown; diag: [string, string][] };
    const closeArgs = fromPhp['close-args'] as { threw: unknown[]; diag: [string, string][] };
    const log: string[] = [];
    const { ctx, diags } = fake(memModule(log));
    const sh = new SessionHandler();
    createUserSaveHandler(parseSaveHandlerArgs([sh]), ctx);
    expect(await sh.read('x')).toBe(notOpen.ret);
    expect(diags.map((d) => [d.level, d.message])).toEqual(notOpen.diag);
    expect(diags.every((d) => d.raw)).toBe(true);
    diags.length = 0;
    expect(await sh.open('', 'PHPSESSID')).toBe(true);
    expect(await sh.read('x')).toBe('a|i:1;');
    expect(await sh.gc(10)).toBe(false);
    await expect((sh.close as (...a: unknown[]) => Promise<boolean>)(1)).rejects.toMatchObject({
      name: (closeArgs.threw as string[])[0],
      message: (closeArgs.threw as string[])[1],
    });
    expect(log).toEqual(['open', 'close']);
    expect(await sh.read('x')).toBe(false);
  });

  it('no default module: Error "Cannot call default session handler"', async () => {
    const { ctx } = fake(undefined);
    const sh = new SessionHandler();
    createUserSaveHandler(parseSaveHandlerArgs([sh]), ctx);
    await expect(sh.open('', 'x')).rejects.toMatchObject({ name: 'Error', message: 'Cannot call default session handler' });
  });
});
