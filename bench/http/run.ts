/**
 * bench/http: end to end, nginx + php-fpm against the Node adapter, on the files module, memcached
 * (php-memcached) and redis (phpredis).
 *
 * For each store: one php.ini (session.save_handler/save_path, serializer php, gc_probability 0,
 * each module's default locking) is written to a temp dir and used by both sides: php-fpm
 * (pm = static, N children, opcache, behind nginx with one worker process, FastCGI over a unix
 * socket) serving page.php, and node-server.ts (a node:cluster of N workers with
 * php-session-engine/http, `iniFile` = the same php.ini) doing the same work. wrk drives both
 * with the same connection count; sessions.lua gives every request a session cookie from a pool
 * (default 1000 ids, no two requests for one id in flight: sessions are measured, not one lock),
 * checks every response and counts 200s per id. The two sides take turns in alternating rounds on
 * the same ids, so each reads what the other wrote, and the medians are reported.
 *
 * At the end of each store, the stored sessions are read back with PHP (check.php) and with the
 * engine (read-store.ts): both must list the same counters, every counter must equal the number of
 * 200 responses for its id (a request cut off when wrk stopped may or may not have landed: +0/+1),
 * and the cart's quantities must add up to the counter. Then, unless --contention 0, one round per
 * side where all connections share a few ids (lock contention).
 *
 * Everything runs on 127.0.0.1 on free ports in temp dirs, as the current user (with root, php-fpm
 * gets -R and nginx `user root`); every process is stopped at the end, on Ctrl-C and on error.
 *
 * Needs: nginx, php8.2-fpm, wrk, php-cli with php-memcached and php-redis, memcached, redis-server
 * (Debian: apt-get install -y nginx php8.2-fpm wrk php-cli php-memcached php-redis memcached redis-server).
 *
 * Run: npm run bench:http -- [--seconds 5] [--rounds 3] [--warmup 10] [--connections 32] [--threads 2]
 *        [--workers <cores>] [--fpm-children <workers>] [--sessions 1000] [--contention 4]
 *        [--stores files,memcached,redis] [--files-dir <dir>] [--variant NAME:TOKENS ...]
 * --files-dir: where the files store's session directory is made (default: the temp dir), e.g.
 * /dev/shm to take the disk out (both sides use it).
 *
 * Each round also reports the run-queue wait per request (/proc/<pid>/task/<tid>/schedstat): how
 * long the side's threads, and the memcached/redis server's, were runnable but waited for a CPU
 * (wrk, the other side's idle processes and whatever else runs on the machine hold the cores).
 *
 * BENCH_HTTP_LOOP_DELAY=1 in the environment: the Node workers print their event-loop delay and
 * utilisation when they stop (node-server.ts); the bench shows them after each store.
 * BENCH_HTTP_PROFILE=1: also where each worker's requests spend their time, its connections and
 * its GC pauses (node-server.ts). BENCH_HTTP_BALANCE=1: the primary hands each connection to the
 * worker with the fewest, instead of node:cluster's round robin (e.g. --variant bal:BENCH_HTTP_BALANCE=1).
 * BENCH_HTTP_ENGINE=DIR: the Node workers load the library from another built dist/ directory
 * (e.g. --variant base:BENCH_HTTP_ENGINE=/tmp/base/dist: an older commit against this one).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startMemcached, type MemcachedProcess } from '../../spec/support/memcached-server.ts';
import { startRedis, type RedisProcess } from '../../spec/support/redis-server.ts';
import { freePort } from '../../spec/php/runner.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '2' },
    workers: { type: 'string', default: String(availableParallelism()) },
    'fpm-children': { type: 'string' },
    sessions: { type: 'string', default: '1000' },
    contention: { type: 'string', default: '4' },
    stores: { type: 'string', default: 'files,memcached,redis' },
    'files-dir': { type: 'string' },
    variant: { type: 'string', multiple: true, default: [] },
  },
});
const SECONDS = Number(opt.seconds);
const ROUNDS = Number(opt.rounds);
const WARMUP = Number(opt.warmup);
const CONNECTIONS = Number(opt.connections);
const THREADS = Number(opt.threads);
const WORKERS = Number(opt.workers);
const FPM_CHILDREN = Number(opt['fpm-children'] ?? WORKERS);
const POOL = Number(opt.sessions);
const CONTENTION = Number(opt.contention);
const STORES = opt.stores.split(',') as Store[];
const FILES_DIR = opt['files-dir'];
type Store = 'files' | 'memcached' | 'redis';
/** 'php-fpm', 'node', or the name of a --variant (another Node cluster, measured in the same rounds). */
type Side = string;
/**
 * --variant NAME:TOKENS (repeatable): one more Node side, started with the tokens that begin with
 * `--` as Node flags (e.g. --max-semi-space-size=64) and the KEY=VALUE tokens in its environment
 * (e.g. BENCH_HTTP_BALANCE=1), so a change is measured against the plain Node side in the same
 * interleaved rounds.
 */
