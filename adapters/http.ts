/**
 * @module php-session-engine/http
 * PHP sessions for plain `node:http` (and the base of the Express adapter): the engine request is
 * built from the IncomingMessage, the session ends (written, lock released) before the response's
 * headers go out, and PHP's header lines (Set-Cookie appended, never overwritten) are applied to the
 * ServerResponse. The request always ends: response finished, client gone, handler threw; a
 * session held past session_engine.max_execution_time is closed by the engine itself.
 *
 * @example
 * const sessions = createPhpSession({ iniFile: '/etc/php/8.2/fpm/php.ini' });
 * http.createServer(sessions.handler(async (req, res) => {
 *   req.session.visits = Number(req.session.visits ?? 0) + 1;
 *   res.end(JSON.stringify(req.session));
 * }));
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import { parse as parseCookie } from 'cookie';
import type { UploadedFile } from './upload.ts';
import { PhpSessionContext, PhpSessions, type PhpSessionOptions, type SessionShape, type SessionView } from './session.ts';
import { feedNodeUpload, isMultipart, uploadProgressEnabled } from './upload.ts';

export { PhpSessionContext, PhpSessionError, PhpSessions, HOLD_LIMIT_WARNING, startupWarnings, type PhpSessionOptions, type SessionView, type SessionMethods } from './session.ts';
export { PhpFloat } from 'php-session-engine';
export type { UploadedFile } from './upload.ts';

/** An IncomingMessage with the session attached (and, after a multipart upload fed to the session, its fields and files). */
export type SessionIncomingMessage<T extends object = SessionShape> = IncomingMessage & {
  session: SessionView<T>;
  phpSession: PhpSessionContext;
  /** The form fields of a multipart body read by the upload feed (session.upload_progress.enabled). */
  body?: unknown;
  /** The files of that body, in temp files removed when the response closes. */
  files?: UploadedFile[];
};

/** Cookie header → names and decoded values (the `cookie` package; the first of a repeated name wins, as in PHP). */
export function parseCookies(header: string): Record<string, string | undefined> {
  return parseCookie(header);
}

/** The framework-independent part of a request: what {@link attachToResponse} needs. */
export interface AttachHooks {
  /** Receives a failure of the session's end while the response can still be replaced. Default: 500. */
  onError?: (err: unknown) => void;
  /** Runs after the context exists (and the upload feed, if any) and before the session's start. */
  beforeBegin?: (ctx: PhpSessionContext) => Promise<void>;
  /**
   * Runs once, when the response has closed and the session has ended: the adapter's links from
   * the framework's objects to the context are cut there (see the Express adapter).
   */
  onRelease?: () => void;
}

/**
 * Holds the response's headers until the session has ended: the first writeHead/write/end (explicit
 * or implicit) is queued, the session is written and closed, PHP's header lines are applied, then
 * the queued calls go out in order. On a session failure the queued calls are dropped and the error
 * goes to `onError` (the response can still be replaced: no header has been sent).
 */
export function attachToResponse(ctx: PhpSessionContext, res: ServerResponse, hooks: AttachHooks = {}): void {
  ctx.holdForOutput();
  // A response is held through its prototype (node's ServerResponse.prototype, or Express's
  // app.response; hooked once, then a WeakMap lookup per call; responses not held go straight to the
  // method of the moment). Own methods added to each response (or a prototype swapped per response)
  // change its shape: on Express that cost ~12 us a request, on node:http it made the responses'
  // per-request objects survive young-generation GCs (~2 KB a request promoted instead of ~0.2,
  // old-space collections, ~+50% CPU a request: bench/adapters, README "Overhead"). One that
  // already has own methods (another middleware wrapped them) gets own wrappers.
  const proto = Object.getPrototypeOf(res) as object | null;
  const viaProto = proto !== null && !Object.hasOwn(res, 'writeHead') && !Object.hasOwn(res, 'write') && !Object.hasOwn(res, 'end');
  const h = new ResponseHold(ctx, hooks, viaProto ? undefined : { writeHead: res.writeHead, write: res.write, end: res.end });
  holds.set(res, h);
  if (viaProto) hookPrototype(proto);
  else wrapOwn(res, h);
  // Client gone before the response finished, or the socket closed: end the session all the same.
  // One listener function for every response ('close' comes once per response; on() spares once()'s
  // wrapper): it finds the hold through the WeakMap, so it is never removed (a removal cost ~2 us
  // a request and turned the response's listener table into a dictionary) and, once the hold is
  // released, leads nowhere.
  res.on('close', onResponseClose);
}

