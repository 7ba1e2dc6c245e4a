/**
 * Starts examples/adapters: PHP's built-in server (php/index.php) and one Node app per adapter
 * (node:http, Express, Fastify, Hono), all on one session directory. With one cookie jar:
 *
 *   curl -c jar -b jar 'http://127.0.0.1:8081/login?user=7'          # PHP logs in
 *   curl -c jar -b jar 'http://127.0.0.1:8082/cart/add?item=apple&qty=2'  # Express: user_id 7
 *   curl -c jar -b jar 'http://127.0.0.1:8081/'                       # PHP: cart apple => int 2
 *
 * Env: PHP_PORT (8081), then http, express, fastify, hono on NODE_PORT (8080), +2, +3, +4; SESSION_DIR
 * (created when missing; a new temp dir by default). Ctrl-C stops everything.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PhpSessionOptions } from 'php-session-engine/http';
import { startPhpServer, type PhpServer } from '../php-server.ts';
import { starters, type RunningApp } from './apps.ts';

export type { PhpServer } from '../php-server.ts';

export type AppName = keyof typeof starters;

/** php -S on php/index.php with the given session directory (and extra -d settings). */
export function startPhp(sessionDir: string, port = 0, ini: Record<string, string> = {}): Promise<PhpServer> {
  return startPhpServer(fileURLToPath(new URL('./php/index.php', import.meta.url)), { 'session.save_path': sessionDir, ...ini }, port);
}

/** Starts one adapter's app on the session directory (files module, PHP's lock). */
export function startApp(name: AppName, sessionDir: string, options: PhpSessionOptions = {}, port = 0): Promise<RunningApp> {
  return starters[name]({ ...options, ini: { 'session.save_path': sessionDir, 'session.gc_probability': 0, ...options.ini } }, port);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.env['SESSION_DIR'];
  const sessionDir = dir ?? mkdtempSync(join(tmpdir(), 'adapters-example-'));
  mkdirSync(sessionDir, { recursive: true });
  const nodePort = Number(process.env['NODE_PORT'] ?? 8080);
  const php = await startPhp(sessionDir, Number(process.env['PHP_PORT'] ?? 8081));
  const apps: Array<[string, RunningApp]> = [];
  const names = Object.keys(starters) as AppName[];
  for (const [i, name] of names.entries()) apps.push([name, await startApp(name, sessionDir, { onDiagnostic: (d) => console.warn(`[${name}] ${d.level}: ${d.message}`) }, nodePort + (i === 0 ? 0 : i + 1))]);
  console.log(`PHP (php -S): ${php.url}`);
  for (const [name, app] of apps) console.log(`${name.padEnd(12)} ${app.url}`);
  console.log(`session files: ${sessionDir}`);
  console.log(`Try: curl -c jar -b jar '${php.url}/login?user=7' && curl -c jar -b jar '${apps[1]![1].url}/cart/add?item=apple&qty=2'`);
  const stop = (): void =>
    void Promise.all([php.stop(), ...apps.map(([, a]) => a.close())]).then(() => {
      if (dir === undefined) rmSync(sessionDir, { recursive: true, force: true });
      process.exit(0);
    });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
