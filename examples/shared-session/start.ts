/**
 * Starts the shared-session example: PHP's built-in server (php -S) running php/index.php and the
 * Node server (server.ts), both on one session directory. Move between them with one cookie jar:
 *
 *   curl -c jar -b jar http://127.0.0.1:8081/add?item=apple     # PHP
 *   curl -c jar -b jar http://127.0.0.1:8080/add?item=pear      # Node: sees the apple, adds a pear
 *   curl -c jar -b jar http://127.0.0.1:8081/                    # PHP: visits 3, cart apple+pear
 *
 * Env: NODE_PORT (8080), PHP_PORT (8081), SESSION_DIR (a new temp dir; created when missing, kept on
 * exit). Ctrl-C stops both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSessionServer } from './server.ts';

export interface SharedSession {
  nodeUrl: string;
  phpUrl: string;
  sessionDir: string;
  stop(): Promise<void>;
}

/** SIGTERM to php -S and its forked workers (the group spawn() made with detached: true). */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`php -S exited with ${child.exitCode}`);
    try {
      await fetch(url, { method: 'HEAD' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${url} did not come up`);
}

/**
 * A session directory given by the user: created when missing (PHP's files module, like ours, opens
 * files in it but never creates it), refused with a clear message when it is not a directory.
 */
function ensureDirectory(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`SESSION_DIR ${dir}: ${(err as Error).message}`, { cause: err });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return;
  }
  if (!isDir) throw new Error(`SESSION_DIR ${dir} is not a directory`);
}

/** Starts both servers; port 0 picks a free port. */
export async function startSharedSession(opts: { nodePort?: number; phpPort?: number; sessionDir?: string } = {}): Promise<SharedSession> {
  const sessionDir = opts.sessionDir ?? mkdtempSync(join(tmpdir(), 'shared-session-'));
  if (opts.sessionDir !== undefined) ensureDirectory(opts.sessionDir);
  const server: Server = createSessionServer(sessionDir);
  await new Promise<void>((r) => server.listen(opts.nodePort ?? 8080, '127.0.0.1', r));
  const nodePort = (server.address() as AddressInfo).port;

  let phpPort = opts.phpPort ?? 8081;
  if (phpPort === 0) {
    // php -S has no "any free port": borrow one from the OS.
    const probe = (await import('node:net')).createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    phpPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
  }
  const docroot = fileURLToPath(new URL('./php/', import.meta.url));
  const php = spawn(
    'php',
    ['-d', `session.save_path=${sessionDir}`, '-d', 'display_errors=stderr', '-S', `127.0.0.1:${phpPort}`, '-t', docroot, join(docroot, 'index.php')],
    // Its own process group: php -S forks workers, and stop() ends the whole group.
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PHP_CLI_SERVER_WORKERS: '4' }, detached: true },
  );
  php.stderr!.on('data', (d: Buffer) => {
    const line = d.toString();
    if (/warning|error|fatal/i.test(line)) process.stderr.write(`[php] ${line}`);
  });
  const phpUrl = `http://127.0.0.1:${phpPort}`;
  try {
    await waitForHttp(phpUrl, php);
  } catch (err) {
    killGroup(php);
    server.close();
    throw err;
  }
  return {
    nodeUrl: `http://127.0.0.1:${nodePort}`,
    phpUrl,
    sessionDir,
    stop: async () => {
      const exited = new Promise((r) => (php.exitCode !== null ? r(null) : php.once('exit', r)));
      killGroup(php);
      server.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), exited]);
      // A session directory made here goes with the servers; one passed in is left alone.
      if (opts.sessionDir === undefined) rmSync(sessionDir, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = await startSharedSession({
    nodePort: Number(process.env['NODE_PORT'] ?? 8080),
    phpPort: Number(process.env['PHP_PORT'] ?? 8081),
    ...(process.env['SESSION_DIR'] ? { sessionDir: process.env['SESSION_DIR'] } : {}),
  });
  console.log(`Node (php-session-engine): ${s.nodeUrl}\nPHP (php -S):              ${s.phpUrl}\nsession files:             ${s.sessionDir}`);
  console.log(`Try: curl -c jar -b jar ${s.phpUrl}/add?item=apple && curl -c jar -b jar ${s.nodeUrl}/add?item=pear`);
  const stop = () => void s.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
