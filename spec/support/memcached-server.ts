/**
 * @module spec/support/memcached-server
 * Starts Debian's `memcached` on 127.0.0.1 with a free port for a test file, and a tiny
 * text-protocol probe to look at what is stored (keys, flags, expiry) the way an operator would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from '../php/runner.ts';
import { which } from './tools.ts';

export interface MemcachedProcess {
  port: number;
  /** `127.0.0.1:<port>` */
  address: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`memcached on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The pid the memcached on `port` reports (`stats`), or -1. */
async function serverPid(port: number): Promise<number> {
  // Someone else's service on the port may never answer like memcached.
  const reply = await textCommand(port, 'stats', undefined, 2000).catch(() => Buffer.alloc(0));
  const m = /STAT pid (\d+)/.exec(reply.toString('latin1'));
  return m ? Number(m[1]) : -1;
}

/**
 * Starts one memcached (`-U 0`, 32 MB) on a free port; `port` to restart on a known one.
 * A free port can be taken by another test process between the probe and memcached's bind; then
 * our memcached exits, and the port may answer with someone else's server. So the server on the
 * port must report our child's pid, else another port is tried.
 */
export async function startMemcached(port?: number): Promise<MemcachedProcess> {
  const bin = which('memcached');
  if (!bin) throw new Error('memcached not found');
  for (let attempt = 1; ; attempt++) {
    const p = port ?? (await freePort());
    const args = ['-l', '127.0.0.1', '-p', String(p), '-U', '0', '-m', '32', '-t', '1'];
    if (process.getuid?.() === 0) args.push('-u', 'nobody');
    const child = spawn(bin, args, { stdio: 'ignore' });
    const exited = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')));
    // Our memcached exits at once when the port is taken (by a server or by some client socket's
    // local port); otherwise the port answers, possibly with someone else's server.
    const port$ = waitForPort(p, 5000).then(
      () => 'up' as const,
      () => 'down' as const,
    );
    if ((await Promise.race([port$, exited])) === 'up' && (await serverPid(p)) === child.pid) {
      return memcachedProcess(p, child);
    }
    child.kill('SIGKILL');
    if (port !== undefined || attempt === 5) throw new Error(`memcached could not start on port ${p} (taken, or served by another memcached)`);
  }
}

function memcachedProcess(p: number, child: ChildProcess): MemcachedProcess {
  let stopped = false;
  return {
    port: p,
    address: `127.0.0.1:${p}`,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (stopped || child.exitCode !== null) {
          stopped = true;
          resolve();
          return;
        }
        stopped = true;
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/** Starts one memcached listening on a unix socket only (`-s path -a 0777`). */
export async function startMemcachedSocket(path: string): Promise<Omit<MemcachedProcess, 'port' | 'address'> & { path: string }> {
  const bin = which('memcached');
  if (!bin) throw new Error('memcached not found');
  const args = ['-s', path, '-a', '0777', '-U', '0', '-m', '16', '-t', '1'];
  if (process.getuid?.() === 0) args.push('-u', 'nobody');
  const child = spawn(bin, args, { stdio: 'ignore' });
  const until = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(path, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`memcached on ${path} did not start`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    path,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/**
 * Sends text-protocol commands and returns the raw reply once `done` matches. Rejects when the
 * reply is not complete after `deadlineMs`: never a partial reply passed off as complete. The
 * deadline is decided after setImmediate, so that a reply which arrived while this process was
 * busy is read first (Node runs expired timers before it reads sockets).
 */
export function textCommand(port: number, command: string, done: RegExp = /(END|OK|DELETED|NOT_FOUND|ERROR)\r\n$/, deadlineMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(port, '127.0.0.1', () => s.write(command.endsWith('\r\n') ? command : `${command}\r\n`));
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (s.destroyed) return;
        s.destroy();
        const got = Buffer.concat(chunks);
        reject(new Error(`memcached on port ${port}: no complete reply to "${command.split('\r\n')[0]}" in ${deadlineMs} ms (${got.length} bytes: ${JSON.stringify(got.subarray(-60).toString('latin1'))})`));
      });
    }, deadlineMs);
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      if (done.test(Buffer.concat(chunks).toString('latin1'))) {
        clearTimeout(timer);
        s.destroy();
        resolve(Buffer.concat(chunks));
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export interface StoredItem {
  key: string;
  flags: number;
  value: Buffer;
}

/** `gets` of one key: flags and raw value as the server holds them, or null. */
export async function getItem(port: number, key: string): Promise<StoredItem | null> {
  const raw = await textCommand(port, `gets ${key}`);
  const text = raw.toString('latin1');
  const m = /^VALUE (\S+) (\d+) (\d+) \d+\r\n/.exec(text);
  if (!m) return null;
  const start = m[0].length;
  return { key: m[1]!, flags: Number(m[2]), value: raw.subarray(start, start + Number(m[3])) };
}

export interface DumpedKey {
  key: string;
  /** Absolute expiry (Unix time), -1 for never. */
  exp: number;
}

/**
 * Every key on the server, with its absolute expiry (`lru_crawler metadump hash`: a walk of the hash
 * table). `metadump all` walks the LRUs instead and can miss items the LRU maintainer moves between
 * sub-LRUs during the walk (just-written or just-read ones; spec/msession shows it on memcached
 * 1.6.18), which made the placement test see a replica "missing" now and then. The listing is
 * complete or this rejects; while the LRU crawler is busy ("BUSY ..."), it asks again.
 */
export async function dumpKeys(port: number): Promise<DumpedKey[]> {
  let raw = '';
  for (let attempt = 0; ; attempt++) {
    raw = (await textCommand(port, 'lru_crawler metadump hash', /(END|BUSY[^\r\n]*)\r\n$/)).toString('latin1');
    if (!raw.startsWith('BUSY')) break;
    if (attempt === 100) throw new Error(`memcached on port ${port}: LRU crawler busy: ${raw.trim()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const out: DumpedKey[] = [];
  for (const line of raw.split(/\r?\n/)) {
    const m = /^key=(\S+) exp=(-?\d+)/.exec(line);
    if (m) out.push({ key: decodeURIComponent(m[1]!), exp: Number(m[2]) });
  }
  return out;
}

export async function flushAll(port: number): Promise<void> {
  await textCommand(port, 'flush_all', /OK\r\n$/);
}
