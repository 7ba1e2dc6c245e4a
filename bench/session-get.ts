/**
 * bench/session-get: the load generators' request (bench/adapters, bench/express-ab): one `GET /`
 * on a keep-alive agent carrying the client's session cookie.
 */
import { request, type Agent } from 'node:http';

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