const VARIANTS = opt.variant.map((v) => {
  const colon = v.indexOf(':');
  const name = colon < 0 ? v : v.slice(0, colon);
  const tokens = colon < 0 ? [] : v.slice(colon + 1).split(/\s+/).filter((t) => t !== '');
  if (name === '' || name === 'php-fpm' || name === 'node') throw new Error(`--variant ${v}: give it a name of its own (NAME:flags)`);
  const flags = tokens.filter((t) => t.startsWith('--'));
  const env = Object.fromEntries(tokens.filter((t) => !t.startsWith('--')).map((t) => {
    const eq = t.indexOf('=');
    if (eq <= 0) throw new Error(`--variant ${v}: "${t}" is neither a --flag nor KEY=VALUE`);
    return [t.slice(0, eq), t.slice(eq + 1)];
  }));
  return { name, spec: tokens.join(' '), flags, env };
});
const ROOT = process.getuid?.() === 0;

// ---- tools ----------------------------------------------------------------------------------

function findTool(names: string[]): string | null {
  for (const name of names) {
    for (const d of (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
      if (d !== '' && existsSync(join(d, name))) return join(d, name);
    }
  }
  return null;
}
const tools = {
  nginx: findTool(['nginx']),
  fpm: findTool(['php-fpm8.2', 'php-fpm']),
  wrk: findTool(['wrk']),
  php: findTool(['php']),
  memcached: findTool(['memcached']),
  redis: findTool(['redis-server']),
};
const missing = Object.entries(tools)
  .filter(([k, v]) => v === null && (k !== 'memcached' || STORES.includes('memcached')) && (k !== 'redis' || STORES.includes('redis')))
  .map(([k]) => k);
if (missing.length > 0) {
  console.error(`bench/http: missing ${missing.join(', ')}.`);
  console.error('Install (Debian, as root): apt-get install -y nginx php8.2-fpm wrk php-cli php-memcached php-redis memcached redis-server');
  process.exit(1);
}
const bin = tools as { [K in keyof typeof tools]: string };

// ---- process bookkeeping: everything started is stopped, also on Ctrl-C and on error ----------

const stops: Array<() => Promise<void>> = [];
/** Short-lived children (wrk, the read-back scripts): killed at once on a signal. */
const transient = new Set<ChildProcess>();
async function stopAll(): Promise<void> {
  for (const child of transient) child.kill('SIGKILL');
  for (const stop of stops.splice(0).reverse()) await stop().catch((e: unknown) => console.error('bench/http: stop failed:', e));
}
// A signal kills the running wrk or script and makes every later step throw, so the run ends
// through the one cleanup path (the `finally` below); a second signal stops at once.
let interrupted: string | undefined;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (interrupted !== undefined) {
      void stopAll().finally(() => process.exit(130));
      return;
    }
    interrupted = sig;
    console.error(`\nbench/http: ${sig}, stopping everything`);
    for (const child of transient) child.kill('SIGKILL');
  });
}
function checkInterrupted(): void {
  if (interrupted !== undefined) throw new Error(`bench/http: interrupted by ${interrupted}`);
}

