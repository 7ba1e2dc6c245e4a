/**
 * @module spec/msession/memcached.test
 * msession over the memcached (php-memcached) and memcache (pecl) modules against live PHP 8.2
 * and a live memcached: listing through the LRU crawler's metadump.
 */
import { createConnection } from 'node:net';
import { expect, it } from 'vitest';
import { SCAN_BATCH } from '../../msession/msession.ts';
import { testSessionId } from '../handlers/suite.ts';
import { textCommand } from '../support/memcached-server.ts';
import { describeWith } from '../support/tools.ts';
import { msessionSuite } from './suite.ts';
import { MEMCACHE_EXTENSIONS, all, phpReads, phpWrites, useMemcacheBackend } from './support.ts';

const tools = ['php', 'memcached', ...MEMCACHE_EXTENSIONS.map((e) => `php-ext:${e}`)];
describeWith(tools, 'msession ⇄ PHP 8.2: memcached', () => msessionSuite(useMemcacheBackend('memcached')));
describeWith(tools, 'msession ⇄ PHP 8.2: memcache (pecl)', () => msessionSuite(useMemcacheBackend('memcache')));

describeWith(tools, 'msession memcache (pecl): writes under a lock held by lock()', () => {
  const b = useMemcacheBackend('memcache');
  it('set and inc under lock() leave the lock record taken until unlock() (pecl memcache releases it by writing)', async () => {
    const id = testSessionId();
    await phpWrites(b, { [id]: { step: 'php-wrote' } });
    const lockRecord = async (): Promise<string> => /\r\n(\d+)\r\nEND/.exec((await textCommand(b.server().port, `get ${id}.lock`)).toString('latin1'))?.[1] ?? 'none';
    const ms = b.engine().msession();
    try {
      const key = await ms.lock(id);
      expect(await lockRecord()).toBe('1');
      await ms.set(id, 'step', 'under-lock');
      expect(await lockRecord()).toBe('1');
      expect(await ms.inc(id, 'n')).toBe(1);
      expect(await lockRecord()).toBe('1');
      await ms.unlock(id, key);
      expect(await lockRecord()).toBe('0');
    } finally {
      await ms.disconnect();
    }
    expect((await phpReads(b, [id]))[id]).toEqual({ step: 'under-lock', n: 1 });
  });
});

describeWith(tools, 'msession memcached store: listings stay complete', () => {
  const b = useMemcacheBackend('memcached');
  it('lists every session again right after scans read them (metadump hash, not the LRU walk)', async () => {
    // Regression: with `lru_crawler metadump all` (an LRU walk) the listings after a read-heavy
    // scan missed items the LRU maintainer was moving (in every run of 20 rounds tried, down to 0 of 6).
    const ids = Array.from({ length: 6 }, () => testSessionId());
    await phpWrites(b, Object.fromEntries(ids.map((id, i) => [id, { user: i % 2, pad: 'x'.repeat(40 * i) }])));
    const ms = b.engine().msession();
    try {
      const short: string[] = [];
      for (let round = 0; round < 20; round++) {
        const found = await all(ms.find('user', 1));
        if (found.length !== 3) short.push(`round ${round}: find saw ${found.length} of 3`);
        const listed = await all(ms.list());
        if (listed.length !== 6) short.push(`round ${round}: list saw ${listed.length} of 6`);
      }
      expect(short).toEqual([]);
    } finally {
      await ms.disconnect();
    }
  });
});

describeWith(tools, 'msession memcached store: a dump larger than the socket buffers', () => {
  const b = useMemcacheBackend('memcached');
  it('reads 100,000 sessions while the dump streams (a paused dump held the item locks the reads wait for: a deadlock)', async () => {
    const n = 100_000;
    const ids = Array.from({ length: n }, () => testSessionId());
    // One pipelined connection: n sets, n STOREDs.
    await new Promise<void>((resolve, reject) => {
      const s = createConnection(b.server().port, '127.0.0.1');
      let stored = 0;
      let tail = '';
      s.on('data', (d: Buffer) => {
        const lines = (tail + d.toString('latin1')).split('\r\n');
        tail = lines.pop()!;
        for (const l of lines) {
          if (l !== 'STORED') return reject(new Error(l));
          if (++stored === n) {
            s.end();
            resolve();
          }
        }
      });
      s.on('error', reject);
      s.write(ids.map((id, i) => `set memc.sess.key.${id} 0 0 ${`n|i:${i};`.length}\r\nn|i:${i};\r\n`).join(''));
    });
    const ms = b.engine().msession();
    try {
      const vars = new Map(await all(ms.listvar('n')));
      expect(vars.size).toBe(n);
      expect(ids.every((id, i) => vars.get(id) === i)).toBe(true);
    } finally {
      await ms.disconnect();
    }
  }, 60_000);
});

describeWith(tools, 'msession memcached store: a server that goes down mid-scan', () => {
  const b = useMemcacheBackend('memcached');
  it('ends the scan with ERR_MSESSION_SCAN', async () => {
    const ids = Array.from({ length: 4 }, () => testSessionId());
    await phpWrites(b, Object.fromEntries(ids.map((id) => [id, { user: 1 }])));
    // More sessions than one read batch (SCAN_BATCH), so the scan needs the server after the first match.
    const more = Array.from({ length: 2 * SCAN_BATCH }, () => testSessionId());
    for (let i = 0; i < more.length; i += 64) await Promise.all(more.slice(i, i + 64).map((id) => b.plant(id, 'user|i:1;')));
    const ms = b.engine().msession();
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const id of ms.find('user', 1)) {
          seen.push(id);
          if (seen.length === 1) await b.server().stop();
        }
      })(),
    ).rejects.toMatchObject({ code: 'ERR_MSESSION_SCAN' });
    // The matches of the batch read before the server stopped, and no more.
    expect(seen.length).toBeLessThanOrEqual(SCAN_BATCH);
    await ms.disconnect();
  });
});
