/**
 * @module msession/stores/redis
 * The hook for `session.save_handler = redis` / `rediscluster` (the redis modules land in
 * parallel, issue #13). The store to build: `SCAN 0 MATCH <prefix>* COUNT n` on the server (every
 * master for a cluster), ids = keys minus session.save_path's `prefix` (default `PHPREDIS_SESSION:`)
 * without the `_LOCK` suffixed lock keys, peek = GET, ttl = TTL, setTtl = EXPIRE. Until then a
 * redis module answers ERR_MSESSION_CANNOT_ENUMERATE, unless it carries `msessionStore` itself.
 */
import { MsessionError } from '../errors.ts';
import type { StoreFactory } from './types.ts';

export const redisStore: StoreFactory = () => {
  throw new MsessionError(
    'ERR_MSESSION_CANNOT_ENUMERATE',
    'msession: the redis modules have no msession store yet (SCAN on the key prefix is the planned listing; issue #13 lands the modules)',
  );
};
