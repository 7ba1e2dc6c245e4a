/**
 * bench/express-ab: the Express (or Hono) adapter against the same framework doing the same session
 * work by hand, one target at a time. bench/adapters runs an adapter and its peer at the same time; here each target
 * (its own child process, the built package) serves a fixed number of requests alone (16
 * keep-alive clients from this process), the targets take turns in an order that rotates every
 * round, and each child reports for its batch: CPU per request (process.cpuUsage: user and
 * system), bytes allocated per request (v8.GCProfiler: heap growth between collections, which
 * does not depend on the load), GC pause per request and bytes promoted per request. A round's
 * ratio is a target's CPU per request over the first target's in the same round; the median and
 * interquartile range of the rounds' ratios are printed.
 *
 * Targets: `hand` (the by-hand route of bench/adapters), `adapter` (the built package's
 * php-session-engine/express), `adapter@DIR` (the adapter files of another build, to compare two
 * versions side by side: an absolute DIR inside this package, e.g. main's dist/adapters copied to
 * bench/.old-adapters, so that its imports of 'php-session-engine' resolve), and `hand` again as a
 * noise floor (identical code: what the machine adds to a ratio).
 * The session store is files on tmpfs, or an in-memory module with MEM=1 (the engine's I/O left out).
 * Hono on @hono/node-server the same way: `hono-hand`, `hono-adapter`, `hono-adapter@DIR`.
 * PROF=<target>[,<target>...]: those children write a CPU profile (100 us sampling) to bench/.prof/;
 * HEAPPROF=<target>: that child writes bench/.prof/<target>.heapprofile, a sampling allocation
 * profile after the warm-up that counts collected objects too (bytes allocated by site);
 * V8FLAGS_TARGET=<target> V8FLAGS='--trace-deopt ...': extra node flags for that child.
 *
 * Run: npm run build && node --import tsx bench/express-ab.mjs [rounds] [requests-per-batch] [targets]
 *   e.g. node --import tsx bench/express-ab.mjs 8 3000 hand,adapter@$PWD/bench/.old-adapters,adapter,hand
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';
import { parse as parseCookie } from 'cookie';
import express from 'express';
import { serve as honoServe } from '@hono/node-server';
import { Hono } from 'hono';
import { SessionEngine } from 'php-session-engine';
import { byHand, getWithSession, writeFailed } from './session-get.ts';

const CLIENTS = 16;

/** Sessions kept in memory, each read one event-loop turn late (as bench/redis's engine-only row). */
function memoryEngine() {
  const memory = new Map();
  const engine = new SessionEngine({ ini: { 'session.save_handler': 'benchmemory', 'session.gc_probability': 0 } });
  engine.registerModule({
    name: 'benchmemory',
    create: () => ({
      name: 'benchmemory',
      open: () => true,
      close: () => true,
      read: async (id) => {
        await new Promise((r) => setImmediate(r));
        return memory.get(id) ?? new Uint8Array(0);
      },
      write: (id, data) => {
        memory.set(id, data.slice());
        return true;
      },
      destroy: () => true,
      gc: () => 0,
    }),
  });
  return engine;
}

async function serve(target, dir) {
  const engine = process.env.MEM === '1' ? memoryEngine() : new SessionEngine({ ini: { 'session.save_path': dir, 'session.gc_probability': 0 } });
  if (target.startsWith('hono-')) return serveHono(target.slice('hono-'.length), engine);
  const app = express();
  if (target === 'hand') {
    // bench/adapters' by-hand route.
    app.get('/', (req, res, next) => {
      // (with bench/adapters' checks: a failed start or write is an error, the request always ends)
      const r = engine.request({ cookies: parseCookie(req.headers.cookie ?? '') });
      let body;
      r.start()
        .then((ok) => {
          if (!ok) throw new Error('session_start() failed');
          const n = r.session.get('n');
          r.session.set('n', (typeof n === 'number' ? n : 0) + 1);
          body = { n: r.session.get('n') };
        })
        .finally(() => r.end())
        .then(() => {
          if (writeFailed(r.diagnostics)) throw new Error('session write failed');
          for (const [k, v] of r.headers) res.append(k, v);
          res.json(body);
        })
        .catch(next);
    });
  } else {
    const from = target.startsWith('adapter@') ? target.slice('adapter@'.length) : undefined;
    const { phpSession } = from === undefined ? await import('php-session-engine/express') : await import(pathToFileURL(join(from, 'express.js')).href);
    app.use(phpSession({ engine }));
    app.get('/', (req, res) => {
      const s = req.session;
      const n = s.n;
      s.n = (typeof n === 'number' ? n : 0) + 1;
      res.json({ n: s.n });
    });
  }
  const server = createServer(app);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server.address().port;
}

