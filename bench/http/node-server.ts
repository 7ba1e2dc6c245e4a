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
 *
 * BENCH_HTTP_PROFILE=1: each worker also prints where a request's time goes, over its whole run:
 * connections and requests it served, requests in flight when one arrives, and latency
 * histograms (p50/p99/max) from the 'request' event to the app (session started: open, lock,
 * read, decode), from the app's res.end() to 'finish' (encode, write, close, response written),
 * and from 'request' to 'finish'; for requests slower than BENCH_HTTP_SLOW_MS (default 10) the
 * mean of each part, and the GC pause time that fell inside them (and how many saw a pause); the
 * GC pauses (count, total and longest ms, by kind, from a PerformanceObserver); and the main
 * thread's time on a CPU and runnable but waiting for one (/proc/thread-self/schedstat). What wrk
 * sees beyond 'request' → 'finish' is the time a request waited in the socket for the worker's
 * event loop. On the files store also the files module's parts (profileFiles below).
 */
import cluster, { type Worker } from 'node:cluster';
import { AsyncLocalStorage } from 'node:async_hooks';
import fs, { readFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { createServer } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { createHistogram, monitorEventLoopDelay, performance, PerformanceObserver, type RecordableHistogram } from 'node:perf_hooks';
import * as engineIndex from 'php-session-engine';
import * as engineHttp from 'php-session-engine/http';
import * as engineFiles from 'php-session-engine/handlers/files';

/**
 * BENCH_HTTP_ENGINE=DIR: the workers load another build of the library (a built dist/ directory,
 * e.g. an older commit's) instead of this one's, so that `--variant base:BENCH_HTTP_ENGINE=DIR`
 * compares two builds in the same rounds.
 */
const ENGINE_DIR = process.env['BENCH_HTTP_ENGINE'];
const { PhpArray } = (ENGINE_DIR === undefined ? engineIndex : await import(`${ENGINE_DIR}/lib/index.js`)) as typeof engineIndex;
const { createPhpSession } = (ENGINE_DIR === undefined ? engineHttp : await import(`${ENGINE_DIR}/adapters/http.js`)) as typeof engineHttp;
const { filesModule } = (ENGINE_DIR === undefined ? engineFiles : await import(`${ENGINE_DIR}/handlers/files.js`)) as typeof engineFiles;

const [iniFile, portArg, workersArg] = process.argv.slice(2);
if (iniFile === undefined || portArg === undefined || workersArg === undefined) {
  console.error('usage: node-server.ts <php.ini> <port> <workers>');
  process.exit(2);
}

/**
 * BENCH_HTTP_BALANCE=1: connections go to the worker with the fewest open connections (the
 * primary accepts each one and passes the socket on), instead of node:cluster's round robin,
 * which hands the next connection to whichever worker took the last one first: wrk's 32
 * keep-alive connections stay where they land, and one worker had up to 30 of them in flight
 * at once (BENCH_HTTP_PROFILE). Evening that out did not move req/s or p99 in five paired runs
 * (README "bench/http"), so the default stays node:cluster's.
 */
const BALANCE = process.env['BENCH_HTTP_BALANCE'] === '1';

/**
 * The workers run with --single-threaded-gc (BENCH_HTTP_GC_THREADS=1: V8's default helper
 * threads): with a worker per core, the GC's helper threads have no core of their own and take
 * one from the other worker (and from wrk). Paired against the default (README "bench/http"):
 * under load req/s 1.01-1.95x, p99 0.30-1.17x (medians 1.68x and 0.68x); on a quiet machine a
 * wash (req/s 0.98-1.06x, p99 0.84-1.12x). README recommends it for a worker per core on busy CPUs.
 */
const GC_FLAGS = process.env['BENCH_HTTP_GC_THREADS'] === '1' ? [] : ['--single-threaded-gc'];

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
  if (BALANCE) {
    // The primary accepts each connection and hands it to the worker with the fewest open ones.
    const open = new Map<Worker, number>();
    const balancer = createNetServer({ pauseOnConnect: true }, (socket) => {
      let best: Worker | undefined;
      for (const [w, n] of open) if (best === undefined || n < open.get(best)!) best = w;
      if (best === undefined) {
        socket.destroy();
        return;
      }
      const w = best;
      open.set(w, open.get(w)! + 1);
      // A socket that cannot be passed on (the client left, the worker is gone) is not counted.
      w.send('connection', socket, undefined, (err) => {
        if (err === null) return;
        open.set(w, open.get(w)! - 1);
        socket.destroy();
      });
    });
    // A worker says 'serving' once it listens for connections from here.
    cluster.on('message', (w, m) => {
      if (m === 'closed') open.set(w, open.get(w)! - 1);
      else if (m === 'serving') {
        open.set(w, 0);
        if (++listening === workers) balancer.listen(Number(portArg), '127.0.0.1', () => console.log('ready'));
      }
    });
  } else {
    cluster.on('listening', () => {
      if (++listening === workers) console.log('ready');
    });
  }
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
  cluster.setupPrimary({ execArgv: [...process.execArgv, ...GC_FLAGS] });
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  const profile = process.env['BENCH_HTTP_PROFILE'] === '1' ? startProfile() : undefined;
  if (profile !== undefined) profileFiles();
  const sessions = createPhpSession({ iniFile, onDiagnostic: (d) => console.error('node-server:', JSON.stringify(d)) });
  const handle = sessions.handler((req, res) => {
    profile?.began(req);
    const s = req.session;
    const n = (typeof s.n === 'number' ? s.n : 0) + 1;
    s.n = n;
    const cart = s.cart instanceof PhpArray ? s.cart : new PhpArray();
    const sku = `sku-${n % 10}`;
    const qty = cart.get(sku);
    cart.set(sku, (typeof qty === 'number' ? qty : 0) + 1);
    s.cart = cart;
    res.setHeader('Content-Type', 'text/html; charset=UTF-8');
    profile?.ending(req);
    res.end(`${req.phpSession.id} ${n}`);
  });
  const server = createServer(profile === undefined ? handle : (req, res) => {
    profile.arrived(req, res);
    handle(req, res);
  });
  if (profile !== undefined) server.on('connection', () => profile.connections++);
  if (BALANCE) {
    process.on('message', (m, socket: Socket | undefined) => {
      if (m !== 'connection' || socket === undefined) return;
      socket.once('close', () => process.send?.('closed'));
      server.emit('connection', socket);
      socket.resume();
    });
    process.send?.('serving');
  } else server.listen(Number(portArg), '127.0.0.1');
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

/** BENCH_HTTP_PROFILE=1: per-request timings and GC pauses of this worker, printed when it exits. */
function startProfile() {
  const us = (ms: number): number => Math.max(1, Math.round(ms * 1000));
  const hist = (): RecordableHistogram => createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });
  const begin = hist();
  const end = hist();
  const total = hist();
  const inflightAtArrival = hist();
  const slowMs = Number(process.env['BENCH_HTTP_SLOW_MS'] ?? 10);
  const slow = { n: 0, begin: 0, app: 0, end: 0, inflight: 0 };
  /** [start, end] of every GC pause and of every slow request (performance.now() ms), overlapped at exit. */
  const gcSpans: number[] = [];
  const slowSpans: number[] = [];
  /** This worker's main thread: ns on a CPU and ns runnable but waiting for one (schedstat). */
  const schedstat = (): [number, number] => {
    try {
      const f = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ');
      return [Number(f[0]), Number(f[1])];
    } catch {
      return [NaN, NaN];
    }
  };
  const sched0 = schedstat();
  const times = new WeakMap<object, { t0: number; t1: number; t2: number; inflight: number }>();
  let inflight = 0;
  let requests = 0;
  const gc = new Map<string, { n: number; ms: number; max: number }>();
  // perf_hooks.constants.NODE_PERFORMANCE_GC_*
  const kinds: Record<number, string> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weakcb' };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = kinds[((e as { detail?: { kind?: number } }).detail)?.kind ?? 0] ?? 'other';
      const g = gc.get(kind) ?? { n: 0, ms: 0, max: 0 };
      g.n++;
      g.ms += e.duration;
      g.max = Math.max(g.max, e.duration);
      gcSpans.push(e.startTime, e.startTime + e.duration);
      gc.set(kind, g);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const p = {
    connections: 0,
    arrived(req: object, res: import('node:http').ServerResponse): void {
      const t = { t0: performance.now(), t1: 0, t2: 0, inflight };
      inflightAtArrival.record(inflight + 1);
      inflight++;
      requests++;
      times.set(req, t);
      // 'close' comes for every response, 'finish' only for those written whole (wrk's stop cuts some).
      res.once('close', () => inflight--);
      res.once('finish', () => {
        const t3 = performance.now();
        total.record(us(t3 - t.t0));
        if (t.t2 > 0) end.record(us(t3 - t.t2));
        if (t3 - t.t0 > slowMs && t.t2 > 0) {
          slow.n++;
          slow.begin += t.t1 - t.t0;
          slow.app += t.t2 - t.t1;
          slow.end += t3 - t.t2;
          slow.inflight += t.inflight;
          slowSpans.push(t.t0, t3);
        }
      });
    },
    began(req: object): void {
      const t = times.get(req);
      if (t === undefined) return;
      t.t1 = performance.now();
      begin.record(us(t.t1 - t.t0));
    },
    ending(req: object): void {
      const t = times.get(req);
      if (t !== undefined) t.t2 = performance.now();
    },
  };
  process.on('exit', () => {
    obs.disconnect();
    const h = (x: RecordableHistogram): string => `p50 ${(x.percentile(50) / 1000).toFixed(2)} p99 ${(x.percentile(99) / 1000).toFixed(2)} max ${(x.max / 1000).toFixed(1)}`;
    const gcText = [...gc].map(([k, g]) => `${k} ${g.n}x ${g.ms.toFixed(0)} ms (max ${g.max.toFixed(1)})`).join(', ');
    const m = (x: number): string => (slow.n === 0 ? '-' : (x / slow.n).toFixed(2));
    // GC pause time inside each slow request, and how many slow requests saw one.
    let inGc = 0;
    let hit = 0;
    for (let i = 0; i < slowSpans.length; i += 2) {
      let ms = 0;
      for (let j = 0; j < gcSpans.length; j += 2) ms += Math.max(0, Math.min(slowSpans[i + 1]!, gcSpans[j + 1]!) - Math.max(slowSpans[i]!, gcSpans[j]!));
      inGc += ms;
      if (ms > 0) hit++;
    }
    const sched1 = schedstat();
    console.error(
      `node-server: worker ${process.pid} profile: ${p.connections} connections, ${requests} requests, in flight at arrival p50 ${inflightAtArrival.percentile(50)} p99 ${inflightAtArrival.percentile(99)} max ${inflightAtArrival.max}; ` +
        `request→app ${h(begin)} ms; res.end→finish ${h(end)} ms; request→finish ${h(total)} ms; ` +
        `${slow.n} over ${slowMs} ms: mean request→app ${m(slow.begin)}, app ${m(slow.app)}, res.end→finish ${m(slow.end)} ms, in flight ${m(slow.inflight)}, in GC pauses ${m(inGc)} (${slow.n === 0 ? '-' : ((100 * hit) / slow.n).toFixed(0)}% of them saw one); GC ${gcText}; ` +
        `main thread since start ${(performance.now() / 1000).toFixed(1)} s: on a CPU ${((sched1[0] - sched0[0]) / 1e9).toFixed(1)} s, runnable but waiting for a CPU ${((sched1[1] - sched0[1]) / 1e9).toFixed(1)} s`,
    );
  });
  return p;
}

