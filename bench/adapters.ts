/**
 * bench/adapters: requests per second of each adapter (node:http, Express 5, Fastify 5, Hono on
 * @hono/node-server) against the bare node:http use of the engine, on the same session work: a
 * request with a session cookie, start (files module, flock), one counter incremented, write,
 * close, JSON answer. 16 clients, each on its own session (no lock contention), keep-alive.
 *
 * An adapter's overhead is measured against the same framework and route doing the same session
 * work by hand with the bare engine ("<framework> + engine by hand": start, read, set, end, PHP's
 * header lines copied to the response, then the answer), so the framework's own cost is on both
 * sides; the http adapter's peer is the bare node:http use. The "framework only" rows (the route
 * without any session) show what the framework costs by itself.
 *
 * Each target is served by its own child process; the parent is the load generator. Two numbers
 * per target and round: requests per second, and the server process's CPU time per request
 * (process.cpuUsage() in the child). On a shared machine req/s swings with the other jobs, and CPU
 * per request swings too (cache and core contention, the other jobs' bursts), so an adapter and its
 * peer are measured *at the same time*: in each round both serve their own 16 clients side by side,
 * under the same load, and the round's ratio is the adapter's CPU per request over the peer's. The
 * overhead is the median of those per-round ratios, printed with the interquartile range and the
 * min-max. Rows without a peer (the "framework only" ones) run alone. Groups alternate order between
 * rounds (odd rounds reversed).
 *
 * The noise floor: each peer also runs as a second process of the same code in its group ("(second
 * copy)"), measured against the peer like an adapter. Its ratios would all be 0 on a quiet machine;
 * their median and spread are what the machine adds to every ratio of that run (BENCH_CONTROL=0
 * leaves these rows out).
 *
 * The package is measured as users get it, built (dist/, by `npm run bench:adapters`): run from
 * source under tsx, every closure an adapter creates per request also pays esbuild's keepNames
 * helper, which the built code does not.
 *
 * Run: npm run bench:adapters -- [seconds-per-round] [rounds] [only]; `only` (a regular expression) keeps
 * the matching targets, e.g. 'express' for the Express rows and its peer. BENCH_BASELINE_ADAPTERS=DIR
 * adds another build's Express and Hono adapters to their groups (see the Express one's target).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { SessionEngine } from 'php-session-engine';
import { phpSession as expressSession } from 'php-session-engine/express';
import { phpSessionPlugin } from 'php-session-engine/fastify';
import { createPhpSession, type SessionView } from 'php-session-engine/http';
import { phpSession as honoSession, type PhpSessionEnv } from 'php-session-engine/hono';
import { positiveInt } from './env.ts';
import { byHand, getWithSession } from './session-get.ts';

const SERVE = process.argv[2] === '--serve' ? process.argv[3] : undefined;
const SECONDS = Number(process.argv[2] ?? 1);
const ROUNDS = Number(process.argv[3] ?? 15);
/** Keep-alive clients per target (BENCH_CLIENTS, default 16). */
const CLIENTS = positiveInt('BENCH_CLIENTS', 16);
// The session files go to tmpfs when there is one: the adapters' cost is CPU, and on a shared disk
// other jobs' writeback would swamp it (ext4 truncates cost 150-240 us here, see the files notes).
const dir = SERVE !== undefined ? process.argv[4]! : mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pse-bench-adapters-'));
const ini = { 'session.save_path': dir, 'session.gc_probability': 0 };

