/**
 * @module php-session-engine
 * A faithful TypeScript port of PHP 8.2's session engine (ext/session).
 */
export * from './value.ts';
export { zendZvalTypeName as phpTypeName } from './zend/types.ts';
export * from './errors.ts';
export type * from './handler.ts';
export type * from './serializer.ts';
export { Registry, MAX_REGISTRY_ENTRIES } from './registry.ts';
export { serialize, unserialize, unserializePhp, formatFloat, Serializer, Unserializer } from '../serializers/var.ts';
export type { UnserializeOptions, PhpUnserializeResult } from '../serializers/var.ts';
export * from '../serializers/index.ts';
export { SessionEngine, type SessionEngineOptions } from './engine.ts';
export * from './request.ts';
export { SessionHandler, type SessionHandlerInterface, type SessionIdInterface, type SessionUpdateTimestampHandlerInterface, type SessionData, type SessionReadResult } from '../handlers/user.ts';
export { closeAllConnections as closeMemcacheConnections } from './memcache/client.ts';
