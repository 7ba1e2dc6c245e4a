/**
 * bench/msession-stores: msession on memcached and redis, local servers started here (2 cores,
 * shared with other work: read ratios, not absolute numbers).
 * 1. `find` over N sessions (default 100,000; 1 in 100 has user = 42): the pipelined scan (one
 *    round trip per batch, store.peekMany) against the per-session GET it replaced (the same store
 *    with peekMany hidden, so Msession falls back to one peek per id), alternating, same ids.
 * 2. get/set transactions per second in one process: `ms.get` / `ms.set` from C concurrent callers
 *    (default 64) on M ids (default 1,000; each caller its own ids, so no lock contention), with
 *    the module's lock taken as PHP takes it, and without it, against msession's published 5-10k/s.
 *
 * Run: npm run bench:msession-stores -- [N]   (env: C, M, OPS, ROUNDS); the built package (dist/),
 * as an application runs it.
 */
import { createConnection } from 'node:net';
import { Redis } from 'ioredis';
import { SessionEngine } from 'php-session-engine';
import type { Msession } from 'php-session-engine/msession';
import { closeRedisConnections } from 'php-session-engine/handlers/redis';
import { startMemcached } from '../spec/support/memcached-server.ts';
import { startRedis } from '../spec/support/redis-server.ts';

const N = Number(process.argv[2] ?? 100_000);
const C = Number(process.env.C ?? 64);
const M = Number(process.env.M ?? 1000);
const OPS = Number(process.env.OPS ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const idOf = (i: number): string => i.toString(16).padStart(32, '0');
const payload = (i: number): string => `user|i:${i % 100 === 0 ? 42 : i};tenant|s:4:"acme";last|i:${1700000000 + i};`;
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** Sets every key over one connection, pipelined, and waits for all STOREDs. */
async function memcachedSeed(port: number, entries: [string, string][]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createConnection(port, '127.0.0.1');
    let stored = 0;
    let tail = '';
    s.on('data', (d: Buffer) => {
      const text = tail + d.toString('latin1');
      const lines = text.split('\r\n');
      tail = lines.pop()!;
      for (const l of lines) {
        if (l === 'STORED') stored++;
        else return reject(new Error(`memcached: ${l}`));
      }
      if (stored === entries.length) {
        s.end();
        resolve();
      }
    });
    s.on('error', reject);
    for (let i = 0; i < entries.length; i += 1000) s.write(entries.slice(i, i + 1000).map(([k, v]) => `set ${k} 0 0 ${Buffer.byteLength(v)}\r\n${v}\r\n`).join(''));
  });
}

async function findOnce(ms: Msession, perSession: boolean): Promise<{ ms: number; found: number }> {
  const store = ms.store();
  const saved = store.peekMany;
  if (perSession) delete (store as { peekMany?: unknown }).peekMany;
  try {
    const t0 = performance.now();
    let found = 0;
    for await (const _ of ms.find('user', 42)) found++;
    return { ms: performance.now() - t0, found };
  } finally {
    if (saved !== undefined) store.peekMany = saved;
  }
}

async function findBench(label: string, engine: SessionEngine): Promise<void> {
  const ms = engine.msession();
  const piped: number[] = [];
  const single: number[] = [];
  // Every hundredth session, and session 42 (user = its number).
  const expect = Math.ceil(N / 100) + (N > 42 ? 1 : 0);
  for (let r = 0; r < ROUNDS; r++) {
    const a = await findOnce(ms, false);
    const b = await findOnce(ms, true);
    // SCAN may return a key twice (redis rehashing): at least every match.
    if (a.found < expect || b.found < expect) console.log(`${label}: found ${a.found} / ${b.found}, expected ${expect}`);
    console.log(`  ${label} round ${r + 1}: pipelined ${(a.ms / 1000).toFixed(2)} s, one GET per session ${(b.ms / 1000).toFixed(2)} s`);
    piped.push(a.ms);
    single.push(b.ms);
  }
  await ms.disconnect();
  console.log(`${label} find over ${N.toLocaleString('en-US')}: pipelined ${(median(piped) / 1000).toFixed(2)} s, one GET per session ${(median(single) / 1000).toFixed(2)} s (${(median(single) / median(piped)).toFixed(1)}x)`);
}

/** OPS calls of `op` from C callers, caller k on ids k, k + C, ... (below M). */
async function tps(ms: Msession, op: (ms: Msession, id: string, n: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async (_, k) => {
      for (let j = 0; ; j++) {
        const n = next++;
        if (n >= OPS) return;
        await op(ms, idOf((k + C * j) % M), n);
      }
    }),
  );
  return OPS / ((performance.now() - t0) / 1000);
}

async function tpsBench(label: string, engines: { locked: SessionEngine; unlocked: SessionEngine }): Promise<void> {
  const rows: string[] = [];
  for (const [mode, engine] of Object.entries(engines)) {
    const ms = engine.msession();
    const gets: number[] = [];
    const sets: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      gets.push(await tps(ms, (m, id) => m.get(id, 'user')));
      sets.push(await tps(ms, (m, id, n) => m.set(id, 'n', n)));
    }
    await ms.disconnect();
    rows.push(`${mode}: get ${Math.round(median(gets)).toLocaleString('en-US')}/s, set ${Math.round(median(sets)).toLocaleString('en-US')}/s`);
  }
  console.log(`${label} transactions (${C} callers, ${M} ids, ${OPS.toLocaleString('en-US')} calls each): ${rows.join('; ')}`);
}

const common = { 'session.serialize_handler': 'php', 'session.gc_probability': '0', 'session.use_cookies': '0' };
const entries = Array.from({ length: N }, (_, i) => [idOf(i), payload(i)] as [string, string]);

const mc = await startMemcached();
try {
  // 32 MB server: the N sessions fit (the bench checks the count it finds).
  await memcachedSeed(mc.port, entries.map(([id, v]) => [`memc.sess.key.${id}`, v]));
  const ini = { ...common, 'session.save_handler': 'memcached', 'session.save_path': `127.0.0.1:${mc.port}` };
  await findBench('memcached', new SessionEngine({ ini }));
  await tpsBench('memcached', { locked: new SessionEngine({ ini: { ...ini, 'memcached.sess_locking': '1' } }), unlocked: new SessionEngine({ ini: { ...ini, 'memcached.sess_locking': '0' } }) });
} finally {
  await mc.stop();
}

const rs = await startRedis();
try {
  const client = new Redis({ port: rs.port, host: '127.0.0.1' });
  for (let i = 0; i < entries.length; i += 1000) await client.mset(entries.slice(i, i + 1000).flatMap(([id, v]) => [`PHPREDIS_SESSION:${id}`, v]));
  client.disconnect();
  const ini = { ...common, 'session.save_handler': 'redis', 'session.save_path': `tcp://127.0.0.1:${rs.port}` };
  await findBench('redis', new SessionEngine({ ini }));
  await tpsBench('redis', { locked: new SessionEngine({ ini: { ...ini, 'redis.session.locking_enabled': '1' } }), unlocked: new SessionEngine({ ini: { ...ini, 'redis.session.locking_enabled': '0' } }) });
} finally {
  closeRedisConnections();
  await rs.stop();
}