/** Runs a short-lived command to its end (killed on a signal). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  checkInterrupted();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    transient.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => {
      transient.delete(child);
      if (interrupted !== undefined) reject(new Error(`bench/http: interrupted by ${interrupted}`));
      else resolve({ status, stdout, stderr });
    });
  });
}

/** Spawns a long-running process and registers its stop (SIGTERM, then SIGKILL after 3 s). */
function daemon(name: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore' } = {}): ChildProcess {
  checkInterrupted();
  const child = spawn(cmd, args, { stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`bench/http: ${name} exited early (${signal ?? code}):\n${log.slice(-2000)}`);
  });
  stops.push(async () => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  });
  return child;
}

/** CPU time (user and system, ms) of these processes and all their descendants, from /proc. */
function cpuMs(roots: number[]): { user: number; sys: number } {
  let user = 0;
  let sys = 0;
  for (const pid of treePids(roots)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid ... utime(14) stime(15): comm may hold spaces, so split after ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    user += Number(f[11]);
    sys += Number(f[12]);
  }
  return { user: (user * 1000) / CLK_TCK, sys: (sys * 1000) / CLK_TCK };
}

/**
 * Time the threads of these processes (and their descendants) spent runnable but waiting for a
 * CPU (ms, the second field of /proc/<pid>/task/<tid>/schedstat): what the other processes on the
 * same cores cost this side, beyond its own CPU time. Threads that exited in between are missed.
 */
function runQueueWaitMs(roots: number[]): number {
  let ns = 0;
  for (const pid of treePids(roots)) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[1]);
      } catch {
        // exited meanwhile
      }
    }
  }
  return ns / 1e6;
}

