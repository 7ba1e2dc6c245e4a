/**
 * @module spec/user/scenarios
 * Differential scenarios for the user save handler. Each scenario describes a recording handler
 * (which form, which optional methods, how each callback behaves) and one or more requests of
 * session calls. spec/php/driver.php (user-handler mode) runs it in php-cgi, spec/user/engine.ts in the engine, and
 * the two transcripts must match.
 */

/** Typed JSON: `{ $float }` is a PHP float, `{ $obj: 'Cls' }` a new object of an empty class. */
export type Val = null | boolean | number | string | Val[] | { $float: number } | { $obj: string } | { [k: string]: Val };

/** Callback names as logged (PHP's method names; the callable form uses the same names per slot). */
export type Cb = 'open' | 'close' | 'read' | 'write' | 'destroy' | 'gc' | 'create_sid' | 'validateId' | 'updateTimestamp';

export type Action =
  | { return: Val }
  | { throw: string }
  | { nothing: true }
  /** Calls a session function from inside the callback (logged as "inner"), then behaves as default. */
  | { call: string; args?: Val[] };

/** How the `nth` call (1-based, per request) of `cb` behaves; without nth, every call. */
export interface Behaviour {
  cb: Cb;
  nth?: number;
  do: Action;
}

export interface HandlerSetup {
  /** object: implements SessionHandlerInterface; extends: extends SessionHandler (wraps files); callables: 6..9 functions. */
  form: 'object' | 'extends' | 'callables';
  className?: string;
  /** Optional methods the class defines. */
  optional?: ('create_sid' | 'validateId' | 'updateTimestamp')[];
  /** Callable form: how many callbacks (6..9). */
  callables?: number;
  /** Second argument of the object form; absent = not passed. */
  registerShutdown?: Val;
  behave?: Behaviour[];
}

export type Step =
  | { register: true }
  | { fn: string; args?: Val[] }
  | { handler: string; args?: Val[] }
  | { set: string; value: Val }
  | { unset: string };

export interface RequestSpec {
  steps: Step[];
  /** Session cookie sent: undefined = the id from the previous response's Set-Cookie (if any), null = none. */
  cookie?: string | null;
}

export interface UserScenario {
  name: string;
  description: string;
  /**
   * PHP 8.2 ext/session/tests files whose subject this scenario exercises (spec/conformance/phpt.ts
   * counts them in PHPT.md). Only where the scenario really does what the phpt tests.
   */
  covers?: string[];
  ini?: Record<string, string>;
  handler: HandlerSetup;
  requests: RequestSpec[];
}

const reg: Step = { register: true };
const start: Step = { fn: 'session_start' };
const close: Step = { fn: 'session_write_close' };
const set = (k: string, v: Val): Step => ({ set: k, value: v });
const fn = (name: string, ...args: Val[]): Step => (args.length === 0 ? { fn: name } : { fn: name, args });

/** One request: register, start, set a value, write and close. */
const basic = (...extra: Step[]): Step[] => [reg, start, set('n', 1), ...extra, close];
/** A scenario whose one callback misbehaves in the given way, on a request that does everything. */
function failing(name: string, cb: Cb, act: Action, opts: Partial<UserScenario> & { steps?: Step[] } = {}): UserScenario {
  return {
    name,
    description: `${cb} ${JSON.stringify(act)}`,
    ...(opts.ini !== undefined ? { ini: opts.ini } : {}),
    handler: { form: 'object', optional: ['create_sid', 'validateId', 'updateTimestamp'], ...(opts.handler ?? {}), behave: [{ cb, do: act }] },
    requests: opts.requests ?? [{ steps: opts.steps ?? basic() }],
  };
}

const MEM: HandlerSetup = { form: 'object', className: 'MemHandler', optional: ['create_sid'] };
const FULL: HandlerSetup = { form: 'object', className: 'FullHandler', optional: ['create_sid', 'validateId', 'updateTimestamp'] };
const STRICT = { 'session.use_strict_mode': '1' };
const LAZY = { 'session.lazy_write': '1' };

