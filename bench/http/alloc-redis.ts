/**
 * bench/http/alloc-redis: the JS heap bytes one bench/http request allocates on the redis module,
 * against the same request on an in-memory module and against the redis client alone (GET +
 * SETEX of a 120-byte value), with C requests in flight at once (16 by default, as in a
 * bench/http worker). Each round runs a full GC, then N requests with a young generation large
 * enough that no GC runs in between (a round in which one ran is done again), and takes the
 * growth of V8's used heap divided by N: everything allocated, garbage included. Median of ROUNDS.
 *
 *   node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 \
 *     --conditions=php-session-engine-source --import tsx bench/http/alloc-redis.ts
 *
 * Needs redis-server (spec/support/redis-server.ts starts it on a free port).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { PhpArray, SessionEngine } from 'php-session-engine';
import { closeRedisConnections, redisConnection } from '../../handlers/redis/client.ts';
import { startRedis } from '../../spec/support/redis-server.ts';

const gc = (globalThis as { gc?: () => void }).gc!;
const N = Number(process.env['N'] ?? 400);
const C = Number(process.env['C'] ?? 16);
const ROUNDS = Number(process.env['ROUNDS'] ?? 7);
let gcs = 0;
new PerformanceObserver((l) => (gcs += l.getEntries().length)).observe({ entryTypes: ['gc'] });
const srv = await startRedis();
let stored: Uint8Array = new Uint8Array(0);
const memory = { name: 'mem', create: () => ({ name: 'mem', open: () => true, close: () => true, read: () => stored, write: (_id: string, d: Uint8Array) => { stored = Buffer.from(d); return true; }, destroy: () => true, gc: () => 0 }) };
const engines = {
  mem: new SessionEngine({ modules: [memory], ini: { 'session.save_handler': 'mem', 'session.cache_limiter': '' } }),
  redis: new SessionEngine({ ini: { 'session.save_handler': 'redis', 'session.save_path': `tcp://${srv.address}`, 'session.cache_limiter': '' } }),
};
async function cycle(engine: SessionEngine, i: number): Promise<void> {
  const req = engine.request({ cookies: { PHPSESSID: `allocbench${String(i % 1000).padStart(20, '0')}` } });
  if (!(await req.start())) throw new Error(JSON.stringify(req.diagnostics));
  const s = req.session;
  const n = s.get('n');
  const nn = (typeof n === 'number' ? n : 0) + 1;
  s.set('n', nn);
  const cart = s.get('cart');
  const c = cart instanceof PhpArray ? cart : new PhpArray();
  c.set(`sku-${nn % 10}`, 1);
  s.set('cart', c);
  if (!(await req.writeClose())) throw new Error('write');
  req.id();
  await req.end();
}
const conn = redisConnection({ scheme: 'tcp', host: '127.0.0.1', port: srv.port, database: -1, connectTimeoutMs: 1000, readTimeoutMs: 0 });
const val = Buffer.alloc(120, 'x');
async function raw(_e: unknown, i: number): Promise<void> {
  const k = `PHPREDIS_SESSION:allocraw${i % 1000}`;
  await conn.call('GET', k);
  await conn.call('SETEX', k, 1440, val);
}
async function batch(f: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: C }, async () => { while (next < N) await f(next++); }));
}
const kinds: Record<string, (i: number) => Promise<void>> = {
  mem: (i) => cycle(engines.mem, i),
  redis: (i) => cycle(engines.redis, i),
  'client GET+SETEX': (i) => raw(null, i),
};
for (const f of Object.values(kinds)) await batch(f); // warm
const res: Record<string, number[]> = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const [k, f] of Object.entries(kinds)) {
    for (let t = 0; t < 20; t++) {
      gc();
      await new Promise((x) => setTimeout(x, 5));
      const g0 = gcs;
      const h0 = v8.getHeapStatistics().used_heap_size;
      await batch(f);
      const h1 = v8.getHeapStatistics().used_heap_size;
      await new Promise((x) => setTimeout(x, 1));
      if (gcs !== g0) continue;
      (res[k] ??= []).push((h1 - h0) / N);
      break;
    }
  }
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [k, xs] of Object.entries(res)) console.log(`${k}: ${med(xs).toFixed(0)} B/request (C=${C})`);
closeRedisConnections();
await srv.stop();
