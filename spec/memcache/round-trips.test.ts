/**
 * @module spec/memcache/round-trips
 * The memcached module's round trips for a locked cycle, against a real memcached: the lock's `add`
 * goes out with the data `get`, and the write's `set` with the lock's `delete` (memcached answers
 * in order, so the lock goes only after the data is stored), i.e. two round trips where
 * php-memcached makes four. msession's lock() writes and keeps its lock: there the delete waits for
 * unlock(). Observed as the order in which the connection sends requests and gets their replies.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/index.ts';
import { MemcacheConnection } from '../../handlers/shared/memcache/client.ts';
import type { MemcachedProcess } from '../support/memcached-server.ts';
import { describeWith } from '../support/tools.ts';
import { testSessionId } from '../handlers/suite.ts';
import { useMemcachedServers } from './support.ts';

type Op = 'set' | 'delete';
const events: string[] = [];
const original = { set: MemcacheConnection.prototype.set, delete: MemcacheConnection.prototype.delete };

function trace(op: Op): void {
  const f = original[op] as (this: MemcacheConnection, ...a: unknown[]) => Promise<unknown>;
  (MemcacheConnection.prototype as unknown as Record<Op, unknown>)[op] = function (this: MemcacheConnection, ...a: unknown[]): Promise<unknown> {
    const key = String(a[0]);
    const what = `${op} ${key.includes('lock.') ? 'lock' : 'data'}`;
    events.push(`${what} sent`);
    return f.apply(this, a).finally(() => events.push(`${what} answered`));
  };
}

describeWith(['memcached'], 'memcached module: round trips of a locked cycle', () => {
  const servers: MemcachedProcess[] = [];
  useMemcachedServers(servers, 1);
  beforeEach(() => {
    events.length = 0;
    trace('set');
    trace('delete');
  });
  afterEach(() => {
    Object.assign(MemcacheConnection.prototype, original);
  });
  const ini = (): Record<string, string> => ({ 'session.save_handler': 'memcached', 'session.save_path': servers[0]!.address, 'memcached.sess_locking': '1' });
  /** A new session with n = 1, written by session_write_close. */
  async function writeOne(engine: SessionEngine): Promise<string> {
    const id = testSessionId();
    const req = engine.request({ cookies: { PHPSESSID: id } });
    expect(await req.start()).toBe(true);
    req.session.set('n', 1);
    expect(await req.writeClose()).toBe(true);
    await req.end();
    return id;
  }

  it('session_write_close sends the data set and the lock delete together', async () => {
    const engine = new SessionEngine({ ini: ini() });
    const id = await writeOne(engine);
    expect(events).toEqual(['set data sent', 'delete lock sent', 'set data answered', 'delete lock answered']);
    const again = engine.request({ cookies: { PHPSESSID: id } });
    expect(await again.start()).toBe(true);
    expect(again.session.get('n')).toBe(1);
    await again.end();
  });

  it('msession: a set under lock() keeps the lock until unlock()', async () => {
    const engine = new SessionEngine({ ini: ini() });
    const id = await writeOne(engine);
    events.length = 0;
    const ms = engine.msession();
    try {
      const key = await ms.lock(id);
      await ms.set(id, 'n', 2);
      expect(events).toEqual(['set data sent', 'set data answered']);
      await ms.unlock(id, key);
      expect(events.slice(-2)).toEqual(['delete lock sent', 'delete lock answered']);
    } finally {
      await ms.disconnect();
    }
  });
});
