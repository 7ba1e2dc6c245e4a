/**
 * @module spec/msession/redis.test
 * msession over the redis (phpredis) module against live PHP 8.2 and a live redis-server, locking
 * enabled on both sides (so lock/inc hold against PHP requests): listing through SCAN MATCH on the
 * key prefix. And the rediscluster module on a 3-master cluster: SCAN on every master.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/index.ts';
import { closeRedisConnections } from '../../handlers/redis.ts';
import { matchPattern } from '../../msession/stores/redis.ts';
import { testSessionId } from '../handlers/suite.ts';
import { redisCommand, startRedisCluster, type RedisCluster } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { PHP_EXTENSIONS, TOOLS } from '../redis/support.ts';
import { msessionSuite } from './suite.ts';
import { COMMON, all, phpReads, phpWrites, useRedisBackend, type Backend } from './support.ts';

describeWith(TOOLS, 'msession ⇄ PHP 8.2: redis (locking on)', () => msessionSuite(useRedisBackend()));

describeWith(TOOLS, 'msession redis store: what a listing skips', () => {
  const b = useRedisBackend('app*[1]:');
  it('lists only <prefix><id> keys: not _LOCK keys, other prefixes, or keys that are no session id', async () => {
    const ids = Array.from({ length: 3 }, () => testSessionId());
    await phpWrites(b, Object.fromEntries(ids.map((id, i) => [id, { user: i }])));
    const port = b.server().port;
    // A held lock, a key whose prefix the glob would match unescaped, another app's key, a non-id.
    await redisCommand(port, 'SET', `app*[1]:${ids[0]!}_LOCK`, 'secret');
    await redisCommand(port, 'SET', `appX1:${testSessionId()}`, 'user|i:0;');
    await redisCommand(port, 'SET', `PHPREDIS_SESSION:${testSessionId()}`, 'user|i:0;');
    await redisCommand(port, 'SET', 'app*[1]:not an id', 'user|i:0;');
    const ms = b.engine().msession();
    try {
      expect((await all(ms.list())).sort()).toEqual([...ids].sort());
      expect(await ms.count()).toBe(3);
      expect(await ms.functions.msession_find('user', 0)).toEqual([ids[0]]);
      const lock = await ms.lockInfo(ids[0]!);
      expect(lock.locked).toBe(true);
      expect((await ms.lockInfo(ids[1]!)).locked).toBe(false);
    } finally {
      await ms.disconnect();
    }
    expect(matchPattern('a*b?[c]\\')).toBe('a\\*b\\?\\[c\\]\\\\*');
  });

  it('a batched read reports a key that is no string (WRONGTYPE) with its id, and the scan goes on', async () => {
    // More sessions than one read batch, the odd key in the middle of them.
    const ids = Array.from({ length: 600 }, () => testSessionId());
    const port = b.server().port;
    for (let i = 0; i < ids.length; i += 200) {
      await redisCommand(port, 'MSET', ...ids.slice(i, i + 200).flatMap((id, k) => [`app*[1]:${id}`, `batch|i:${(i + k) % 2};`]));
    }
    const odd = testSessionId();
    await redisCommand(port, 'HSET', `app*[1]:${odd}`, 'user', '1');
    const ms = b.engine().msession();
    try {
      const errors: { code: string; id: string | undefined }[] = [];
      const found = await all(ms.find('batch', 1, { onError: (e) => void errors.push({ code: e.code, id: e.id }) }));
      expect(found.sort()).toEqual(ids.filter((_, i) => i % 2 === 1).sort());
      expect(errors).toEqual([{ code: 'ERR_MSESSION_READ', id: odd }]);
    } finally {
      await ms.disconnect();
    }
  });

  it('a server that goes down mid-scan ends the scan with ERR_MSESSION_SCAN', async () => {
    // More keys than one SCAN batch, so the scan needs the server again after the first id.
    const ids = Array.from({ length: 1200 }, () => testSessionId());
    for (let i = 0; i < ids.length; i += 200) {
      const args = ids.slice(i, i + 200).flatMap((id) => [`app*[1]:${id}`, 'user|i:1;']);
      await redisCommand(b.server().port, 'MSET', ...args);
    }
    const ms = b.engine().msession();
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const id of ms.list()) {
          seen.push(id);
          if (seen.length === 1) await b.server().stop();
        }
      })(),
    ).rejects.toMatchObject({ code: 'ERR_MSESSION_SCAN' });
    expect(seen.length).toBeLessThan(ids.length);
    await ms.disconnect();
  });
});

describeWith(TOOLS, 'msession redis: writes under a lock held by lock()', () => {
  const b = useRedisBackend();
  it('set and inc under lock() keep phpredis\' lock key until unlock() (the write-and-unlock script is not used)', async () => {
    // The module releases its lock together with a session's last write, as PHP closes right
    // after writing; msession's lock() writes and keeps holding the lock.
    const id = testSessionId();
    await phpWrites(b, { [id]: { step: 'php-wrote' } });
    const port = b.server().port;
    const lockKey = `PHPREDIS_SESSION:${id}_LOCK`;
    const ms = b.engine().msession();
    try {
      const key = await ms.lock(id);
      expect(await redisCommand(port, 'EXISTS', lockKey)).toBe(1);
      await ms.set(id, 'step', 'under-lock');
      expect(await redisCommand(port, 'EXISTS', lockKey)).toBe(1);
      expect(await ms.inc(id, 'n')).toBe(1);
      expect(await redisCommand(port, 'EXISTS', lockKey)).toBe(1);
      await ms.unlock(id, key);
      expect(await redisCommand(port, 'EXISTS', lockKey)).toBe(0);
    } finally {
      await ms.disconnect();
    }
    expect((await phpReads(b, [id]))[id]).toEqual({ step: 'under-lock', n: 1 });
  });
});

describeWith(TOOLS, 'msession redis store: a server that stops answering', () => {
  const b = useRedisBackend();
  it('ends the scan with ERR_MSESSION_SCAN after read_timeout, not a hang', async () => {
    const ids = Array.from({ length: 2 }, () => testSessionId());
    await phpWrites(b, Object.fromEntries(ids.map((id) => [id, { user: 1 }])));
    const ms = b.engine({ 'session.save_path': `${b.ini['session.save_path']!}?read_timeout=0.5` }).msession();
    const child = b.server().child;
    child.kill('SIGSTOP');
    try {
      await expect(all(ms.list())).rejects.toMatchObject({ code: 'ERR_MSESSION_SCAN' });
    } finally {
      child.kill('SIGCONT');
      await ms.disconnect();
    }
  });
});

describeWith(TOOLS, 'msession ⇄ PHP 8.2: rediscluster listing (3 masters)', () => {
  let cluster: RedisCluster | undefined;
  const b: Backend = {
    name: 'rediscluster',
    ini: { ...COMMON, 'session.save_handler': 'rediscluster' },
    extensions: PHP_EXTENSIONS,
    engine: (extra = {}) => new SessionEngine({ ini: { ...b.ini, ...extra } }),
    plant: async () => {
      throw new Error('unused');
    },
  };
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    b.ini['session.save_path'] = cluster.seeds;
  }, 60_000);
  afterAll(async () => {
    closeRedisConnections();
    await cluster?.stop();
  });

  it('lists, counts and finds the sessions PHP wrote, whichever master holds them', async () => {
    const ids = Array.from({ length: 30 }, () => testSessionId());
    await phpWrites(b, Object.fromEntries(ids.map((id, i) => [id, { user: i % 3, n: i }])));
    // The sessions really are spread: every master holds some.
    const perNode = await Promise.all(cluster!.nodes.map((n) => redisCommand(n.port, 'DBSIZE')));
    expect(perNode.every((x) => typeof x === 'number' && x > 0)).toBe(true);
    const ms = b.engine().msession();
    try {
      expect((await all(ms.list())).sort()).toEqual([...ids].sort());
      expect(await ms.count()).toBe(30);
      expect((await all(ms.find('user', 1))).sort()).toEqual(ids.filter((_, i) => i % 3 === 1).sort());
      const vars = Object.fromEntries(await all(ms.listvar('n')));
      expect(vars).toEqual(Object.fromEntries(ids.map((id, i) => [id, i])));
    } finally {
      await ms.disconnect();
    }
  });
});
