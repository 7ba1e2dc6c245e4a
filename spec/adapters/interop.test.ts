/**
 * @module spec/adapters/interop
 * The four adapters (node:http, Express 5 and 4, Fastify 5, Hono on @hono/node-server) driven over real
 * HTTP beside real PHP (`php -S` on examples/adapters/php) on one files session directory:
 * login in PHP → Node sees user_id; cart from Node → PHP sees ints; logout on either side → the
 * other sees it; N Node + N PHP concurrent increments → exactly 2N; a handler that throws, a client
 * that aborts mid-request and a route that never answers leave the session lock free; anonymous
 * requests leave no session behind. On the files module, then on memcached (php-memcached, its
 * lock waits raised on both sides so that 16 queued requests fit in PHP's wait budget), and on redis
 * (phpredis with locking enabled on both sides).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic } from 'php-session-engine';
import { HOLD_LIMIT_WARNING } from 'php-session-engine/http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningApp } from '../../examples/adapters/apps.ts';
import { startApp, startPhp, type AppName, type PhpServer } from '../../examples/adapters/start.ts';
import { dumpKeys, startMemcached, type MemcachedProcess } from '../support/memcached-server.ts';
import { redisCommand, startRedis, type RedisProcess } from '../support/redis-server.ts';
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

/** Where the sessions live: the same settings for PHP (-d) and Node (ini), and the stored ids. */
interface Store {
  ini: Record<string, string>;
  ids(): Promise<string[]>;
  /** A namespace of its own (directory, key prefix), so that no other test's session can land in it. */
  isolated(): { ini: Record<string, string>; ids(): Promise<string[]> };
  stop(): Promise<void>;
}

async function filesStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'adapters-interop-'));
  return {
    ini: { 'session.save_path': dir },
    ids: async () => readdirSync(dir).filter((f) => f.startsWith('sess_')).map((f) => f.slice(5)),
    isolated: () => {
      const own = mkdtempSync(join(dir, 'own-'));
      return { ini: { 'session.save_path': own }, ids: async () => readdirSync(own).filter((f) => f.startsWith('sess_')) };
    },
    stop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function memcachedStore(): Promise<Store> {
  const mc: MemcachedProcess = await startMemcached();
  return {
    // 100 lock retries of 150 ms: PHP waits up to 15 s for a session another request holds.
    ini: { 'session.save_handler': 'memcached', 'session.save_path': mc.address, 'memcached.sess_lock_retries': '100' },
    ids: async () => (await dumpKeys(mc.port)).map((k) => k.key).filter((k) => k.startsWith('memc.sess.key.') && !k.startsWith('memc.sess.key.lock.')).map((k) => k.slice(14)),
    isolated: () => {
      const prefix = `own.${Math.random().toString(36).slice(2)}.`;
      return {
        ini: { 'session.save_handler': 'memcached', 'session.save_path': mc.address, 'memcached.sess_prefix': prefix },
        ids: async () => (await dumpKeys(mc.port)).map((k) => k.key).filter((k) => k.startsWith(prefix)),
      };
    },
    stop: () => mc.stop(),
  };
}

async function redisStore(): Promise<Store> {
  const rs: RedisProcess = await startRedis();
  // Locking on (phpredis' default is off), on both sides; PHP polls every 20 ms without a limit, and
  // a lock lives 30 s unless released (PHP under php -S has no max_execution_time to take it from).
  // The shared save_path has no `?prefix=`: `php -S -d` cannot take a second `=` unquoted (an ini
  // syntax error, and PHP keeps what came before it); only Node apps use the isolated prefixes.
  const ini = (query: string): Record<string, string> => ({
    'session.save_handler': 'redis',
    'session.save_path': `tcp://${rs.address}${query}`,
    'redis.session.locking_enabled': '1',
    'redis.session.lock_retries': '-1',
    'redis.session.lock_wait_time': '20000',
    'redis.session.lock_expire': '30',
  });
  const ids = async (prefix: string): Promise<string[]> =>
    ((await redisCommand(rs.port, 'KEYS', `${prefix}*`)) as unknown[])
      .map((k) => String(k).slice(prefix.length))
      .filter((id) => !id.endsWith('_LOCK'));
  return {
    ini: ini(''),
    ids: () => ids('PHPREDIS_SESSION:'),
    isolated: () => {
      const prefix = `own.${Math.random().toString(36).slice(2)}:`;
      return { ini: ini(`?prefix=${prefix}`), ids: () => ids(prefix) };
    },
    stop: () => rs.stop(),
  };
}

const STORES: Array<[string, () => Promise<Store>, readonly string[]]> = [
  ['files', filesStore, ['php']],
  ['memcached', memcachedStore, ['php', 'memcached', 'php-ext:memcached']],
  ['redis', redisStore, ['php', 'redis-server', 'php-ext:redis']],
];

for (const [storeName, makeStore, tools] of STORES) describeWith(tools, `adapters with PHP on ${storeName}`, () => {
  let store: Store;
  let php: PhpServer;
  beforeAll(async () => {
    store = await makeStore();
    php = await startPhp('', 0, store.ini);
  });
  afterAll(async () => {
    await php?.stop();
    await store?.stop();
  });
  const sessionFiles = async (): Promise<string[]> => (await store.ids()).map((id) => `sess_${id}`);

  describe.each(['http', 'express', 'express4', 'fastify', 'hono'] as AppName[])('%s', (name) => {
    let app: RunningApp;
    let short: RunningApp;
    const diagnostics: Diagnostic[] = [];
    beforeAll(async () => {
      app = await startApp(name, '', { ini: store.ini, onDiagnostic: (d) => diagnostics.push(d) });
      // The hold limit (session_engine.max_execution_time) at 1 s, for the route that never answers.
      short = await startApp(name, '', { ini: { ...store.ini, 'session_engine.max_execution_time': 1 }, onDiagnostic: (d) => diagnostics.push(d) });
    });
    afterAll(async () => {
      await app?.close();
      await short?.close();
    });

    it('anonymous requests create no session (file or item) and send no cookie', async () => {
      const own = store.isolated();
      const anon = await startApp(name, '', { ini: own.ini });
      try {
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${anon.url}/anon`);
          expect(await res.text()).toBe('hello');
          expect(res.headers.getSetCookie()).toEqual([]);
        }
        // The same app does create one when the route writes (the check above can fail).
        const res = await fetch(`${anon.url}/incr`);
        expect(res.headers.getSetCookie()).toHaveLength(1);
      } finally {
        await anon.close();
      }
      expect(await own.ids()).toHaveLength(1);
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
      expect(await sessionFiles()).not.toContain(`sess_${login.id}`);
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
      expect(await sessionFiles()).not.toContain(`sess_${before!.split('=')[1]}`);
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
      // memcached: the lock itself expires after the same 1 s, and PHP may get it just before the
      // engine's hold limit fires; wait for that event (it comes, or the test times out).
      await vi.waitFor(() => expect(diagnostics.some((d) => d.message.startsWith(HOLD_LIMIT_WARNING))).toBe(true), { timeout: 30_000, interval: 20 });
      ac.abort();
      await hung;
    });
  });
});
