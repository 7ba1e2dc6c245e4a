/**
 * @module handlers/redis/reply
 * The shape of a reply as the redis client hands it on. Kept apart from commands.ts so that the
 * client's type declarations do not pull in ioredis' (which a strict consumer cannot compile:
 * ioredis' errors import the untyped `redis-errors`).
 */

/** A reply: bulk strings as Buffers, integers as numbers, status replies as strings, null. */
export type RedisReply = Buffer | string | number | null | RedisReply[];