/**
 * The context attached to a response by {@link attachToResponse}, until the response has closed
 * and the session has ended (then undefined): what the Express adapter's `req.session` reads.
 */
export function responseContext(res: object): PhpSessionContext | undefined {
  return holds.get(res)?.ctx;
}

const OPEN = 0;
const ENDING = 1;
const DONE = 2;

/**
 * One held response (the WeakMap value behind it). It never refers to the response: the functions
 * below take the response as an argument (a WeakMap value that referred to its own key would cost
 * the garbage collector more). One object a request, where closures over attachToResponse's scope
 * were five and their context.
 */
class ResponseHold {
  readonly ctx: PhpSessionContext;
  readonly hooks: AttachHooks;
  /** The response's own methods when it had them (another middleware's wrappers), restored at the session's end. */
  readonly orig: Pick<ServerResponse, HeldMethod> | undefined;
  state: typeof OPEN | typeof ENDING | typeof DONE = OPEN;
  /** The response has closed ('close'); once the session has ended too, the hold is released. */
  closed = false;
  /**
   * The held calls: method name, then its arguments, for each call; undefined until the first
   * (made as a two-element literal: most responses hold one call, and a first push() on an empty
   * array allocates room for 17).
   */
  queue: Array<HeldMethod | unknown[]> | undefined = undefined;
  constructor(ctx: PhpSessionContext, hooks: AttachHooks, orig: Pick<ServerResponse, HeldMethod> | undefined) {
    this.ctx = ctx;
    this.hooks = hooks;
    this.orig = orig;
  }
}

/** Responses attached to a session, until released (closed and the session ended). */
const holds = new WeakMap<object, ResponseHold>();

/** A held call is queued and answers as the method would: write true, the others the response. */
function hold(res: ServerResponse, h: ResponseHold, name: HeldMethod, args: unknown[]): unknown {
  if (h.queue === undefined) h.queue = [name, args];
  else h.queue.push(name, args);
  if (h.state === OPEN) endHeld(res, h);
  return name === 'write' ? true : res;
}

/** The first held call: the session is written and closed, then the queued calls go out (or the error to onError). */
function endHeld(res: ServerResponse, h: ResponseHold): void {
  h.state = ENDING;
  h.ctx.end().then(
    () => {
      const ctx = h.ctx;
      applyHeaders(ctx, res);
      restore(res, h);
      if (ctx.transSidActive) rewriteBody(ctx, res);
      h.state = DONE;
      const queue = h.queue!;
      h.queue = undefined;
      if (h.closed) release(res, h);
      // Each queued call goes to the response's method of the moment: the original, or the rewriting
      // one; when that is the prototype's hook, straight to the method behind it (the hook would
      // find this response done and pass the call on: a lookup and an arguments array less).
      for (let i = 0; i < queue.length; i += 2) {
        const method = res[queue[i] as HeldMethod] as HookedMethod;
        (method[kBehind]?.() ?? method).apply(res, queue[i + 1] as unknown[]);
      }
    },
    (err: unknown) => {
      applyHeaders(h.ctx, res);
      restore(res, h);
      h.state = DONE;
      h.queue = undefined;
      if (h.closed) release(res, h);
      const onError = h.hooks.onError;
      if (onError !== undefined) onError(err);
      else if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end('Internal Server Error\n');
      } else res.destroy(err instanceof Error ? err : undefined);
    },
  );
}

