/**
 * bench/redis-paired: one build of this library against another on the same redis-server, in the
 * same process, in alternating rounds: the before/after measurement of a change to the redis
 * module. Per round it counts start + modify + write_close cycles (bench/redis' payload, written by
 * PHP) per CPU-second of this process (`cpu`, steadier on a shared machine) and per second
 * (`wall`), sequentially (1 loop) and with 100 concurrent loops over 100 ids, without and with
 * redis.session.locking_enabled, and prints the median of the per-round ratios new/base.
 *
 * Build the baseline from a commit, then run:
 *   git archive <commit> | (mkdir -p /tmp/base && tar -x -C /tmp/base) && ln -s "$PWD/node_modules" /tmp/base/
 *   (cd /tmp/base && npx tsc -p tsconfig.build.json --outDir "$OLDPWD/dist-base") && npx tsc -p tsconfig.build.json --outDir dist-new
 *   node --import tsx bench/redis-paired.mjs "$PWD/dist-base" "$PWD/dist-new" [seconds-per-round=1] [rounds=7]
 *
 * With BENCH_PAYLOAD=big it runs issue #16's 140 KB cycle instead (bench/cycles.ts
 * readOneSetOneCycle on bench/payloads.ts' bigSession, written by PHP: GET, SETEX, no locking),
 * sequentially, and the module's client by hand (GET, then SETEX of the bytes read), printing each
 * build's CPU and wall µs per cycle too.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startRedis } from '../spec/support/redis-server.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { countCycles, counterCycle, readOneSetOneCycle } from './cycles.ts';
import { bigSession } from './payloads.ts';
import { php_serialize } from 'php-session-engine';

const [baseDir, newDir, secs = '1', rounds = '7'] = process.argv.slice(2);
if (baseDir === undefined || newDir === undefined) throw new Error('usage: node --import tsx bench/redis-paired.mjs <base dist> <new dist> [s] [rounds]');
const builds = await Promise.all(
  [baseDir, newDir].map(async (d) => ({ lib: await import(join(d, 'lib/index.js')), redis: await import(join(d, 'handlers/redis.js')) })),
);
const ids = Array.from({ length: 100 }, (_, i) => `rdbench${i.toString(16).padStart(25, '0')}`);
const server = await startRedis();
const savePath = `tcp://${server.address}`;
execFileSync('php', ['-n', '-d', 'extension=igbinary', '-d', 'extension=redis', '-d', 'session.save_handler=redis', '-d', `session.save_path=${savePath}`,
  '-d', 'session.use_cookies=0', '-d', 'session.cache_limiter=', '-r',
  `foreach (${JSON.stringify(ids)} as $id) { session_id($id); session_start(); $_SESSION['user'] = ['id' => 42, 'name' => 'alice', 'roles' => ['admin', 'editor']];
   $_SESSION['cart'] = []; for ($j = 0; $j < 10; $j++) $_SESSION['cart'][] = ['sku' => "SKU-$j", 'qty' => $j + 1, 'price' => 9.99 + $j];
   $_SESSION['n'] = 0; session_write_close(); }`]);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (process.env.BENCH_PAYLOAD === 'big') {
  const id = 'rdbenchbig000000000000000001';
  const dir = mkdtempSync(join(tmpdir(), 'redis-paired-'));
  try {
    const file = join(dir, 'big.ser');
    const ctx = { diagnostic: (l, m) => { throw new Error(`${l}: ${m}`); }, maxDepth: 4096 };
    writeFileSync(file, php_serialize.encode(bigSession(), ctx));
    execFileSync('php', ['-n', '-d', 'extension=igbinary', '-d', 'extension=redis', '-d', 'session.save_handler=redis', '-d', `session.save_path=${savePath}`,
      '-d', 'session.use_cookies=0', '-d', 'session.cache_limiter=', '-r',
      `session_id('${id}'); session_start(); $_SESSION = unserialize(file_get_contents(${JSON.stringify(file)})); session_write_close();`]);
    const engines = builds.map((b) => new b.lib.SessionEngine({ ini: { 'session.save_handler': 'redis', 'session.save_path': savePath, 'session.cache_limiter': '' } }));
    // The module's client by hand: GET, then SETEX of the bytes read (each build's handlers/redis/client.js).
    const key = `PHPREDIS_SESSION:${id}`;
    const clients = await Promise.all(builds.map(async (_, j) => {
      const { RedisConnection } = await import(join([baseDir, newDir][j], 'handlers/redis/client.js'));
      const c = new RedisConnection({ scheme: 'tcp', host: '127.0.0.1', port: server.port, database: -1, connectTimeoutMs: 5000, readTimeoutMs: 60_000 });
      await c.open();
      return c;
    }));
    const byHand = async (c) => {
      const v = await c.call('GET', key);
      if (String(await c.call('SETEX', key, 1440, v)) !== 'OK') throw new Error('SETEX failed');
    };
    const sides = [
      ['engine (lazy)', (j) => countCycles((i) => readOneSetOneCycle(engines[j], i), [id], 1, Number(secs))],
      ['module client by hand (GET, SETEX)', (j) => countCycles(() => byHand(clients[j]), [id], 1, Number(secs))],
    ];
    for (const [, run] of sides) for (const j of [0, 1]) await run(j); // warm-up
    const r = sides.map(() => ({ cpu: [], wall: [], base: [], neu: [], baseWall: [], neuWall: [] }));
    for (let i = 0; i < Number(rounds); i++) {
      for (const [s, [, run]] of sides.entries()) {
        const m = [];
        for (const j of i % 2 === 0 ? [0, 1] : [1, 0]) m[j] = await run(j);
        r[s].cpu.push(m[1].cpu / m[0].cpu);
        r[s].wall.push(m[1].wall / m[0].wall);
        r[s].base.push(1e6 / m[0].cpu);
        r[s].neu.push(1e6 / m[1].cpu);
        r[s].baseWall.push(1e6 / m[0].wall);
        r[s].neuWall.push(1e6 / m[1].wall);
      }
    }
    for (const [s, [label]] of sides.entries()) {
      const x = r[s];
      console.log(`140 KB cycle, ${label}: new/base cycles per CPU-second ${median(x.cpu).toFixed(2)}x (CPU per cycle: base ${median(x.base).toFixed(0)} µs, new ${median(x.neu).toFixed(0)} µs), per second ${median(x.wall).toFixed(2)}x (wall per cycle: base ${median(x.baseWall).toFixed(0)} µs, new ${median(x.neuWall).toFixed(0)} µs)`);
    }
    for (const c of clients) c.close();
  } finally {
    for (const b of builds) b.redis.closeRedisConnections();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

const measure = (engine, loops) => countCycles((id) => counterCycle(engine, id), ids, loops, Number(secs));

try {
  for (const [label, lockIni] of [['no locking', {}], ['locking_enabled=1', { 'redis.session.locking_enabled': '1', 'redis.session.lock_retries': '-1' }]]) {
    const engines = builds.map((b) => new b.lib.SessionEngine({ ini: { 'session.save_handler': 'redis', 'session.save_path': savePath, 'session.cache_limiter': '', ...lockIni } }));
    for (const [what, loops] of [['sequential', 1], ['100 concurrent', 100]]) {
      for (const e of engines) await measure(e, loops); // warm-up
      const r = { cpu: [], wall: [], base: [], neu: [] };
      for (let i = 0; i < Number(rounds); i++) {
        const order = i % 2 === 0 ? [0, 1] : [1, 0];
        const m = [];
        for (const j of order) m[j] = await measure(engines[j], loops);
        r.cpu.push(m[1].cpu / m[0].cpu);
        r.wall.push(m[1].wall / m[0].wall);
        r.base.push(m[0].cpu);
        r.neu.push(m[1].cpu);
      }
      console.log(`${label}, ${what}: new/base cycles per CPU-second ${median(r.cpu).toFixed(2)}x (base ${median(r.base).toFixed(0)}, new ${median(r.neu).toFixed(0)}), per second ${median(r.wall).toFixed(2)}x`);
    }
  }
} finally {
  for (const b of builds) b.redis.closeRedisConnections();
  await server.stop();
}
