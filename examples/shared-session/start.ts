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
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPhpServer, type PhpServer } from '../php-server.ts';
import { createSessionServer } from './server.ts';

export interface SharedSession {
  nodeUrl: string;
  phpUrl: string;
  sessionDir: string;
  stop(): Promise<void>;
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

  let php: PhpServer;
  try {
    php = await startPhpServer(fileURLToPath(new URL('./php/index.php', import.meta.url)), { 'session.save_path': sessionDir }, opts.phpPort ?? 8081);
  } catch (err) {
    server.close();
    throw err;
  }
  return {
    nodeUrl: `http://127.0.0.1:${nodePort}`,
    phpUrl: php.url,
    sessionDir,
    stop: async () => {
      server.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), php.stop()]);
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
