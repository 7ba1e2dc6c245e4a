/**
 * bench/session-get: the load generators' request (bench/adapters, bench/express-ab): one `GET /`
 * on a keep-alive agent carrying the client's session cookie; and the by-hand peers' session work.
 */
import { request, type Agent } from 'node:http';
import { parse as parseCookie } from 'cookie';
import type { SessionEngine } from 'php-session-engine';

/** Resolves with the cookie to send next (the new Set-Cookie's name=value, else the one sent); rejects on a status other than 200. */
export function getWithSession(agent: Agent, port: number, cookie: string | undefined): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: cookie === undefined ? {} : { cookie } }, (res) => {
      const set = res.headers['set-cookie']?.[0]?.split(';')[0];
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(set ?? cookie) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The bare engine's session work for one request, as an app must write it by hand without an
 * adapter: a failed start is an error, the request is ended whatever happens (else its lock stays
 * held), and a failed write (PHP's "Failed to write session data" warning: `end()` still resolves)
 * is an error, not data lost silently. The adapters do the same three checks.
 */
export async function byHand(engine: SessionEngine, cookie: string | undefined): Promise<{ body: { n: unknown }; headers: Array<[string, string]> }> {
  const r = engine.request({ cookies: parseCookie(cookie ?? '') as Record<string, string> });
  let body: { n: unknown };
  try {
    if (!(await r.start())) throw new Error('session_start() failed');
    const n = r.session.get('n');
    r.session.set('n', (typeof n === 'number' ? n : 0) + 1);
    body = { n: r.session.get('n') };
  } finally {
    await r.end();
  }
  if (writeFailed(r.diagnostics)) throw new Error('session write failed');
  return { body, headers: r.headers };
}

/** PHP's warning for a write the module refused. */
export function writeFailed(diagnostics: ReadonlyArray<{ message: string }>): boolean {
  for (const d of diagnostics) if (d.message.includes(': Failed to write session data')) return true;
  return false;
}
