/**
 * @module handlers/user
 * The `user` save handler: storage supplied by application code through
 * `session_set_save_handler()`, either as an object shaped like PHP's `SessionHandlerInterface`
 * or as 6 to 9 separate callbacks. Port of ext/session/mod_user.c and the argument handling of
 * PHP_FUNCTION(session_set_save_handler), ext/session/session.c (php-src 8.2.32).
 * Long file: the callback table, the per-request state and SessionHandler share private helpers,
 * as mod_user.c and mod_user_class.c share PS(); apart they would need those helpers exported.
 *
 * Data crossing the boundary (PHP passes strings; TypeScript gets a lossless shape):
 *
 * | direction                         | TypeScript                                                   |
 * | --------------------------------- | ------------------------------------------------------------ |
 * | ids, save path, session name      | `string`                                                     |
 * | session data given to write/updateTimestamp | `string` when the bytes are valid UTF-8 (the common case), else {@link PhpBytes} |
 * | data returned by read             | `string` (UTF-8 encoded), `Uint8Array` or {@link PhpBytes}; anything else is a failed read |
 * | max lifetime given to gc          | `number` (seconds)                                           |
 *
 * Callbacks may be synchronous or return promises. Returning nothing (`undefined`) is PHP's
 * "no return value", i.e. `null`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Diagnostic } from '../lib/errors.ts';
import { PhpArgumentCountError, PhpError, PhpTypeError, SessionError } from '../lib/errors.ts';
import type {
  MaybePromise,
  SaveHandler,
  SaveHandlerContext,
  SaveHandlerModule,
  UserCallbackBinding as BoundCallback,
  UserHandlerContext,
  UserHandlerSpec,
  UserModuleApi,
  UserSaveHandler,
} from '../lib/handler.ts';
import { PhpArray, PhpBytes, PhpFloat, PhpObject } from '../lib/value.ts';
import { doubleToStr, zendClassName, zendIsTrue, zendZvalTypeName, zvalType } from '../lib/zend/index.ts';

export type { UserHandlerContext, UserHandlerSpec, UserSaveHandler } from '../lib/handler.ts';

/** Session data as a user handler sees it: text when it is valid UTF-8, raw bytes otherwise. */
export type SessionData = string | PhpBytes;

/** What a user `read` may return: the data (any of the three shapes) or `false` for failure. */
export type SessionReadResult = string | Uint8Array | PhpBytes | false;

/**
 * PHP's `SessionHandlerInterface`: the six methods every object handler needs (all Required).
 * Method names are PHP's, so a PHP handler ports line for line.
 * @see https://www.php.net/manual/en/class.sessionhandlerinterface.php
 */
export interface SessionHandlerInterface {
  /** Prepares storage. `path` is the raw `session.save_path` value, `name` the session name. */
  open(path: string, name: string): MaybePromise<boolean>;
  /** Releases storage (and locks). Called after write, on abort and on failures after open. */
  close(): MaybePromise<boolean>;
  /** Returns the stored data, `''` for an unknown id (not a failure), or `false` on failure. */
  read(id: string): MaybePromise<SessionReadResult>;
  /** Stores the encoded session. */
  write(id: string, data: SessionData): MaybePromise<boolean>;
  /** Deletes a session; deleting an unknown id succeeds. */
  destroy(id: string): MaybePromise<boolean>;
  /** Deletes sessions idle for more than `max_lifetime` seconds; returns how many, or false. */
  gc(max_lifetime: number): MaybePromise<number | false>;
}

/** PHP's `SessionIdInterface` (Optional): makes new session ids. */
export interface SessionIdInterface {
  create_sid(): MaybePromise<string>;
}

/** PHP's `SessionUpdateTimestampHandlerInterface` (Optional): strict mode and lazy_write support. */
export interface SessionUpdateTimestampHandlerInterface {
  /** True when `id` exists in storage (checked in strict mode, and for collisions of new ids). */
  validateId(id: string): MaybePromise<boolean>;
  /** Refreshes the session's timestamp when its data did not change (lazy_write). */
  updateTimestamp(id: string, data: SessionData): MaybePromise<boolean>;
}

/** Any callback a user handler may supply. */
type UserCallback = (...args: never[]) => unknown;