export const scenarios: UserScenario[] = [
  // ---- memory store: the ordinary flows ---------------------------------------------------
  {
    name: 'mem-two-requests',
    description: 'write in one request, read it back in the next',
    handler: MEM,
    requests: [{ steps: basic(set('s', 'text')) }, { steps: [reg, start, set('m', 2)] }],
  },
  {
    name: 'mem-builtin-id',
    description: 'no create_sid: the built-in generator makes the id',
    handler: { form: 'object', className: 'NoSid' },
    requests: [{ steps: basic() }, { steps: [reg, start, close] }],
  },
  {
    name: 'mem-regenerate-keep',
    description: 'session_regenerate_id(false): write old, close, open, create_sid, read new',
    handler: MEM,
    requests: [{ steps: basic() }, { steps: [reg, start, fn('session_regenerate_id', false), set('x', 'y'), close] }],
  },
  {
    name: 'mem-regenerate-delete',
    description: 'session_regenerate_id(true): destroy old instead of write',
    handler: MEM,
    requests: [{ steps: basic() }, { steps: [reg, start, fn('session_regenerate_id', true), close] }],
  },
  {
    name: 'mem-destroy',
    description: 'session_destroy calls destroy then close',
    handler: MEM,
    requests: [{ steps: basic() }, { steps: [reg, start, fn('session_destroy'), fn('session_status')] }],
  },
  {
    name: 'mem-gc',
    description: 'session_gc returns what gc returned',
    handler: MEM,
    requests: [{ steps: basic(fn('session_gc')) }],
  },
  {
    name: 'mem-gc-probability',
    description: 'gc runs during start when probability is 1/1',
    ini: { 'session.gc_probability': '1', 'session.gc_divisor': '1' },
    handler: MEM,
    requests: [{ steps: basic() }],
  },
  {
    name: 'mem-abort',
    description: 'session_abort closes without writing',
    handler: MEM,
    requests: [{ steps: [reg, start, set('a', 1), fn('session_abort'), fn('session_status')] }],
  },
  {
    name: 'mem-reset',
    description: 'session_reset re-reads without closing',
    handler: MEM,
    requests: [{ steps: basic() }, { steps: [reg, start, set('n', 5), fn('session_reset'), close] }],
  },
  {
    name: 'mem-empty-session',
    description: 'an empty session writes ""',
    handler: MEM,
    requests: [{ steps: [reg, start, close] }],
  },
  {
    name: 'mem-shutdown-write',
    description: 'no explicit close: the shutdown function writes and closes',
    handler: MEM,
    requests: [{ steps: [reg, start, set('late', true)] }],
  },
  {
    name: 'mem-no-register-shutdown',
    description: 'register_shutdown=false: written at request shutdown',
    handler: { ...MEM, registerShutdown: false },
    requests: [{ steps: [reg, start, set('late', 1)] }],
  },
  {
    name: 'mem-register-null',
    description: 'register_shutdown=null: deprecation',
    handler: { ...MEM, registerShutdown: null },
    requests: [{ steps: basic() }],
  },
  {
    name: 'mem-register-while-active',
    description: 'registering during an active session warns and returns false',
    handler: MEM,
    requests: [{ steps: [reg, start, reg, close] }],
  },
  {
    name: 'mem-start-twice-and-create-id',
    description: 'session_create_id with a prefix while active',
    handler: FULL,
    requests: [{ steps: [reg, start, fn('session_create_id', 'pre-'), close] }],
  },
  {
    name: 'mem-create-id-inactive',
    description: 'session_create_id without an active session uses the built-in generator',
    handler: FULL,
    requests: [{ steps: [reg, fn('session_create_id'), start, close] }],
  },
  {
    name: 'mem-create-id-collisions',
    description: 'validateId says every new id exists: "Failed to create new ID"',
    handler: { ...FULL, behave: [{ cb: 'validateId', do: { return: true } }] },
    requests: [{ steps: [reg, start, fn('session_create_id'), close] }],
  },
  {
    name: 'mem-session-id-cookie-unknown',
    description: 'a cookie id that does not exist, non-strict: used as is',
    handler: FULL,
    requests: [{ cookie: 'unknownid123', steps: basic() }],
  },
  // ---- strict mode, validateId, updateTimestamp ------------------------------------------
  {
    name: 'strict-unknown-id',
    description: 'strict mode: validateId false for an unknown id, so create_sid',
    ini: STRICT,
    handler: FULL,
    requests: [{ cookie: 'forgedid123', steps: basic() }],
  },
  {
    name: 'strict-known-id',
    description: 'strict mode: validateId true, id kept',
    ini: STRICT,
    handler: FULL,
    requests: [{ steps: basic() }, { steps: basic() }],
  },
  {
    name: 'strict-no-validateid',
    description: 'strict mode without validateId accepts any id',
    ini: STRICT,
    handler: MEM,
    requests: [{ cookie: 'forgedid123', steps: basic() }],
  },
  {
    name: 'strict-validateid-int0',
    description: 'validateId returns 0: deprecation, counts as success (valid)',
    ini: STRICT,
    handler: { ...FULL, behave: [{ cb: 'validateId', do: { return: 0 } }] },
    requests: [{ cookie: 'forgedid123', steps: basic() }],
  },
  {
    name: 'strict-validateid-string',
    description: 'validateId returns a string: TypeError',
    ini: STRICT,
    handler: { ...FULL, behave: [{ cb: 'validateId', do: { return: 'yes' } }] },
    requests: [{ cookie: 'forgedid123', steps: basic() }],
  },
  {
    name: 'strict-regenerate-collision',
    description: 'regenerate in strict mode: validateId true twice means two collisions',
    ini: STRICT,
    handler: { ...FULL, behave: [{ cb: 'validateId', nth: 2, do: { return: true } }, { cb: 'validateId', nth: 3, do: { return: true } }] },
    requests: [{ steps: basic() }, { steps: [reg, start, fn('session_regenerate_id'), close] }],
  },
  {
    name: 'lazy-unchanged-update-timestamp',
    description: 'lazy_write and unchanged data: updateTimestamp instead of write',
    ini: LAZY,
    handler: FULL,
    requests: [{ steps: basic() }, { steps: [reg, start, close] }],
  },
  {
    name: 'lazy-unchanged-no-update-timestamp',
    description: 'lazy_write, unchanged, no updateTimestamp: write is called',
    ini: LAZY,
    handler: MEM,
    requests: [{ steps: basic() }, { steps: [reg, start, close] }],
  },
  {
    name: 'lazy-changed',
    description: 'lazy_write with changed data: write',
    ini: LAZY,
    handler: FULL,
    requests: [{ steps: basic() }, { steps: [reg, start, set('n', 2), close] }],
  },
  {
    name: 'lazy-update-timestamp-fails',
    description: 'updateTimestamp returns false: warning names RecHandler::updateTimestamp',
    ini: LAZY,
    handler: { ...FULL, className: 'RecHandler', behave: [{ cb: 'updateTimestamp', do: { return: false } }] },
    requests: [{ steps: basic() }, { steps: [reg, start, close] }],
  },
  {
    name: 'lazy-write-fallback-fails',
    description: 'no updateTimestamp, write fails on the lazy path: the message still names updateTimestamp',
    ini: LAZY,
    handler: { ...MEM, behave: [{ cb: 'write', nth: 1, do: { return: false } }] },
    requests: [{ steps: basic() }, { steps: [reg, start, close] }],
  },
  // ---- a callback fails, in turn -----------------------------------------------------------
  failing('fail-open', 'open', { return: false }),
  failing('fail-close', 'close', { return: false }),
  failing('fail-read', 'read', { return: false }),
  failing('fail-write', 'write', { return: false }),
  failing('fail-destroy', 'destroy', { return: false }, { steps: [reg, start, fn('session_destroy'), fn('session_status')] }),
  failing('fail-gc', 'gc', { return: false }, { steps: basic(fn('session_gc')) }),
  failing('fail-create-sid-int', 'create_sid', { return: 5 }),
  failing('fail-create-sid-false', 'create_sid', { return: false }),
  failing('fail-regenerate-create-sid', 'create_sid', { return: null }, {
    requests: [{ cookie: 'abc123', steps: [reg, start, fn('session_regenerate_id'), close] }],
  }),
  failing('fail-regenerate-write', 'write', { return: false }, { steps: [reg, start, fn('session_regenerate_id'), close] }),
  failing('fail-regenerate-destroy', 'destroy', { return: false }, { steps: [reg, start, fn('session_regenerate_id', true), close] }),
  // ---- return values of the wrong type ----------------------------------------------------
  failing('ret-write-nothing', 'write', { nothing: true }),
  failing('ret-write-int0', 'write', { return: 0 }),
  failing('ret-write-int-1', 'write', { return: -1 }),
  failing('ret-write-int2', 'write', { return: 2 }),
  failing('ret-write-string', 'write', { return: 'ok' }),
  failing('ret-write-float', 'write', { return: { $float: 1 } }),
  failing('ret-write-array', 'write', { return: [] }),
  failing('ret-write-object', 'write', { return: { $obj: 'Verdict' } }),
  failing('ret-open-int1', 'open', { return: 1 }),
  failing('ret-open-int0', 'open', { return: 0 }),
  failing('ret-close-nothing', 'close', { nothing: true }),
  failing('ret-read-null', 'read', { return: null }),
  failing('ret-read-int', 'read', { return: 123 }),
  failing('ret-read-empty', 'read', { return: '' }),
  failing('ret-read-garbage', 'read', { return: 'not a session' }),
  failing('ret-destroy-string', 'destroy', { return: 'x' }, { steps: [reg, start, fn('session_destroy'), fn('session_status')] }),
  failing('ret-gc-true', 'gc', { return: true }, { steps: basic(fn('session_gc')) }),
  failing('ret-gc-seven', 'gc', { return: 7 }, { steps: basic(fn('session_gc')) }),
  failing('ret-gc-string', 'gc', { return: '5' }, { steps: basic(fn('session_gc')) }),
  failing('ret-create-sid-empty', 'create_sid', { return: '' }),
  // ---- a callback throws --------------------------------------------------------------------
  failing('throw-open', 'open', { throw: 'open exploded' }, { steps: [reg, start, fn('session_status'), close] }),
  failing('throw-read', 'read', { throw: 'read exploded' }, { steps: [reg, start, fn('session_status'), close] }),
  failing('throw-write', 'write', { throw: 'write exploded' }, { steps: [reg, start, set('a', 1), close, fn('session_status')] }),
  failing('throw-close', 'close', { throw: 'close exploded' }, { steps: [reg, start, close, fn('session_status')] }),
  failing('throw-create-sid', 'create_sid', { throw: 'no ids today' }, { steps: [reg, start, fn('session_status')] }),
  failing('throw-destroy', 'destroy', { throw: 'destroy exploded' }, { steps: [reg, start, fn('session_destroy'), fn('session_status')] }),
  failing('throw-gc', 'gc', { throw: 'gc exploded' }, { steps: [reg, start, fn('session_gc'), close] }),
  failing('throw-validateid', 'validateId', { throw: 'validate exploded' }, {
    ini: STRICT,
    requests: [{ cookie: 'forgedid123', steps: [reg, start, fn('session_status')] }],
  }),
  failing('throw-write-type-error-skips-close', 'write', { return: 'bad' }, { steps: [reg, start, close, fn('session_status'), start, close] }),
  // ---- recursion ----------------------------------------------------------------------------
  failing('recurse-gc-in-write', 'write', { call: 'session_gc' }),
  failing('recurse-create-id-in-read', 'read', { call: 'session_create_id' }),
  // ---- the callable form --------------------------------------------------------------------
  {
    name: 'callables-six',
    description: 'six callbacks, two requests',
    handler: { form: 'callables', callables: 6 },
    requests: [{ steps: basic() }, { steps: [reg, start, close] }],
  },
  {
    name: 'callables-seven-create-sid',
    description: 'create_sid as a seventh callback',
    handler: { form: 'callables', callables: 7 },
    requests: [{ steps: basic() }],
  },
  {
    name: 'callables-nine-lazy',
    description: 'nine callbacks, lazy_write, unchanged data: update_timestamp',
    ini: { ...LAZY, ...STRICT },
    handler: { form: 'callables', callables: 9 },
    requests: [{ steps: basic() }, { steps: [reg, start, close] }],
  },
  {
    name: 'callables-write-fails',
    description: 'the warning names the callback as "write"',
    handler: { form: 'callables', callables: 6, behave: [{ cb: 'write', do: { return: false } }] },
    requests: [{ steps: basic() }],
  },
  {
    name: 'callables-update-timestamp-fails',
    description: 'the warning names the callback as "update_timestamp"',
    ini: LAZY,
    handler: { form: 'callables', callables: 9, behave: [{ cb: 'updateTimestamp', do: { return: false } }] },
    requests: [{ steps: basic() }, { steps: [reg, start, close] }],
  },
  // ---- extends SessionHandler (wraps files) --------------------------------------------------
  {
    name: 'extends-two-requests',
    description: 'a subclass forwarding everything to files',
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [{ steps: basic(set('s', 'x')) }, { steps: [reg, start, set('m', 1), close] }],
  },
  {
    name: 'extends-skip-parent-open',
    description: 'open does not call parent::open: "Parent session handler is not open"',
    handler: { form: 'extends', className: 'Lazy', behave: [{ cb: 'open', do: { return: true } }] },
    requests: [{ steps: basic() }],
  },
  {
    name: 'extends-regenerate-destroy',
    description: 'regenerate and destroy through files',
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [{ steps: basic() }, { steps: [reg, start, fn('session_regenerate_id', true), fn('session_destroy')] }],
  },
  {
    name: 'extends-gc-outside-session',
    description: 'calling a SessionHandler method with no active session: Error',
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [{ steps: [reg, { handler: 'gc', args: [100] }, { handler: 'create_sid' }, start, close] }],
  },
  {
    name: 'extends-direct-gc-active',
    description: 'calling gc directly during the session',
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [{ steps: [reg, start, { handler: 'gc', args: [1000] }, close] }],
  },
  {
    name: 'extends-strict-validateid',
    description: 'a subclass with validateId in strict mode',
    ini: STRICT,
    handler: { form: 'extends', className: 'Checked', optional: ['validateId'] },
    requests: [{ cookie: 'forgedid123', steps: basic() }],
  },
  {
    name: 'extends-lazy-no-update-timestamp',
    description: 'a subclass in lazy_write: unchanged data goes to write',
    ini: LAZY,
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [{ steps: basic() }, { steps: [reg, start, close] }],
  },
  {
    name: 'extends-read-throws',
    description: 'a subclass throwing from read',
    handler: { form: 'extends', className: 'Boom', behave: [{ cb: 'read', do: { throw: 'disk on fire' } }] },
    requests: [{ steps: [reg, start, fn('session_status'), close] }],
  },
  {
    name: 'extends-two-cycles',
    description: 'start/close twice in one request through SessionHandler',
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [{ steps: [reg, start, set('a', 1), close, start, set('b', 2), close] }],
  },
  {
    name: 'extends-gc-probability',
    description: 'gc through SessionHandler during start (files counts deleted sessions)',
    ini: { 'session.gc_probability': '1', 'session.gc_divisor': '1' },
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [{ steps: basic() }],
  },
  {
    name: 'extends-create-id-active',
    description: 'session_create_id during the session goes through SessionHandler::create_sid',
    handler: { form: 'extends', className: 'FileProxy', optional: ['create_sid'] },
    requests: [{ steps: [reg, start, fn('session_create_id', 'p-'), close] }],
  },
  {
    name: 'register-bad-second-arg',
    description: 'register_shutdown of type array: TypeError, nothing registered',
    handler: { ...MEM, registerShutdown: [] },
    requests: [{ steps: [reg, start, close] }],
  },
  {
    name: 'callables-register-twice',
    description: 'registering callables twice; the warning names the callback without a class',
    handler: { form: 'callables', callables: 6, behave: [{ cb: 'write', do: { return: false } }] },
    requests: [{ steps: [reg, reg, start, close] }],
  },
  {
    name: 'session-id-nul',
    description: 'session_id("abc\\0def"): callbacks get the whole id, session_id() answers up to the NUL',
    handler: FULL,
    requests: [{ cookie: null, steps: [reg, fn('session_id', 'abc\0def'), fn('session_id'), start, fn('session_id'), set('n', 1), close, fn('session_id')] }],
  },
  {
    name: 'extends-session-id-nul',
    description: 'session_id("abc\\0def") through SessionHandler: files stores it as sess_abc',
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [{ cookie: null, steps: [reg, fn('session_id', 'abc\0def'), start, fn('session_id'), set('n', 1), close] }],
  },
  // ---- more flows, after PHP's own tests (see `covers`) ------------------------------------
  {
    name: 'callables-restart-objects',
    description: 'callables: session_id, objects in the session, three starts in one request with re-registration, session_decode, destroy',
    handler: { form: 'callables', callables: 6 },
    requests: [
      {
        cookie: null,
        steps: [
          reg, fn('session_id', 'test004'), start, set('baz', { $obj: 'Foo' }), set('arr', [{ $obj: 'Foo' }]), close,
          reg, start, fn('session_decode', 'c|i:123;'), set('d', [1, { $float: 2.5 }]), close,
          reg, start, fn('session_encode'), fn('session_destroy'),
        ],
      },
    ],
  },
  {
    name: 'callables-start-destroy-start',
    description: 'function callables with gc at every start: write, close, start, destroy, start again and end without closing',
    ini: { 'session.gc_probability': '1', 'session.gc_divisor': '1' },
    handler: { form: 'callables', callables: 6 },
    requests: [{ steps: [reg, start, set('A', 'B'), close, start, set('C', 'D'), fn('session_destroy'), start, set('E', 'F')] }],
  },
  {
    name: 'callables-basic-cycle',
    description: 'module name before and after registering, write, unset, re-register, gc, destroy',
    handler: { form: 'callables', callables: 6 },
    requests: [
      {
        steps: [
          fn('session_module_name'), reg, fn('session_module_name'), fn('ini_get', 'session.save_handler'),
          start, set('Blah', 'Hello World!'), set('Foo', false), set('Guff', 1234567890), close, fn('session_unset'),
          reg, start, set('Bar', 'Foo'), close, start, fn('session_gc'), close, start, fn('session_destroy'),
        ],
      },
    ],
  },
  {
    name: 'extends-regenerate-delete-keeps-data',
    description: 'SessionHandler: regenerate_id(true) keeps $_SESSION; written under the new id and read back',
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [{ steps: [reg, start, set('foo', 'hello'), fn('session_regenerate_id', true), set('bar', 'world'), close, fn('session_unset'), start, close] }],
  },
  {
    name: 'extends-regenerate-keep-keeps-data',
    description: 'SessionHandler: regenerate_id(false) keeps $_SESSION; written under the new id and read back',
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [{ steps: [reg, start, set('foo', 'hello'), fn('session_regenerate_id', false), set('bar', 'world'), close, fn('session_unset'), start, close] }],
  },
  {
    name: 'extends-methods-outside-session',
    description: 'SessionHandler open (twice), write and read with no active session: Error each time',
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [
      {
        steps: [
          reg, { handler: 'open', args: ['', ''] }, { handler: 'open', args: ['', ''] }, { handler: 'write', args: ['foo', 'bar'] },
          { handler: 'read', args: [''] }, start, close,
        ],
      },
    ],
  },
  {
    name: 'strict-no-validateid-create-id',
    description: 'strict mode, no create_sid/validateId: the id survives a restart, session_create_id works',
    ini: STRICT,
    handler: { form: 'object', className: 'SessionHandlerTester' },
    requests: [{ cookie: null, steps: [reg, start, fn('session_id'), close, start, fn('session_id'), fn('session_create_id'), close] }],
  },
  {
    name: 'register-no-start',
    description: 'a handler registered but never started: no callback runs',
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [{ steps: [reg] }],
  },
  {
    name: 'module-name-variations',
    description: 'session_module_name with false, an unknown name and files',
    handler: MEM,
    requests: [
      {
        steps: [
          fn('session_module_name'), fn('session_module_name', false), fn('session_module_name'), fn('session_module_name', 'blah'),
          fn('session_module_name'), fn('session_module_name', 'files'), fn('session_module_name'),
        ],
      },
    ],
  },
  {
    name: 'auto-start-register',
    description: 'session.auto_start=1: registering fails while active, then destroy through files',
    ini: { 'session.auto_start': '1' },
    handler: MEM,
    requests: [{ steps: [fn('session_status'), reg, fn('session_destroy')] }],
  },
  {
    name: 'set-save-handler-not-callable',
    description: 'session_set_save_handler with scalars that are not callbacks: TypeError naming the argument',
    handler: MEM,
    requests: [
      {
        steps: [
          fn('session_set_save_handler', 0, null, null, null, null, null),
          fn('session_set_save_handler', { $float: 10.5 }, null, null, null, null, null),
          fn('session_set_save_handler', true, null, null, null, null, null),
          fn('session_set_save_handler', '', null, null, null, null, null),
          fn('session_set_save_handler', 'Nothing', null, null, null, null, null),
          fn('session_set_save_handler', [null, 'open'], [null, 'close'], [null, 'read'], [null, 'write'], [null, 'destroy'], [null, 'gc']),
          fn('session_set_save_handler', [1, 2]),
          fn('session_module_name'),
        ],
      },
    ],
  },
  {
    name: 'invalid-ini-save-handler-then-register',
    description: 'session.save_handler names no module: registering a handler still works and ini_get says user',
    ini: { 'session.save_handler': 'whatever' },
    handler: MEM,
    requests: [{ steps: [fn('ini_get', 'session.save_handler'), reg, fn('ini_get', 'session.save_handler'), start, close] }],
  },
  {
    name: 'invalid-ini-save-handler-callables',
    description: 'session.save_handler names no module: registering closures still works and ini_get says user',
    ini: { 'session.save_handler': 'whatever' },
    handler: { form: 'callables', callables: 6 },
    requests: [{ steps: [fn('ini_get', 'session.save_handler'), reg, fn('ini_get', 'session.save_handler')] }],
  },
  {
    name: 'startup-save-handler-user-then-sessionhandler',
    description: 'session.save_handler=user in the startup ini, then a SessionHandler subclass is registered and started',
    ini: { 'session.save_handler': 'user' },
    handler: { form: 'extends', className: 'FileProxy' },
    requests: [{ steps: [fn('ini_get', 'session.save_handler'), reg, fn('ini_get', 'session.save_handler'), start, close] }],
  },
  {
    name: 'sync-lazy-nothing-changed-empty',
    description: 'lazy_write with an empty session that stays empty',
    ini: LAZY,
    handler: FULL,
    requests: [{ steps: [reg, start, close] }, { steps: [reg, start, close] }],
  },
];

