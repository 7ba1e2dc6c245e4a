/**
 * @module spec/redis/support
 * Running PHP with phpredis (php -n: PHP's built-in defaults plus igbinary and redis, which
 * Debian's redis.so needs loaded first) and the engine with the same settings.
 */
import { afterAll, beforeAll } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import { closeRedisConnections } from '../../handlers/redis.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import { runPhp, type RunResult } from '../support/tools.ts';

export const PHP_EXTENSIONS = ['igbinary', 'redis'];
export const TOOLS = ['redis-server', 'php', 'php-ext:redis'];

/** An ini value as `php -d` needs it: quoted when it holds anything but plain characters. */
function iniValue(v: string): string {
  return /^[A-Za-z0-9_.:/-]*$/.test(v) ? v : `"${v}"`;
}

/** php -n with phpredis and the given ini; PHP's stderr is returned (display_errors=stderr). */
export async function php(code: string, ini: Record<string, string>, opts: { timeoutMs?: number; allowFailure?: boolean } = {}): Promise<RunResult> {
  const quoted: Record<string, string> = {};
  for (const [k, v] of Object.entries({ display_errors: 'stderr', error_reporting: '-1', ...ini })) quoted[k] = iniValue(v);
  const r = await runPhp(code, { extensions: PHP_EXTENSIONS, ini: quoted, timeoutMs: opts.timeoutMs ?? 60_000 });
  if (r.code !== 0 && !opts.allowFailure) throw new Error(`php exited ${r.code}: ${r.stderr}\n${r.stdout.toString()}`);
  return r;
}

/** PHP's diagnostics from stderr, as the engine reports them ("session_start(): ..."). */
export function phpDiagnostics(stderr: string): { level: string; message: string }[] {
  const out: { level: string; message: string }[] = [];
  const levels: Record<string, string> = { Warning: 'E_WARNING', Notice: 'E_NOTICE', Deprecated: 'E_DEPRECATED', 'Fatal error': 'E_ERROR' };
  // A message may span lines (OpenSSL's errors follow "OpenSSL Error messages:" on the next one).
  const re = /^(?:PHP )?(Warning|Notice|Deprecated|Fatal error):\s+(.*?(?:OpenSSL Error messages:\n.*)?) in (?:Command line code|\S+) on line \d+$/gm;
  for (const m of stderr.replace(/\r/g, '').matchAll(re)) out.push({ level: levels[m[1]!]!, message: m[2]!.trim() });
  return out;
}

export function engineFor(ini: Record<string, string>): SessionEngine {
  return new SessionEngine({ ini });
}

/** PHP source for a string literal holding arbitrary bytes. */
export function phpBytes(b: Uint8Array | string): string {
  return `base64_decode('${Buffer.from(b).toString('base64')}')`;
}

/** Inside a describe block: `count` redis servers for its tests, stopped afterwards. */
export function useRedisServers(servers: RedisProcess[], count: number): void {
  beforeAll(async () => {
    servers.push(...(await Promise.all(Array.from({ length: count }, () => startRedis()))));
  }, 30_000);
  afterAll(async () => {
    closeRedisConnections();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
}