/** These processes and all their descendants. */
function treePids(roots: number[]): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'latin1');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  for (const pid of parent.keys()) {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parent.get(p), hops++) {
      if (roots.includes(p)) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

async function waitFor(what: string, ok: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok())) {
    checkInterrupted();
    if (Date.now() > until) throw new Error(`bench/http: ${what} did not come up in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const canConnect = (target: number | string): Promise<boolean> =>
  new Promise((resolve) => {
    const s = typeof target === 'number' ? connect(target, '127.0.0.1') : connect(target);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

// ---- the two sides ----------------------------------------------------------------------------

function writePhpIni(dir: string, store: Store, savePath: string): string {
  const ini = join(dir, 'php.ini');
  writeFileSync(
    ini,
    [
      '; bench/http: read by php-fpm, by php-cli (check.php) and by the engine (iniFile)',
      'zend_extension = opcache.so',
      'opcache.enable = 1',
      'extension = igbinary.so',
      'extension = msgpack.so',
      'extension = memcached.so',
      'extension = redis.so',
      'display_errors = stderr',
      'log_errors = 1',
      `session.save_handler = ${store}`,
      `session.save_path = "${savePath}"`,
      'session.serialize_handler = php',
      'session.gc_probability = 0',
      '',
    ].join('\n'),
  );
  return ini;
}

async function startPhpSide(dir: string, ini: string): Promise<{ port: number; pids: number[] }> {
  const www = join(dir, 'www');
  mkdirSync(www);
  copyFileSync(join(HERE, 'page.php'), join(www, 'index.php'));
  const sock = join(dir, 'php-fpm.sock');
  const fpmConf = join(dir, 'php-fpm.conf');
  writeFileSync(
    fpmConf,
    [
      '[global]',
      `pid = ${join(dir, 'php-fpm.pid')}`,
      `error_log = ${join(dir, 'php-fpm.log')}`,
      'daemonize = no',
      '[bench]',
      ...(ROOT ? ['user = root', 'group = root'] : []),
      `listen = ${sock}`,
      'listen.mode = 0666',
      'pm = static',
      `pm.max_children = ${FPM_CHILDREN}`,
      'catch_workers_output = yes',
      '',
    ].join('\n'),
  );
  const fpm = daemon('php-fpm', bin.fpm, ['-c', ini, '-y', fpmConf, '-F', ...(ROOT ? ['-R'] : [])], { env: { ...process.env, PHP_INI_SCAN_DIR: '' } });
  await waitFor('php-fpm', () => canConnect(sock));
  const port = await freePort();
  for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'nginx', t), { recursive: true });
  const nginxConf = join(dir, 'nginx.conf');
  writeFileSync(
    nginxConf,
    `# bench/http: one nginx worker in front of php-fpm
${ROOT ? 'user root;' : ''}
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'nginx-error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'nginx', 'client_body')};
  proxy_temp_path ${join(dir, 'nginx', 'proxy')};
  fastcgi_temp_path ${join(dir, 'nginx', 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'nginx', 'uwsgi')};
  scgi_temp_path ${join(dir, 'nginx', 'scgi')};
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    location / {
      fastcgi_pass unix:${sock};
      fastcgi_param SCRIPT_FILENAME ${join(www, 'index.php')};
      fastcgi_param SCRIPT_NAME /index.php;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param REQUEST_URI $request_uri;
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param SERVER_PROTOCOL $server_protocol;
      fastcgi_param SERVER_NAME $server_name;
      fastcgi_param SERVER_PORT $server_port;
      fastcgi_param REMOTE_ADDR $remote_addr;
      fastcgi_param HTTPS "";
    }
  }
}
`,
  );
  const nginx = daemon('nginx', bin.nginx, ['-p', dir, '-c', nginxConf, '-e', join(dir, 'nginx-error.log'), '-g', 'daemon off;']);
  await waitFor('nginx', () => canConnect(port));
  return { port, pids: [fpm.pid!, nginx.pid!] };
}

/** The Node workers' event-loop delay lines (BENCH_HTTP_LOOP_DELAY=1), printed after each store. */
const loopDelays: string[] = [];

async function startNodeSide(ini: string, side: Side, flags: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ port: number; pids: number[] }> {
  const port = await freePort();
  const child = daemon(side, process.execPath, [...flags, '--import', 'tsx', join(HERE, 'node-server.ts'), ini, String(port), String(WORKERS)], { stdin: 'pipe', env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) =>
    loopDelays.push(...d.toString().split('\n').filter((l) => l.includes(' loop delay ') || l.includes(' profile: ')).map((l) => `${side}: ${l}`)),
  );
  await waitFor('node-server', async () => out.includes('ready') && (await canConnect(port)), 60_000);
  return { port, pids: [child.pid!] };
}

// ---- load generation and checks ----------------------------------------------------------------

interface IdCount {
  seen: number;
  /** requests whose write may or may not have landed (in flight when wrk stopped, or unmatched errors) */
  maybe: number;
  dup: number;
}
interface RunResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  bad: number;
  socketErrors: number;
  ids: Map<string, IdCount>;
}

async function runWrk(port: number, prefix: string, pool: number, mode: 'own' | 'shared', seconds: number): Promise<RunResult> {
  const r = await run(bin.wrk, [
    '-t', String(THREADS), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--timeout', '10s', '-s', join(HERE, 'sessions.lua'), `http://127.0.0.1:${port}/`,
    '--', prefix, String(pool), mode, String(THREADS),
  ]);
  if (r.status !== 0) throw new Error(`wrk failed (${r.status}): ${r.stderr}${r.stdout}`);
  const result = /^RESULT (.*)$/m.exec(r.stdout);
  if (result === null) throw new Error(`wrk printed no RESULT line:\n${r.stdout}\n${r.stderr}`);
  const f = Object.fromEntries(result[1]!.split(' ').map((kv) => kv.split('=') as [string, string]).map(([k, v]) => [k, Number(v)]));
  const ids = new Map<string, IdCount>();
  for (const m of r.stdout.matchAll(/^ID (\S+) (\d+) (\d+) (\d+)$/gm)) {
    const c = ids.get(m[1]!) ?? { seen: 0, maybe: 0, dup: 0 };
    c.seen += Number(m[2]);
    c.maybe += Number(m[3]);
    c.dup += Number(m[4]);
    ids.set(m[1]!, c);
  }
  return {
    requests: f['requests']!,
    rps: f['requests']! / f['seconds']!,
    p50: f['p50']! / 1000,
    p99: f['p99']! / 1000,
    bad: f['bad']!,
    socketErrors: f['connect']! + f['read']! + f['write']! + f['timeout']!,
    ids,
  };
}

function addCounts(total: Map<string, IdCount>, run: Map<string, IdCount>): void {
  for (const [id, c] of run) {
    const t = total.get(id) ?? { seen: 0, maybe: 0, dup: 0 };
    t.seen += c.seen;
    t.maybe += c.maybe;
    t.dup += c.dup;
    total.set(id, t);
  }
}