const work = (s: SessionView): { n: unknown } => {
  const n = s.n;
  s.n = (typeof n === 'number' ? n : 0) + 1;
  return { n: s.n };
};

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** Express doing the session work by hand in its route, optionally behind one empty middleware. */
async function expressByHand(noopLayer: boolean): Promise<{ port: number; close: () => Promise<void> }> {
  const engine = new SessionEngine({ ini });
  const app = express();
  if (noopLayer) app.use((_req, _res, next) => next());
  app.get('/', (req, res, next) => {
    byHand(engine, req.headers.cookie).then(({ body, headers }) => {
      for (const [k, v] of headers) res.append(k, v);
      res.json(body);
    }, next);
  });
  const server = createServer(app);
  return { port: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * Hono doing the session work by hand in its route, optionally behind one empty middleware. The
 * cookie is read from node-server's IncomingMessage, as the adapter reads it: `c.req.header()`
 * would make node-server build a Headers object from the raw headers, work the adapter does not
 * do, which would count in the adapter's favour.
 */
async function honoByHand(noopLayer: boolean): Promise<{ port: number; close: () => Promise<void> }> {
  const engine = new SessionEngine({ ini });
  const app = new Hono<{ Bindings: { incoming: IncomingMessage } }>();
  if (noopLayer) app.use(async (_c, next) => void (await next()));
  app.get('/', async (c) => {
    const { body, headers } = await byHand(engine, c.env.incoming.headers.cookie);
    for (const [k, v] of headers) c.header(k, v, { append: true });
    return c.json(body);
  });
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

/** Hono on node-server with an adapter build's middleware, the route doing the session work through it. */
async function honoAdapter(phpSession: typeof honoSession): Promise<{ port: number; close: () => Promise<void> }> {
  const app = new Hono<PhpSessionEnv>();
  app.use(phpSession({ ini }));
  app.get('/', (c) => c.json(work(c.get('session'))));
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

const targets: Record<string, () => Promise<{ port: number; close: () => Promise<void> }>> = {
  'bare node:http + engine': async () => {
    const engine = new SessionEngine({ ini });
    const server = createServer((req, res) => {
      byHand(engine, req.headers.cookie).then(
        ({ body, headers }) => {
          for (const [k, v] of headers) res.appendHeader(k, v);
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify(body));
        },
        () => {
          res.statusCode = 500;
          res.end();
        },
      );
    });
    return { port: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
  },
  'php-session-engine/http': async () => {
    const sessions = createPhpSession({ ini });
    const server = createServer(
      sessions.handler((req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(work(req.session)));
      }),
    );
    return { port: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
  },
  'express (framework only)': async () => {
    const app = express();
    app.get('/', (_req, res) => void res.json({ n: 1 }));
    const server = createServer(app);
    return { port: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
  },
  'express + engine by hand': () => expressByHand(false),
  // Reference: the by-hand route behind one more, empty, middleware layer (what any app.use() costs).
  'express + app.use(noop) + by hand': () => expressByHand(true),
  'php-session-engine/express': async () => {
    const app = express();
    app.use(expressSession({ ini }));
    app.get('/', (req, res) => void res.json(work(req.session)));
    const server = createServer(app);
    return { port: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
  },
  // BENCH_BASELINE_ADAPTERS=DIR: another build's Express adapter beside this one, against the same
  // peer in the same rounds (DIR: an absolute path inside this package holding that build's
  // dist/adapters files, e.g. main's copied to bench/.old-adapters, so that 'php-session-engine' resolves).
  'php-session-engine/express (baseline build)': async () => {
    const { phpSession: baseline } = (await import(`${process.env['BENCH_BASELINE_ADAPTERS']}/express.js`)) as { phpSession: typeof expressSession };
    const app = express();
    app.use(baseline({ ini }));
    app.get('/', (req, res) => void res.json(work(req.session)));
    const server = createServer(app);
    return { port: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
  },
  'fastify (framework only)': async () => {
    const app = Fastify();
    app.get('/', async () => ({ n: 1 }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  },
  'fastify + engine by hand': async () => {
    const engine = new SessionEngine({ ini });
    const app = Fastify();
    app.get('/', async (request, reply) => {
      const { body, headers } = await byHand(engine, request.headers.cookie);
      for (const [k, v] of headers) reply.header(k, v);
      return body;
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  },
  'php-session-engine/fastify': async () => {
    const app = Fastify();
    await app.register(phpSessionPlugin, { ini });
    app.get('/', async (request) => work(request.session));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  },
  'hono (framework only)': async () => {
    const app = new Hono();
    app.get('/', (c) => c.json({ n: 1 }));
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
    });
    return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
  },
  'hono + engine by hand': () => honoByHand(false),
  // Reference: the by-hand route behind one empty middleware (Hono runs a lone handler without its
  // compose chain; any app.use() brings the chain in).
  'hono + app.use(noop) + by hand': () => honoByHand(true),
  'php-session-engine/hono': () => honoAdapter(honoSession),
  // BENCH_BASELINE_ADAPTERS=DIR: another build's Hono adapter beside this one (see the Express one).
  'php-session-engine/hono (baseline build)': async () => {
    const { phpSession: baseline } = (await import(`${process.env['BENCH_BASELINE_ADAPTERS']}/hono.js`)) as { phpSession: typeof honoSession };
    return honoAdapter(baseline);
  },
};

if (SERVE !== undefined) {
  // Child: serve one target, answer 'cpu' with the process's CPU time in microseconds.
  const t = await targets[SERVE]!();
  process.on('message', (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send!(u.user + u.system);
    } else if (m === 'exit') void t.close().finally(() => process.exit(0));
  });
  process.send!({ port: t.port });
} else {
  await main();
}

async function main(): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

  const get = (port: number, cookie: string | undefined): Promise<string | undefined> => getWithSession(agent, port, cookie);

  interface Child {
    proc: ChildProcess;
    port: number;
    cookies: Array<string | undefined>;
    rps: number[];
    cpu: number[];
  }
  const ask = (proc: ChildProcess): Promise<number> =>
    new Promise((resolve) => {
      proc.once('message', (m) => resolve(m as number));
      proc.send('cpu');
    });
  let rounds = 0;
  /** One round of a group: every child of it under load at the same time, each by its own clients. */
  const round = async (group: Child[]): Promise<void> => {
    const cpu0 = await Promise.all(group.map((c) => ask(c.proc)));
    const t0 = performance.now();
    const end = t0 + SECONDS * 1000;
    const done = group.map(() => 0);
    // The clients of the group's targets start interleaved (client 0 of each target, then client 1,
    // ...), from a target that moves by one each round: the load generator is one process, and the
    // target whose clients all came first was measured up to ~14% cheaper per request than a second
    // copy of itself whose clients came last (the noise-floor rows; requests that arrive bunched
    // are served in fewer event-loop turns).
    const loops: Array<Promise<void>> = [];
    const shift = rounds++ % group.length;
    for (let i = 0; i < CLIENTS; i++) {
      for (let k = 0; k < group.length; k++) {
        const g = (k + shift) % group.length;
        const c = group[g]!;
        loops.push(
          (async () => {
            while (performance.now() < end) {
              c.cookies[i] = await get(c.port, c.cookies[i]);
              done[g]!++;
            }
          })(),
        );
      }
    }
    await Promise.all(loops);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = await Promise.all(group.map((c) => ask(c.proc)));
    group.forEach((c, g) => {
      c.rps.push(done[g]! / elapsed);
      c.cpu.push((cpu1[g]! - cpu0[g]!) / done[g]!);
    });
  };

  const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
  const quantile = (xs: number[], q: number): number => {
    const v = sorted(xs);
    const i = (v.length - 1) * q;
    return v[Math.floor(i)]! + (v[Math.ceil(i)]! - v[Math.floor(i)]!) * (i - Math.floor(i));
  };
  const median = (xs: number[]): number => quantile(xs, 0.5);
  /** Each adapter's peer: the same framework doing the same session work by hand. */
  const peers: Record<string, string> = {
    'php-session-engine/http': 'bare node:http + engine',
    'php-session-engine/express': 'express + engine by hand',
    'php-session-engine/express (baseline build)': 'express + engine by hand',
    'express + app.use(noop) + by hand': 'express + engine by hand',
    'php-session-engine/fastify': 'fastify + engine by hand',
    'php-session-engine/hono': 'hono + engine by hand',
    'php-session-engine/hono (baseline build)': 'hono + engine by hand',
    'hono + app.use(noop) + by hand': 'hono + engine by hand',
  };
  // The noise floor: each peer measured against a second process of itself in the same rounds
  // (BENCH_CONTROL=0 leaves them out). Identical code, so any spread of its ratios is the machine's.
  const CONTROL = process.env['BENCH_CONTROL'] !== '0';
  const COPY = ' (second copy)';
  const only = process.argv[4] === undefined ? undefined : new RegExp(process.argv[4]);
  const baselineSet = (process.env['BENCH_BASELINE_ADAPTERS'] ?? '') !== '';
  const selected = Object.keys(targets).filter((n) => (only === undefined || only.test(n)) && (baselineSet || !n.endsWith('(baseline build)')));
  const names = [...selected];
  if (CONTROL) {
    for (const peer of new Set(Object.values(peers))) {
      if (!selected.includes(peer) || !Object.entries(peers).some(([a, p]) => p === peer && selected.includes(a))) continue;
      names.push(peer + COPY);
      peers[peer + COPY] = peer;
    }
  }
  const children: Record<string, Child> = {};
  for (const name of names) {
    const target = name.endsWith(COPY) ? name.slice(0, -COPY.length) : name;
    const proc = fork(process.argv[1]!, ['--serve', target, dir], { execArgv: process.execArgv });
    const port = await new Promise<number>((resolve, reject) => {
      proc.once('message', (m) => resolve((m as { port: number }).port));
      proc.once('exit', (code) => reject(new Error(`${name}: child exited with ${code}`)));
    });
    proc.removeAllListeners('exit');
    const c: Child = { proc, port, cookies: Array.from({ length: CLIENTS }, () => undefined), rps: [], cpu: [] };
    await round([c]); // warm-up (and each client gets its session)
    c.rps.length = 0;
    c.cpu.length = 0;
    children[name] = c;
  }
  // Groups measured together: an adapter with its peer (when both are selected), every other target alone.
  const groups: string[][] = [];
  for (const name of names) {
    const peer = peers[name];
    if (peer !== undefined && children[peer] !== undefined) groups.find((g) => g[0] === peer)?.push(name) ?? groups.push([peer, name]);
    else if (!groups.some((g) => g.includes(name))) groups.push([name]);
  }
  for (let r = 0; r < ROUNDS; r++) {
    // Odd rounds run the groups in reverse order: no group always follows the same neighbour.
    const order = r % 2 === 0 ? groups : [...groups].reverse();
    for (const g of order) await round(g.map((n) => children[n]!));
  }
  const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const range = (xs: number[], digits: number): string => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
  console.log(`${CLIENTS} clients, ${ROUNDS} rounds of ${SECONDS} s, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (${cpus().length} cores)`);
  console.log(`${'target'.padEnd(44)} ${'req/s'.padStart(7)} ${'[spread]'.padEnd(13)} ${'CPU us/req'.padStart(10)} [spread]`);
  for (const [name, c] of Object.entries(children)) {
    console.log(`${name.padEnd(44)} ${median(c.rps).toFixed(0).padStart(7)} ${`[${range(c.rps, 0)}]`.padEnd(13)} ${median(c.cpu).toFixed(1).padStart(10)} [${range(c.cpu, 1)}]`);
  }
  console.log(
    '\nadapter overhead: CPU per request vs the same framework doing the same session work by hand, both under load at the same time;',
    '\nmedian of per-round ratios [interquartile range] (min..max); req/s the same way',
  );
  for (const [name, peer] of Object.entries(peers)) {
    const a = children[name];
    const b = children[peer];
    if (a === undefined || b === undefined) continue;
    const cpu = a.cpu.map((x, i) => x / b.cpu[i]! - 1);
    const rps = a.rps.map((x, i) => x / b.rps[i]! - 1);
    const spread = (xs: number[]): string => `${pct(median(xs)).padStart(7)} [${pct(quantile(xs, 0.25))} ${pct(quantile(xs, 0.75))}] (${pct(Math.min(...xs))}..${pct(Math.max(...xs))})`;
    console.log(`${name.padEnd(44)} CPU ${spread(cpu)}   req/s ${spread(rps)}   vs ${peer}${name.endsWith(COPY) ? ' (noise floor)' : ''}`);
  }
  for (const c of Object.values(children)) c.proc.send('exit');
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}
