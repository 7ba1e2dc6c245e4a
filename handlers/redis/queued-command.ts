/**
 * @module handlers/redis/queued-command
 * The entry the redis client (handlers/redis/client.ts) puts on ioredis' command queue for a
 * command whose bytes it wrote itself (commands.ts writeCommand), in place of ioredis' Command.
 */
import type { CorkableSocket } from './commands.ts';
import type { RedisReply } from './reply.ts';

type Args = (string | Buffer | number)[];

/** What the redis client touches of an ioredis client beyond its typed API (ioredis 6.1's Redis). */
export interface IoredisInternals<L> {
  stream?: CorkableSocket & { writable: boolean; _writableState?: { ended?: boolean } };
  commandQueue: { push(item: QueuedCommand<L>): void };
  condition?: { select?: number } | null;
  maintenanceManager?: { isWritePaused(): boolean } | null;
}

/**
 * A command on an ioredis connection without ioredis' Command (4-8 µs and ~1 KB of objects a
 * command: argument flattening and transformers, a promise wrapped for callbacks and tracing,
 * key extraction): its bytes were written on the socket (commands.ts writeCommand) and it is
 * queued where ioredis' sendCommand queues its commands, so ioredis' reply path answers it in
 * order and its close and error paths fail it, as any of its commands. It carries what those paths
 * read of a queued command in ioredis 6.1 (DataHandler, Redis#handleReconnection and #flushQueue,
 * event_handler's close handler): `name`, `args`, `inTransaction`, no `pipelineIndex`, and
 * `resolve()` / `reject()`, called as methods. Used only on ioredis 6.1.x (commands.ts
 * knownIoredis); the redis suites run every command on a plain connection through this path.
 * `L` is the client's record of the connection, handed back to its callbacks.
 */
export class QueuedCommand<L> {
  /** The queue item is the command itself: ioredis' items are `{ command, stream, select }`. */
  readonly command = this;
  readonly stream = undefined;
  readonly select: number | undefined;
  readonly inTransaction = false;
  readonly name: string;
  readonly args: Args;
  readonly #live: L;
  readonly #onReply: (live: L) => void;
  readonly #onFailed: (live: L, e: unknown, reject: (e: unknown) => void) => void;
  readonly #resolve: (reply: RedisReply) => void;
  readonly #reject: (e: unknown) => void;
  #settled = false;

  constructor(
    name: string,
    args: Args,
    select: number | undefined,
    live: L,
    onReply: (live: L) => void,
    onFailed: (live: L, e: unknown, reject: (e: unknown) => void) => void,
    resolve: (reply: RedisReply) => void,
    reject: (e: unknown) => void,
  ) {
    this.name = name;
    this.args = args;
    this.select = select;
    this.#live = live;
    this.#onReply = onReply;
    this.#onFailed = onFailed;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  resolve(reply: RedisReply): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#onReply(this.#live);
    this.#resolve(reply);
  }

  /**
   * ioredis calls it from inside its own close and flush loops: what follows a failure (dropping
   * the connection) runs once those are done, a microtask later, as it did behind the promise of
   * an ioredis Command.
   */
  reject(e: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    queueMicrotask(() => this.#onFailed(this.#live, e, this.#reject));
  }
}

/** The functions of the promise last created with {@link capture} (one executor for every command, not a closure each). */
export const captured: { resolve: ((reply: RedisReply) => void) | null; reject: ((e: unknown) => void) | null } = { resolve: null, reject: null };
export function capture(resolve: (reply: RedisReply) => void, reject: (e: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}