/** Reads every id back with PHP and with the engine; both must agree. */
async function readBack(ini: string, prefix: string, pool: number): Promise<Map<string, { n: number; cart: number }>> {
  const php = await run(bin.php, ['-c', ini, '-d', 'session.use_cookies=0', '-d', 'session.cache_limiter=', join(HERE, 'check.php'), prefix, String(pool)], {
    ...process.env,
    PHP_INI_SCAN_DIR: '',
  });
  if (php.status !== 0 || php.stderr !== '') throw new Error(`check.php failed (${php.status}): ${php.stderr}`);
  const node = await run(process.execPath, ['--import', 'tsx', join(HERE, 'read-store.ts'), ini, prefix, String(pool)]);
  if (node.status !== 0 || node.stderr !== '') throw new Error(`read-store.ts failed (${node.status}): ${node.stderr}`);
  if (php.stdout !== node.stdout) throw new Error(`PHP and the engine read different sessions:\nPHP:\n${php.stdout.slice(0, 2000)}\nengine:\n${node.stdout.slice(0, 2000)}`);
  const out = new Map<string, { n: number; cart: number }>();
  for (const line of php.stdout.trim().split('\n')) {
    const [id, n, cart] = line.split(' ');
    out.set(id!, { n: Number(n), cart: Number(cart) });
  }
  return out;
}

/** Counters against 200 responses: exact, except +0/+1 per request cut off or unmatched. */
function verify(stored: Map<string, { n: number; cart: number }>, counts: Map<string, IdCount>): { ok: boolean; lost: number; unsure: number; dup: number; text: string } {
  let lost = 0;
  let extra = 0;
  let unsure = 0;
  let dup = 0;
  let cartBad = 0;
  for (const [id, s] of stored) {
    const c = counts.get(id) ?? { seen: 0, maybe: 0, dup: 0 };
    if (s.cart !== s.n) cartBad++;
    if (s.n < c.seen) lost += c.seen - s.n;
    else if (s.n > c.seen + c.maybe) extra += s.n - c.seen - c.maybe;
    unsure += c.maybe;
    dup += c.dup;
  }
  const ok = lost === 0 && extra === 0 && cartBad === 0 && dup === 0;
  return {
    ok,
    lost,
    unsure,
    dup,
    text: `${stored.size} sessions read back identically by PHP and the engine; counter vs 200 responses: ${lost} lost, ${extra} unexplained extra, ${unsure} requests cut off by wrk's stop (may count +1), ${dup} responses repeating a counter, ${cartBad} carts not summing to the counter`,
  };
}

// ---- the run ----------------------------------------------------------------------------------

/** Lets the requests cut off by wrk's stop finish on the servers (1 s). */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 1000));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[Math.floor(s.length / 2)]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Row {
  store: Store;
  kind: string;
  side: Side;
  rps: number[];
  p50: number[];
  p99: number[];
  /** CPU ms per request of the side's processes (php-fpm + nginx; the Node cluster) */
  cpu: number[];
  /** ms per request the side's threads, and the store server's, waited runnable for a CPU */
  wait: number[];
  storeWait: number[];
  bad: number;
  socketErrors: number;
}
const rows: Row[] = [];
const checks: string[] = [];
let failed = false;
const load0 = loadavg();
const started = new Date();

console.log(
  `bench/http: ${WORKERS} Node workers vs ${FPM_CHILDREN} php-fpm children (+1 nginx worker), wrk -t${THREADS} -c${CONNECTIONS}, ${SECONDS} s rounds x ${ROUNDS}, ${POOL} sessions; ${availableParallelism()} cores, load average ${load0.map((l) => l.toFixed(1)).join(' ')}`,
);

