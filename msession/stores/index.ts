/**
 * @module msession/stores
 * The store for a configured module: the built-in ones by name, or a module's own
 * `msessionStore` factory (user modules that can enumerate).
 */
import type { SaveHandlerContext, SaveHandlerModule } from '../../lib/handler.ts';
import { MsessionError } from '../errors.ts';
import { filesStore } from './files.ts';
import { memcacheStore, memcachedStore } from './memcached.ts';
import { redisClusterStore, redisStore } from './redis.ts';
import type { EnumerableModule, SessionStore, StoreFactory } from './types.ts';

export type { EnumerableModule, LockInfo, PeekResult, ScanOptions, SessionStore, StoreFactory } from './types.ts';
export { PREFILTERED } from './types.ts';

const BUILTIN: Record<string, StoreFactory> = {
  files: filesStore,
  memcached: memcachedStore,
  memcache: memcacheStore,
  redis: redisStore,
  rediscluster: redisClusterStore,
};

export function storeFor(module: SaveHandlerModule, savePath: string, ctx: SaveHandlerContext): SessionStore {
  const own = (module as SaveHandlerModule & EnumerableModule).msessionStore;
  if (own !== undefined) return own(savePath, ctx);
  const builtin = BUILTIN[module.name.toLowerCase()];
  if (builtin !== undefined) return builtin(savePath, ctx);
  throw new MsessionError(
    'ERR_MSESSION_CANNOT_ENUMERATE',
    `msession: the "${module.name}" module cannot list its sessions (it has no msessionStore; PHP's SaveHandler contract has no enumeration)`,
  );
}
