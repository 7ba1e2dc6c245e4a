/**
 * @module spec/memcache/suite
 * The shared save-handler suite against the `memcached` and `memcache` modules on a real
 * memcached started for this file.
 */
import { afterAll, beforeAll } from 'vitest';
import { memcacheModule } from '../../handlers/memcache.ts';
import { memcachedModule } from '../../handlers/memcached.ts';
import { closeAllConnections } from '../../lib/memcache/client.ts';
import { testSaveHandler } from '../handlers/suite.ts';
import { startMemcached, type MemcachedProcess } from '../support/memcached-server.ts';
import { describeWith } from '../support/tools.ts';

let server: MemcachedProcess | undefined;
let n = 0;

describeWith(['memcached'], 'memcache modules: shared suite', () => {
  beforeAll(async () => {
    server = await startMemcached();
  });
  afterAll(async () => {
    closeAllConnections();
    await server?.stop();
  });

  const noGc = {
    reason: 'both extensions leave expiry to memcached: gc() reports no count (session_gc() returns false in PHP too)',
    tests: ['gc returns a count', 'gc removes sessions older than maxlifetime and keeps fresh ones'],
  };
  const itemSize = {
    reason: "memcached's default 1 MB item limit refuses a 1 MiB value, for PHP as for us",
    tests: ['a 1 MiB payload round-trips'],
  };

  testSaveHandler({
    name: 'memcached',
    setup: () => ({
      module: memcachedModule,
      savePath: server!.address,
      // A fresh prefix per test: sessions of different tests never meet.
      ini: { 'memcached.sess_prefix': `t${process.pid}.${++n}.` },
    }),
    skip: [
      noGc,
      itemSize,
      {
        reason: 'php-memcached update_timestamp is a memcached touch: it never creates the item (and reports success)',
        tests: ['updateTimestamp on a new id stores the data'],
      },
      {
        reason: 'php-memcached create_sid reserves the new id by adding an empty item, so the id then exists (validateSid true)',
        tests: ['createSid returns a valid id that is not in use'],
      },
    ],
  });

  testSaveHandler({
    name: 'memcache',
    // pecl memcache releases its lock only in write(): a case that reads without writing and reads
    // again waits for lock_timeout, as PHP would (15 s by default; 2 s here to keep the run short).
    setup: () => ({ module: memcacheModule, savePath: `tcp://${server!.address}`, ini: { 'memcache.lock_timeout': '2' } }),
    skip: [noGc, itemSize],
  });
});
