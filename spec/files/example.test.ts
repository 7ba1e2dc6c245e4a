/**
 * @module spec/files/example
 * Drives examples/shared-session with real HTTP requests: one cookie jar moving between the Node
 * server and PHP's built-in server sees one session (visit counter, cart), and concurrent
 * requests on both servers lose no update.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSharedSession, type SharedSession } from '../../examples/shared-session/start.ts';
import { describeWith } from '../support/tools.ts';

interface Answer {
  server: 'node' | 'php';
  session: string;
  visits: number;
  cart: string[];
}

/** A one-cookie jar, as curl -c/-b keeps it. */
class Jar {
  cookie: string | undefined;
  async get(url: string): Promise<Answer> {
    const res = await fetch(url, this.cookie === undefined ? {} : { headers: { cookie: this.cookie } });
    expect(res.status).toBe(200);
    for (const c of res.headers.getSetCookie()) this.cookie = c.split(';')[0];
    return (await res.json()) as Answer;
  }
}

describeWith(['php'], 'examples/shared-session', () => {
  let s: SharedSession;
  beforeAll(async () => {
    s = await startSharedSession({ nodePort: 0, phpPort: 0 });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('one cookie jar, two servers, one session', async () => {
    const jar = new Jar();
    const a = await jar.get(`${s.phpUrl}/add?item=apple`);
    expect(a).toMatchObject({ server: 'php', visits: 1, cart: ['apple'] });
    const b = await jar.get(`${s.nodeUrl}/add?item=pear`);
    expect(b).toEqual({ server: 'node', session: a.session, visits: 2, cart: ['apple', 'pear'] });
    const c = await jar.get(`${s.phpUrl}/`);
    expect(c).toEqual({ server: 'php', session: a.session, visits: 3, cart: ['apple', 'pear'] });
    const d = await jar.get(`${s.nodeUrl}/add?item=plum`);
    expect(d).toMatchObject({ visits: 4, cart: ['apple', 'pear', 'plum'] });
    // Node's session_destroy ends it for PHP too: PHP starts a fresh one under the same cookie.
    await jar.get(`${s.nodeUrl}/logout`);
    expect(await jar.get(`${s.phpUrl}/`)).toMatchObject({ visits: 1, cart: [] });
  });

  it('a slow PHP request holds the session: the Node request waits, and both updates land', async () => {
    const jar = new Jar();
    await jar.get(`${s.nodeUrl}/`);
    const t0 = Date.now();
    const slow = jar.get(`${s.phpUrl}/slow?ms=700`);
    await new Promise((r) => setTimeout(r, 150));
    const fast = await jar.get(`${s.nodeUrl}/add?item=late`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    await slow;
    expect(fast.visits).toBe(3);
    expect(fast.cart).toEqual(['late']);
  });

  it('20 concurrent requests split between the servers: the counter ends exact', async () => {
    const jar = new Jar();
    await jar.get(`${s.phpUrl}/`);
    await Promise.all(Array.from({ length: 20 }, (_, i) => jar.get(`${i % 2 ? s.phpUrl : s.nodeUrl}/add?item=i${i}`)));
    const end = await jar.get(`${s.nodeUrl}/`);
    expect(end.visits).toBe(22);
    expect(end.cart.length).toBe(20);
  });

  it('SESSION_DIR that does not exist yet is created (and left in place), a file there is refused', async () => {
    const base = mkdtempSync(join(tmpdir(), 'shared-session-dir-'));
    try {
      const dir = join(base, 'not', 'yet');
      const t = await startSharedSession({ nodePort: 0, phpPort: 0, sessionDir: dir });
      try {
        const jar = new Jar();
        const a = await jar.get(`${t.nodeUrl}/add?item=fig`);
        expect(await jar.get(`${t.phpUrl}/`)).toEqual({ server: 'php', session: a.session, visits: 2, cart: ['fig'] });
        expect(existsSync(join(dir, `sess_${a.session}`))).toBe(true);
      } finally {
        await t.stop();
      }
      expect(statSync(dir).isDirectory()).toBe(true);
      const file = join(base, 'a-file');
      writeFileSync(file, '');
      await expect(startSharedSession({ nodePort: 0, phpPort: 0, sessionDir: file })).rejects.toThrow(`SESSION_DIR ${file} is not a directory`);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
