/**
 * @module php-session-engine/hono
 * Hono middleware (on @hono/node-server, or any runtime with a Request) sharing PHP's sessions:
 * `c.get('session')` is the $_SESSION view, `c.get('phpSession')` the request's context. The session
 * ends after the handler (written, lock released) and PHP's header lines are added to the response;
 * a failed start or write is thrown to Hono's error handling (app.onError) as a PhpSessionError
 * carrying PHP's diagnostics. The request also ends when the client aborts. With trans-sid active
 * the response body goes through `rewriteOutput()`; with session.upload_progress.enabled, a
 * multipart body is read (busboy) and PHP's upload events fed before the handler runs.
 *
 * @example
 * app.use(phpSession({ iniFile: '/etc/php/8.2/fpm/php.ini' }));
 * app.get('/', (c) => c.json({ user: c.get('session').user_id ?? null }));
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import type { Context, MiddlewareHandler } from 'hono';
import { parseCookies } from './http.ts';
import { PhpSessions, type PhpSessionContext, type PhpSessionOptions, type SessionView } from './session.ts';
import { feedUpload, isMultipart, postFields, uploadProgressEnabled, type HeaderRecord, type UploadedFile } from './upload.ts';

export { PhpSessionError, PhpSessionContext, type PhpSessionOptions, type SessionView, type SessionMethods } from './session.ts';
export type { UploadedFile } from './upload.ts';
export { PhpFloat } from 'php-session-engine';

/** The context variables this middleware sets (`new Hono<PhpSessionEnv>()`). */
export interface PhpSessionEnv {
  Variables: {
    session: SessionView;
    phpSession: PhpSessionContext;
    /** The files of a multipart body read by the upload feed (temp files removed after the response); undefined otherwise. */
    phpFiles: UploadedFile[] | undefined;
  };
}

/** The context of a response served by node-server, for the shared 'close' listener below. */
const kContext = Symbol('phpSessionContext');
type HeldOutgoing = ServerResponse & { [kContext]?: PhpSessionContext };

/**
 * Every node-server response's 'close' listener (one function for all: no closure a request):
 * the client gone before the handler finished ends the request now; after a normal end there is
 * nothing to do (the trans-sid body's end included).
 */
function onOutgoingClose(this: HeldOutgoing): void {
  const ctx = this[kContext];
  if (ctx !== undefined) abortContext(ctx);
}

/** The client is gone: end the request (once; its failure goes to the middleware, which awaits the same end) and the output. */
function abortContext(ctx: PhpSessionContext): void {
  if (!ctx.closed) void ctx.end().catch(() => undefined);
  ctx.finishOutputQuietly();
}

/** Hono middleware. */
export function phpSession(options: PhpSessionOptions = {}): MiddlewareHandler<PhpSessionEnv> & { sessions: PhpSessions } {
  const sessions = new PhpSessions(options, parseCookies);
  const mw: MiddlewareHandler<PhpSessionEnv> = (c, next) => {
    // On @hono/node-server the IncomingMessage is at hand: reading it directly spares building the
    // full Request (its headers and AbortSignal) on every request.
    const node = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
    const incoming = node?.incoming;
    const outgoing = node?.outgoing;
    let ctx: PhpSessionContext;
    if (incoming !== undefined) {
      const h = incoming.headers;
      ctx = sessions.context({ cookie: h.cookie, url: incoming.url, referer: h.referer, host: h.host }, c);
    } else {
      ctx = sessions.context({ cookie: c.req.header('cookie'), url: c.req.url, referer: c.req.header('referer'), host: c.req.header('host') }, c);
    }
    ctx.holdForOutput(); // with trans-sid, the engine request ends once the rewritten body is out
    c.set('phpSession', ctx);
    c.set('session', ctx.session);
    if (outgoing === undefined || isMultipart(incoming!.headers)) return general(c, next, ctx, incoming, outgoing);
    // The common case (node-server, no multipart body) as one promise chain: an async function's
    // frame, its awaits and a close-listener closure cost ~1 KB of allocation a request more
    // (bench/express-ab.mjs hono-*, README "Overhead").
    (outgoing as HeldOutgoing)[kContext] = ctx;
    outgoing.on('close', onOutgoingClose); // once per response; on() is cheaper than once()
    return ctx.begin().then(next).then(
      () => ctx.end().then(() => finish(c, ctx, undefined, undefined), (e: unknown) => finish(c, ctx, e, undefined)),
      (err: unknown) => ctx.end().then(() => finish(c, ctx, undefined, { err }), (e: unknown) => finish(c, ctx, e, { err })),
    );
  };
  return Object.assign(mw, { sessions });
}

/**
 * Without node-server's response (another runtime: the Request's AbortSignal tells a client gone),
 * or with a multipart body (read and fed to the session before the start): the same steps as the
 * promise chain above, with the upload's temp files to remove.
 */
