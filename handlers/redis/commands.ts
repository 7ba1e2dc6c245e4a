/**
 * @module handlers/redis/commands
 * How the redis client (handlers/redis/client.ts) puts commands on ioredis' socket: as ioredis
 * `Command`s whose replies stay Buffers, a large value handed to the socket without ioredis' copy,
 * and the commands of one microtask run corked into one write.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import type { Cluster, Redis } from 'ioredis';
import { Command } from 'ioredis';
import type { RedisReply } from './reply.ts';

type Args = (string | Buffer | number)[];

/** A Buffer argument at least this long goes to the socket as it is, not copied (see {@link BufferCommand}). */
export const ZERO_COPY_MIN = 8 * 1024;

/** The socket ioredis hands to Command#toWritable. */
export interface CorkableSocket {
  write(chunk: Buffer | string): boolean;
  cork(): void;
  uncork(): void;
}

/**
 * A command whose bulk-string replies come back as Buffers (what ioredis' generated `getBuffer`,
 * `setexBuffer`... methods build), sent through `sendCommand` directly.
 *
 * ioredis builds the bytes of a command with a Buffer argument by allocating one new Buffer of the
 * whole command and copying every argument into it (Command#toWritable): a 140 KB session is copied
 * once more per write, and each copy is a fresh 140 KB of external memory, which is what drives V8's
 * full mark-compacts "for external memory pressure" on large sessions. Here an argument of
 * {@link ZERO_COPY_MIN} bytes or more is handed to the socket as it is: the header before it and the
 * argument itself are written on the corked socket, the rest of the command is returned for ioredis
 * to write, and the socket is uncorked on the next tick, so the pieces leave in one writev. The
 * argument must not change until the reply arrives (the session modules await it).
 *
 * Not `callBuffer()` either: with enableAutoPipelining, ioredis 6.1 sends `callBuffer('GET', 'k')`
 * as the command `k` (the name is dropped on the auto-pipeline path; spec/redis/client.test.ts pins
 * the bug). This path does not auto-pipeline at all, and a BufferCommand must not go into an ioredis
 * Pipeline: a pipeline writes what toWritable returns later, after the pieces written here.
 */
export class BufferCommand extends Command {
  readonly #big: boolean;

  constructor(name: string, args: Args) {
    super(name, args, { replyEncoding: null });
    let big = false;
    for (const a of args) if (typeof a === 'object' && a.length >= ZERO_COPY_MIN) big = true;
    this.#big = big;
  }

  override toWritable(socket: object): string | Buffer {
    if (!this.#big) return super.toWritable(socket);
    const s = socket as CorkableSocket;
    s.cork();
    process.nextTick(() => s.uncork());
    // ioredis has turned numbers into strings by now (Command#stringifyArguments).
    return writeUpToLastBuffer(s, this.name, this.args as Args);
  }
}

export function bufferCommand(client: Redis | Cluster, command: string, args: Args): Promise<RedisReply> {
  return client.sendCommand(new BufferCommand(lowerName(command), args)) as Promise<RedisReply>;
}

/** Command names as ioredis sends them (lower case), kept per name rather than lowered per call. */
const lowerNames = new Map<string, string>();
export function lowerName(command: string): string {
  let n = lowerNames.get(command);
  if (n === undefined) {
    n = command.toLowerCase();
    if (lowerNames.size < 256) lowerNames.set(command, n);
  }
  return n;
}

/** ioredis' tracing channel for commands (its tracing.ts): a command it sends is traced while anyone listens. */
const commandTracing = tracingChannel('ioredis:command');

/**
 * Whether the installed ioredis is one whose command queue and reply path QueuedCommand was written
 * against (6.1.x; package.json allows any 6.x): another version keeps ioredis' sendCommand.
 */
export const knownIoredis: boolean = (() => {
  try {
    const version = (createRequire(import.meta.url)('ioredis/package.json') as { version?: unknown }).version;
    return typeof version === 'string' && /^6\.1\.\d+$/.test(version);
  } catch {
    return false;
  }
})();

/**
 * Whether a command may skip ioredis' sendCommand (handlers/redis/client.ts QueuedCommand): only
 * on a {@link knownIoredis}, and not while someone subscribes to ioredis' command tracing, which
 * only sendCommand reports to.
 */
export function leanCommandsAllowed(): boolean {
  return knownIoredis && (commandTracing as { hasSubscribers?: boolean }).hasSubscribers === false;
}

/**
 * Writes one command's RESP bytes on a socket, the bytes ioredis' Command#toWritable (or
 * {@link BufferCommand}'s) produces for it: the lower-case name, strings as UTF-8, numbers as
 * ioredis' toArg, Buffers as they are.
 * A Buffer argument is written as it is, not copied: it must not change until the reply arrived.
 * The socket must coalesce the writes of one tick (see {@link coalesceWrites}): the pieces then
 * leave in one writev.
 */
export function writeCommand(socket: CorkableSocket, name: string, args: Args): void {
  socket.write(writeUpToLastBuffer(socket, name, args));
}

/**
 * {@link writeCommand}'s bytes, written up to and including the last non-empty Buffer argument;
 * returns the rest (a string) for the caller to write: writeCommand writes it, BufferCommand hands
 * it to ioredis.
 */
function writeUpToLastBuffer(socket: CorkableSocket, name: string, args: Args): string {
  let head = `*${args.length + 1}\r\n$${Buffer.byteLength(name)}\r\n${name}\r\n`;
  for (const a of args) {
    if (typeof a === 'string') head += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    else if (typeof a === 'number') {
      const s = Number.isInteger(a) && !Number.isSafeInteger(a) ? BigInt(a).toString() : String(a);
      head += `$${s.length}\r\n${s}\r\n`;
    } else if (a.length === 0) head += '$0\r\n\r\n';
    else {
      socket.write(Buffer.from(`${head}$${a.length}\r\n`));
      socket.write(a);
      head = '\r\n';
    }
  }
  return head;
}

/**
 * ioredis writes every command with its own socket write (a syscall each). Commands issued in one
 * run of the microtask queue (many concurrent requests continuing after one batch of replies)
 * are joined into one write: the socket is corked at the first and uncorked on the next tick.
 * (ioredis' enableAutoPipelining does this with a Pipeline per batch and a setImmediate delay,
 * which measured slower here in both the sequential and the concurrent bench.)
 */
export function coalesceWrites(client: Redis): void {
  const stream = (client as unknown as { stream?: NodeJS.WritableStream & { cork(): void; uncork(): void } }).stream;
  if (stream === undefined) return;
  const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    stream.uncork();
  };
  (stream as unknown as { write: (...a: unknown[]) => boolean }).write = (...a: unknown[]): boolean => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(uncork);
    }
    return write(...a);
  };
}
