/**
 * @module builtins
 * The save-handler modules and serializers every {@link SessionEngine} starts with, in PHP's
 * registration order. One import line per module.
 */
import type { SaveHandlerModule } from './handler.ts';
import type { SessionSerializer } from './serializer.ts';
import type { UserModuleApi } from './request.ts';
import { filesModule } from '../handlers/files.ts';
import { userModule, parseSaveHandlerArgs, createUserSaveHandler } from '../handlers/user.ts';
import { builtinSerializers as serializers } from '../serializers/index.ts';
import { memcachedModule } from '../handlers/memcached.ts';
import { memcacheModule } from '../handlers/memcache.ts';
import { redisModule } from '../handlers/redis.ts';
import { redisClusterModule } from '../handlers/rediscluster.ts';

export const builtinModules: SaveHandlerModule[] = [filesModule, userModule, memcachedModule, memcacheModule, redisModule, redisClusterModule];

export const builtinSerializers: readonly SessionSerializer[] = serializers;

/** The `user` module's functions the engine calls for session_set_save_handler(). */
export const userModuleApi: UserModuleApi | undefined = {
  parseSaveHandlerArgs: (args, previous) => parseSaveHandlerArgs(args, previous as Parameters<typeof parseSaveHandlerArgs>[1]),
  createUserSaveHandler: (spec, ctx) => createUserSaveHandler(spec as Parameters<typeof createUserSaveHandler>[0], ctx),
};
