/**
 * The four Node apps of examples/adapters, one per adapter, each mounting routes.ts. Each `start*`
 * listens on 127.0.0.1 (port 0 = a free one) and returns its URL and a close().
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { createPhpSession, type PhpSessionOptions } from 'php-session-engine/http';
import { phpSession as expressSession } from 'php-session-engine/express';
import { phpSessionPlugin } from 'php-session-engine/fastify';
import { phpSession as honoSession, type PhpSessionEnv } from 'php-session-engine/hono';
import { route } from './routes.ts';

export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server, port: number): Promise<RunningApp> {
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function pathAndQuery(url: string | undefined): { path: string; query: URLSearchParams } {
  const u = new URL(url ?? '/', 'http://localhost');
  return { path: u.pathname, query: u.searchParams };
}

/** Plain node:http. */
export function startHttp(options: PhpSessionOptions, port = 0): Promise<RunningApp> {
  const sessions = createPhpSession(options);
  const server = createServer(
    sessions.handler(async (req, res) => {
      const { path, query } = pathAndQuery(req.url);
      const out = await route(path, query, req.session, 'http');
      if (out === undefined) return; // /hang: never answers
      res.setHeader('Content-Type', typeof out === 'string' ? 'text/plain' : 'application/json');
      res.end(typeof out === 'string' ? out : JSON.stringify(out));
    }),
  );
  return listen(server, port);
}

/** Express 5 (or 4: pass its module as `lib`). */
export function startExpress(options: PhpSessionOptions, port = 0, lib: () => express.Express = express): Promise<RunningApp> {
  const app = lib();
  app.use(expressSession(options));
  app.use((req, res, next) => {
    const { path, query } = pathAndQuery(req.url);
    route(path, query, req.session, 'express').then((out) => {
      if (out === undefined) return; // /hang: never answers, never calls next
      if (typeof out === 'string') res.type('text').send(out);
      else res.json(out);
    }, next);
  });
  // Express's error handling gets every failure, a PhpSessionError included (PHP's diagnostics attached).
  app.use((err: Error & { diagnostics?: unknown }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: err.message, diagnostics: err.diagnostics ?? [] });
  });
  return listen(createServer(app), port);
}

/** Fastify 5. */
export async function startFastify(options: PhpSessionOptions, port = 0): Promise<RunningApp> {
  const app = Fastify();
  await app.register(phpSessionPlugin, options);
  app.all('/*', async (request, reply) => {
    const { path, query } = pathAndQuery(request.url);
    const out = await route(path, query, request.session, 'fastify');
    if (out === undefined) return new Promise(() => undefined); // /hang
    return typeof out === 'string' ? reply.type('text/plain').send(out) : out;
  });
  await app.listen({ port, host: '127.0.0.1' });
  const addr = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

/** Hono on @hono/node-server. */
export async function startHono(options: PhpSessionOptions, port = 0): Promise<RunningApp> {
  const app = new Hono<PhpSessionEnv>();
  app.use(honoSession(options));
  app.all('*', async (c) => {
    const { path, query } = pathAndQuery(c.req.url);
    const out = await route(path, query, c.get('session'), 'hono');
    if (out === undefined) return new Promise<Response>(() => undefined); // /hang
    return typeof out === 'string' ? c.text(out) : c.json(out);
  });
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

export const starters = {
  http: startHttp,
  express: startExpress,
  fastify: startFastify,
  hono: startHono,
  /** The same Express app on Express 4 (devDependency alias express4 → express@4). */
  express4: (options: PhpSessionOptions, port = 0) => startExpress(options, port, express4 as unknown as () => express.Express),
} as const;