/** The nine slots of PHP's mod_user_names, in PHP's order. */
const SLOT_NAMES = [
  'open',
  'close',
  'read',
  'write',
  'destroy',
  'gc',
  'create_sid',
  'validate_sid',
  'update_timestamp',
] as const;
type SlotName = (typeof SLOT_NAMES)[number];

/** Method names looked up on an object handler, per slot (PHP's interface method names). */
const METHOD_NAMES: Record<SlotName, string> = {
  open: 'open',
  close: 'close',
  read: 'read',
  write: 'write',
  destroy: 'destroy',
  gc: 'gc',
  create_sid: 'create_sid',
  validate_sid: 'validateId',
  update_timestamp: 'updateTimestamp',
};

const ARG_COUNT_MESSAGE = 'Wrong parameter count for session_set_save_handler()';

/**
 * Validates `session_set_save_handler()`'s arguments as PHP does and returns what to store.
 * Throws PHP's `TypeError` / `ArgumentCountError` with PHP's texts. Pass the spec registered
 * earlier in the same request as `previous`: PHP keeps the optional callbacks (create_sid,
 * validate_sid, update_timestamp) of an earlier registration when the callable form supplies fewer
 * than nine.
 * @see https://www.php.net/manual/en/function.session-set-save-handler.php
 */
export function parseSaveHandlerArgs(args: readonly unknown[], previous?: UserHandlerSpec): UserHandlerSpec {
  const argc = args.length;
  if (argc > 0 && argc <= 2) return parseObjectForm(args[0], argc === 2 ? args[1] : undefined);
  if (argc < 6 || argc > SLOT_NAMES.length) throw new PhpArgumentCountError(ARG_COUNT_MESSAGE);
  const slots: (BoundCallback | undefined)[] = [];
  for (let i = 0; i < argc; i++) {
    const bound = resolveCallable(args[i]);
    if (bound === undefined) {
      throw new PhpTypeError(
        `session_set_save_handler(): Argument #${i + 1} ($${SLOT_NAMES[i]}) must be a valid callback, ` +
          `function "${callableName(args[i])}" not found or invalid function name`,
      );
    }
    slots.push(bound);
  }
  // PHP overwrites only the slots it was given; later slots keep an earlier registration's callbacks.
  for (let i = argc; i < SLOT_NAMES.length; i++) slots.push(previous?.slots[i]);
  return { className: undefined, object: undefined, registerShutdown: false, argumentDiagnostics: [], slots };
}

function parseObjectForm(handler: unknown, shutdownArg: unknown): UserHandlerSpec {
  const methods = typeof handler === 'object' && handler !== null ? methodTable(handler) : undefined;
  const required = SLOT_NAMES.slice(0, 6);
  if (methods === undefined || handler instanceof PhpObject || !required.every((s) => methods.has(METHOD_NAMES[s].toLowerCase()))) {
    throw new PhpTypeError(
      `session_set_save_handler(): Argument #1 ($open) must be of type SessionHandlerInterface, ${jsTypeName(handler)} given`,
    );
  }
  const argumentDiagnostics: Diagnostic[] = [];
  let registerShutdown = true;
  if (shutdownArg !== undefined) {
    const b = toPhpBool(shutdownArg);
    if (b === undefined) {
      throw new PhpTypeError(
        `session_set_save_handler(): Argument #2 ($close) must be of type bool, ${jsTypeName(shutdownArg)} given`,
      );
    }
    if (shutdownArg === null) {
      argumentDiagnostics.push({
        level: 'E_DEPRECATED',
        message: 'Passing null to parameter #2 ($close) of type bool is deprecated',
      });
    }
    registerShutdown = b;
  }
  const slots = SLOT_NAMES.map((s): BoundCallback | undefined => {
    const fn = methods.get(METHOD_NAMES[s].toLowerCase());
    return fn === undefined ? undefined : { fn, self: handler };
  });
  return { className: className(handler as object), object: handler as object, registerShutdown, argumentDiagnostics, slots };
}

/** PHP's non-strict coercion of an argument to bool (zend_parse_arg_bool_weak); undefined when PHP refuses the type. */
function toPhpBool(v: unknown): boolean | undefined {
  const t = zvalType(v);
  return t === 'array' || t === 'object' ? undefined : zendIsTrue(v);
}