/** Hono on @hono/node-server: `hand` (bench/adapters' by-hand work) or `adapter`/`adapter@DIR`. */
async function serveHono(target, engine) {
  const app = new Hono();
  if (target === 'hand') {
    app.get('/', async (c) => {
      const { body, headers } = await byHand(engine, c.env.incoming.headers.cookie);
      for (const [k, v] of headers) c.header(k, v, { append: true });
      return c.json(body);
    });
  } else {
    const from = target.startsWith('adapter@') ? target.slice('adapter@'.length) : undefined;
    const { phpSession } = from === undefined ? await import('php-session-engine/hono') : await import(pathToFileURL(join(from, 'hono.js')).href);
    app.use(phpSession({ engine }));
    app.get('/', (c) => {
      const s = c.get('session');
      const n = s.n;
      s.n = (typeof n === 'number' ? n : 0) + 1;
      return c.json({ n: s.n });
    });
  }
  const server = await new Promise((resolve) => {
    const s = honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return server.address().port;
}

if (process.argv[2] === '--serve') {
  const port = await serve(process.argv[3], process.argv[4]);
  let gcPause = 0;
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) gcPause += e.duration;
  }).observe({ entryTypes: ['gc'] });
  let profiler;
  let used0 = 0;
  // HEAPPROF=<target name>: that child samples every allocation (collected objects too) after the
  // warm-up and writes bench/.prof/<target>.heapprofile at exit: bytes allocated by allocation site.
  let sampling;
  let marks = 0;
  if (process.env.HEAPPROF === process.argv[3]) {
    const { Session } = await import('node:inspector');
    sampling = new Session();
    sampling.connect();
  }
  const post = (method, params) => new Promise((resolve, reject) => sampling.post(method, params, (err, r) => (err ? reject(err) : resolve(r))));
  process.on('message', async (m) => {
    if (m === 'exit') {
      if (sampling !== undefined) {
        const { profile } = await post('HeapProfiler.stopSampling');
        const { writeFileSync, mkdirSync } = await import('node:fs');
        mkdirSync('bench/.prof', { recursive: true });
        writeFileSync(`bench/.prof/${process.argv[3].replace(/[^\w.-]/g, '_')}.heapprofile`, JSON.stringify(profile));
      }
      process.exit(0);
    }
    // After the warm-up's two batches (four marks): sample from here on.
    if (sampling !== undefined && ++marks === 5) await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    // 'mark': the counters since the previous mark.
    const u = process.cpuUsage();
    let allocated = 0;
    let promoted = 0;
    if (profiler !== undefined) {
      let prev = used0;
      for (const g of profiler.stop().statistics) {
        allocated += g.beforeGC.heapStatistics.usedHeapSize - prev;
        prev = g.afterGC.heapStatistics.usedHeapSize;
        if (g.gcType === 'Scavenge') {
          const old = (h) => h.heapSpaceStatistics.find((x) => x.spaceName === 'old_space').spaceUsedSize;
          promoted += old(g.afterGC) - old(g.beforeGC);
        }
      }
      allocated += v8.getHeapStatistics().used_heap_size - prev;
    }
    profiler = new v8.GCProfiler();
    used0 = v8.getHeapStatistics().used_heap_size;
    profiler.start();
    process.send({ user: u.user, system: u.system, allocated, promoted, gcPause: gcPause * 1000 });
  });
  process.send({ port });
} else {
  const ROUNDS = Number(process.argv[2] ?? 8);
  const N = Number(process.argv[3] ?? 3000);
  const names = (process.argv[4] ?? 'hand,adapter,hand').split(',');
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pse-express-ab-'));
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS * names.length });
  const get = (port, cookie) => getWithSession(agent, port, cookie);
  const children = [];
  for (const name of names) {
    // PROF=<target name>[,<name>...]: those children write a CPU profile (.cpuprofile) to bench/.prof/.
    const prof = (process.env.PROF ?? '').split(',').includes(name) ? ['--cpu-prof', '--cpu-prof-interval=100', '--cpu-prof-dir=bench/.prof'] : process.env.V8FLAGS_TARGET === name ? (process.env.V8FLAGS ?? '').split(' ') : [];
    const proc = fork(process.argv[1], ['--serve', name, dir], { execArgv: [...process.execArgv, ...prof] });
    const port = await new Promise((r) => proc.once('message', (m) => r(m.port)));
    children.push({ name, proc, port, cookies: Array(CLIENTS).fill(undefined), cpu: [], user: [], system: [], allocated: [], promoted: [], gc: [] });
  }
  const mark = (proc) =>
    new Promise((r) => {
      proc.once('message', r);
      proc.send('mark');
    });
  const batch = async (c) => {
    const a = await mark(c.proc);
    let left = N;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        while (left-- > 0) c.cookies[i] = await get(c.port, c.cookies[i]);
      }),
    );
    const b = await mark(c.proc);
    return { user: (b.user - a.user) / N, system: (b.system - a.system) / N, allocated: b.allocated / N, promoted: b.promoted / N, gc: (b.gcPause - a.gcPause) / N };
  };
  // Warm-up: two batches each (and each client gets its session).
  for (const c of children) for (let w = 0; w < 2; w++) await batch(c);
  for (let r = 0; r < ROUNDS; r++) {
    const order = children.map((_, i) => children[(i + r) % children.length]);
    if (r % 2 === 1) order.reverse();
    for (const c of order) {
      const m = await batch(c);
      c.cpu.push(m.user + m.system);
      for (const k of ['user', 'system', 'allocated', 'promoted', 'gc']) c[k].push(m[k]);
    }
  }
  const q = (xs, p) => {
    const v = [...xs].sort((x, y) => x - y);
    const i = (v.length - 1) * p;
    return v[Math.floor(i)] + (v[Math.ceil(i)] - v[Math.floor(i)]) * (i - Math.floor(i));
  };
  const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  console.log(`${ROUNDS} rounds of ${N} requests a target, ${CLIENTS} clients, ${process.env.MEM === '1' ? 'in-memory module' : 'files on tmpfs'}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('target: CPU us/request (user + system), vs the first target: median of per-round ratios [interquartile range]; KB allocated, KB promoted, GC pause us a request (medians)');
  for (const c of children) {
    const ratios = c.cpu.map((x, i) => x / children[0].cpu[i] - 1);
    console.log(
      `${c.name.padEnd(36)} ${q(c.cpu, 0.5).toFixed(1).padStart(6)} (${q(c.user, 0.5).toFixed(1)} + ${q(c.system, 0.5).toFixed(1)})  ${pct(q(ratios, 0.5)).padStart(7)} [${pct(q(ratios, 0.25))} ${pct(q(ratios, 0.75))}]  ` +
        `alloc ${(q(c.allocated, 0.5) / 1024).toFixed(2)} KB  promoted ${(q(c.promoted, 0.5) / 1024).toFixed(2)} KB  gc ${q(c.gc, 0.5).toFixed(1)} us`,
    );
  }
  for (const c of children) c.proc.send('exit');
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}
