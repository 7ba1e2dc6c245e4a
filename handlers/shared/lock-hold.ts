/**
 * @module handlers/shared/lock-hold
 * PHP always closes a session right after writing it (session_write_close, the request's end,
 * session_regenerate_id), so a module may release its lock together with the write, one round trip
 * sooner (the redis module's write-and-unlock script). msession's lock() is the one caller that
 * writes through a handler and keeps the lock until a later unlock(): it marks that handler with
 * {@link keepLockOnWrite}, and a module that merges the release into the write must then not
 * (redis, memcached; pecl memcache, whose every write releases its lock as PHP's does).
 */

/** The marker: a handler carrying it keeps its lock after write() until close(). */
export const KEEP_LOCK_ON_WRITE: unique symbol = Symbol.for('php-session-engine.keepLockOnWrite');

/**
 * Marks `handler` so that its writes keep the lock (`keep` false: writes may release it again, as
 * before the final write of msession's unlock(); pecl memcache releases its lock only by writing).
 * Returns the handler.
 */
export function keepLockOnWrite<H extends object>(handler: H, keep = true): H {
  (handler as { [KEEP_LOCK_ON_WRITE]?: boolean })[KEEP_LOCK_ON_WRITE] = keep;
  return handler;
}

/** Whether `handler` was marked by {@link keepLockOnWrite}. */
export function keepsLockOnWrite(handler: object): boolean {
  return (handler as { [KEEP_LOCK_ON_WRITE]?: boolean })[KEEP_LOCK_ON_WRITE] === true;
}
