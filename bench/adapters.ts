/**
 * bench/adapters: requests per second of each adapter (node:http, Express 5, Fastify 5, Hono on
 * @hono/node-server) against the bare node:http use of the engine, on the same session work: a
 * request with a session cookie, start (files module, flock), one counter incremented, write,
 * close, JSON answer. 16 clients, each on its own session (no lock contention), keep-alive.
 *
 * The machine may be shared, so the targets run in alternating short rounds and the medians are
 * compared. The framework's own cost is in each adapter's number; the "framework only" rows (the
 * same route without the session) separate it from the adapter's.
 *
 * Run: node --conditions=php-session-engine-source --import tsx bench/adapters.ts [seconds-per-round] [rounds]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { parse as parseCookie } from 'cookie';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { SessionEngine } from 'php-session-engine';
import { phpSession as expressSession } from 'php-session-engine/express';
import { phpSessionPlugin } from 'php-session-engine/fastify';
import { createPhpSession, type SessionView } from 'php-session-engine/http';
import { phpSession as honoSession, type PhpSessionEnv } from 'php-session-engine/hono';

const SECONDS = Number(process.argv[2] ?? 2);
const ROUNDS = Number(process.argv[3] ?? 5);
const CLIENTS = 16;
const dir = mkdtempSync(join(tmpdir(), 'pse-bench-adapters-'));
const ini = { 'session.save_path': dir, 'session.gc_probability': 0 };

const work = (s: SessionView): { n: unknown } => {
  const n = s.n;
  s.n = (typeof n === 'number' ? n : 0) + 1;
  return { n: s.n };
};

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const targets: Record<string, () => Promise<{ port: number; close: () => Promise<void> }>> = {
  'bare node:http + engine': async () => {
    const engine = new SessionEngine({ ini });
    const server = createServer((req, res) => {
      void (async () => {
        const r = engine.request({ cookies: parseCookie(req.headers.cookie ?? '') as Record<string, string> });
        await r.start();
        const n = r.session.get('n');
        r.session.set('n', (typeof n === 'number' ? n : 0) + 1);
        const body = JSON.stringify({ n: r.session.get('n') });
        await r.end();
        for (const [k, v] of r.headers) res.appendHeader(k, v);
        res.setHeader('Content-Type', 'application/json');
        res.end(body);
      })();
    });
    return { port: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
  },
  'php-session-engine/http': async () => {
    const sessions = createPhpSession({ ini });
    const server = createServer(
      sessions.handler((req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(work(req.session)));
      }),
    );
    return { port: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
  },
  'express (framework only)': async () => {
    const app = express();
    app.get('/', (_req, res) => void res.json({ n: 1 }));
    const server = createServer(app);
    return { port: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
  },
  'php-session-engine/express': async () => {
    const app = express();
    app.use(expressSession({ ini }));
    app.get('/', (req, res) => void res.json(work(req.session)));
    const server = createServer(app);
    return { port: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
  },
  'fastify (framework only)': async () => {
    const app = Fastify();
    app.get('/', async () => ({ n: 1 }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  },
  'php-session-engine/fastify': async () => {
    const app = Fastify();
    await app.register(phpSessionPlugin, { ini });
    app.get('/', async (request) => work(request.session));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  },
  'hono (framework only)': async () => {
    const app = new Hono();
    app.get('/', (c) => c.json({ n: 1 }));
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
    });
    return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
  },
  'php-session-engine/hono': async () => {
    const app = new Hono<PhpSessionEnv>();
    app.use(honoSession({ ini }));
    app.get('/', (c) => c.json(work(c.get('session'))));
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
    });
    return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
  },
};

const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

function get(port: number, cookie: string | undefined): Promise<string | undefined> {
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

async function round(port: number, cookies: Array<string | undefined>): Promise<number> {
  const end = Date.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(
    cookies.map(async (_, i) => {
      while (Date.now() < end) {
        cookies[i] = await get(port, cookies[i]);
        done++;
      }
    }),
  );
  return done / SECONDS;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const results: Record<string, number[]> = {};
const running: Record<string, { port: number; close: () => Promise<void>; cookies: Array<string | undefined> }> = {};
for (const [name, start] of Object.entries(targets)) {
  const t = await start();
  running[name] = { ...t, cookies: Array.from({ length: CLIENTS }, () => undefined) };
  await round(t.port, running[name].cookies); // warm-up (and each client gets its session)
  results[name] = [];
}
for (let r = 0; r < ROUNDS; r++) {
  for (const name of Object.keys(targets)) results[name]!.push(await round(running[name]!.port, running[name]!.cookies));
}
const base = median(results['bare node:http + engine']!);
console.log(`${CLIENTS} clients, ${ROUNDS} rounds of ${SECONDS} s, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const [name, xs] of Object.entries(results)) {
  const m = median(xs);
  const rel = name.includes('framework only') ? '' : `  ${((m / base - 1) * 100).toFixed(1)}% vs bare`;
  console.log(`${name.padEnd(30)} ${m.toFixed(0).padStart(7)} req/s${rel}`);
}
for (const t of Object.values(running)) await t.close();
agent.destroy();
rmSync(dir, { recursive: true, force: true });