/** Methods of an object, keyed by lower-cased name (PHP's method lookup is case-insensitive). */
function methodTable(obj: object): Map<string, UserCallback> {
  const table = new Map<string, UserCallback>();
  for (let o: object | null = obj; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key === 'constructor') continue;
      const lower = key.toLowerCase();
      if (table.has(lower)) continue;
      const desc = Object.getOwnPropertyDescriptor(o, key);
      if (desc !== undefined && typeof desc.value === 'function') table.set(lower, desc.value as UserCallback);
    }
  }
  return table;
}

/** A function, or PHP's `[object, 'method']` pair; undefined when not callable. */
function resolveCallable(v: unknown): BoundCallback | undefined {
  if (typeof v === 'function') return { fn: v as UserCallback, self: undefined };
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'object' && v[0] !== null && typeof v[1] === 'string') {
    const fn = methodTable(v[0] as object).get(v[1].toLowerCase());
    if (fn !== undefined) return { fn, self: v[0] };
  }
  return undefined;
}

/** The name PHP prints for a value that is not callable (zend_get_callable_name). */
function callableName(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v === true) return '1';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : doubleToStr(v);
  if (v instanceof PhpFloat) return doubleToStr(v.value);
  if (v instanceof PhpBytes) return v.toBinaryString();
  if (Array.isArray(v)) {
    if (v.length === 2 && typeof v[1] === 'string') {
      if (typeof v[0] === 'string') return `${v[0]}::${v[1]}`;
      if (typeof v[0] === 'object' && v[0] !== null) return `${className(v[0] as object)}::${v[1]}`;
    }
    return 'Array';
  }
  if (v instanceof PhpArray) return 'Array';
  if (typeof v === 'object') return `${className(v)}::__invoke`;
  return '';
}

/** The PHP class name of a TypeScript object: its constructor's name (`stdClass` for plain objects). */
const className = zendClassName;

/**
 * PHP's zend_zval_type_name() for any value a TypeScript callback may return: `null`, `bool`,
 * `int`, `float`, `string`, `array`, or the class name of an object.
 */
export const jsTypeName: (v: unknown) => string = zendZvalTypeName;

/** Request-wide state PHP keeps in PS(): shared by every user-handler instance of one request. */
interface RequestState {
  ctx: UserHandlerContext;
  inSaveHandler: boolean;
  implemented: boolean;
  /** PS(mod_user_is_open): SessionHandler::open succeeded. */
  parentOpen: boolean;
  /** PS(mod_data) of the default module, used by SessionHandler. */
  parent: SaveHandler | undefined;
  /** The SessionHandler method running (prefix of the default module's diagnostics). */
  parentMethod: string;
}

const requestStates = new WeakMap<UserHandlerContext, RequestState>();
const binding = new AsyncLocalStorage<RequestState>();
const objectBindings = new WeakMap<object, RequestState>();

function stateFor(ctx: UserHandlerContext): RequestState {
  let st = requestStates.get(ctx);
  if (st === undefined) {
    st = {
      ctx,
      inSaveHandler: false,
      implemented: false,
      parentOpen: false,
      parent: undefined,
      parentMethod: '',
    };
    requestStates.set(ctx, st);
  }
  return st;
}

/** The outcome of one callback call: PHP's UNDEF (not called) or the returned value (null for none). */
const UNDEF: unique symbol = Symbol('UNDEF');
type CallResult = typeof UNDEF | unknown;

const BOOL_MESSAGE = (type: string): string =>
  `Session callback must have a return value of type bool, ${type} returned`;

/** Port of mod_user.c's PS_FUNCs: turns PHP-style callback results into SaveHandler results. */
class UserHandler implements UserSaveHandler {
  readonly name = 'user';
  readonly #spec: UserHandlerSpec;
  readonly #st: RequestState;
  readonly createSid?: () => Promise<string | false | null>;
  readonly validateSid?: (id: string) => Promise<boolean>;

  constructor(spec: UserHandlerSpec, st: RequestState) {
    this.#spec = spec;
    this.#st = st;
    // Optional capabilities exist only when supplied, so the engine applies PHP's defaults
    // (built-in id generator; every id valid) and its "validate_sid defined?" checks.
    if (spec.slots[6] !== undefined) this.createSid = () => this.#createSid();
    if (spec.slots[7] !== undefined) this.validateSid = (id) => this.#boolCall(7, [id]);
  }