try {
  for (const store of STORES) {
    checkInterrupted();
    const dir = mkdtempSync(join(tmpdir(), `pse-bench-http-${store}-`));
    if (ROOT) spawnSync('chmod', ['755', dir]);
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    let savePath: string;
    /** The memcached or redis server (both sides' requests go through it). */
    let storePids: number[] = [];
    if (store === 'files') {
      if (FILES_DIR === undefined) {
        savePath = join(dir, 'sessions');
        mkdirSync(savePath);
      } else {
        const sessions = mkdtempSync(join(FILES_DIR, 'pse-bench-http-sessions-'));
        if (ROOT) spawnSync('chmod', ['755', sessions]);
        stops.push(async () => rmSync(sessions, { recursive: true, force: true }));
        savePath = sessions;
      }
    } else if (store === 'memcached') {
      const m: MemcachedProcess = await startMemcached();
      stops.push(() => m.stop());
      checkInterrupted();
      savePath = m.address;
      storePids = [m.child.pid!];
    } else {
      const r: RedisProcess = await startRedis();
      stops.push(() => r.stop());
      checkInterrupted();
      savePath = `tcp://${r.address}`;
      storePids = [r.child.pid!];
    }
    const ini = writePhpIni(dir, store, savePath);
    const servers = new Map<Side, { port: number; pids: number[] }>([
      ['php-fpm', await startPhpSide(dir, ini)],
      ['node', await startNodeSide(ini, 'node')],
    ]);
    for (const v of VARIANTS) servers.set(v.name, await startNodeSide(ini, v.name, v.flags, v.env));

    const phases: Array<{ kind: string; prefix: string; pool: number; mode: 'own' | 'shared'; rounds: number }> = [
      { kind: `${POOL} sessions`, prefix: 'hbench', pool: POOL, mode: 'own', rounds: ROUNDS },
    ];
    if (CONTENTION > 0) phases.push({ kind: `${CONTENTION} shared sessions`, prefix: 'hbcont', pool: CONTENTION, mode: 'shared', rounds: 1 });
    for (const phase of phases) {
      const counts = new Map<string, IdCount>();
      const sides: Side[] = ['php-fpm', 'node', ...VARIANTS.map((v) => v.name)];
      // warm-up: JIT, opcache, connections
      for (const side of sides) {
        addCounts(counts, (await runWrk(servers.get(side)!.port, phase.prefix, phase.pool, phase.mode, phase.mode === 'own' ? WARMUP : 2)).ids);
        await settle();
      }
      const bySide = new Map<Side, Row>();
      for (const side of sides) {
        const row: Row = { store, kind: phase.kind, side, rps: [], p50: [], p99: [], cpu: [], wait: [], storeWait: [], bad: 0, socketErrors: 0 };
        bySide.set(side, row);
        rows.push(row);
      }
      for (let r = 0; r < phase.rounds; r++) {
        // Each round starts with the next side (two sides: alternating order).
        for (const side of [...sides.slice(r % sides.length), ...sides.slice(0, r % sides.length)]) {
          const cpu0 = cpuMs(servers.get(side)!.pids);
          const wait0 = [runQueueWaitMs(servers.get(side)!.pids), runQueueWaitMs(storePids)];
          const res = await runWrk(servers.get(side)!.port, phase.prefix, phase.pool, phase.mode, SECONDS);
          const cpu1 = cpuMs(servers.get(side)!.pids);
          const wait = (runQueueWaitMs(servers.get(side)!.pids) - wait0[0]!) / res.requests;
          const storeWait = (runQueueWaitMs(storePids) - wait0[1]!) / res.requests;
          // The requests wrk's stop cut off still run on the server (and write their session): the
          // next side must not read those sessions meanwhile. Without locking (redis) such an
          // overlap loses an update in a run that must be exact (seen once at load 11: 2 lost).
          await settle();
          const cpu = (cpu1.user + cpu1.sys - cpu0.user - cpu0.sys) / res.requests;
          const sys = (cpu1.sys - cpu0.sys) / res.requests;
          addCounts(counts, res.ids);
          const row = bySide.get(side)!;
          row.rps.push(res.rps);
          row.p50.push(res.p50);
          row.p99.push(res.p99);
          row.cpu.push(cpu);
          row.wait.push(wait);
          row.storeWait.push(storeWait);
          row.bad += res.bad;
          row.socketErrors += res.socketErrors;
          console.log(`  ${store}, ${phase.kind}, round ${r + 1}, ${side.padEnd(7)}: ${res.rps.toFixed(0).padStart(6)} req/s  p50 ${res.p50.toFixed(2)} ms  p99 ${res.p99.toFixed(2)} ms  CPU ${(cpu * 1000).toFixed(0)} µs/req (system ${(sys * 1000).toFixed(0)})  run-queue wait ${(wait * 1000).toFixed(0)} µs/req${storePids.length > 0 ? ` (${store} ${(storeWait * 1000).toFixed(0)})` : ''}  non-200 ${res.bad}  socket errors ${res.socketErrors}`);
        }
      }
      const v = verify(await readBack(ini, phase.prefix, phase.pool), counts);
      // Without locking (phpredis' default), concurrent requests on one session lose updates in PHP
      // too: only the runs with one request per session in flight must be exact.
      const mustBeExact = phase.mode === 'own' || store !== 'redis';
      if (!v.ok && mustBeExact) failed = true;
      checks.push(`${store}, ${phase.kind}: ${v.ok ? 'OK' : mustBeExact ? 'FAILED' : 'lost updates, as PHP without locking'}: ${v.text}`);
      console.log(`  check: ${checks.at(-1)}`);
    }
    await stopAll();
    for (const line of loopDelays.splice(0)) console.log(`  ${store}, whole run: ${line}`);
  }
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await stopAll();
}

