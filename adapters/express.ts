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
import { HttpPhpSession } from './http.ts';
import type { PhpSessionContext, PhpSessionOptions, SessionView } from './session.ts';

export type { UploadedFile } from './upload.ts';
export { PhpSessionError, PhpSessionContext, type PhpSessionOptions, type SessionView, type SessionMethods } from './session.ts';
export { PhpFloat } from 'php-session-engine';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** $_SESSION (php-session-engine). */
      session: SessionView;
      /** The request's PHP session (php-session-engine). */
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

/** Express middleware (works as a plain connect-style middleware too). */
export function phpSession(options: PhpSessionOptions = {}): PhpSessionMiddleware {
  const sessions = new HttpPhpSession(options);
  const mw = (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    if ((req as { phpSession?: unknown }).phpSession !== undefined) {
      next();
      return;
    }
    // A write failure found when the response goes out: the response is not sent yet, Express's
    // error handlers answer instead. A multipart upload is fed to the session by attach() (fields
    // in req.body, files in req.files) before the session starts and the app runs.
    sessions.attach(req, res, { onError: (err) => next(err) }).then(
      () => next(),
      (err: unknown) => next(err),
    );
  };
  return Object.assign(mw, { sessions });
}

export default phpSession;
