/**
 * How the http/Express adapters hold the response until the session is written. On Express the
 * response's class is app.response, so the hold goes through that prototype (hooked once) instead of
 * own methods on every response (own methods on such objects cost ~12 us a request): the handler's
 * response has no own writeHead/write/end. A response another middleware wrapped first keeps that
 * wrapper and is held through own wrappers; responses of routes without the session pass straight
 * through the hooked prototype. Before the prototype hook the first test failed (own `end`).
 * node:http's own ServerResponse is held the same way, through ServerResponse.prototype: own
 * methods on each response made its per-request objects survive young-generation GCs (the http
 * adapter's +50% CPU a request in bench/adapters). Before that change the node:http test failed
 * (own `end`).
 * The Express request gets `session` and `phpSession` the same way, through accessors on the app's
 * request prototype: two own properties added to each Express request cost ~2.5 KB of allocation a
 * request. Before that change the "no own session properties" test failed.
 * Express keeps its request objects through young-generation collections (by hand too), so the
 * context is released when the response has closed: the WeakMap entry deleted, the response's
 * 'close' listener removed. A request held after that no longer holds its context (the last test
 * failed before: the context stayed reachable from the request).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { phpSession } from 'php-session-engine/express';
import { createPhpSession } from 'php-session-engine/http';
import { afterAll, beforeAll, expect, it } from 'vitest';

let dir: string;
let server: http.Server;
let port: number;
let plainServer: http.Server;
let plainPort: number;
const seen: Record<string, boolean> = {};
let wrapperRan = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pse-response-hold-'));
  const ini = { 'session.save_path': dir, 'session.gc_probability': 0 };
  const app = express();
  app.get('/plain', (_req, res) => void res.send('plain'));
  // A middleware that wraps res.end itself before the session's (as compression or on-headers do).
  app.use('/wrapped', (_req, res, next) => {
    const end = res.end;
    res.end = function (this: typeof res, ...args: unknown[]) {
      wrapperRan++;
      return (end as (...a: unknown[]) => typeof res).apply(this, args);
    } as typeof res.end;
    next();
  });
  app.use(phpSession({ ini }));
  app.get('/session', (req, res) => {
    seen['own end'] = Object.hasOwn(res, 'end') || Object.hasOwn(res, 'write') || Object.hasOwn(res, 'writeHead');
    seen['req own session'] = Object.hasOwn(req, 'session') || Object.hasOwn(req, 'phpSession');
    req.session.n = 1;
    seen['req session is the context view'] = req.session === req.phpSession.session && req.session.n === 1;
    res.send('session');
  });
  app.get('/reassigned', (req, res) => {
    const view = req.session;
    // Another middleware may replace req.session: an own property then, the context unchanged.
    (req as { session: unknown }).session = { replaced: true };
    seen['reassigned own'] = Object.hasOwn(req, 'session') && (req.session as unknown as { replaced: boolean }).replaced;
    seen['context kept'] = req.phpSession.session === view;
    res.send('reassigned');
  });
  app.get('/wrapped', (req, res) => {
    req.session.n = 2;
    res.send('wrapped');
  });
  server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  // node:http: the plain ServerResponse is held through ServerResponse.prototype as well.
  const sessions = createPhpSession({ ini });
  plainServer = http.createServer(
    sessions.handler((req, res) => {
      seen['http own end'] = Object.hasOwn(res, 'end') || Object.hasOwn(res, 'write') || Object.hasOwn(res, 'writeHead');
      seen['http prototype'] = Object.getPrototypeOf(res) === http.ServerResponse.prototype;
      req.session.n = 3;
      res.end('http');
    }),
  );
  await new Promise<void>((r) => plainServer.listen(0, '127.0.0.1', r));
  plainPort = (plainServer.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await new Promise((r) => plainServer.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string, to = port): Promise<{ body: string; cookie: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: to, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ body, cookie: res.headers['set-cookie']?.[0] }));
      })
      .on('error', reject);
  });
}

it('Express: held through the prototype (no own methods on the response), session written, cookie sent', async () => {
  const r = await get('/session');
  expect(r.body).toBe('session');
  expect(r.cookie).toMatch(/^PHPSESSID=/);
  expect(seen['own end']).toBe(false);
  expect(readdirSync(dir).length).toBe(1);
});

it('Express: req.session and req.phpSession come from accessors on app.request (no own properties on the request); assigning one makes it own', async () => {
  const r = await get('/session');
  expect(r.body).toBe('session');
  expect(seen['req own session']).toBe(false);
  expect(seen['req session is the context view']).toBe(true);
  expect((await get('/reassigned')).body).toBe('reassigned');
  expect(seen['reassigned own']).toBe(true);
  expect(seen['context kept']).toBe(true);
  // The accessors live on this app's request prototype only, never on node's IncomingMessage.
  expect(Object.getOwnPropertyDescriptor(http.IncomingMessage.prototype, 'session')).toBeUndefined();
});

it('node:http: the ServerResponse is held through its own prototype (no own methods, prototype unchanged), session written, cookie sent', async () => {
  const before = readdirSync(dir).length;
  const r = await get('/', plainPort);
  expect(r.body).toBe('http');
  expect(r.cookie).toMatch(/^PHPSESSID=/);
  expect(seen['http own end']).toBe(false);
  expect(seen['http prototype']).toBe(true);
  expect(readdirSync(dir).length).toBe(before + 1);
});

it('a response another middleware wrapped first: held through own wrappers, the wrapper still runs once', async () => {
  const before = wrapperRan;
  const r = await get('/wrapped');
  expect(r.body).toBe('wrapped');
  expect(r.cookie).toMatch(/^PHPSESSID=/);
  expect(wrapperRan - before).toBe(1);
});

it('a route without the session passes through the hooked prototype untouched', async () => {
  const r = await get('/plain');
  expect(r.body).toBe('plain');
  expect(r.cookie).toBeUndefined();
});

it('Express: the context is released when the response has closed (readable until then; collectable while the request is still held)', () => {
  const script = `
    import http from 'node:http';
    import express from 'express';
    import { phpSession } from 'php-session-engine/express';
    const app = express();
    app.use(phpSession({ ini: { 'session.save_path': ${JSON.stringify(dir)}, 'session.gc_probability': 0 } }));
    const seen = {};
    let held, ref;
    app.get('/', (req, res) => {
      held = req;
      ref = new WeakRef(req.phpSession);
      req.session.n = 1;
      res.on('finish', () => { seen.atFinish = req.session?.n; });
      res.on('close', () => setImmediate(() => { seen.afterClose = req.phpSession === undefined && req.session === undefined; }));
      res.send('ok');
    });
    const server = http.createServer(app);
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const body = await new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port: server.address().port, path: '/' }, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => resolve(b)); }).on('error', reject));
    server.close();
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
    console.log(JSON.stringify({ body, ...seen, requestHeld: held !== undefined, contextCollected: ref.deref() === undefined }));
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '--conditions=php-session-engine-source', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({ body: 'ok', atFinish: 1, afterClose: true, requestHeld: true, contextCollected: true });
});

it("applyHeaders: PHP's Set-Cookie lines appended to the app's, a header the app set wins, a PHP header repeated after PHP set it is appended (names in any case)", async () => {
  const { SessionEngine } = await import('php-session-engine');
  const { PhpSessions, parseCookies, applyHeaders } = await import('php-session-engine/http');
  const ctx = new PhpSessions({ engine: new SessionEngine({ ini: { 'session.gc_probability': 0 } }) }, parseCookies).context({}, undefined);
  const res = new http.ServerResponse({ method: 'GET', httpVersionMajor: 1, httpVersionMinor: 1, headers: {} } as http.IncomingMessage);
  res.setHeader('Set-Cookie', 'app=1');
  res.setHeader('cache-control', 'app');
  for (const [name, value] of [
    ['Set-Cookie', 'PHPSESSID=a'],
    ['Cache-Control', 'php'],
    ['X-Php', 'one'],
    ['set-cookie', 'b=2'],
    ['x-PHP', 'two'],
    ['Cache-control', 'php again'],
  ] as const) {
    ctx.request.addHeader(name, value, false);
  }
  applyHeaders(ctx, res);
  expect(res.getHeader('set-cookie')).toEqual(['app=1', 'PHPSESSID=a', 'b=2']);
  expect(res.getHeader('cache-control')).toBe('app');
  expect(res.getHeader('x-php')).toEqual(['one', 'two']);
  // Each line is applied once: a second call adds nothing.
  applyHeaders(ctx, res);
  expect(res.getHeader('x-php')).toEqual(['one', 'two']);
  void ctx.end();
});