const load1 = loadavg();
console.log(
  `\n${started.toISOString().slice(0, 16)}Z, 2 cores, shared with other work (load average ${load0[0]!.toFixed(1)} at the start, ${load1[0]!.toFixed(1)} at the end); medians of ${ROUNDS} interleaved ${SECONDS} s rounds (contention: 1 round); ${WORKERS} Node workers vs ${FPM_CHILDREN} php-fpm children + 1 nginx worker; wrk -t${THREADS} -c${CONNECTIONS}\n`,
);
console.log(`| store | sessions | side | requests/s | p50 ms | p99 ms | CPU µs/request | run-queue wait µs/request (store server's) | non-200 | Node/PHP req/s | Node/PHP p99 |${VARIANTS.length > 0 ? ' vs Node req/s | vs Node p99 |' : ''}`);
console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |${VARIANTS.length > 0 ? ' --- | --- |' : ''}`);
const sideLabel = (side: Side): string =>
  side === 'php-fpm' ? 'nginx + php-fpm' : side === 'node' ? 'Node (php-session-engine/http)' : `Node, ${side} (${VARIANTS.find((v) => v.name === side)!.spec})`;
for (const row of rows) {
  const php = rows.find((r) => r.store === row.store && r.kind === row.kind && r.side === 'php-fpm')!;
  const node = rows.find((r) => r.store === row.store && r.kind === row.kind && r.side === 'node')!;
  const ratio = row.side !== 'php-fpm' && php.rps.length > 0 ? [`${(median(row.rps) / median(php.rps)).toFixed(2)}x`, `${(median(row.p99) / median(php.p99)).toFixed(2)}x`] : ['', ''];
  // A variant against the plain Node side: the median of the per-round ratios (paired rounds).
  const paired = (xs: number[], ys: number[]): string => `${median(xs.map((x, i) => x / ys[i]!)).toFixed(2)}x`;
  const vsNode = VARIANTS.length === 0 ? '' : row.side === 'php-fpm' || row.side === 'node' ? ' | |' : ` ${paired(row.rps, node.rps)} | ${paired(row.p99, node.p99)} |`;
  console.log(
    `| ${row.store} | ${row.kind} | ${sideLabel(row.side)} | ${median(row.rps).toFixed(0)} | ${median(row.p50).toFixed(2)} | ${median(row.p99).toFixed(2)} | ${(median(row.cpu) * 1000).toFixed(0)} | ${(median(row.wait) * 1000).toFixed(0)}${row.store === 'files' ? '' : ` (${(median(row.storeWait) * 1000).toFixed(0)})`} | ${row.bad + row.socketErrors} | ${ratio[0]} | ${ratio[1]} |${vsNode}`,
  );
}
console.log('');
for (const c of checks) console.log(c);
process.exit(interrupted !== undefined ? 130 : failed ? 1 : 0);