/** The response's own methods back, when it had them. */
function restore(res: ServerResponse, h: ResponseHold): void {
  const orig = h.orig;
  if (orig === undefined) return;
  res.writeHead = orig.writeHead;
  res.write = orig.write;
  res.end = orig.end;
}

/** Nothing of the response leads to the context from here on; the adapter cuts its own links (onRelease). */
function release(res: ServerResponse, h: ResponseHold): void {
  holds.delete(res);
  h.hooks.onRelease?.();
}

/** Every held response's 'close' listener. */
function onResponseClose(this: ServerResponse): void {
  const h = holds.get(this);
  if (h === undefined || h.closed) return;
  h.closed = true;
  h.ctx.finishOutputQuietly();
  if (h.state === OPEN) {
    h.state = ENDING;
    h.ctx
      .end()
      .catch(() => undefined)
      .finally(() => {
        restore(this, h);
        h.state = DONE;
        release(this, h);
      });
  } else if (h.state === DONE) release(this, h);
}

/** Own wrappers for a response whose methods are already its own (see attachToResponse). */
function wrapOwn(res: ServerResponse, h: ResponseHold): void {
  const orig = h.orig!;
  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    return h.state === DONE ? (orig.writeHead as (...a: unknown[]) => ServerResponse).apply(res, args) : hold(res, h, 'writeHead', args);
  } as ServerResponse['writeHead'];
  res.write = function write(this: ServerResponse, ...args: unknown[]) {
    return h.state === DONE ? (orig.write as (...a: unknown[]) => boolean).apply(res, args) : hold(res, h, 'write', args);
  } as ServerResponse['write'];
  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    return h.state === DONE ? (orig.end as (...a: unknown[]) => ServerResponse).apply(res, args) : hold(res, h, 'end', args);
  } as ServerResponse['end'];
}

type HeldMethod = 'writeHead' | 'write' | 'end';
const hookedPrototypes = new WeakSet<object>();
/** On a prototype's hook: the method it passes a call on to (the prototype's own, or its parent's of the moment). */
const kBehind = Symbol('behind');
type HookedMethod = ((...a: unknown[]) => unknown) & { [kBehind]?: () => (...a: unknown[]) => unknown };

/**
 * Hooks writeHead/write/end on a response prototype once: a response held through it (not yet
 * written) has its calls queued, every other call goes to the method the prototype had (its own,
 * or its parent's of the moment).
 */
function hookPrototype(proto: object): void {
  if (hookedPrototypes.has(proto)) return;
  hookedPrototypes.add(proto);
  for (const name of ['writeHead', 'write', 'end'] as const) {
    const own = Object.hasOwn(proto, name) ? ((proto as Record<HeldMethod, unknown>)[name] as (...a: unknown[]) => unknown) : undefined;
    const behind = (): ((...a: unknown[]) => unknown) => own ?? (Object.getPrototypeOf(proto) as Record<HeldMethod, (...a: unknown[]) => unknown>)[name];
    const hook: HookedMethod = function (this: object, ...args: unknown[]): unknown {
      const h = holds.get(this);
      if (h !== undefined && h.state !== DONE && h.orig === undefined) return hold(this as ServerResponse, h, name, args);
      return behind().apply(this, args);
    };
    hook[kBehind] = behind;
    Object.defineProperty(proto, name, { configurable: true, writable: true, value: hook });
  }
}

type Chunk = string | Uint8Array;

/**
 * Trans-sid is active for this request (PHP's URL rewriter armed): every body chunk goes through
 * `req.rewriteOutput()` (the last with `final: true`), as PHP's output handler does. The length
 * changes, so an app's Content-Length is dropped (the body goes chunked).
 */
