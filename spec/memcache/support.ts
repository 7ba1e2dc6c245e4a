/**
 * @module spec/memcache/support
 * Running PHP with the memcache extensions (php -n: PHP's built-in defaults plus the extensions;
 * php-memcached needs igbinary and msgpack loaded first), and the engine with the same settings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import { closeAllConnections, MemcacheIoError } from '../../handlers/shared/memcache/client.ts';
import { startMemcached, type MemcachedProcess } from '../support/memcached-server.ts';
import { runPhp, which, type RunResult } from '../support/tools.ts';

export const PHP_EXTENSIONS = ['igbinary', 'msgpack', 'memcached', 'memcache'];

export type ModuleName = 'memcached' | 'memcache';

/** session.save_path for a module over some `127.0.0.1:port` addresses. */
export function savePathFor(module: ModuleName, addresses: string[]): string {
  return module === 'memcached' ? addresses.join(',') : addresses.map((a) => `tcp://${a}`).join(',');
}

/** php -n with the memcache extensions and the given ini; throws with PHP's stderr on a non-zero exit. */
export async function php(code: string, ini: Record<string, string>, timeoutMs = 60_000): Promise<RunResult> {
  const r = await runPhp(code, {
    extensions: PHP_EXTENSIONS,
    ini: { display_errors: 'stderr', error_reporting: '-1', ...ini },
    timeoutMs,
  });
  if (r.code !== 0) throw new Error(`php exited ${r.code}: ${r.stderr}\n${r.stdout.toString()}`);
  return r;
}

export function engineFor(ini: Record<string, string>): SessionEngine {
  return new SessionEngine({ ini });
}

/** PHP source for a string literal holding arbitrary bytes (base64-decoded at run time). */
export function phpBytes(b: Uint8Array | string): string {
  return `base64_decode('${Buffer.from(b).toString('base64')}')`;
}

/**
 * Inside a describe block: starts `count` memcached servers into `servers` before its tests, and
 * afterwards closes every client connection and stops them.
 */
export function useMemcachedServers(servers: MemcachedProcess[], count: number): void {
  beforeAll(async () => {
    servers.push(...(await Promise.all(Array.from({ length: count }, () => startMemcached()))));
  }, 30_000);
  afterAll(async () => {
    closeAllConnections();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
}

export interface PhpChild {
  child: ChildProcess;
  /** Resolves when the process has exited (code null when killed). */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill(): void;
}

/**
 * Starts PHP on `code` (no `<?php`) in the background with the memcache extensions and `ini`:
 * `php -n -r` (the CLI: max_execution_time 0), or with `cgi` php-cgi -n on a temp script (the
 * SAPI of php-fpm's defaults: max_execution_time 30).
 */
export function spawnPhp(code: string, ini: Record<string, string>, opts: { cgi?: boolean } = {}): PhpChild {
  const args = ['-n', ...PHP_EXTENSIONS.flatMap((e) => ['-d', `extension=${e}`])];
  for (const [k, v] of Object.entries({ display_errors: 'stderr', error_reporting: '-1', ...ini })) args.push('-d', `${k}=${v}`);
  let dir: string | undefined;
  if (opts.cgi === true) {
    dir = mkdtempSync(join(tmpdir(), 'pse-cgi-'));
    const file = join(dir, 'script.php');
    writeFileSync(file, `<?php ${code}`);
    // Not -q: php-cgi then counts the headers as sent, and session_start() refuses to run.
    args.push(file);
  } else {
    args.push('-r', code);
  }
  const bin = which(opts.cgi === true ? 'php-cgi' : 'php');
  if (bin === null) throw new Error(`${opts.cgi === true ? 'php-cgi' : 'php'} not found`);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (c) => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      resolve({ code: c, stdout, stderr });
    }),
  );
  return { child, done, kill: () => child.kill('SIGKILL') };
}

/** Expects `p` to reject with a MemcacheIoError; returns its kind. */
export async function failure(p: Promise<unknown>): Promise<string> {
  const r = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (r.ok) throw new Error(`expected a MemcacheIoError, got ${String(r.v)}`);
  expect(r.e).toBeInstanceOf(MemcacheIoError);
  return (r.e as MemcacheIoError).kind;
}
