/**
 * @module builtins
 * The save-handler modules and serializers every {@link SessionEngine} starts with, in PHP's
 * registration order, and the `user` module's seam. The only file that wires handlers/ and
 * serializers/ into the engine: one import line per module.
 */
import type { SaveHandlerModule, UserModuleApi } from './handler.ts';
import type { SessionSerializer } from './serializer.ts';
import { filesModule } from '../handlers/files.ts';
import { userModule, userModuleApi as userApi } from '../handlers/user.ts';
import { builtinSerializers as serializers } from '../serializers/index.ts';
import { memcachedModule } from '../handlers/memcached.ts';
import { memcacheModule } from '../handlers/memcache.ts';
import { closeRedisConnections, redisModule } from '../handlers/redis.ts';
import { redisClusterModule } from '../handlers/rediscluster.ts';
import { closeAllConnections } from '../handlers/shared/memcache/client.ts';

export const builtinModules: SaveHandlerModule[] = [filesModule, userModule, memcachedModule, memcacheModule, redisModule, redisClusterModule];

export const builtinSerializers: readonly SessionSerializer[] = serializers;

/** The `user` module's functions the engine calls for session_set_save_handler(). */
export const userModuleApi: UserModuleApi = userApi;

/** Releases what the built-in modules hold process-wide (memcached and redis connections); MSHUTDOWN. */
export function releaseBuiltinResources(): void {
  closeAllConnections();
  closeRedisConnections();
}