/**
 * PHP 8.2 ext/session/tests files whose subject a scenario exercises (read each phpt before adding
 * one here). Kept apart from the scenario literals so failing() needs no extra parameter.
 */
const COVERS: Record<string, string[]> = {
  'callables-restart-objects': ['004.phpt', '005.phpt', '024.phpt', '025.phpt'],
  'callables-start-destroy-start': ['bug32330.phpt'],
  'callables-basic-cycle': ['session_set_save_handler_basic.phpt', 'session_set_save_handler_closures.phpt'],
  'extends-gc-outside-session': ['bug55688.phpt', 'bug67972.phpt'],
  'extends-regenerate-delete-keeps-data': ['bug63379.phpt'],
  'extends-regenerate-keep-keeps-data': ['bug63379_nodestroy.phpt'],
  'extends-methods-outside-session': ['bug69111.phpt', 'sessionhandler_open_001.phpt'],
  'mem-create-id-collisions': ['bug79091.phpt'],
  'invalid-ini-save-handler-then-register': ['bug80889.phpt'],
  'invalid-ini-save-handler-callables': ['bug80889a.phpt'],
  'set-save-handler-not-callable': ['bug31454.phpt', 'session_set_save_handler_error.phpt'],
  'lazy-update-timestamp-fails': ['gh7787.phpt'],
  'callables-write-fails': ['gh7787.phpt'],
  'callables-update-timestamp-fails': ['gh7787.phpt'],
  'fail-write': ['gh7787.phpt'],
  'strict-no-validateid-create-id': ['gh9583.phpt', 'gh9583-extra.phpt'],
  'extends-strict-validateid': ['session_set_save_handler_class_001.phpt'],
  'mem-two-requests': ['session_set_save_handler_class_002.phpt', 'session_set_save_handler_class_017.phpt', 'session_set_save_handler_iface_001.phpt', 'session_set_save_handler_iface_003.phpt'],
  'callables-six': ['session_set_save_handler_class_002.phpt', 'session_set_save_handler_iface_001.phpt'],
  'extends-two-requests': ['session_set_save_handler_class_004.phpt'],
  'extends-skip-parent-open': ['session_set_save_handler_class_005.phpt'],
  'mem-shutdown-write': ['session_set_save_handler_class_009.phpt'],
  'register-no-start': ['session_set_save_handler_class_015.phpt'],
  'extends-create-id-active': ['session_set_save_handler_class_016.phpt'],
  'callables-seven-create-sid': ['session_set_save_handler_sid_001.phpt', 'session_set_save_handler_sid_002.phpt'],
  'ret-open-int0': ['session_set_save_handler_type_error.phpt'],
  'ret-write-array': ['session_set_save_handler_type_error.phpt'],
  'fail-read': ['session_set_save_handler_error2.phpt'],
  'ret-write-nothing': ['session_set_save_handler_error2.phpt'],
  'throw-open': ['session_set_save_handler_error3.phpt'],
  // write (close) throws inside session_write_close: the throwable leaves session_write_close, close is not called after write.
  'throw-write': ['bug60634_error_1.phpt', 'bug60634_error_2.phpt'],
  'throw-close': ['bug60634_error_5.phpt'],
  'module-name-variations': ['session_set_save_handler_variation1.phpt'],
  'mem-register-while-active': ['session_set_save_handler_variation2.phpt'],
  'auto-start-register': ['session_set_save_handler_variation3.phpt'],
  'mem-gc-probability': ['session_set_save_handler_variation4.phpt'],
  'startup-save-handler-user-then-sessionhandler': ['session_set_save_handler_class_014.phpt'],
};
for (const [name, covers] of Object.entries(COVERS)) {
  const s = scenarios.find((x) => x.name === name);
  if (s === undefined) throw new Error(`COVERS names an unknown scenario: ${name}`);
  s.covers = covers;
}
