/**
 * @module spec/adapters/interop
 * The four adapters (node:http, Express 5 and 4, Fastify 5, Hono on @hono/node-server) driven over real
 * HTTP beside real PHP (`php -S` on examples/adapters/php) on one files session directory:
 * login in PHP → Node sees user_id; cart from Node → PHP sees ints; logout on either side → the
 * other sees it; N Node + N PHP concurrent increments → exactly 2N; a handler that throws, a client
 * that aborts mid-request and a route that never answers leave the session lock free; anonymous
 * requests leave no files.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic } from 'php-session-engine';
import { HOLD_LIMIT_MESSAGE } from 'php-session-engine/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../examples/adapters/apps.ts';
import { startApp, startPhp, type AppName, type PhpServer } from '../../examples/adapters/start.ts';
import { describeWith } from '../support/tools.ts';

interface Answer {
  server: string;
  id: string;
  user_id: number | null;
  cart: Record<string, number>;
  cart_types?: Record<string, string>;
  n: number;
}

/** A cookie jar for one session cookie, as a browser keeps it (a deletion cookie removes it). */
class Jar {
  cookie: string | undefined;
  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, { ...init, headers: this.cookie === undefined ? {} : { cookie: this.cookie } });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0]!;
      this.cookie = /^[^=]+=(deleted)?$/.test(pair) || /Max-Age=0|expires=Thu, 01[- ]Jan[- ]1970/i.test(c) ? undefined : pair;
    }
    return res;
  }
  async json(url: string): Promise<Answer> {
    const res = await this.get(url);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Answer;
  }
}

const sessionFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('sess_'));

describeWith(['php'], 'adapters with PHP on one files directory', () => {
  let dir: string;
  let php: PhpServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'adapters-interop-'));
    php = await startPhp(dir);
  });
  afterAll(async () => {
    await php?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each(['http', 'express', 'express4', 'fastify', 'hono'] as AppName[])('%s', (name) => {
    let app: RunningApp;
    let short: RunningApp;
    const diagnostics: Diagnostic[] = [];
    beforeAll(async () => {
      app = await startApp(name, dir, { onDiagnostic: (d) => diagnostics.push(d) });
      // The hold limit (session_engine.max_execution_time) at 1 s, for the route that never answers.
      short = await startApp(name, dir, { ini: { 'session_engine.max_execution_time': 1 }, onDiagnostic: (d) => diagnostics.push(d) });
    });
    afterAll(async () => {
      await app?.close();
      await short?.close();
    });

    it('anonymous requests create no session file and send no cookie', async () => {
      const before = sessionFiles(dir).length;
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${app.url}/anon`);
        expect(await res.text()).toBe('hello');
        expect(res.headers.getSetCookie()).toEqual([]);
      }
      expect(sessionFiles(dir).length).toBe(before);
    });

    it('login in PHP → Node sees user_id; cart from Node → PHP sees ints; logout in Node → PHP sees it', async () => {
      const jar = new Jar();
      const login = await jar.json(`${php.url}/login?user=7`);
      expect(login.user_id).toBe(7);
      const seen = await jar.json(`${app.url}/whoami`);
      expect(seen).toMatchObject({ server: name.replace(/\d$/, ''), id: login.id, user_id: 7 });
      await jar.json(`${app.url}/cart/add?item=apple&qty=2`);
      await jar.json(`${app.url}/cart/add?item=pear&qty=3`);
      const cart = await jar.json(`${php.url}/whoami`);
      expect(cart).toMatchObject({ user_id: 7, cart: { apple: 2, pear: 3 }, cart_types: { apple: 'integer', pear: 'integer' } });
      const out = await jar.get(`${app.url}/logout`);
      expect(out.status).toBe(200);
      expect(jar.cookie).toBeUndefined(); // the deletion cookie was sent
      expect(sessionFiles(dir)).not.toContain(`sess_${login.id}`);
      // Even a client that kept the old cookie finds no session in PHP.
      const stale = new Jar();
      stale.cookie = `PHPSESSID=${login.id}`;
      expect(await stale.json(`${php.url}/whoami`)).toMatchObject({ user_id: null, cart: {} });
    });

    it('login in Node (regenerated id) → PHP sees user_id; logout in PHP → Node sees it', async () => {
      const jar = new Jar();
      await jar.json(`${app.url}/cart/add?item=plum&qty=1`); // an anonymous cart first
      const before = jar.cookie;
      const login = await jar.json(`${app.url}/login?user=42`);
      expect(jar.cookie).not.toBe(before); // session_regenerate_id(true): a new id, the old file gone
      expect(sessionFiles(dir)).not.toContain(`sess_${before!.split('=')[1]}`);
      expect(await jar.json(`${php.url}/whoami`)).toMatchObject({ id: login.id, user_id: 42, cart: { plum: 1 } });
      await jar.json(`${php.url}/logout`);
      expect(jar.cookie).toBeUndefined();
      const stale = new Jar();
      stale.cookie = `PHPSESSID=${login.id}`;
      expect(await stale.json(`${app.url}/whoami`)).toMatchObject({ user_id: null, cart: {} });
    });

    it('N Node + N PHP concurrent increments of one session end at exactly 2N', async () => {
      const N = 8;
      const jar = new Jar();
      await jar.json(`${app.url}/incr`);
      const { id } = await jar.json(`${php.url}/whoami`);
      const all = await Promise.all([
        ...Array.from({ length: N }, () => jar.json(`${app.url}/incr`)),
        ...Array.from({ length: N }, () => jar.json(`${php.url}/incr`)),
      ]);
      expect(all.map((a) => a.id)).toEqual(Array.from({ length: 2 * N }, () => id));
      expect((await jar.json(`${php.url}/whoami`)).n).toBe(2 * N + 1);
    });

    it('a handler that throws answers 500 and leaves the lock free; its write is not lost half-way', async () => {
      const jar = new Jar();
      await jar.json(`${app.url}/incr`);
      const res = await jar.get(`${app.url}/throw`);
      expect(res.status).toBe(500);
      // The next request on the id (PHP's blocking flock) gets the session.
      expect((await jar.json(`${php.url}/incr`)).n).toBe(2);
    });

    it('a plain JS value PHP cannot hold is refused at set time (500), nothing else of the session is lost', async () => {
      const jar = new Jar();
      await jar.json(`${app.url}/incr`);
      expect((await jar.get(`${app.url}/bad`)).status).toBe(500);
      expect((await jar.json(`${php.url}/incr`)).n).toBe(2);
    });

    it('a client that aborts mid-request: the lock is released when the connection closes', async () => {
      const jar = new Jar();
      await jar.json(`${app.url}/incr`);
      const ac = new AbortController();
      const slow = jar.get(`${app.url}/slow?ms=3600000`, { signal: ac.signal }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 300));
      ac.abort();
      expect(await slow).toBeInstanceOf(Error);
      // With the lock still held this would wait an hour (the test times out instead).
      expect((await jar.json(`${php.url}/incr`)).n).toBe(2);
    });

    it('a route that never answers holds the lock only for the hold limit (session_engine.max_execution_time)', async () => {
      const jar = new Jar();
      await jar.json(`${short.url}/incr`);
      const ac = new AbortController();
      const hung = jar.get(`${short.url}/hang`, { signal: ac.signal }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 200));
      // PHP blocks on the lock until the hold limit writes and releases the session.
      const after = await jar.json(`${php.url}/whoami`);
      expect(after.n).toBe(1);
      expect(diagnostics.some((d) => d.message.startsWith(HOLD_LIMIT_MESSAGE))).toBe(true);
      ac.abort();
      await hung;
    });
  });
});
