/**
 * @module php-session-engine/hono
 * Hono middleware (on @hono/node-server, or any runtime with a Request) sharing PHP's sessions:
 * `c.get('session')` is the $_SESSION view, `c.get('phpSession')` the request's context. The session
 * ends after the handler (written, lock released) and PHP's header lines are added to the response;
 * a failed start or write is thrown to Hono's error handling (app.onError) as a PhpSessionError
 * carrying PHP's diagnostics. The request also ends when the client aborts.
 *
 * @example
 * app.use(phpSession({ iniFile: '/etc/php/8.2/fpm/php.ini' }));
 * app.get('/', (c) => c.json({ user: c.get('session').user_id ?? null }));
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { parseCookies } from './http.ts';
import { PhpSessions, type PhpSessionContext, type PhpSessionOptions, type SessionView } from './session.ts';

export { PhpSessionError, PhpSessionContext, type PhpSessionOptions, type SessionView, type SessionMethods } from './session.ts';
export { PhpFloat } from 'php-session-engine';

/** The context variables this middleware sets (`new Hono<PhpSessionEnv>()`). */
export interface PhpSessionEnv {
  Variables: {
    session: SessionView;
    phpSession: PhpSessionContext;
  };
}

/** Hono middleware. */
export function phpSession(options: PhpSessionOptions = {}): MiddlewareHandler<PhpSessionEnv> & { sessions: PhpSessions } {
  const sessions = new PhpSessions(options, parseCookies);
  const mw: MiddlewareHandler<PhpSessionEnv> = async (c, next) => {
    // On @hono/node-server the IncomingMessage is at hand: reading it directly spares building the
    // full Request (its headers and AbortSignal) on every request.
    const node = (c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined) ?? {};
    const incoming = node.incoming;
    const input =
      incoming !== undefined
        ? { cookie: incoming.headers.cookie, url: incoming.url, referer: incoming.headers.referer }
        : { cookie: c.req.header('cookie'), url: c.req.url, referer: c.req.header('referer') };
    const ctx = sessions.context(input, c);
    c.set('phpSession', ctx);
    c.set('session', ctx.session);
    // Client gone: the response's socket closes (node-server), or the Request's signal aborts.
    const onAbort = (): void => void ctx.end().catch(() => undefined);
    const signal = node.outgoing === undefined ? c.req.raw.signal : undefined;
    if (node.outgoing !== undefined) node.outgoing.on('close', onAbort); // once per response; on() is cheaper than once()
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await ctx.begin();
      await next();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      let failure: unknown;
      try {
        await ctx.end();
      } catch (err) {
        failure = err;
      }
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
      if (failure !== undefined) throw failure;
    }
  };
  return Object.assign(mw, { sessions });
}

function addLine(headers: Headers, name: string, value: string): void {
  if (name.toLowerCase() === 'set-cookie') headers.append(name, value);
  else if (!headers.has(name)) headers.set(name, value);
}

export default phpSession;