/**
 * BENCH_HTTP_PROFILE=1, files store: where a session's time goes inside the files module, without
 * changing it. Each handler's calls (open, read = open the file + lock + fstat + read, write =
 * truncate + write, close) are timed from call to result, and the file syscalls they make are
 * timed by wrapping node:fs (and the flock binding) in this worker: the synchronous calls' own
 * time, and for ftruncate/close on the thread pool, the time from the call to its callback
 * (thread-pool queueing + the syscall + the wait for the event loop to run the callback). A
 * read's time not spent in syscalls is the lock wait (the in-process queue and flock retries).
 * Printed when the worker exits: p50/p99/max of each, and for the sessions whose handler took over
 * BENCH_HTTP_SLOW_MS from read to the end of close, the mean of each part.
 */
function profileFiles(): void {
  const hist = (): RecordableHistogram => createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });
  const us = (ms: number): number => Math.max(1, Math.round(ms * 1000));
  const slowMs = Number(process.env['BENCH_HTTP_SLOW_MS'] ?? 10);
  /** The handler call whose code (or continuation after an await) runs now: syscalls are charged to it. */
  const current = new AsyncLocalStorage<{ parts: Parts; phase: 'read' | 'write' | 'close' | 'other' }>();
  interface Parts {
    t0: number;
    open: number;
    read: number;
    write: number;
    close: number;
    /** synchronous syscall ms made inside read / write / close */
    sysRead: number;
    sysWrite: number;
    sysClose: number;
    /** thread-pool round trips (ftruncate, close): ms from call to callback */
    pool: number;
    flock: number;
  }
  const methods = { open: hist(), read: hist(), write: hist(), close: hist(), lockWait: hist(), session: hist() };
  const calls = new Map<string, RecordableHistogram>();
  const slow = { n: 0, read: 0, lockWait: 0, write: 0, sysWrite: 0, close: 0, sysClose: 0, pool: 0, gaps: 0, flock: 0 };
  const record = (name: string, ms: number): void => {
    let h = calls.get(name);
    if (h === undefined) calls.set(name, (h = hist()));
    h.record(us(ms));
  };
  const charge = (ms: number): void => {
    const c = current.getStore();
    if (c === undefined) return;
    if (c.phase === 'read') c.parts.sysRead += ms;
    else if (c.phase === 'write') c.parts.sysWrite += ms;
    else if (c.phase === 'close') c.parts.sysClose += ms;
  };
  const f = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of ['openSync', 'fstatSync', 'readSync', 'writeSync', 'ftruncateSync', 'closeSync']) {
    const orig = f[name]!;
    f[name] = function (this: unknown, ...a: unknown[]) {
      const t = performance.now();
      try {
        return orig.apply(this, a);
      } finally {
        const ms = performance.now() - t;
        record(name, ms);
        charge(ms);
      }
    };
  }
  for (const name of ['ftruncate', 'close']) {
    const orig = f[name]!;
    f[name] = function (this: unknown, ...a: unknown[]) {
      const cb = a.at(-1);
      if (typeof cb !== 'function') return orig.apply(this, a);
      const t = performance.now();
      const owner = current.getStore()?.parts;
      a[a.length - 1] = (...r: unknown[]) => {
        const ms = performance.now() - t;
        record(`${name} (thread pool)`, ms);
        if (owner !== undefined) owner.pool += ms;
        (cb as (...r: unknown[]) => void)(...r);
      };
      return orig.apply(this, a);
    };
  }
  syncBuiltinESMExports();
  try {
    const ext = createRequire(import.meta.url)('fs-ext-extra-prebuilt') as Record<string, (...a: unknown[]) => unknown>;
    const orig = ext['flockSync']!;
    ext['flockSync'] = function (this: unknown, ...a: unknown[]) {
      const t = performance.now();
      try {
        return orig.apply(this, a);
      } finally {
        const ms = performance.now() - t;
        record(`flockSync ${String(a[1])}`, ms);
        const c = current.getStore();
        if (c !== undefined) c.parts.flock += ms;
      }
    };
  } catch {
    // no flock binding: the files module says so itself
  }
  const create = filesModule.create.bind(filesModule);
  (filesModule as { create: typeof filesModule.create }).create = (ctx) => {
    const target = create(ctx);
    const parts: Parts = { t0: 0, open: 0, read: 0, write: 0, close: 0, sysRead: 0, sysWrite: 0, sysClose: 0, pool: 0, flock: 0 };
    const timed = (name: 'open' | 'read' | 'write' | 'close', fn: (...a: unknown[]) => unknown) => (...a: unknown[]): unknown => {
      const t = performance.now();
      if (name === 'read') parts.t0 = t;
      const done = (): void => {
        const ms = performance.now() - t;
        parts[name] += ms;
        methods[name].record(us(ms));
        if (name === 'read') methods.lockWait.record(us(Math.max(0, ms - parts.sysRead - parts.flock)));
        if (name === 'close' && parts.t0 > 0) {
          const total = performance.now() - parts.t0;
          methods.session.record(us(total));
          if (total > slowMs) {
            slow.n++;
            slow.read += parts.read;
            slow.lockWait += Math.max(0, parts.read - parts.sysRead - parts.flock);
            slow.flock += parts.flock;
            slow.write += parts.write;
            slow.sysWrite += parts.sysWrite;
            slow.close += parts.close;
            slow.sysClose += parts.sysClose;
            slow.pool += parts.pool;
            slow.gaps += total - parts.read - parts.write - parts.close;
          }
        }
      };
      const r = current.run({ parts, phase: name === 'open' ? 'other' : name }, () => fn.apply(target, a));
      if (r instanceof Promise) return r.finally(done);
      done();
      return r;
    };
    return new Proxy(target, {
      get(t, prop, receiver) {
        const v = Reflect.get(t, prop, receiver) as unknown;
        if ((prop === 'open' || prop === 'read' || prop === 'write' || prop === 'close') && typeof v === 'function') return timed(prop, v as (...a: unknown[]) => unknown);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
  };
  process.on('exit', () => {
    if (methods.session.count === 0) return;
    const h = (x: RecordableHistogram): string => `p50 ${(x.percentile(50) / 1000).toFixed(2)} p99 ${(x.percentile(99) / 1000).toFixed(2)} max ${(x.max / 1000).toFixed(1)}`;
    const m = (x: number): string => (slow.n === 0 ? '-' : (x / slow.n).toFixed(2));
    console.error(
      `node-server: worker ${process.pid} profile: files, ${methods.session.count} sessions: read→close done ${h(methods.session)} ms; ` +
        `read ${h(methods.read)}, of it lock wait ${h(methods.lockWait)}; write ${h(methods.write)}; close ${h(methods.close)}; ` +
        [...calls].map(([k, x]) => `${k} ${x.count}x ${h(x)}`).join('; ') +
        ` ms; ${slow.n} over ${slowMs} ms: mean read ${m(slow.read)} (lock wait ${m(slow.lockWait)}, flock ${m(slow.flock)}), write ${m(slow.write)} (sync syscalls ${m(slow.sysWrite)}), close ${m(slow.close)} (sync syscalls ${m(slow.sysClose)}), thread-pool calls ${m(slow.pool)}, between the calls ${m(slow.gaps)} ms`,
    );
  });
}
