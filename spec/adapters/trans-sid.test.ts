/**
 * Trans-sid through the adapters against php-cgi: with session.use_trans_sid=1, use_only_cookies=0,
 * use_cookies=0 and the id in the query, an app serving spec/transsid's sample page (links, forms,
 * areas, frames, other hosts, fragments, entities) answers the body php-cgi gives for the same page
 * and query (spec/php/driver.php, rewrite mode). The node:http app writes the page in pieces (tags cut
 * between writes); Express 5 and 4 use res.send (Content-Length set by Express, dropped by the
 * adapter). Before the adapters rewrote, the bodies went out unchanged and these tests failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import express4 from 'express4';
import { phpSession } from 'php-session-engine/express';
import { createPhpSession } from 'php-session-engine/http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runRewriteInPhp } from '../php/driver.ts';
import { describeWith } from '../support/tools.ts';
import { SAMPLE_PAGE, TRANS_SID_INI, b64 } from '../transsid/cases.ts';

const QUERY = 'PHPSESSID=abc123';

function get(port: number, cookie?: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: `/page.php?${QUERY}`, headers: { Host: 'localhost', ...(cookie !== undefined && { Cookie: cookie }) } },
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
          // Cut inside a tag, inside an attribute value and inside a <form …>.
          const cuts = [0, SAMPLE_PAGE.indexOf('href="/cart') + 3, SAMPLE_PAGE.indexOf('list.php') + 4, SAMPLE_PAGE.indexOf('<form action="post') + 9, SAMPLE_PAGE.length];
          for (let i = 0; i + 2 < cuts.length; i++) res.write(SAMPLE_PAGE.slice(cuts[i], cuts[i + 1]));
          res.end(SAMPLE_PAGE.slice(cuts[cuts.length - 2]));
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
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => new Promise((r) => s.close(r))));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('PHP rewrites the page (the test would show nothing otherwise)', () => {
    expect(phpBody).toContain('index.php?PHPSESSID=abc123');
    expect(phpBody).toContain('<input type="hidden" name="PHPSESSID" value="abc123" />');
  });

  for (const name of ['http', 'express', 'express4']) {
    it(`${name}: the body equals php-cgi's`, async () => {
      const res = await get(port(name));
      expect(res.status).toBe(200);
      expect(res.body).toBe(phpBody);
      expect(res.headers['content-length']).toBeUndefined();
    });

  }
});
