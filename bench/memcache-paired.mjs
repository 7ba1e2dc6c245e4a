/**
 * bench/memcache-paired: one build of this library against another on the same memcached, in the
 * same process, in alternating rounds: the before/after measurement of a change to the memcache
 * client or modules. Cases (each module's defaults, locking on):
 * - `140 KB`: bench/session-cycle's cycle (bench/payloads' bigSession(), written by PHP; start,
 *   read one key, set one key, write_close), memcached module, one request at a time;
 * - `816 B`: bench/memcache's cycle (start, n + 1, write_close on the session PHP writes), for the
 *   memcached and the memcache module, sequentially (1 loop) and with 100 concurrent loops over
 *   100 ids.
 * Each build has its own session ids. Per round: cycles per CPU-second of this process (`cpu`,
 * steadier on a shared machine) and per second (`wall`); printed: the median of the per-round
 * ratios new/base (and their min–max), with each build's median.
 *
 * Build the baseline from a commit, then run:
 *   git archive <commit> | (mkdir -p /tmp/base && tar -x -C /tmp/base) && ln -s "$PWD/node_modules" /tmp/base/
 *   (cd /tmp/base && npx tsc -p tsconfig.build.json --outDir "$OLDPWD/dist-base") && npm run build
 *   node --import tsx bench/memcache-paired.mjs "$PWD/dist-base" "$PWD/dist" [seconds-per-round=1] [rounds=9]
 *   BENCH_CASES=140k,816 (default both)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMemcached } from '../spec/support/memcached-server.ts';
import { countCycles, counterCycle, readOneSetOneCycle } from './cycles.ts';
import { bigSession } from './payloads.ts';

const [baseDir, newDir, secs = '1', rounds = '9'] = process.argv.slice(2);
if (baseDir === undefined || newDir === undefined) throw new Error('usage: node --import tsx bench/memcache-paired.mjs <base dist> <new dist> [s] [rounds]');
const CASES = (process.env.BENCH_CASES || '140k,816').split(',');
const builds = await Promise.all(
  [baseDir, newDir].map(async (d) => ({ lib: await import(join(d, 'lib/index.js')), client: await import(join(d, 'handlers/shared/memcache/client.js')) })),
);
const EXT = ['igbinary', 'msgpack', 'memcached', 'memcache'].flatMap((e) => ['-d', `extension=${e}`]);
const server = await startMemcached();
const dir = mkdtempSync(join(tmpdir(), 'pse-memcache-paired-'));
const php = (module, code) =>
  execFileSync('php', ['-n', ...EXT, '-d', `session.save_handler=${module}`, '-d', `session.save_path=${module === 'memcached' ? server.address : `tcp://${server.address}`}`,
    '-d', 'session.use_cookies=0', '-d', 'session.cache_limiter=', '-r', code]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function paired(label, cycle, engines, ids, loops) {
  for (let j = 0; j < 2; j++) await countCycles((id) => cycle(engines[j], id), ids[j], loops, Number(secs)); // warm-up
  const r = { cpu: [], wall: [], base: [], neu: [] };
  for (let i = 0; i < Number(rounds); i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    const m = [];
    for (const j of order) m[j] = await countCycles((id) => cycle(engines[j], id), ids[j], loops, Number(secs));
    r.cpu.push(m[1].cpu / m[0].cpu);
    r.wall.push(m[1].wall / m[0].wall);
    r.base.push(m[0].cpu);
    r.neu.push(m[1].cpu);
  }
  const span = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  console.log(`${label}: new/base cycles per CPU-second ${median(r.cpu).toFixed(2)}x (rounds ${span(r.cpu)}; base ${median(r.base).toFixed(0)}, new ${median(r.neu).toFixed(0)}), per second ${median(r.wall).toFixed(2)}x (rounds ${span(r.wall)})`);
}

console.log(`node ${process.version}; 2 cores, shared with other work; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start; ${rounds} alternating rounds of ${secs} s`);
try {
  if (CASES.includes('140k')) {
    const lib = builds[1].lib;
    const rootFile = join(dir, 'big.ser');
    const ctx = { diagnostic: (l, m) => { throw new Error(`${l}: ${m}`); }, maxDepth: 4096 };
    writeFileSync(rootFile, lib.php_serialize.encode(bigSession(), ctx));
    const ids = [['mcpairedbig00000000000000000a'], ['mcpairedbig00000000000000000b']];
    for (const [id] of ids) php('memcached', `session_id('${id}'); session_start(); $_SESSION = unserialize(file_get_contents('${rootFile}')); session_write_close();`);
    const engines = builds.map((b) => new b.lib.SessionEngine({ ini: { 'session.save_handler': 'memcached', 'session.save_path': server.address, 'session.cache_limiter': '' } }));
    await paired('140 KB, memcached, sequential', readOneSetOneCycle, engines, ids, 1);
  }
  if (CASES.includes('816')) {
    const PAYLOAD_PHP = `$_SESSION['user'] = ['id' => 42, 'name' => 'alice', 'roles' => ['admin', 'editor']];
      $_SESSION['cart'] = []; for ($j = 0; $j < 10; $j++) $_SESSION['cart'][] = ['sku' => "SKU-$j", 'qty' => $j + 1, 'price' => 9.99 + $j];
      $_SESSION['n'] = 0;`;
    for (const module of ['memcached', 'memcache']) {
      const ids = ['a', 'b'].map((b) => Array.from({ length: 100 }, (_, i) => `mcpaired${module === 'memcached' ? 'd' : 'e'}${b}${i.toString(16).padStart(20, '0')}`));
      php(module, `foreach (${JSON.stringify(ids.flat())} as $id) { session_id($id); session_start(); ${PAYLOAD_PHP} session_write_close(); }`);
      const savePath = module === 'memcached' ? server.address : `tcp://${server.address}`;
      const engines = builds.map((b) => new b.lib.SessionEngine({ ini: { 'session.save_handler': module, 'session.save_path': savePath, 'session.cache_limiter': '' } }));
      await paired(`816 B, ${module}, sequential`, counterCycle, engines, ids, 1);
      await paired(`816 B, ${module}, 100 concurrent`, counterCycle, engines, ids, 100);
    }
  }
} finally {
  for (const b of builds) b.client.closeAllConnections();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`);