  get opened(): boolean {
    return this.#st.implemented;
  }

  get inSaveHandler(): boolean {
    return this.#st.inSaveHandler;
  }

  async open(savePath: string, sessionName: string): Promise<boolean> {
    if (this.#spec.slots[0] === undefined) {
      this.#st.ctx.diagnostic('E_WARNING', 'User session functions are not defined');
      return false;
    }
    const r = await this.#call(0, [savePath, sessionName]);
    // After open the handler counts as open whatever open returned, so a failed open is followed by close.
    this.#st.implemented = true;
    return this.#finish(r);
  }

  async close(): Promise<boolean> {
    if (!this.#st.implemented) return true; // already closed
    let r: CallResult;
    try {
      r = await this.#call(1, []);
    } finally {
      this.#st.implemented = false;
    }
    return this.#finish(r);
  }

  async read(id: string): Promise<Uint8Array | false> {
    const r = await this.#call(2, [id]);
    if (typeof r === 'string') return new Uint8Array(Buffer.from(r, 'utf8'));
    if (r instanceof PhpBytes) return r.bytes;
    if (r instanceof Uint8Array) return r;
    return false;
  }

  async write(id: string, data: Uint8Array): Promise<boolean> {
    return this.#finish(await this.#call(3, [id, toSessionData(data)]));
  }

  async destroy(id: string): Promise<boolean> {
    return this.#finish(await this.#call(4, [id]));
  }

  async gc(maxLifetime: number): Promise<number> {
    const r = await this.#call(5, [maxLifetime]);
    if (typeof r === 'number' && Number.isInteger(r)) return r;
    if (typeof r === 'bigint') return Number(r);
    if (r === true) return 1; // older API compatibility
    return -1;
  }

  async updateTimestamp(id: string, data: Uint8Array): Promise<boolean> {
    const slot = this.#spec.slots[8] !== undefined ? 8 : 3;
    return this.#finish(await this.#call(slot, [id, toSessionData(data)]));
  }

  async #createSid(): Promise<string | false | null> {
    const r = await this.#call(6, []);
    if (r === UNDEF) {
      this.#throw(new PhpError('No session id returned by function', this.#causeOpt()));
      return null;
    }
    if (typeof r === 'string') return r;
    if (r instanceof PhpBytes) return r.toBinaryString();
    this.#throw(new PhpError('Session id must be a string', this.#causeOpt()));
    return null;
  }

  async #boolCall(slot: number, args: unknown[]): Promise<boolean> {
    return this.#finish(await this.#call(slot, args));
  }

  /** Port of ps_call_handler(): the recursion guard, the call, and exceptions as PHP leaves them. */
  async #call(slot: number, args: unknown[]): Promise<CallResult> {
    const st = this.#st;
    if (st.inSaveHandler) {
      // PHP clears the flag here too, so the running outer callback is no longer guarded.
      st.inSaveHandler = false;
      st.ctx.diagnostic('E_WARNING', 'Cannot call session save handler in a recursive manner');
      return UNDEF;
    }
    // With an exception pending PHP does not run the callback; the result reads as null.
    if (this.#pending() !== undefined) return null;
    const cb = this.#spec.slots[slot];
    if (cb === undefined) return null;
    st.inSaveHandler = true;
    try {
      const ret = await binding.run(st, () => cb.fn.apply(cb.self, args as never[]));
      return ret === undefined ? null : ret;
    } catch (err) {
      this.#throw(err);
      return null;
    } finally {
      st.inSaveHandler = false;
    }
  }

  /** Port of mod_user.c's FINISH: bool results, the int 0/-1 deprecations and the TypeError. */
  #finish(r: CallResult): boolean {
    if (r === UNDEF || r === true) return r === true;
    if (r === false) return false;
    const pending = this.#pending() !== undefined;
    if (r === 0 || r === -1 || r === 0n || r === -1n) {
      if (!pending) this.#st.ctx.diagnostic('E_DEPRECATED', BOOL_MESSAGE('int'));
      return r === 0 || r === 0n;
    }
    if (!pending) this.#throw(new PhpTypeError(BOOL_MESSAGE(jsTypeName(r))));
    return false;
  }

  #pending(): { error: unknown } | undefined {
    const ctx = this.#st.ctx;
    if (ctx.pendingException !== undefined && ctx.setPendingException !== undefined) {
      const e = ctx.pendingException();
      return e === undefined ? undefined : { error: e };
    }
    return undefined;
  }

  #causeOpt(): { cause?: unknown } {
    const p = this.#pending();
    return p === undefined ? {} : { cause: p.error };
  }

  /** Raises `error` PHP's way: pending when the engine models it, else thrown at once. */
  #throw(error: unknown): void {
    const ctx = this.#st.ctx;
    if (ctx.pendingException !== undefined && ctx.setPendingException !== undefined) {
      ctx.setPendingException(error);
      return;
    }
    throw error;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Session bytes as given to user callbacks: a string when valid UTF-8, else PhpBytes. */
