/**
 * bench/memcache: start + modify + write_close cycles per second against one local memcached,
 * for each module (memcached, memcache): this library with 100 concurrent request loops over 100
 * session ids and sequentially (one request at a time over the same ids), against PHP with the
 * matching extension (`php -n`, one process, sequential, the same ids and payload), with the CPU
 * time per cycle of each side (getrusage / process.cpuUsage). Locking is on, with each
 * extension's defaults.
 *
 * The machine may be shared, so the two sides run in alternating short rounds and the medians are
 * compared. A memcached is started on a free port and stopped at the end.
 *
 * Run: node --conditions=php-session-engine-source --import tsx bench/memcache.ts [seconds-per-round] [rounds]
 */
import { execFileSync } from 'node:child_process';
import { SessionEngine } from 'php-session-engine';
import { memcacheModule } from '../handlers/memcache.ts';
import { memcachedModule } from '../handlers/memcached.ts';
import type { SaveHandlerContext } from '../lib/handler.ts';
import { closeAllConnections } from '../handlers/shared/memcache/client.ts';
import { startMemcached } from '../spec/support/memcached-server.ts';

const SECONDS = Number(process.argv[2] ?? 1);
const ROUNDS = Number(process.argv[3] ?? 5);
const IDS = 100;
const ids = Array.from({ length: IDS }, (_, i) => `mcbench${i.toString(16).padStart(25, '0')}`);
const EXT = ['igbinary', 'msgpack', 'memcached', 'memcache'].flatMap((e) => ['-d', `extension=${e}`]);

const PAYLOAD_PHP = `$_SESSION['user'] = ['id' => 42, 'name' => 'alice', 'roles' => ['admin', 'editor']];
$_SESSION['cart'] = []; for ($j = 0; $j < 10; $j++) $_SESSION['cart'][] = ['sku' => "SKU-$j", 'qty' => $j + 1, 'price' => 9.99 + $j];
$_SESSION['n'] = 0;`;

const server = await startMemcached();
const results: string[] = [];

interface Rate {
  rate: number;
  cpu: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

try {
  for (const module of ['memcached', 'memcache'] as const) {
    const savePath = module === 'memcached' ? server.address : `tcp://${server.address}`;
    const php = (code: string): string =>
      execFileSync('php', ['-n', ...EXT, '-d', `session.save_handler=${module}`, '-d', `session.save_path=${savePath}`, '-d', 'session.use_cookies=0', '-d', 'session.cache_limiter=', '-r', code], {
        encoding: 'utf8',
      });
    php(`foreach (${JSON.stringify(ids)} as $id) { session_id($id); session_start(); ${PAYLOAD_PHP} session_write_close(); }`);

    /** Cycles per second and CPU µs per cycle (user + system, from getrusage). */
    const phpRate = (): Rate => {
      const [rate, cpu] = php(`$ids = ${JSON.stringify(ids)}; $n = 0; $r0 = getrusage(); $t0 = hrtime(true); $end = $t0 + ${SECONDS} * 1e9;
          do { for ($k = 0; $k < 50; $k++) { session_id($ids[$n % count($ids)]); session_start(); $_SESSION['n']++; session_write_close(); $n++; } } while (hrtime(true) < $end);
          $r1 = getrusage(); $us = fn($r) => $r['ru_utime.tv_sec'] * 1e6 + $r['ru_utime.tv_usec'] + $r['ru_stime.tv_sec'] * 1e6 + $r['ru_stime.tv_usec'];
          echo $n / ((hrtime(true) - $t0) / 1e9), ' ', ($us($r1) - $us($r0)) / $n;`)
        .split(' ')
        .map(Number);
      return { rate: rate!, cpu: cpu! };
    };

    const engine = new SessionEngine({ ini: { 'session.save_handler': module, 'session.save_path': savePath, 'session.cache_limiter': '' } });
    /**
     * `loops` loops (100: every id its own loop; 1: one loop over all ids) run `cycle` for
     * SECONDS; cycles per second and CPU µs per cycle.
     */
    const loopRate = async (loops: number, cycle: (id: string) => Promise<void>): Promise<Rate> => {
      let n = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const end = t0 + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: loops }, async (_, l) => {
          for (let k = l; performance.now() < end; k += loops) {
            await cycle(ids[k % IDS]!);
            n++;
          }
        }),
      );
      const c = process.cpuUsage(c0);
      return { rate: n / ((performance.now() - t0) / 1000), cpu: (c.user + c.system) / n };
    };

    const nodeRate = (loops: number): Promise<Rate> =>
      loopRate(loops, async (id) => {
        const req = engine.request({ cookies: { PHPSESSID: id } });
        if (!(await req.start())) throw new Error(`session_start failed: ${JSON.stringify(req.diagnostics)}`);
        const v = req.session.get('n');
        req.session.set('n', (typeof v === 'number' ? v : 0) + 1);
        if (!(await req.writeClose())) throw new Error('write_close failed');
        await req.end();
      });

    // The save handler alone (open, read+lock, write, close; no engine, no serializer): the
    // ceiling the client and the module set for the engine.
    const mod = module === 'memcached' ? memcachedModule : memcacheModule;
    const ctx: SaveHandlerContext = { ini: () => undefined, diagnostic: () => undefined, createId: () => 'x', now: () => Date.now() };
    const bytes = new TextEncoder().encode('n|i:1;');
    const handlerRate = (): Promise<Rate> =>
      loopRate(IDS, async (id) => {
        const h = mod.create(ctx);
        await h.open(savePath, 'PHPSESSID');
        await h.read(id, 1440);
        await h.write(id, bytes, 1440);
        await h.close();
      });

    await nodeRate(IDS); // warm-up (JIT, connections)
    await nodeRate(1);
    const node: Rate[] = [];
    const seq: Rate[] = [];
    const phpRates: Rate[] = [];
    const handler: Rate[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      node.push(await nodeRate(IDS));
      phpRates.push(phpRate());
      seq.push(await nodeRate(1));
      handler.push(await handlerRate());
    }
    const m = (xs: Rate[]): Rate => ({ rate: median(xs.map((x) => x.rate)), cpu: median(xs.map((x) => x.cpu)) });
    const [p, cc, sq, h] = [m(phpRates), m(node), m(seq), m(handler)];
    const f = (x: Rate): string => `${x.rate.toFixed(0).padStart(6)}/s ${x.cpu.toFixed(0).padStart(4)} µs CPU/cycle`;
    const vs = (x: Rate): string => `rate ${(x.rate / p.rate).toFixed(2)}x PHP, CPU/cycle ${(x.cpu / p.cpu).toFixed(2)}x PHP`;
    const lines = [
      `${module}`,
      `  PHP, 1 process:             ${f(p)}`,
      `  engine, 100 concurrent ids: ${f(cc)}   ${vs(cc)}`,
      `  engine, sequential:         ${f(sq)}   ${vs(sq)}`,
      `  save handler alone, 100 concurrent ids: ${f(h)}`,
    ];
    console.log(lines.join('\n'));
    results.push(...lines);
  }
} finally {
  closeAllConnections();
  await server.stop();
}
