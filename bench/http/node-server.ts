/**
 * bench/http: the Node side. A node:cluster of N workers, each a node:http server with the
 * php-session-engine/http adapter configured from the same php.ini file php-fpm uses, doing
 * page.php's work: start the session (from the PHPSESSID cookie), count the visit, add one item
 * to the cart, write and close (the adapter does that before the headers go out), and answer
 * "<session id> <counter>".
 *
 * Run by bench/http/run.ts: node --import tsx bench/http/node-server.ts <php.ini> <port> <workers>
 * The primary prints "ready" once every worker listens, and stops the workers on SIGTERM/SIGINT or
 * when its stdin closes (the bench process went away).
 *
 * BENCH_HTTP_LOOP_DELAY=1: each worker prints, when it stops, its event-loop delay (p50, p99, max,
 * from perf_hooks.monitorEventLoopDelay at 1 ms resolution) and its event-loop utilisation, to
 * find stalls (a blocking syscall, a GC pause) behind the p99.
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { PhpArray } from 'php-session-engine';
import { createPhpSession } from 'php-session-engine/http';

const [iniFile, portArg, workersArg] = process.argv.slice(2);
if (iniFile === undefined || portArg === undefined || workersArg === undefined) {
  console.error('usage: node-server.ts <php.ini> <port> <workers>');
  process.exit(2);
}

if (cluster.isPrimary) {
  const workers = Number(workersArg);
  let listening = 0;
  let stopping = false;
  // Workers get SIGTERM and exit normally (so `--cpu-prof` profiles are written); SIGKILL after 5 s.
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && !w.isDead());
    if (alive.length === 0) process.exit(code);
    let left = alive.length;
    for (const w of alive as Worker[]) {
      w.once('exit', () => --left === 0 && process.exit(code));
      w.process.kill('SIGTERM');
    }
    setTimeout(() => {
      for (const w of alive as Worker[]) w.process.kill('SIGKILL');
      process.exit(code);
    }, 5000).unref();
  };
  cluster.on('listening', () => {
    if (++listening === workers) console.log('ready');
  });
  cluster.on('exit', (w, code, signal) => {
    if (stopping) return;
    console.error(`node-server: worker ${w.process.pid} exited (${signal ?? code})`);
    stop(1);
  });
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  process.stdin.on('end', () => stop(0));
  process.stdin.on('error', () => stop(0));
  process.stdin.resume();
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  const sessions = createPhpSession({ iniFile, onDiagnostic: (d) => console.error('node-server:', JSON.stringify(d)) });
  const server = createServer(
    sessions.handler((req, res) => {
      const s = req.session;
      const n = (typeof s.n === 'number' ? s.n : 0) + 1;
      s.n = n;
      const cart = s.cart instanceof PhpArray ? s.cart : new PhpArray();
      const sku = `sku-${n % 10}`;
      const qty = cart.get(sku);
      cart.set(sku, (typeof qty === 'number' ? qty : 0) + 1);
      s.cart = cart;
      res.setHeader('Content-Type', 'text/html; charset=UTF-8');
      res.end(`${req.phpSession.id} ${n}`);
    }),
  );
  server.listen(Number(portArg), '127.0.0.1');
  if (process.env['BENCH_HTTP_LOOP_DELAY'] === '1') {
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const elu0 = performance.eventLoopUtilization();
    process.on('exit', () => {
      const ms = (ns: number): string => (ns / 1e6).toFixed(1);
      const elu = performance.eventLoopUtilization(elu0).utilization;
      console.error(`node-server: worker ${process.pid} loop delay p50 ${ms(delay.percentile(50))} p99 ${ms(delay.percentile(99))} max ${ms(delay.max)} ms, utilisation ${elu.toFixed(2)}`);
    });
  }
  process.on('SIGTERM', () => process.exit(0));
}