export function toSessionData(data: Uint8Array): SessionData {
  try {
    return utf8.decode(data);
  } catch {
    return new PhpBytes(Uint8Array.from(data));
  }
}

/**
 * Creates the user module's instance for one session (called by the engine on session open).
 * Request-wide PHP state (the recursion guard, "open" marks, the default module's storage) is
 * keyed by `ctx`, so the engine should pass one context object per request.
 */
export function createUserSaveHandler(spec: UserHandlerSpec, ctx: UserHandlerContext): UserSaveHandler {
  const st = stateFor(ctx);
  st.ctx = ctx;
  if (spec.object !== undefined) objectBindings.set(spec.object, st);
  return new UserHandler(spec, st);
}

/** The user-handler seam the engine calls (wired in lib/builtins.ts). */
export const userModuleApi: UserModuleApi = { parseSaveHandlerArgs, createUserSaveHandler };

/**
 * The registry entry for `user`. Instances need a registration (a {@link UserHandlerSpec}), so the
 * engine creates them with {@link createUserSaveHandler}; `create()` stands for PHP's user module
 * with nothing registered: open fails with "User session functions are not defined".
 */
export const userModule: SaveHandlerModule = {
  name: 'user',
  create(ctx: SaveHandlerContext): SaveHandler {
    const bare: UserHandlerContext = {
      ...ctx,
      ini: (n) => ctx.ini(n),
      diagnostic: (l, m, raw) => ctx.diagnostic(l, m, raw),
      createId: () => ctx.createId(),
      now: () => ctx.now(),
      defaultModule: undefined,
      sessionActive: () => false,
    };
    return createUserSaveHandler(
      { className: undefined, object: undefined, registerShutdown: false, argumentDiagnostics: [], slots: [] },
      bare,
    );
  },
};

/**
 * PHP's `SessionHandler`: forwards each call to the module that was active before `user` was
 * installed (normally `files`), so a handler can extend it and override only what it needs.
 * Port of ext/session/mod_user_class.c. Its methods work while a session is active on the request
 * it was registered with (inside callbacks, or from application code during that session).
 * @see https://www.php.net/manual/en/class.sessionhandler.php
 * @example
 * class LoggingHandler extends SessionHandler {
 *   override async write(id: string, data: SessionData): Promise<boolean> {
 *     console.log('writing', id);
 *     return super.write(id, data);
 *   }
 * }
 * await req.functions.session_set_save_handler(new LoggingHandler(), true);
 */
export class SessionHandler implements SessionHandlerInterface, SessionIdInterface {
  async open(path: string, name: string): Promise<boolean> {
    checkArgs('open', arguments.length, 2);
    const st = this.#sanity();
    const parent = parentInstance(st);
    const ok = await inParent(st, 'open', () => parent.open(String(path), String(name)));
    if (ok) st.parentOpen = true;
    return ok;
  }

  async close(): Promise<boolean> {
    const extra = arguments.length;
    const st = this.#sanityOpen('close');
    if (st === undefined) return false;
    st.parentOpen = false;
    const ok = await inParent(st, 'close', () => parentInstance(st).close());
    // PHP closes the parent module first, then reports the bad argument count.
    if (extra !== 0) checkArgs('close', extra, 0);
    return ok;
  }

