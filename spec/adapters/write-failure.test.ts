/**
 * @module spec/adapters/write-failure
 * A session write that fails (the module's write returns false: PHP warns "Failed to write session
 * data" and its session_write_close() and RSHUTDOWN still return true) reaches the framework's
 * error handling as a PhpSessionError carrying PHP's warning, before the route's response goes out
 * (README "Errors": one channel; Fastify answers a failure of its onSend hook with its fallback
 * error handler, not the one set with setErrorHandler). Before this test the adapters took session_write_close()'s true
 * for a good write: every adapter answered 200 with the route's body and the data was lost silently.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { SessionEngine } from 'php-session-engine';
import { phpSession as expressSession, PhpSessionError } from 'php-session-engine/express';
import { phpSessionPlugin } from 'php-session-engine/fastify';
import { createPhpSession } from 'php-session-engine/http';
import { phpSession as honoSession, type PhpSessionEnv } from 'php-session-engine/hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMemoryModule } from '../support/memory-module.ts';

/** An engine whose module's write fails (returns false, as files does on a full disk). */
function failingEngine(): SessionEngine {
  const mod = createMemoryModule({ name: 'failwrite', fail: { write: true } });
  return new SessionEngine({ modules: [mod], ini: { 'session.save_handler': mod.name } });
}

/** What each app's error handler saw: the error's class, message and PHP diagnostics. */
const seen: Record<string, { isPhpSessionError: boolean; diagnostics: string[] }> = {};
const record = (name: string, err: unknown): string => {
  seen[name] = { isPhpSessionError: err instanceof PhpSessionError, diagnostics: err instanceof PhpSessionError ? err.diagnostics.map((d) => d.message) : [] };
  return `error: ${(err as Error).message}`;
};

const servers: Array<{ close: () => Promise<void> }> = [];
const ports: Record<string, number> = {};

async function listen(name: string, server: http.Server): Promise<void> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ports[name] = (server.address() as AddressInfo).port;
  servers.push({ close: () => new Promise((r) => server.close(() => r())) });
}

beforeAll(async () => {
  const app = express();
  app.use(expressSession({ engine: failingEngine() }));
  app.get('/', (req, res) => {
    req.session.n = 1;
    res.send('route');
  });
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).send(record('express', err)));
  await listen('express', http.createServer(app));

  const sessions = createPhpSession({ engine: failingEngine() });
  await listen(
    'http',
    http.createServer(
      sessions.handler(
        (req, res) => {
          req.session.n = 1;
          res.end('route');
        },
        (err, _req, res) => {
          res.statusCode = 500;
          res.end(record('http', err));
        },
      ),
    ),
  );

  const f = Fastify();
  await f.register(phpSessionPlugin, { engine: failingEngine() });
  f.get('/', async (request) => {
    request.session.n = 1;
    return 'route';
  });
  f.setErrorHandler((err, _request, reply) => void reply.status(500).send(record('fastify', err)));
  await f.listen({ port: 0, host: '127.0.0.1' });
  ports['fastify'] = (f.server.address() as AddressInfo).port;
  servers.push({ close: () => f.close() });

  const h = new Hono<PhpSessionEnv>();
  h.use(honoSession({ engine: failingEngine() }));
  h.get('/', (c) => {
    c.get('session').n = 1;
    return c.text('route');
  });
  h.onError((err, c) => c.text(record('hono', err), 500));
  const hs = await new Promise<http.Server>((resolve) => {
    const s = serve({ fetch: h.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as http.Server));
  });
  ports['hono'] = (hs.address() as AddressInfo).port;
  servers.push({ close: () => new Promise((r) => hs.close(() => r())) });
});

afterAll(async () => {
  for (const s of servers) await s.close();
});

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

it.each(['express', 'http', 'hono'])('%s: a failed write goes to the error handler as a PhpSessionError with PHP\'s warning, not the route\'s answer', async (name) => {
  const r = await get(ports[name]!);
  expect(r.status).toBe(500);
  expect(r.body).toMatch(/^error: session write failed: .*Failed to write session data \(failwrite\)/);
  expect(seen[name]?.isPhpSessionError).toBe(true);
  expect(seen[name]?.diagnostics.some((m) => m.includes('Failed to write session data (failwrite). Please verify that the current setting of session.save_path is correct'))).toBe(true);
});

it("fastify: a failed write found in onSend gets Fastify's own 500 answer (its fallback error handler, not setErrorHandler's) with the PhpSessionError's message", async () => {
  const r = await get(ports['fastify']!);
  expect(r.status).toBe(500);
  expect(JSON.parse(r.body)).toMatchObject({ statusCode: 500, code: 'ERR_HANDLER' });
  expect(JSON.parse(r.body).message).toMatch(/^session write failed: .*Failed to write session data \(failwrite\)/);
});
