/**
 * @module spec/support/redis-server
 * Starts Debian's `redis-server` on 127.0.0.1 with a free port and a temp dir for a test file (no
 * persistence), optionally as a Redis Cluster node, and a tiny RESP client to look at what is
 * stored (values, TTLs, keys) the way an operator would with redis-cli, independent of the code
 * under test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from '../php/runner.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from './tools.ts';

export interface RedisProcess {
  port: number;
  /** `127.0.0.1:<port>` */
  address: string;
  child: ChildProcess;
  dir: string;
  /** SIGKILL, then removes the temp dir. */
  stop(): Promise<void>;
}

export type Reply = Buffer | string | number | null | Error | Reply[];

/** Parses one RESP2 reply from `buf` at `pos`; null when incomplete. */
function parseReply(buf: Buffer, pos: number): { value: Reply; end: number } | null {
  const eol = buf.indexOf('\r\n', pos);
  if (eol === -1) return null;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString('latin1', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new Error(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.subarray(next, next + n), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const out: Reply[] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, p);
        if (r === null) return null;
        out.push(r.value);
        p = r.end;
      }
      return { value: out, end: p };
    }
    default:
      throw new Error(`bad RESP type ${type}`);
  }
}

/** Sends one command on a fresh connection and resolves with its reply (errors as Error values). */
export function redisCommand(port: number, ...args: (string | Buffer | number)[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
      const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'latin1');
      parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
    let acc = Buffer.alloc(0);
    const s = connect(port, '127.0.0.1', () => s.write(Buffer.concat(parts)));
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`redis on ${port}: no reply to ${String(args[0])}`));
    }, 5000);
    s.on('data', (d: Buffer) => {
      acc = Buffer.concat([acc, d]);
      const r = parseReply(acc, 0);
      if (r !== null) {
        clearTimeout(timer);
        s.destroy();
        resolve(r.value);
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function serverPid(port: number): Promise<number> {
  try {
    const info = await redisCommand(port, 'INFO', 'server');
    const m = /process_id:(\d+)/.exec(Buffer.isBuffer(info) ? info.toString() : String(info));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

async function waitUp(port: number, child: ChildProcess, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until && child.exitCode === null && child.signalCode === null) {
    if ((await serverPid(port)) === child.pid) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

export interface RedisStartOptions {
  /** Restart on a known port. */
  port?: number;
  /** Extra redis-server arguments (`--cluster-enabled`, `yes`, ...). */
  args?: string[];
  /** Password for the default user (`requirepass`). */
  password?: string;
}

/**
 * Starts one redis-server on a free port (or `opts.port`). A free port can be taken by another
 * test process between the probe and redis' bind: then our server exits, or the port answers with
 * someone else's server, so the server on the port must report our child's pid (INFO), else
 * another port is tried.
 */
export async function startRedis(opts: RedisStartOptions = {}): Promise<RedisProcess> {
  const bin = which('redis-server');
  if (!bin) throw new Error('redis-server not found');
  for (let attempt = 1; ; attempt++) {
    const p = opts.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'pse-redis-'));
    const args = ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--logfile', '', '--loglevel', 'warning', '--protected-mode', 'no'];
    if (opts.password !== undefined) args.push('--requirepass', opts.password);
    args.push(...(opts.args ?? []));
    const child = spawn(bin, args, { stdio: 'ignore' });
    // With a password, INFO answers NOAUTH: then the port answering at all is the check.
    const up = opts.password === undefined ? await waitUp(p, child, 5000) : await waitAnswering(p, child, 5000);
    if (up) return redisProcess(p, child, dir);
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    if (opts.port !== undefined || attempt === 5) throw new Error(`redis-server could not start on port ${p} (taken, or served by another redis)`);
  }
}

async function waitAnswering(port: number, child: ChildProcess, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until && child.exitCode === null && child.signalCode === null) {
    try {
      await redisCommand(port, 'PING');
      return child.exitCode === null;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return false;
}

function redisProcess(port: number, child: ChildProcess, dir: string): RedisProcess {
  let stopped: Promise<void> | undefined;
  return {
    port,
    address: `127.0.0.1:${port}`,
    child,
    dir,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        const done = (): void => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGKILL');
      })),
  };
}

export interface RedisCluster {
  nodes: RedisProcess[];
  /** `seed[]=127.0.0.1:p1&seed[]=...` for session.save_path. */
  seeds: string;
  stop(): Promise<void>;
}

/**
 * Starts `masters` cluster-enabled servers, splits the 16384 slots evenly between them
 * (CLUSTER ADDSLOTSRANGE), joins them (CLUSTER MEET) and waits for cluster_state:ok everywhere.
 * With `replicas`, one more server per master replicates it (CLUSTER REPLICATE) and the wait
 * also covers their sync; `nodes` then lists the masters first, then replica i of master i.
 */
export async function startRedisCluster(masters = 3, extraArgs: string[] = [], replicas = false): Promise<RedisCluster> {
  const total = replicas ? masters * 2 : masters;
  const nodes = await Promise.all(
    Array.from({ length: total }, () =>
      startRedis({
        // No 5 s wait for more replicas before a diskless full sync, and a replication ping every
        // second: a replica whose offset is still 0 is left out of CLUSTER SLOTS (what clients
        // load), and the default 10 s ping period would keep it out that long.
        args: [
          '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000',
          '--repl-diskless-sync-delay', '0', '--repl-ping-replica-period', '1', ...extraArgs,
        ],
      }),
    ),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    const per = Math.ceil(16384 / masters);
    for (let i = 0; i < masters; i++) {
      const r = await redisCommand(nodes[i]!.port, 'CLUSTER', 'ADDSLOTSRANGE', i * per, Math.min(16383, (i + 1) * per - 1));
      if (r instanceof Error) throw r;
    }
    for (let i = 1; i < total; i++) await redisCommand(nodes[i]!.port, 'CLUSTER', 'MEET', '127.0.0.1', nodes[0]!.port);
    const until = Date.now() + 15_000;
    if (replicas) {
      for (let i = 0; i < masters; i++) {
        const id = String(await redisCommand(nodes[i]!.port, 'CLUSTER', 'MYID'));
        // The replica must know the master before it can follow it.
        for (;;) {
          const r = await redisCommand(nodes[masters + i]!.port, 'CLUSTER', 'REPLICATE', id);
          if (!(r instanceof Error)) break;
          if (Date.now() > until) throw r;
          await new Promise((res) => setTimeout(res, 50));
        }
      }
    }
    for (;;) {
      const states = await Promise.all(nodes.map(async (n) => String(await redisCommand(n.port, 'CLUSTER', 'INFO'))));
      // Replicas synced, and every node's slot map (what clients load) lists them.
      const synced =
        !replicas ||
        ((await Promise.all(nodes.slice(masters).map(async (n) => String(await redisCommand(n.port, 'INFO', 'replication'))))).every((x) => x.includes('master_link_status:up')) &&
          (await Promise.all(nodes.map(async (n) => (await redisCommand(n.port, 'CLUSTER', 'SLOTS')) as Reply[][]))).every(
            (slots) => slots.length === masters && slots.every((range) => range.length >= 4),
          ));
      const ok = synced && states.every((s) => s.includes('cluster_state:ok') && s.includes(`cluster_known_nodes:${total}`));
      if (ok) break;
      if (Date.now() > until) throw new Error(`redis cluster did not become ready: ${states.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { nodes, seeds: nodes.map((n) => `seed[]=${n.address}`).join('&'), stop };
}