async function general(c: Context<PhpSessionEnv>, next: () => Promise<void>, ctx: PhpSessionContext, incoming: IncomingMessage | undefined, outgoing: ServerResponse | undefined): Promise<void> {
  let cleanup: (() => void) | undefined;
  // Client gone: the response's socket closes (node-server), or the Request's signal aborts.
  const onAbort = (): void => {
    abortContext(ctx);
    cleanup?.();
  };
  const signal = outgoing === undefined ? c.req.raw.signal : undefined;
  if (outgoing !== undefined) outgoing.on('close', onAbort);
  else signal?.addEventListener('abort', onAbort, { once: true });
  let thrown: { err: unknown } | undefined;
  try {
    const headers: HeaderRecord = incoming?.headers ?? Object.fromEntries(c.req.raw.headers);
    if (isMultipart(headers) && uploadProgressEnabled(ctx)) cleanup = await readUpload(c, ctx, headers, incoming);
    await ctx.begin();
    await next();
  } catch (err) {
    thrown = { err };
  }
  signal?.removeEventListener('abort', onAbort);
  let failure: unknown;
  try {
    await ctx.end();
  } catch (err) {
    failure = err;
  }
  // Without node-server's close event, the upload's temp files go once the handler is done.
  if (outgoing === undefined) cleanup?.();
  finish(c, ctx, failure, thrown);
}

/**
 * After the session's end: PHP's header lines onto the response, the body through the rewriter
 * when trans-sid is active, else the engine request's end. Throws the end's failure (to Hono's
 * error handling), else the error the start or the handler threw, if any.
 */
function finish(c: Context<PhpSessionEnv>, ctx: PhpSessionContext, failure: unknown, thrown: { err: unknown } | undefined): void {
  const lines = ctx.takeHeaders();
  if (lines.length > 0) {
    // The response's headers may be immutable (a fetch() Response): copy it when they are.
    let res = c.res;
    try {
      for (const [name, value] of lines) addLine(res.headers, name, value);
    } catch {
      res = new Response(res.body, res);
      for (const [name, value] of lines) addLine(res.headers, name, value);
      c.res = res;
    }
  }
  if (failure === undefined && ctx.transSidActive) rewriteResponse(c, ctx);
  else ctx.finishOutputQuietly();
  if (failure !== undefined) throw failure;
  if (thrown !== undefined) throw thrown.err;
}

/**
 * Reads the multipart body, feeding PHP's upload events; the handler still gets the body through
 * Hono (`c.req.parseBody()`, `formData()`, `arrayBuffer()`: the bytes are put in Hono's body cache),
 * the files in temp files as `c.get('phpFiles')`, the fields in $_POST. Returns the temp files' cleanup.
 */
async function readUpload(c: Context<PhpSessionEnv>, ctx: PhpSessionContext, headers: HeaderRecord, incoming: IncomingMessage | undefined): Promise<() => void> {
  const body = incoming ?? (c.req.raw.body === null ? Readable.from([]) : Readable.fromWeb(c.req.raw.body as unknown as NodeWebStream<Uint8Array>));
  const { fields, files, raw, cleanup } = await feedUpload(ctx, headers, body, { keepRaw: true });
  const bytes = raw!;
  (c.req.bodyCache as unknown as { arrayBuffer?: Promise<ArrayBuffer> }).arrayBuffer = Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  postFields(ctx, fields);
  c.set('phpFiles', files);
  return cleanup;
}

/**
 * Trans-sid active: the body through the request's URL rewriter chunk by chunk (the last call
 * final), as PHP's output handler; Content-Length dropped (the length changes). The engine request
 * ends when the body has gone through.
 */
function rewriteResponse(c: Context<PhpSessionEnv>, ctx: PhpSessionContext): void {
  const request = ctx.request;
  const old = c.res;
  const headers = new Headers(old.headers);
  headers.delete('content-length');
  const done = (): void => ctx.finishOutputQuietly();
  let body: ReadableStream<Uint8Array> | null = null;
  if (old.body === null) done();
  else {
    body = old.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          out.enqueue(request.rewriteOutput(chunk));
        },
        flush(out) {
          out.enqueue(request.rewriteOutput(new Uint8Array(0), { final: true }));
          done();
        },
      }),
    );
  }
  // Hono's res setter copies the old response's headers (Content-Length too): reset it first.
  c.res = undefined;
  c.res = new Response(body, { status: old.status, statusText: old.statusText, headers });
}

function addLine(headers: Headers, name: string, value: string): void {
  if (name.toLowerCase() === 'set-cookie') headers.append(name, value);
  else if (!headers.has(name)) headers.set(name, value);
}

export default phpSession;
