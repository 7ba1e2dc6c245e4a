/**
 * bench/redis: start + modify + write_close cycles per second against one local redis-server,
 * for the `redis` module with phpredis' defaults (no locking) and with redis.session.locking_enabled:
 * this library sequentially (one request at a time over 100 ids) and with 100 concurrent request
 * loops over 100 ids, against PHP with phpredis (`php -n`, one process, sequential, the same ids
 * and payload).
 *
 * Two reference rows split the engine's sequential cycle into its parts, measured in the same
 * rounds: `raw ioredis` sends the same commands as the module, in the same round trips, on an
 * ioredis client of its own with no session engine (GET then SETEX; with locking SET NX + GET
 * together, then the write-and-unlock script): the floor of client and network. `engine, no I/O`
 * runs the engine's cycle on an in-memory module whose read waits one event-loop turn (as a reply
 * does): the engine's own part (request, codec, lifecycle) with no client at all.
 *
 * The machine may be shared (2 cores here, shared with other work), so the sides run in
 * alternating short rounds and the medians are compared. A redis-server is started on a free port
 * and stopped at the end.
 *
 * Run: npm run bench:redis [seconds-per-round] [rounds]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { SessionEngine } from 'php-session-engine';
import { closeRedisConnections } from 'php-session-engine/handlers/redis';
import { startRedis } from '../spec/support/redis-server.ts';
import { counterCycle } from './cycles.ts';

const SECONDS = Number(process.argv[2] ?? 1);
const ROUNDS = Number(process.argv[3] ?? 5);
const IDS = 100;
const ids = Array.from({ length: IDS }, (_, i) => `rdbench${i.toString(16).padStart(25, '0')}`);
const EXT = ['igbinary', 'redis'].flatMap((e) => ['-d', `extension=${e}`]);

const PAYLOAD_PHP = `$_SESSION['user'] = ['id' => 42, 'name' => 'alice', 'roles' => ['admin', 'editor']];
$_SESSION['cart'] = []; for ($j = 0; $j < 10; $j++) $_SESSION['cart'][] = ['sku' => "SKU-$j", 'qty' => $j + 1, 'price' => 9.99 + $j];
$_SESSION['n'] = 0;`;

const server = await startRedis();
const savePath = `tcp://${server.address}`;
const raw = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
await raw.connect();
/** The module's write-and-unlock script (handlers/redis.ts), for the raw ioredis row. */
const SETEX_UNLOCK = 'if redis.call("get",KEYS[2]) == ARGV[3] then redis.call("setex",KEYS[1],ARGV[1],ARGV[2]) redis.call("del",KEYS[2]) return 1 else return false end';
const SETEX_UNLOCK_SHA = createHash('sha1').update(SETEX_UNLOCK).digest('hex');
await raw.script('LOAD', SETEX_UNLOCK);
/** The engine's part alone: sessions kept in memory, each read one event-loop turn late. */
const memory = new Map<string, Uint8Array>();
const memoryModule = {
  name: 'benchmemory',
  create: () => ({
    name: 'benchmemory',
    open: () => true,
    close: () => true,
    read: async (id: string): Promise<Uint8Array> => {
      await new Promise((r) => setImmediate(r));
      return memory.get(id) ?? new Uint8Array(0);
    },
    write: (id: string, data: Uint8Array) => {
      memory.set(id, data.slice());
      return true;
    },
    destroy: () => true,
    gc: () => 0,
  }),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

try {
  for (const [label, lockIni] of [
    ['defaults (no locking)', {}],
    ['locking_enabled=1', { 'redis.session.locking_enabled': '1', 'redis.session.lock_retries': '-1' }],
  ] as const) {
    const iniArgs = Object.entries({ 'session.save_handler': 'redis', 'session.save_path': savePath, 'session.use_cookies': '0', 'session.cache_limiter': '', ...lockIni }).flatMap(
      ([k, v]) => ['-d', `${k}=${v}`],
    );
    const php = (code: string): string => execFileSync('php', ['-n', ...EXT, ...iniArgs, '-r', code], { encoding: 'utf8' });
    php(`foreach (${JSON.stringify(ids)} as $id) { session_id($id); session_start(); ${PAYLOAD_PHP} session_write_close(); }`);

    /** Cycles per second and CPU µs per cycle (user + system, from getrusage). */
    const phpRate = (): { rate: number; cpu: number } => {
      const [rate, cpu] = php(`$ids = ${JSON.stringify(ids)}; $n = 0; $r0 = getrusage(); $t0 = hrtime(true); $end = $t0 + ${SECONDS} * 1e9;
          do { for ($k = 0; $k < 50; $k++) { session_id($ids[$n % count($ids)]); session_start(); $_SESSION['n']++; session_write_close(); $n++; } } while (hrtime(true) < $end);
          $r1 = getrusage(); $us = fn($r) => $r['ru_utime.tv_sec'] * 1e6 + $r['ru_utime.tv_usec'] + $r['ru_stime.tv_sec'] * 1e6 + $r['ru_stime.tv_usec'];
          echo $n / ((hrtime(true) - $t0) / 1e9), ' ', ($us($r1) - $us($r0)) / $n;`)
        .split(' ')
        .map(Number);
      return { rate: rate!, cpu: cpu! };
    };

    const engine = new SessionEngine({ ini: { 'session.save_handler': 'redis', 'session.save_path': savePath, 'session.cache_limiter': '', ...lockIni } });
    const bare = new SessionEngine({ ini: { 'session.save_handler': 'benchmemory', 'session.cache_limiter': '' } });
    bare.registerModule(memoryModule);
    for (const id of ids) memory.set(id, (await raw.getBuffer(`PHPREDIS_SESSION:${id}`))!);
    const locking = 'redis.session.locking_enabled' in lockIni;
    /** The module's commands and round trips for one cycle, straight through ioredis. */
    const rawCycle = async (id: string): Promise<void> => {
      const key = `PHPREDIS_SESSION:${id}`;
      if (!locking) {
        const v = await raw.getBuffer(key);
        await raw.setex(key, 1440, v!);
        return;
      }
      const [, v] = await Promise.all([raw.set(`${key}_LOCK`, 'bench', 'PX', 30000, 'NX'), raw.getBuffer(key)]);
      if ((await raw.evalsha(SETEX_UNLOCK_SHA, 2, key, `${key}_LOCK`, 1440, v!, 'bench')) !== 1) throw new Error('raw cycle: lock lost');
    };
    const engineCycle = (e: SessionEngine) => (id: string): Promise<void> => counterCycle(e, id);
    const cycle = engineCycle(engine);
    /** `loops` loops, each over its own ids, for SECONDS; cycles per second and CPU µs per cycle. */
    const rate = async (loops: number, one: (id: string) => Promise<void> = cycle): Promise<{ rate: number; cpu: number }> => {
      let n = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const end = t0 + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: loops }, async (_, l) => {
          for (let k = l; performance.now() < end; k += loops) {
            await one(ids[k % IDS]!);
            n++;
          }
        }),
      );
      const c = process.cpuUsage(c0);
      return { rate: n / ((performance.now() - t0) / 1000), cpu: (c.user + c.system) / n };
    };

    const bareCycle = engineCycle(bare);
    await rate(IDS); // warm-up (JIT, connections)
    await rate(1);
    await rate(1, rawCycle);
    await rate(1, bareCycle);
    const seq: { rate: number; cpu: number }[] = [];
    const conc: { rate: number; cpu: number }[] = [];
    const phpRates: { rate: number; cpu: number }[] = [];
    const rawSeq: { rate: number; cpu: number }[] = [];
    const bareSeq: { rate: number; cpu: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      seq.push(await rate(1));
      phpRates.push(phpRate());
      conc.push(await rate(IDS));
      rawSeq.push(await rate(1, rawCycle));
      bareSeq.push(await rate(1, bareCycle));
    }
    const m = (xs: { rate: number; cpu: number }[]) => ({ rate: median(xs.map((x) => x.rate)), cpu: median(xs.map((x) => x.cpu)) });
    const [p, sq, cc, rs, bs] = [m(phpRates), m(seq), m(conc), m(rawSeq), m(bareSeq)];
    const f = (x: { rate: number; cpu: number }): string => `${x.rate.toFixed(0).padStart(6)}/s ${x.cpu.toFixed(0).padStart(4)} µs CPU/cycle`;
    console.log(`redis, ${label}`);
    console.log(`  PHP, 1 process:            ${f(p)}`);
    console.log(`  engine, sequential:        ${f(sq)}   rate ${(sq.rate / p.rate).toFixed(2)}x PHP, CPU/cycle ${(sq.cpu / p.cpu).toFixed(2)}x PHP`);
    console.log(`  engine, 100 concurrent ids: ${f(cc)}   rate ${(cc.rate / p.rate).toFixed(2)}x PHP, CPU/cycle ${(cc.cpu / p.cpu).toFixed(2)}x PHP`);
    console.log(`  reference, sequential: raw ioredis, the same commands ${f(rs)}; engine, no I/O ${f(bs)}`);
  }
} finally {
  raw.disconnect();
  closeRedisConnections();
  await server.stop();
}
