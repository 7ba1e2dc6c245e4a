/**
 * @module spec/redis/suite
 * The shared save-handler suite against the `redis` module on a real redis-server started for
 * this file: once with phpredis' defaults (no locking) and once with locking on.
 */
import { redisModule } from '../../handlers/redis.ts';
import { testSaveHandler } from '../handlers/suite.ts';
import type { RedisProcess } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { useRedisServers } from './support.ts';

const servers: RedisProcess[] = [];
let n = 0;

describeWith(['redis-server'], 'redis module: shared suite', () => {
  useRedisServers(servers, 1);

  const common = [
    {
      reason: 'phpredis leaves expiry to Redis (SETEX): gc() reports no count (session_gc() returns false in PHP too)',
      tests: ['gc returns a count', 'gc removes sessions older than maxlifetime and keeps fresh ones'],
    },
    {
      reason: 'phpredis update_timestamp is EXPIRE: it never creates the key (and reports success)',
      tests: ['updateTimestamp on a new id stores the data'],
    },
  ];
  // A fresh key prefix per test: sessions of different tests never meet.
  const savePath = (): string => `tcp://${servers[0]!.address}?prefix=t${process.pid}.${++n}:`;

  testSaveHandler({
    name: 'redis',
    label: "phpredis' defaults: no locking",
    setup: () => ({ module: redisModule, savePath: savePath() }),
    skip: [
      ...common,
      {
        reason: 'redis.session.locking_enabled is 0 by default, as in phpredis: concurrent requests do not wait',
        tests: ['locks: a second request on the same id waits for close'],
      },
    ],
  });

  testSaveHandler({
    name: 'redis',
    label: 'redis.session.locking_enabled=1, lock_retries=-1',
    setup: () => ({
      module: redisModule,
      savePath: savePath(),
      ini: { 'redis.session.locking_enabled': '1', 'redis.session.lock_retries': '-1', 'redis.session.lock_expire': '10' },
    }),
    skip: common,
  });
});
