/**
 * @module php-session-engine/fastify
 * A Fastify plugin (fastify-plugin, so it applies to the whole app) sharing PHP's sessions:
 * `request.session` is the $_SESSION view, `request.phpSession` the request's context. The session
 * ends in onSend (before the headers go out) and PHP's header lines are added to the reply; a failed
 * start or write goes to Fastify's error handling as a PhpSessionError carrying PHP's diagnostics.
 * The request also ends when the client aborts or on a timeout.
 *
 * @example
 * await app.register(phpSessionPlugin, { iniFile: '/etc/php/8.2/fpm/php.ini' });
 * app.get('/', async (request) => ({ user: request.session.user_id ?? null }));
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { parseCookies } from './http.ts';
import { PhpSessions, type PhpSessionContext, type PhpSessionOptions, type SessionView } from './session.ts';

export { PhpSessionError, PhpSessionContext, type PhpSessionOptions, type SessionView, type SessionMethods } from './session.ts';
export { PhpFloat } from 'php-session-engine';

declare module 'fastify' {
  interface FastifyRequest {
    /** $_SESSION (php-session-engine). */
    session: SessionView;
    /** The request's PHP session (php-session-engine). */
    phpSession: PhpSessionContext;
  }
}

function addHeaders(ctx: PhpSessionContext, reply: FastifyReply): void {
  if (reply.sent || reply.raw.headersSent) return;
  for (const [name, value] of ctx.takeHeaders()) {
    // reply.header() appends set-cookie values; other PHP headers yield to the app's own.
    if (name.toLowerCase() === 'set-cookie' || !reply.hasHeader(name)) reply.header(name, value);
  }
}

const plugin: FastifyPluginAsync<PhpSessionOptions> = async (app, options) => {
  const sessions = new PhpSessions(options, parseCookies);
  app.decorateRequest('session', null as unknown as SessionView);
  app.decorateRequest('phpSession', null as unknown as PhpSessionContext);

  // preValidation: the body is parsed by now (for session.use_only_cookies = 0).
  app.addHook('preValidation', async (request: FastifyRequest, reply: FastifyReply) => {
    const referer = request.headers.referer;
    const ctx = sessions.context({ cookie: request.headers.cookie, url: request.url, body: request.body, referer }, request);
    request.phpSession = ctx;
    request.session = ctx.session;
    // ('close' comes once; ctx.end() is idempotent; on() spares once()'s wrapper.)
    reply.raw.on('close', () => void ctx.end().catch(() => undefined));
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
    return payload;
  });
  const endQuietly = async (request: FastifyRequest): Promise<void> => {
    await request.phpSession?.end().catch(() => undefined);
  };
  app.addHook('onResponse', endQuietly);
  app.addHook('onRequestAbort', endQuietly);
  app.addHook('onTimeout', endQuietly);
};

/** The plugin; register it once on the app: `app.register(phpSessionPlugin, options)`. */
export const phpSessionPlugin = fp(plugin, { fastify: '4.x || 5.x', name: 'php-session-engine' });
export default phpSessionPlugin;
