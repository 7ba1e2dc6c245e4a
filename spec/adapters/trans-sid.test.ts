/**
 * Trans-sid through the adapters against php-cgi: with session.use_trans_sid=1, use_only_cookies=0,
 * use_cookies=0 and the id in the query, an app serving spec/transsid's sample page (links, forms,
 * areas, frames, other hosts, fragments, entities) answers the body php-cgi gives for the same page
 * and query (spec/php/driver.php, rewrite mode). The node:http app writes the page in pieces (tags cut
 * between writes); Express 5 and 4 use res.send (Content-Length set by Express, dropped by the
 * adapter); Fastify sends the page as a string and as a stream of pieces cut inside tags; Hono on
 * @hono/node-server as c.html() and as a ReadableStream of those pieces. Before the adapters
 * rewrote, the bodies went out unchanged and these tests failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import express4 from 'express4';
import { phpSession } from 'php-session-engine/express';
import { phpSessionPlugin } from 'php-session-engine/fastify';
import { phpSession as honoSession, type PhpSessionEnv } from 'php-session-engine/hono';
import { createPhpSession } from 'php-session-engine/http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runRewriteInPhp } from '../php/driver.ts';
import { describeWith } from '../support/tools.ts';
import { SAMPLE_PAGE, TRANS_SID_INI, b64 } from '../transsid/cases.ts';

const QUERY = 'PHPSESSID=abc123';
/** The sample page in pieces cut inside a tag, inside an attribute value and inside a <form …>. */
const CUTS = [0, SAMPLE_PAGE.indexOf('href="/cart') + 3, SAMPLE_PAGE.indexOf('list.php') + 4, SAMPLE_PAGE.indexOf('<form action="post') + 9, SAMPLE_PAGE.length];
const PIECES = CUTS.slice(0, -1).map((at, i) => SAMPLE_PAGE.slice(at, CUTS[i + 1]));

function get(port: number, cookie?: string, prefix = ''): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: `${prefix}/page.php?${QUERY}`, headers: { Host: 'localhost', ...(cookie !== undefined && { Cookie: cookie }) } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), headers: res.headers }));
      },
    );
    req.on('error', reject);
  });
}

function listen(handler: http.RequestListener): Promise<http.Server> {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

describeWith(['php-cgi'], 'trans-sid through the adapters vs php-cgi', () => {
  let dir: string;
  let phpBody: string;
  const servers = new Map<string, http.Server>();
  let fastify: FastifyInstance | undefined;
  let honoApp: Hono<PhpSessionEnv> | undefined;
  const port = (name: string): number => (servers.get(name)!.address() as AddressInfo).port;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pse-adapters-transsid-'));
    const ini = { 'session.save_path': dir, 'session.gc_probability': '0', ...TRANS_SID_INI };
    const res = await runRewriteInPhp({
      steps: [{ op: 'session_start' }, { op: 'echo', args: [b64(SAMPLE_PAGE)] }],
      ini: { ...TRANS_SID_INI, 'session.gc_probability': '0' },
      query: QUERY,
      httpHost: 'localhost',
    });
    phpBody = Buffer.from(res.body, 'latin1').toString('utf8');

    const plain = createPhpSession({ ini, autoStart: true });
    servers.set(
      'http',
      await listen(
        plain.handler((_req, res) => {
          res.setHeader('Content-Type', 'text/html; charset=utf-8');
          for (const piece of PIECES.slice(0, -1)) res.write(piece);
          res.end(PIECES[PIECES.length - 1]);
        }),
      ),
    );
    const app5 = express();
    app5.use(phpSession({ ini, autoStart: true }));
    app5.get('/page.php', (_req, res) => void res.send(SAMPLE_PAGE));
    servers.set('express', await listen(app5 as unknown as http.RequestListener));
    const app4 = express4();
    app4.use(phpSession({ ini, autoStart: true }));
    app4.get('/page.php', (_req, res) => void res.send(SAMPLE_PAGE));
    servers.set('express4', await listen(app4 as unknown as http.RequestListener));

    fastify = Fastify();
    await fastify.register(phpSessionPlugin, { ini, autoStart: true });
    fastify.get('/page.php', (_req, reply) => reply.type('text/html; charset=utf-8').send(SAMPLE_PAGE));
    fastify.get('/stream/page.php', (_req, reply) => reply.type('text/html; charset=utf-8').send(Readable.from(PIECES.map((p) => Buffer.from(p)), { objectMode: false })));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    servers.set('fastify', fastify.server);
    servers.set('fastify stream', fastify.server);

    const hono = new Hono<PhpSessionEnv>();
    hono.use(honoSession({ ini, autoStart: true }));
    honoApp = hono;
    hono.get('/page.php', (c) => c.html(SAMPLE_PAGE));
    hono.get('/stream/page.php', (c) => {
      const enc = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        start(ctl) {
          for (const p of PIECES) ctl.enqueue(enc.encode(p));
          ctl.close();
        },
      });
      return c.body(body, 200, { 'Content-Type': 'text/html; charset=utf-8' });
    });
    const honoServer = await new Promise<http.Server>((resolve) => {
      const s = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as http.Server));
    });
    servers.set('hono', honoServer);
    servers.set('hono stream', honoServer);
  }, 60_000);

  afterAll(async () => {
    await fastify?.close();
    servers.delete('fastify');
    servers.delete('fastify stream');
    servers.delete('hono stream');
    await Promise.all([...servers.values()].map((s) => new Promise((r) => s.close(r))));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('PHP rewrites the page (the test would show nothing otherwise)', () => {
    expect(phpBody).toContain('index.php?PHPSESSID=abc123');
    expect(phpBody).toContain('<input type="hidden" name="PHPSESSID" value="abc123" />');
  });

  it("hono without node-server (app.request, the host from the Request's Host header): the body equals php-cgi's", async () => {
    const res = await honoApp!.request(`http://localhost/page.php?${QUERY}`, { headers: { Host: 'localhost' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(phpBody);
    expect(res.headers.get('content-length')).toBeNull();
  });

  for (const name of ['http', 'express', 'express4', 'fastify', 'fastify stream', 'hono', 'hono stream']) {
    it(`${name}: the body equals php-cgi's`, async () => {
      const res = await get(port(name), undefined, name.endsWith('stream') ? '/stream' : '');
      expect(res.status).toBe(200);
      expect(res.body).toBe(phpBody);
      // The app's own Content-Length (wrong once rewritten) is gone; a framework may set the new one.
      if (res.headers['content-length'] !== undefined) expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
      if (name.startsWith('http') || name.startsWith('express')) expect(res.headers['content-length']).toBeUndefined();
    });
  }
});
