/**
 * @module php-session-engine/express
 * `phpSession(options)`: Express 4 and 5 middleware sharing PHP's sessions. `req.session` is the
 * $_SESSION view, `req.phpSession` the request's {@link PhpSessionContext}. The session ends (written,
 * lock released) before the response's headers go out; a failed start or write goes to Express's
 * error handling as a PhpSessionError carrying PHP's diagnostics.
 *
 * @example
 * app.use(phpSession({ iniFile: '/etc/php/8.2/fpm/php.ini' }));
 * app.get('/', (req, res) => res.json({ user: req.session.user_id ?? null }));
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpPhpSession, responseContext } from './http.ts';
import type { PhpSessionContext, PhpSessionOptions, SessionView } from './session.ts';

export type { UploadedFile } from './upload.ts';
export { PhpSessionError, PhpSessionContext, type PhpSessionOptions, type SessionView, type SessionMethods } from './session.ts';
export { PhpFloat } from 'php-session-engine';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** $_SESSION (php-session-engine); undefined once the response has closed. */
      session: SessionView;
      /** The request's PHP session (php-session-engine); undefined once the response has closed. */
      phpSession: PhpSessionContext;
    }
  }
}

type Next = (err?: unknown) => void;

/** The middleware, with the adapter (engine, options) it uses. */
export interface PhpSessionMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: Next): void;
  readonly sessions: HttpPhpSession;
}

/** Express request prototypes seen: true when the accessors are ours, false when the app has its own `session`/`phpSession` there. */
const exposedPrototypes = new WeakMap<object, boolean>();

/**
 * Express's request objects get `session` and `phpSession` through accessors on the app's request
 * prototype (`app.request`, defined once), which find the context through the request's response
 * (`req.res`, set by Express) and the response's hold (http's {@link responseContext}): two own
 * properties added to each Express request cost ~2.5 KB of allocation a request (bench/adapters,
 * README "Overhead"), where node:http's plain IncomingMessage takes them for a few bytes; a
 * WeakMap of requests beside the hold cost an entry set and deleted and a closure a request.
 * Assigning either property (another middleware) makes it an own property as before. Outside
 * Express (a plain connect-style use, whose requests are IncomingMessage) they stay own properties:
 * node's own prototype is not touched.
 *
 * The hold is released when the response has closed (after 'finish') and the session has ended:
 * from then on `req.session` and `req.phpSession` are undefined. Express's request objects survive
 * young-generation collections (its own, by hand too: ~9 KB a request promoted), and a context
 * still linked to one was promoted with it: the context, the engine request and the session data,
 * ~2 KB a request (bench/adapters, README "Overhead").
 */
class ExpressPhpSession extends HttpPhpSession {
  /** The middleware's work: a failed start or write goes to next(err). */
  use(req: IncomingMessage, res: ServerResponse, next: Next): void {
    // Attached already (the middleware mounted twice, or another set req.phpSession): the response's
    // hold read directly, not through the prototype's accessor.
    if (responseContext(res) !== undefined || (Object.hasOwn(req, 'phpSession') && (req as { phpSession?: unknown }).phpSession !== undefined)) {
      next();
      return;
    }
    // A write failure found when the response goes out: the response is not sent yet, Express's
    // error handlers answer instead. A multipart upload is fed to the session by attach() (fields
    // in req.body, files in req.files) before the session starts and the app runs.
    this.attachThen(req, res, { onError: next }, next);
  }

  protected override expose(req: IncomingMessage, ctx: PhpSessionContext, res: ServerResponse): void {
    const proto = Object.getPrototypeOf(req) as object | null;
    // Express's app.request is Object.create(express.request, { app }): an own `app` names it.
    let ours = proto === null || !Object.hasOwn(proto, 'app') ? false : exposedPrototypes.get(proto);
    if (ours === undefined) {
      ours = !Object.hasOwn(proto!, 'session') && !Object.hasOwn(proto!, 'phpSession');
      if (ours) {
        defineAccessor(proto!, 'phpSession', (c) => c);
        defineAccessor(proto!, 'session', (c) => c.session);
      }
      exposedPrototypes.set(proto!, ours);
    }
    // The accessors read the context through req.res: the response this middleware attaches to.
    if (!ours || (req as { res?: unknown }).res !== res || Object.hasOwn(req, 'session') || Object.hasOwn(req, 'phpSession')) super.expose(req, ctx, res);
  }
}

function defineAccessor(proto: object, name: 'session' | 'phpSession', read: (ctx: PhpSessionContext) => unknown): void {
  Object.defineProperty(proto, name, {
    configurable: true,
    enumerable: false,
    get(this: { res?: object }): unknown {
      const res = this.res;
      const ctx = res === undefined ? undefined : responseContext(res);
      return ctx === undefined ? undefined : read(ctx);
    },
    set(this: object, value: unknown): void {
      Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
    },
  });
}

/** Express middleware (works as a plain connect-style middleware too). */
export function phpSession(options: PhpSessionOptions = {}): PhpSessionMiddleware {
  const sessions = new ExpressPhpSession(options);
  const mw = (req: IncomingMessage, res: ServerResponse, next: Next): void => sessions.use(req, res, next);
  return Object.assign(mw, { sessions });
}

export default phpSession;