function rewriteBody(ctx: PhpSessionContext, res: ServerResponse): void {
  const write = res.write as (...a: unknown[]) => boolean;
  const end = res.end as (...a: unknown[]) => ServerResponse;
  const request = ctx.request;
  const encodingOf = (a: unknown): BufferEncoding | undefined => (typeof a === 'string' ? (a as BufferEncoding) : undefined);
  const toChunk = (c: unknown, enc: BufferEncoding | undefined): Chunk =>
    typeof c === 'string' ? (enc === undefined || enc === 'utf8' || enc === 'utf-8' ? c : Buffer.from(c, enc)) : (c as Uint8Array);
  const rewrite = (c: Chunk, final: boolean): Chunk => (typeof c === 'string' ? request.rewriteOutput(c, { final }) : request.rewriteOutput(c, { final }));
  const dropLength = (): void => {
    if (!res.headersSent) res.removeHeader('Content-Length');
  };
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    dropLength();
    const enc = encodingOf(rest[0]);
    const cb = rest.find((a) => typeof a === 'function') as ((e?: Error | null) => void) | undefined;
    const out = rewrite(toChunk(chunk, enc), false);
    return cb === undefined ? write.call(res, out) : write.call(res, out, cb);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    dropLength();
    const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    const chunk = typeof args[0] === 'function' ? undefined : args[0];
    const enc = encodingOf(args[1]);
    const out = rewrite(chunk === undefined || chunk === null ? '' : toChunk(chunk, enc), true);
    const r = cb === undefined ? end.call(res, out) : end.call(res, out, cb);
    ctx.finishOutputQuietly();
    return r;
  } as ServerResponse['end'];
}

/** Applies PHP's header lines: Set-Cookie appended; others set unless the app set that header itself. */
export function applyHeaders(ctx: PhpSessionContext, res: ServerResponse): void {
  if (res.headersSent) return;
  const lines = ctx.takeHeaders();
  // Names compared without lower-cased copies; the PHP headers set here (a repeated one is then
  // appended) are remembered by their index in `lines` (a few lines: no Set).
  let own: number[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const [name, value] = lines[i]!;
    if (sameHeaderName(name, 'set-cookie')) {
      res.appendHeader('Set-Cookie', value);
    } else if (own !== undefined && own.some((j) => sameHeaderName(lines[j]![0], name))) {
      res.appendHeader(name, value);
    } else if (!res.hasHeader(name)) {
      res.setHeader(name, value);
      (own ??= []).push(i);
    }
  }
}

/** ASCII case-insensitive equality of two header names (HTTP header names are ASCII tokens). */
function sameHeaderName(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y && (x >= 0x41 && x <= 0x5a ? x | 0x20 : x) !== (y >= 0x41 && y <= 0x5a ? y | 0x20 : y)) return false;
  }
  return true;
}

/** The engine request's input from an IncomingMessage (cookies, URL, parsed body if any, referer). */
export function requestInput(req: IncomingMessage & { body?: unknown }): { cookie: string | undefined; url: string | undefined; body: unknown; referer: string | undefined; host: string | undefined } {
  // `headers` is a getter (node builds the object on first use) and on Express every lookup on req
  // misses V8's inline caches (README "Overhead"): read it once.
  const headers = req.headers;
  const referer = headers.referer;
  return { cookie: headers.cookie, url: req.url, body: req.body, referer: Array.isArray(referer) ? referer[0] : referer, host: headers.host };
}

/** The node:http adapter. */
export class HttpPhpSession extends PhpSessions {
  constructor(options: PhpSessionOptions = {}) {
    super(options, parseCookies);
  }

  /** Puts the session on the request: `req.phpSession`, `req.session` (own properties; Express's adapter overrides this). */
  protected expose(req: IncomingMessage, ctx: PhpSessionContext, _res: ServerResponse): void {
    const target = req as SessionIncomingMessage;
    target.phpSession = ctx;
    target.session = ctx.session;
  }