  async read(id: string): Promise<string | PhpBytes | false> {
    checkArgs('read', arguments.length, 1);
    const st = this.#sanityOpen('read');
    if (st === undefined) return false;
    const data = await inParent(st, 'read', () =>
      parentInstance(st).read(String(id), Number(st.ctx.ini('session.gc_maxlifetime') ?? 1440)),
    );
    return data === false ? false : toSessionData(data);
  }

  async write(id: string, data: SessionData): Promise<boolean> {
    checkArgs('write', arguments.length, 2);
    const st = this.#sanityOpen('write');
    if (st === undefined) return false;
    const bytes = data instanceof PhpBytes ? data.bytes : new Uint8Array(Buffer.from(String(data), 'utf8'));
    return inParent(st, 'write', () =>
      parentInstance(st).write(String(id), bytes, Number(st.ctx.ini('session.gc_maxlifetime') ?? 1440)),
    );
  }

  async destroy(id: string): Promise<boolean> {
    checkArgs('destroy', arguments.length, 1);
    const st = this.#sanityOpen('destroy');
    if (st === undefined) return false;
    return inParent(st, 'destroy', () => parentInstance(st).destroy(String(id)));
  }

  async gc(max_lifetime: number): Promise<number | false> {
    checkArgs('gc', arguments.length, 1);
    const st = this.#sanityOpen('gc');
    if (st === undefined) return false;
    const n = await inParent(st, 'gc', () => parentInstance(st).gc(Math.trunc(Number(max_lifetime))));
    return n < 0 ? false : n;
  }

  async create_sid(): Promise<string> {
    checkArgs('create_sid', arguments.length, 0);
    const st = this.#sanity();
    const parent = parentInstance(st);
    const id = await inParent(st, 'create_sid', () => (parent.createSid ? parent.createSid() : st.ctx.createId()));
    if (typeof id !== 'string') {
      throw new SessionError(`SessionHandler::create_sid(): the ${st.ctx.defaultModule?.name ?? ''} module failed to create an id`);
    }
    return id;
  }

  /** PHP's PS_SANITY_CHECK: an active session and a default module. */
  #sanity(): RequestState {
    const st = binding.getStore() ?? objectBindings.get(this);
    if (st === undefined || !st.ctx.sessionActive()) throw new PhpError('Session is not active');
    if (st.ctx.defaultModule === undefined) throw new PhpError('Cannot call default session handler');
    return st;
  }

  /** PS_SANITY_CHECK_IS_OPEN: also needs a successful open(); undefined after PHP's warning. */
  #sanityOpen(method: string): RequestState | undefined {
    const st = this.#sanity();
    if (!st.parentOpen) {
      st.ctx.diagnostic('E_WARNING', `SessionHandler::${method}(): Parent session handler is not open`, true);
      return undefined;
    }
    return st;
  }
}

/** zend_parse_parameters' count check for SessionHandler's methods. */
function checkArgs(method: string, given: number, expected: number): void {
  if (given === expected) return;
  throw new PhpArgumentCountError(
    `SessionHandler::${method}() expects exactly ${expected} argument${expected === 1 ? '' : 's'}, ${given} given`,
  );
}

/** The default module's instance for this request (PHP's shared PS(mod_data)). */
function parentInstance(st: RequestState): SaveHandler {
  if (st.parent === undefined) {
    const mod = st.ctx.defaultModule;
    if (mod === undefined) throw new PhpError('Cannot call default session handler');
    const outer = st.ctx;
    const parentCtx: SaveHandlerContext = {
      ini: (n) => outer.ini(n),
      createId: () => outer.createId(),
      now: () => outer.now(),
      // Inside SessionHandler's methods PHP names the method, not the session function.
      diagnostic: (level, message, raw) =>
        raw === true ? outer.diagnostic(level, message, true) : outer.diagnostic(level, `SessionHandler::${st.parentMethod}(): ${message}`, true),
    };
    st.parent = mod.create(parentCtx);
  }
  return st.parent;
}

async function inParent<T>(st: RequestState, method: string, fn: () => MaybePromise<T>): Promise<T> {
  const prev = st.parentMethod;
  st.parentMethod = method;
  try {
    return await fn();
  } finally {
    st.parentMethod = prev;
  }
}
