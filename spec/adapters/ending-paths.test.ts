/**
 * The adapters' fast paths end the request on every way out. The Hono middleware on node-server
 * runs as one promise chain (no async function, one shared 'close' listener: README "Overhead");
 * these tests pin what the async version did:
 *  - a route that throws an Error: Hono's onError answers, the session is written, PHP's header
 *    lines (the new session's cookie) are on the error response;
 *  - a route that throws a value that is not an Error (Hono's compose passes it on): the session is
 *    still written and its lock released (the next request on that session is not held up), and
 *    the value goes on to node-server (500);
 *  - the same without node-server (app.request(): the Request's AbortSignal path).
 * And the Express middleware mounted twice (its "attached already" check now reads the response's
 * hold, not the request's accessor): one context, one cookie.
 * Checked by hand against broken code: the general-path test fails when the thrown value is not
 * passed on (finish() without it), the Express test hangs on the lock when the "attached already"
 * check is removed (two contexts on one session). The node-server tests still pass without the
 * chain's rejection branch: the response's 'close' listener then ends the request (later).
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { phpSession as expressSession } from 'php-session-engine/express';
import { phpSession as honoSession, type PhpSessionEnv } from 'php-session-engine/hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir: string;
const servers: Server[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pse-ending-paths-'));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

/** A save path of its own for each app (made here). */
function ini(sub: string): Record<string, string | number> {
  const path = join(dir, sub);
  mkdirSync(path, { recursive: true });
  return { 'session.save_path': path, 'session.gc_probability': 0 };
}

function get(port: number, path: string, cookie?: string): Promise<{ status: number; body: string; cookies: string[] }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: cookie === undefined ? {} : { cookie } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cookies: res.headers['set-cookie'] ?? [] }));
      })
      .on('error', reject);
  });
}

/** The one session file of a save path, as PHP's serializer wrote it. */
function sessionFile(sub: string): string {
  const files = readdirSync(join(dir, sub)).filter((f) => f.startsWith('sess_'));
  expect(files).toHaveLength(1);
  return readFileSync(join(dir, sub, files[0]!), 'latin1');
}

function honoApp(sub: string): Hono<PhpSessionEnv> {
  const app = new Hono<PhpSessionEnv>();
  app.use(honoSession({ ini: ini(sub), autoStart: true }));
  app.get('/error', (c) => {
    c.get('session').n = 1;
    throw new Error('route failed');
  });
  app.get('/value', (c) => {
    const s = c.get('session');
    s.n = Number(s.n ?? 0) + 1;
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    throw 'not an Error';
  });
  app.get('/count', (c) => c.text(String(c.get('session').n)));
  app.onError((err, c) => c.text(`onError: ${err.message}`, 500));
  return app;
}

async function serveHono(app: Hono<PhpSessionEnv>): Promise<number> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

describe('Hono on node-server (the promise-chain path)', () => {
  it("a route that throws an Error: onError answers, the session is written, the new session's cookie is on the error response", async () => {
    const port = await serveHono(honoApp('hono-error'));
    const r = await get(port, '/error');
    expect(r.status).toBe(500);
    expect(r.body).toBe('onError: route failed');
    expect(r.cookies).toHaveLength(1);
    expect(r.cookies[0]).toMatch(/^PHPSESSID=[0-9a-v]{26,}; path=\//);
    expect(sessionFile('hono-error')).toBe('n|i:1;');
  });

  it('a route that throws a non-Error value: the session is written, the lock released, the value goes on (500)', async () => {
    const port = await serveHono(honoApp('hono-value'));
    const cookie = (await get(port, '/count')).cookies[0]!.split(';')[0]!;
    // node-server answers the value itself (500, without the route's headers); each next request on
    // that session gets the lock (a lock left held would hang it) and sees the write.
    expect((await get(port, '/value', cookie)).status).toBe(500);
    expect((await get(port, '/value', cookie)).status).toBe(500);
    expect((await get(port, '/count', cookie)).body).toBe('2');
    expect(sessionFile('hono-value')).toBe('n|i:2;');
  });
});

describe('Hono without node-server (app.request: the general path)', () => {
  it('a route that throws an Error or a non-Error value: the session is written each time, the lock released', async () => {
    const app = honoApp('hono-fetch');
    const err = await app.request('http://localhost/error');
    expect(err.status).toBe(500);
    // (headers before the body: once node-server's serve() has replaced the global Response in this
    // process, reading a lightweight Response's body rebuilds it from its init, without headers added later)
    const cookie = err.headers.get('set-cookie')!.split(';')[0]!;
    expect(await err.text()).toBe('onError: route failed');
    await expect(app.request('http://localhost/value', { headers: { cookie } })).rejects.toBe('not an Error');
    await expect(app.request('http://localhost/value', { headers: { cookie } })).rejects.toBe('not an Error');
    expect(await (await app.request('http://localhost/count', { headers: { cookie } })).text()).toBe('3');
    expect(sessionFile('hono-fetch')).toBe('n|i:3;');
  });
});

describe('Express', () => {
  it('the middleware mounted twice: one context, one cookie, the session written once', async () => {
    const app = express();
    const first = expressSession({ ini: ini('express-twice') });
    let contexts = 0;
    app.use(first);
    app.use((req, _res, next) => {
      contexts += req.phpSession === undefined ? 0 : 1;
      next();
    });
    app.use(expressSession({ ini: ini('express-twice') }));
    app.get('/', (req, res) => {
      req.session.n = Number(req.session.n ?? 0) + 1;
      res.send(String(req.session.n));
    });
    const server = http.createServer(app);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const a = await get(port, '/');
    expect(a.body).toBe('1');
    expect(a.cookies).toHaveLength(1);
    const b = await get(port, '/', a.cookies[0]!.split(';')[0]);
    expect(b.body).toBe('2');
    expect(b.cookies).toHaveLength(0);
    expect(contexts).toBe(2);
    expect(sessionFile('express-twice')).toBe('n|i:2;');
  });
});
