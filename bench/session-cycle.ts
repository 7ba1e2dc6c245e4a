/**
 * bench/session-cycle: the lazy $_SESSION target (issue #16). One session holding bench/payloads'
 * ~140 KB bigSession() (written by PHP, `php` serializer); each cycle starts it, reads one key
 * (`user_id`), sets one key (`n`) and calls write_close. PHP 8.2 (`php -n`, one process, one loop)
 * against the engine with lazy decoding (the default) and with `lazyDecode: false` (eager, as PHP
 * decodes), on the files handler, memcached and redis (servers started here on free ports).
 *
 *   node --conditions=php-session-engine-source --import tsx bench/session-cycle.ts [seconds-per-round] [rounds]
 *   BENCH_STORES=files,memcached,redis (default all three)
 *
 * Before timing, one cycle from the same stored bytes is run by PHP, the lazy and the eager engine
 * and the three stored results must be byte-identical. The three sides then run in alternating
 * rounds of SECONDS each (a load spike hits all alike); the table shows medians of cycles per
 * wall-second and of process CPU µs per cycle (getrusage in PHP, process.cpuUsage in Node).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionEngine, php_serialize, type SerializerContext } from 'php-session-engine';
import { closeRedisConnections } from 'php-session-engine/handlers/redis';
import { closeAllConnections } from '../handlers/shared/memcache/client.ts';
import { startMemcached, type MemcachedProcess } from '../spec/support/memcached-server.ts';
import { startRedis, type RedisProcess } from '../spec/support/redis-server.ts';
import { readOneSetOneCycle } from './cycles.ts';
import { bigSession } from './payloads.ts';

const SECONDS = Number(process.argv[2] ?? 1);
const ROUNDS = Number(process.argv[3] ?? 5);
const STORES = (process.env['BENCH_STORES'] || 'files,memcached,redis').split(',');
const ID = 'cyclebench0000000000000000001';
const dir = mkdtempSync(join(tmpdir(), 'pse-bench-cycle-'));
const ctx: SerializerContext = { diagnostic: (l, m) => { throw new Error(`${l}: ${m}`); }, maxDepth: 4096 };
const rootFile = join(dir, 'big.ser');
writeFileSync(rootFile, php_serialize.encode(bigSession(), ctx)!);

interface Store {
  name: string;
  ini: Record<string, string>;
  ext: string[];
  /** The stored session bytes (for the equality check). */
  stored(): string;
}

