/**
 * PHP's built-in server (`php -S`) for the examples: a router script in its own process group (php -S
 * forks workers, and stop() ends the whole group), warnings and errors passed to our stderr, and a
 * wait until it answers HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { dirname } from 'node:path';

export interface PhpServer {
  url: string;
  stop(): Promise<void>;
}

/** A port the OS has free now (php -S has no "any free port" of its own). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
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

/** Starts `php -S 127.0.0.1:<port>` on `router` (its folder the docroot) with -d settings; port 0 picks a free one. */
export async function startPhpServer(router: string, ini: Record<string, string>, port = 0): Promise<PhpServer> {
  const p = port === 0 ? await freePort() : port;
  const args = ['-d', 'display_errors=stderr'];
  for (const [k, v] of Object.entries(ini)) args.push('-d', `${k}=${v}`);
  args.push('-S', `127.0.0.1:${p}`, '-t', dirname(router), router);
  const php = spawn('php', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PHP_CLI_SERVER_WORKERS: '4' }, detached: true });
  php.stderr!.on('data', (d: Buffer) => {
    const line = d.toString();
    if (/warning|error|fatal/i.test(line)) process.stderr.write(`[php] ${line}`);
  });
  const url = `http://127.0.0.1:${p}`;
  for (let i = 0; ; i++) {
    if (php.exitCode !== null) throw new Error(`php -S exited with ${php.exitCode}`);
    try {
      await fetch(url, { method: 'HEAD' });
      break;
    } catch {
      if (i >= 200) {
        killGroup(php);
        throw new Error(`${url} did not come up`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    stop: async () => {
      const exited = new Promise((r) => (php.exitCode !== null ? r(null) : php.once('exit', r)));
      killGroup(php);
      await exited;
    },
  };
}
