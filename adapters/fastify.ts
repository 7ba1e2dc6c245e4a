/**
 * @module php-session-engine/fastify
 * A Fastify plugin (fastify-plugin, so it applies to the whole app) sharing PHP's sessions:
 * `request.session` is the $_SESSION view, `request.phpSession` the request's context. The session
 * ends in onSend (before the headers go out) and PHP's header lines are added to the reply; a failed
 * start or write goes to Fastify's error handling as a PhpSessionError carrying PHP's diagnostics.
 * The request also ends when the client aborts or on a timeout. With trans-sid active the payload
 * goes through `rewriteOutput()`; with session.upload_progress.enabled, multipart bodies are read
 * by the plugin's own content-type parser (busboy), which feeds PHP's upload events.
 *
 * @example
 * await app.register(phpSessionPlugin, { iniFile: '/etc/php/8.2/fpm/php.ini' });
 * app.get('/', async (request) => ({ user: request.session.user_id ?? null }));
 */
import { Transform, type Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { parseCookies } from './http.ts';
import { PhpSessions, type PhpSessionContext, type PhpSessionOptions, type SessionView } from './session.ts';
import { feedUpload, postFields, uploadProgressOn, type UploadedFile } from './upload.ts';

export { PhpSessionError, PhpSessionContext, type PhpSessionOptions, type SessionView, type SessionMethods } from './session.ts';
export type { UploadedFile } from './upload.ts';
export { PhpFloat } from 'php-session-engine';

declare module 'fastify' {
  interface FastifyRequest {
    /** $_SESSION (php-session-engine). */
    session: SessionView;
    /** The request's PHP session (php-session-engine). */
    phpSession: PhpSessionContext;
    /** The files of a multipart body read by the upload feed (php-session-engine; null otherwise). */
    phpFiles: UploadedFile[] | null;
  }
}

function addHeaders(ctx: PhpSessionContext, reply: FastifyReply): void {
  if (reply.sent || reply.raw.headersSent) return;
  for (const [name, value] of ctx.takeHeaders()) {
    // reply.header() appends set-cookie values; other PHP headers yield to the app's own.
    if (name.toLowerCase() === 'set-cookie' || !reply.hasHeader(name)) reply.header(name, value);
  }
}

/**
 * Trans-sid active: the payload through the request's URL rewriter, as PHP's output handler passes
 * the script's output. A string or Buffer is rewritten whole (final); a stream chunk by chunk.
 */
function rewritePayload(ctx: PhpSessionContext, reply: FastifyReply, payload: unknown): unknown {
  const request = ctx.request;
  reply.removeHeader('content-length');
  if (typeof payload === 'string') return request.rewriteOutput(payload, { final: true });
  if (payload instanceof Uint8Array) return request.rewriteOutput(payload, { final: true });
  if (payload !== null && typeof payload === 'object' && typeof (payload as Readable).pipe === 'function') {
    const rewriter = new Transform({
      transform(chunk: Buffer | string, _enc, done) {
        done(null, typeof chunk === 'string' ? request.rewriteOutput(chunk) : request.rewriteOutput(chunk));
      },
      flush(done) {
        done(null, request.rewriteOutput(Buffer.alloc(0), { final: true }));
      },
    });
    (payload as Readable).once('error', (err) => rewriter.destroy(err));
    return (payload as Readable).pipe(rewriter);
  }
  return payload;
}

const plugin: FastifyPluginAsync<PhpSessionOptions> = async (app, options) => {
  const sessions = new PhpSessions(options, parseCookies);
  app.decorateRequest('session', null as unknown as SessionView);
  app.decorateRequest('phpSession', null as unknown as PhpSessionContext);
  app.decorateRequest('phpFiles', null);

  /** Temp files of a request's upload, removed when its response is over. */
  const uploads = new WeakMap<FastifyRequest, () => void>();
  const contextOf = (request: FastifyRequest): PhpSessionContext => {
    if (request.phpSession !== null && request.phpSession !== undefined) return request.phpSession;
    const h = request.headers;
    const ctx = sessions.context({ cookie: h.cookie, url: request.url, referer: h.referer, host: h.host }, request);
    // The engine request ends after the body when trans-sid rewrites it (onResponse below).
    ctx.holdForOutput();
    request.phpSession = ctx;
    request.session = ctx.session;
    return ctx;
  };

  // session.upload_progress.enabled: multipart bodies are read here (PHP reads every multipart body
  // and reports its progress), before the session starts and the handler runs. Fields become the
  // body (and $_POST), files go to temp files in request.phpFiles, removed when the response closes.
  if (uploadProgressOn(sessions.engine.iniGet('session.upload_progress.enabled'))) {
    app.addContentTypeParser('multipart/form-data', async (request: FastifyRequest, payload: Readable) => {
      const ctx = contextOf(request);
      const { fields, files, cleanup } = await feedUpload(ctx, request.headers, payload);
      uploads.set(request, cleanup);
      postFields(ctx, fields);
      request.phpFiles = files;
      return fields;
    });
    // A request whose body was parsed here may be answered before the preValidation hook below
    // (another hook replied first) and so lack its close listener: these hooks end its session and
    // remove its temp files whichever way it ends. (Without upload progress a context only exists
    // once that hook ran, and its close listener covers every ending.)
    const endQuietly = async (request: FastifyRequest): Promise<void> => {
      const ctx = request.phpSession;
      if (ctx === null || ctx === undefined) return;
      await ctx.end().catch(() => undefined);
      await ctx.finishOutput().catch(() => undefined);
      uploads.get(request)?.();
    };
    app.addHook('onResponse', endQuietly);
    app.addHook('onRequestAbort', endQuietly);
    app.addHook('onTimeout', endQuietly);
  }

  // preValidation: the body is parsed by now (for session.use_only_cookies = 0).
  app.addHook('preValidation', async (request: FastifyRequest, reply: FastifyReply) => {
    const fed = request.phpSession !== null && request.phpSession !== undefined;
    const ctx = contextOf(request);
    if (!fed && request.body !== null && typeof request.body === 'object' && !Array.isArray(request.body)) {
      const fields: Record<string, string> = {};
      for (const [k, v] of Object.entries(request.body as Record<string, unknown>)) if (typeof v === 'string') fields[k] = v;
      postFields(ctx, fields);
    }
    // Client gone (abort), timeout (the socket destroyed) or the response over: end the session,
    // end the engine request after a rewritten body, remove the upload's temp files. ('close' comes
    // once a response, whichever way it ends; end() is idempotent; on() spares once()'s wrapper.
    // Fastify's onResponse, onRequestAbort and onTimeout hooks would say the same thing later and
    // cost every request a hook run and a listener on the request: only upload progress needs them.)
    reply.raw.on('close', () => {
      void ctx.end().catch(() => undefined);
      ctx.finishOutputQuietly();
      uploads.get(request)?.();
    });
    await ctx.begin();
  });
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const ctx = request.phpSession;
    if (ctx === null || ctx === undefined) return payload;
    try {
      await ctx.end();
    } finally {
      addHeaders(ctx, reply);
    }
    return ctx.transSidActive ? rewritePayload(ctx, reply, payload) : payload;
  });
};

/** The plugin; register it once on the app: `app.register(phpSessionPlugin, options)`. */
export const phpSessionPlugin = fp(plugin, { fastify: '4.x || 5.x', name: 'php-session-engine' });
export default phpSessionPlugin;