  /**
   * Attaches the session to req (`req.session`, `req.phpSession`) and to res, and starts it when the
   * options say so. Rejects with a PhpSessionError when the start fails (the request is then ended).
   */
  attach(req: IncomingMessage, res: ServerResponse, hooks: AttachHooks = {}): Promise<PhpSessionContext> {
    const ctx = this.context(requestInput(req), req);
    return this.#begin(ctx, req, res, hooks).then(
      () => ctx,
      (err: unknown) => endThenReject(ctx, err),
    );
  }

  /** attach() without the context as its value (one promise less a request): what handler() and the Express middleware run. */
  protected attachRequest(req: IncomingMessage, res: ServerResponse, hooks: AttachHooks): Promise<void> {
    const ctx = this.context(requestInput(req), req);
    return this.#begin(ctx, req, res, hooks).then(undefined, (err: unknown) => endThenReject(ctx, err));
  }

  /**
   * attachRequest() with a callback instead of a promise (what the Express middleware runs: its
   * `next`): `done()` when the app may run, `done(err)` after a failed start has ended the request.
   * One promise reaction a request instead of a chain of three.
   */
  protected attachThen(req: IncomingMessage, res: ServerResponse, hooks: AttachHooks, done: (err?: unknown) => void): void {
    const ctx = this.context(requestInput(req), req);
    this.#begin(ctx, req, res, hooks).then(done, (err: unknown) => {
      const fail = (): void => done(err);
      ctx.end().then(fail, fail);
    });
  }

  /** attach() up to the start: settles when the app may run (a failed start rejects; the caller ends the request). */
  #begin(ctx: PhpSessionContext, req: IncomingMessage, res: ServerResponse, hooks: AttachHooks): Promise<void> {
    this.expose(req, ctx, res);
    attachToResponse(ctx, res, hooks);
    // session.upload_progress.enabled and a multipart body: PHP's parser events are fed from busboy
    // before the session starts and the app runs (fields in req.body, files in req.files).
    // (Only a multipart request pays for the check and its promise.)
    const upload = isMultipart(req.headers) && uploadProgressEnabled(ctx);
    const before = hooks.beforeBegin;
    if (!upload && before === undefined) return ctx.begin();
    return (upload ? feedNodeUpload(ctx, req, res) : Promise.resolve())
      .then(() => before?.(ctx))
      .then(() => ctx.begin());
  }

  /**
   * Wraps a request listener: the session is attached before it runs; a thrown error or rejected
   * promise ends the session and answers 500 (or goes to `onError`).
   */
  handler<T extends object = SessionShape>(
    listener: (req: SessionIncomingMessage<T>, res: ServerResponse) => unknown,
    onError?: (err: unknown, req: IncomingMessage, res: ServerResponse) => void,
  ): (req: IncomingMessage, res: ServerResponse) => void {
    const fail = (err: unknown, req: IncomingMessage, res: ServerResponse): void => {
      if (onError !== undefined) return onError(err, req, res);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.statusCode = 500;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('Internal Server Error\n');
    };
    // One chain a request: a failed start, a listener that throws or rejects, all go to fail().
    return (req, res) => {
      this.attachRequest(req, res, { onError: (err) => fail(err, req, res) })
        .then(() => listener(req as SessionIncomingMessage<T>, res))
        .then(undefined, (err: unknown) => fail(err, req, res));
    };
  }
}

/** A failed start: the request is ended, then the start's error goes on. */
function endThenReject(ctx: PhpSessionContext, err: unknown): Promise<never> {
  const fail = (): Promise<never> => Promise.reject(err);
  return ctx.end().then(fail, fail);
}

/** Creates the node:http adapter. */
export function createPhpSession(options: PhpSessionOptions = {}): HttpPhpSession {
  return new HttpPhpSession(options);
}
