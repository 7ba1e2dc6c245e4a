/**
 * @module spec/faults/support
 * Shared by the fault suites: one "increment" request through the engine, the stored truth read
 * straight from memcached, and the classification every fault test asserts on: a request either
 * succeeds with its data stored (`ok`) or fails loudly (PHP's warning, and false where PHP
 * returns false: `loud`); `lost` is anything else (no warning and the data not stored, or a read
 * that came back wrong and was written over the real session).
 */
import { inflateSync } from 'node:zlib';
import type { SessionEngine } from '../../lib/engine.ts';
import { getItem, textCommand } from '../support/memcached-server.ts';
import { redisCommand } from '../support/redis-server.ts';

export type ModuleName = 'memcached' | 'memcache' | 'redis';

/** The key of a session's data for each module (default prefixes). */
export const dataKey = (module: ModuleName, id: string): string =>
  module === 'memcached' ? `memc.sess.key.${id}` : module === 'redis' ? `PHPREDIS_SESSION:${id}` : id;

/** Stores `value` as the session's data on the server (memcached or redis), as PHP would. */
export async function seedRaw(port: number, module: ModuleName, id: string, value: string): Promise<void> {
  if (module === 'redis') {
    const r = await redisCommand(port, 'SET', dataKey(module, id), value);
    if (String(r) !== 'OK') throw new Error(`seed failed: ${String(r)}`);
    return;
  }
  const r = await textCommand(port, `set ${dataKey(module, id)} 0 0 ${Buffer.byteLength(value)}\r\n${value}`, /(STORED|ERROR)\r\n$/);
  if (!r.toString().includes('STORED')) throw new Error(`seed failed: ${r.toString()}`);
}

/** Stores `n|i:<n>;` as the session's data. */
export async function seed(port: number, module: ModuleName, id: string, n: number): Promise<void> {
  await seedRaw(port, module, id, `n|i:${n};`);
}

/** The counter the server holds for the session (null: no item or no counter). */
export async function storedN(port: number, module: ModuleName, id: string): Promise<number | null> {
  let value: Buffer;
  if (module === 'redis') {
    const r = await redisCommand(port, 'GET', dataKey(module, id));
    if (r === null) return null;
    value = Buffer.isBuffer(r) ? r : Buffer.from(String(r), 'latin1');
  } else {
    const item = await getItem(port, dataKey(module, id));
    if (item === null) return null;
    // pecl memcache stores sessions from memcache.compress_threshold bytes zlib-compressed (flag 2).
    value = module === 'memcache' && (item.flags & 2) !== 0 ? inflateSync(item.value) : item.value;
  }
  const m = /n\|i:(\d+);/.exec(value.toString('latin1'));
  return m ? Number(m[1]) : null;
}

export interface Attempt {
  started: boolean;
  closed: boolean;
  /** The counter the request read (undefined: the session came back without one). */
  read: number | undefined;
  warnings: string[];
}

/** session_start, n+1, session_write_close, end: what each step returned. */
export async function increment(engine: SessionEngine, id: string): Promise<Attempt> {
  const req = engine.request({ cookies: { PHPSESSID: id } });
  let started = false;
  let closed = false;
  let read: number | undefined;
  // A typed error (phpredis' RedisException, as PHP throws it) is a loud failure too.
  const thrown: string[] = [];
  try {
    started = await req.start();
    if (started) {
      const v = req.session.get('n');
      read = typeof v === 'number' ? v : undefined;
      req.session.set('n', (read ?? 0) + 1);
      closed = await req.writeClose();
    }
  } catch (e) {
    thrown.push(`${(e as Error).name}: ${(e as Error).message}`);
  }
  try {
    await req.end();
  } catch (e) {
    thrown.push(`${(e as Error).name}: ${(e as Error).message}`);
  }
  const warnings = req.diagnostics.filter((d) => d.level === 'E_WARNING' || d.level === 'E_NOTICE').map((d) => d.message);
  return { started, closed, read, warnings: [...warnings, ...thrown] };
}

export type Outcome = 'ok' | 'loud' | 'lost';

/**
 * `prev` is the counter before the attempt, `after` what the server holds after it. Loud means
 * PHP's way: a warning (session_write_close() returns true even when the write failed, as in PHP
 * 8.2, so the warning is what tells), and the stored session left as it was or holding this
 * request's own correct write. A thrown typed error is passed in as a warning by the caller.
 */
export function classify(a: Attempt, prev: number, after: number | null): Outcome {
  if (a.started && a.closed && a.read === prev && after === prev + 1) return 'ok';
  if (a.warnings.length === 0) return 'lost';
  const landed = a.read === prev ? prev + 1 : Number.NaN;
  return after === prev || after === landed ? 'loud' : 'lost';
}

export function tally<T extends string>(xs: T[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

/** Blocks the event loop for `ms` (an injected stall: GC pause, a big synchronous decode). */
export function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}
