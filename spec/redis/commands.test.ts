/**
 * @module spec/redis/commands
 * The bytes the redis client writes for a command itself (handlers/redis/commands.ts
 * writeCommand, the path of every command on a plain connection since issue #16) against the
 * bytes ioredis 6.1's own Command#toWritable produces for the same name and arguments: strings
 * (any UTF-16, so lone surrogates too), numbers (integers, unsafe integers, fractions, NaN),
 * Buffers (empty, small, around and above the size written without a copy).
 */
import fc from 'fast-check';
import { Command } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { knownIoredis, writeCommand, ZERO_COPY_MIN } from '../../handlers/redis/commands.ts';

/** A socket that records what is written on it, as bytes (strings as UTF-8, as net.Socket encodes them). */
function recorder(): { socket: Parameters<typeof writeCommand>[0]; bytes: () => Buffer; chunks: (string | Buffer)[] } {
  const chunks: (string | Buffer)[] = [];
  const socket = {
    write: (c: string | Buffer): boolean => {
      chunks.push(c);
      return true;
    },
    cork: (): void => {},
    uncork: (): void => {},
  };
  return { socket, chunks, bytes: () => Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c))) };
}

/** What ioredis writes for the command (its toWritable returns a string, or one Buffer when an argument is a Buffer). */
function ioredisBytes(name: string, args: (string | number | Buffer)[]): Buffer {
  const out = new Command(name, [...args]).toWritable({});
  return typeof out === 'string' ? Buffer.from(out, 'utf8') : Buffer.from(out);
}

const bigBuffer = fc.integer({ min: ZERO_COPY_MIN - 2, max: ZERO_COPY_MIN * 3 }).chain((n) => fc.integer({ min: 0, max: 255 }).map((seed) => Buffer.alloc(n, seed)));
const arg = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 8 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.double(),
  fc.constantFrom(2 ** 53, -(2 ** 60), 1e21, 1440, 0),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  bigBuffer,
);

describe('redis client: the bytes of a command', () => {
  it('the installed ioredis is the one the client queues its own commands on (6.1.x)', () => {
    // If this fails, ioredis was upgraded: check QueuedCommand (handlers/redis/client.ts) against
    // its command queue and reply path, then widen knownIoredis.
    expect(knownIoredis).toBe(true);
  });

  it('writeCommand writes the bytes ioredis 6.1 writes for the same command (fast-check)', () => {
    fc.assert(
      fc.property(fc.constantFrom('get', 'setex', 'set', 'eval', 'evalsha', 'del', 'exists', 'expire'), fc.array(arg, { maxLength: 6 }), (name, args) => {
        const r = recorder();
        writeCommand(r.socket, name, args);
        expect(r.bytes().equals(ioredisBytes(name, args))).toBe(true);
      }),
      { seed: 16, numRuns: 400 },
    );
  });

  it('a Buffer of ZERO_COPY_MIN bytes or more is written as it is, a smaller one in the same bytes', () => {
    const big = Buffer.alloc(ZERO_COPY_MIN, 7);
    const r = recorder();
    writeCommand(r.socket, 'setex', ['PHPREDIS_SESSION:abc', 1440, big]);
    expect(r.chunks.some((c) => c === big)).toBe(true);
    expect(r.bytes().equals(ioredisBytes('setex', ['PHPREDIS_SESSION:abc', 1440, big]))).toBe(true);
  });
});