/** The stored bytes, read by PHP's own client (as Latin-1 text). */
function phpRead(ext: string[], code: string): string {
  return execFileSync('php', ['-n', ...ext, '-r', code], { encoding: 'latin1' });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function benchStore(store: Store): Promise<void> {
  const iniArgs = Object.entries({ ...store.ini, 'session.use_cookies': '0', 'session.cache_limiter': '' }).flatMap(([k, v]) => ['-d', `${k}=${v}`]);
  const php = (code: string): string => execFileSync('php', ['-n', ...store.ext, ...iniArgs, '-r', code], { encoding: 'utf8' });
  const seed = (): void => {
    php(`session_id('${ID}'); session_start(); $_SESSION = unserialize(file_get_contents('${rootFile}')); session_write_close();`);
  };
  const CYCLE_PHP = `session_id('${ID}'); session_start(); $u = $_SESSION['user_id']; $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1; session_write_close();`;
  const engines = {
    lazy: new SessionEngine({ ini: { ...store.ini, 'session.cache_limiter': '' }, lazyDecode: true }),
    eager: new SessionEngine({ ini: { ...store.ini, 'session.cache_limiter': '' }, lazyDecode: false }),
  };
  const cycle = (engine: SessionEngine): Promise<void> => readOneSetOneCycle(engine, ID);

  // The same cycle from the same bytes: PHP's, the lazy and the eager engine's results must agree.
  const results: string[] = [];
  for (const side of ['php', 'lazy', 'eager'] as const) {
    seed();
    if (side === 'php') php(CYCLE_PHP);
    else await cycle(engines[side]);
    await cycle(side === 'php' ? engines.eager : engines[side]); // a second cycle on the engine's own output
    results.push(store.stored());
  }
  if (results[0] !== results[1] || results[0] !== results[2]) throw new Error(`${store.name}: PHP, lazy and eager stored different bytes`);
  const size = results[0]!.length;
  seed();

  const phpRate = (): { rate: number; cpu: number } => {
    const [rate, cpu] = php(`$n = 0; $r0 = getrusage(); $t0 = hrtime(true); $end = $t0 + ${SECONDS} * 1e9;
        do { for ($k = 0; $k < 20; $k++) { ${CYCLE_PHP} $n++; } } while (hrtime(true) < $end);
        $r1 = getrusage(); $us = fn($r) => $r['ru_utime.tv_sec'] * 1e6 + $r['ru_utime.tv_usec'] + $r['ru_stime.tv_sec'] * 1e6 + $r['ru_stime.tv_usec'];
        echo $n / ((hrtime(true) - $t0) / 1e9), ' ', ($us($r1) - $us($r0)) / $n;`)
      .split(' ')
      .map(Number);
    return { rate: rate!, cpu: cpu! };
  };
  const nodeRate = async (engine: SessionEngine): Promise<{ rate: number; cpu: number }> => {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + SECONDS * 1000;
    while (performance.now() < end) {
      for (let k = 0; k < 20; k++) await cycle(engine);
      n += 20;
    }
    const c = process.cpuUsage(c0);
    return { rate: n / ((performance.now() - t0) / 1000), cpu: (c.user + c.system) / n };
  };

  await nodeRate(engines.lazy); // warm-up (JIT, connections)
  await nodeRate(engines.eager);
  const runs: Record<'php' | 'lazy' | 'eager', { rate: number; cpu: number }[]> = { php: [], lazy: [], eager: [] };
  for (let r = 0; r < ROUNDS; r++) {
    runs.php.push(phpRate());
    runs.lazy.push(await nodeRate(engines.lazy));
    runs.eager.push(await nodeRate(engines.eager));
  }
  const m = (xs: { rate: number; cpu: number }[]) => ({ rate: median(xs.map((x) => x.rate)), cpu: median(xs.map((x) => x.cpu)) });
  const p = m(runs.php);
  const f = (x: { rate: number; cpu: number }): string => `${x.rate.toFixed(0).padStart(6)}/s ${x.cpu.toFixed(0).padStart(5)} µs CPU/cycle`;
  console.log(`${store.name} (session ${(size / 1024).toFixed(0)} KB stored)`);
  console.log(`  PHP 8.2, 1 process:  ${f(p)}`);
  for (const side of ['lazy', 'eager'] as const) {
    const x = m(runs[side]);
    const perRound = runs[side].map((v, i) => v.rate / runs.php[i]!.rate);
    console.log(
      `  engine, ${side.padEnd(5)}:       ${f(x)}   rate ${(x.rate / p.rate).toFixed(2)}x PHP (rounds ${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}), CPU/cycle ${(x.cpu / p.cpu).toFixed(2)}x PHP`,
    );
  }
}

let memcached: MemcachedProcess | undefined;
let redis: RedisProcess | undefined;
console.log(`node ${process.version}; 2 cores, shared with other work; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start`);
console.log(`${ROUNDS} alternating rounds of ${SECONDS} s; medians. Cycle: start, read user_id, set n, write_close.\n`);
try {
  for (const name of STORES) {
    if (name === 'files') {
      const saveDir = join(dir, 'files');
      execFileSync('mkdir', ['-p', saveDir]);
      await benchStore({ name, ini: { 'session.save_path': saveDir }, ext: [], stored: () => readFileSync(join(saveDir, `sess_${ID}`), 'latin1') });
    } else if (name === 'memcached') {
      memcached = await startMemcached();
      const address = memcached.address;
      const ext = ['igbinary', 'msgpack', 'memcached'].flatMap((e) => ['-d', `extension=${e}`]);
      const [host, port] = address.split(':');
      await benchStore({
        name,
        ini: { 'session.save_handler': 'memcached', 'session.save_path': address },
        ext,
        stored: () => phpRead(ext, `$m = new Memcached(); $m->addServer('${host}', ${port}); echo $m->get('memc.sess.key.${ID}');`),
      });
    } else if (name === 'redis') {
      redis = await startRedis();
      const address = redis.address;
      const ext = ['igbinary', 'redis'].flatMap((e) => ['-d', `extension=${e}`]);
      const [host, port] = address.split(':');
      await benchStore({
        name,
        ini: { 'session.save_handler': 'redis', 'session.save_path': `tcp://${address}` },
        ext,
        stored: () => phpRead(ext, `$r = new Redis(); $r->connect('${host}', ${port}); echo $r->get('PHPREDIS_SESSION:${ID}');`),
      });
    } else {
      throw new Error(`BENCH_STORES: unknown store ${name}`);
    }
  }
} finally {
  closeAllConnections();
  closeRedisConnections();
  await memcached?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
}
