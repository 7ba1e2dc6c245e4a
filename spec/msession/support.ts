/**
 * @module spec/msession/support
 * Backends for the msession suites (files flat, files hashed, memcached, memcache, redis): the ini the
 * engine and PHP share, PHP runs in the foreground and background, and PHP-written sessions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { SessionEngine } from '../../lib/index.ts';
import { closeAllConnections } from '../../handlers/shared/memcache/client.ts';
import { closeRedisConnections } from '../../handlers/redis.ts';
import { redisCommand, startRedis, type RedisProcess } from '../support/redis-server.ts';
import { PHP_EXTENSIONS as REDIS_EXTENSIONS } from '../redis/support.ts';
import { makeHashedTree, tempDir } from '../files/support.ts';
import { startMemcached, textCommand, type MemcachedProcess } from '../support/memcached-server.ts';
import { phpArgs } from '../php/runner.ts';
import { runPhp, which } from '../support/tools.ts';

export interface Backend {
  name: string;
  /** The ini both sides use (save handler, path, serializer). */
  ini: Record<string, string>;
  extensions: string[];
  engine(extra?: Record<string, string>): SessionEngine;
  /** Stores raw bytes as session `id`, bypassing everything (for corrupt data). */
  plant(id: string, bytes: Uint8Array | string): Promise<void>;
}

export const COMMON = {
  'session.use_cookies': '0',
  'session.cache_limiter': '',
  'session.gc_probability': '0',
  'session.serialize_handler': 'php',
};

export const MEMCACHE_EXTENSIONS = ['igbinary', 'msgpack', 'memcached', 'memcache'];

/** Inside a describe: a files backend over a fresh temp dir (`depth` hashed levels). */
export function useFilesBackend(depth: number): Backend {
  const tmp = tempDir(`msession-${depth}`);
  const b: Backend = {
    name: depth === 0 ? 'files (flat)' : `files (${depth} levels)`,
    ini: { ...COMMON, 'session.save_handler': 'files', 'session.save_path': depth === 0 ? tmp.dir : `${depth};${tmp.dir}` },
    extensions: [],
    engine: (extra = {}) => new SessionEngine({ ini: { ...b.ini, ...extra } }),
    plant: async (id, bytes) => {
      let p = tmp.dir;
      for (let i = 0; i < depth; i++) p += `/${id[i]}`;
      writeFileSync(`${p}/sess_${id}`, bytes, { mode: 0o600 });
    },
  };
  beforeAll(() => makeHashedTree(tmp.dir, depth));
  afterAll(() => tmp.remove());
  return b;
}

/** Inside a describe: a memcached server and a backend for the `memcached` or `memcache` module. */
export function useMemcacheBackend(module: 'memcached' | 'memcache'): Backend & { server: () => MemcachedProcess } {
  let server: MemcachedProcess | undefined;
  const b = {
    name: module,
    ini: { ...COMMON, 'session.save_handler': module } as Record<string, string>,
    extensions: MEMCACHE_EXTENSIONS,
    engine: (extra: Record<string, string> = {}) => new SessionEngine({ ini: { ...b.ini, ...extra } }),
    server: () => server!,
    plant: async (id: string, bytes: Uint8Array | string) => {
      const data = Buffer.from(bytes);
      const key = module === 'memcached' ? `memc.sess.key.${id}` : id;
      await textCommand(server!.port, `set ${key} 0 0 ${data.length}\r\n${data.toString('latin1')}`, /STORED\r\n$/);
    },
  };
  beforeAll(async () => {
    server = await startMemcached();
    b.ini['session.save_path'] = module === 'memcached' ? `127.0.0.1:${server.port}` : `tcp://127.0.0.1:${server.port}`;
  }, 30_000);
  afterAll(async () => {
    closeAllConnections();
    await server?.stop();
  });
  return b;
}

// phpredis' default lock wait (10 retries × 2 ms) gives up under contention: PHP's request would
// fail rather than wait. 4000 × 5 ms lets every side wait its turn (both read these ini).
const LOCKING = {
  'redis.session.locking_enabled': '1',
  'redis.session.lock_retries': '4000',
  'redis.session.lock_wait_time': '5000',
};

export function useRedisBackend(prefix?: string): Backend & { server: () => RedisProcess } {
  let server: RedisProcess | undefined;
  const b = {
    name: prefix === undefined ? 'redis' : `redis (prefix ${prefix})`,
    ini: { ...COMMON, ...LOCKING, 'session.save_handler': 'redis' } as Record<string, string>,
    extensions: REDIS_EXTENSIONS,
    engine: (extra: Record<string, string> = {}) => new SessionEngine({ ini: { ...b.ini, ...extra } }),
    server: () => server!,
    plant: async (id: string, bytes: Uint8Array | string) => {
      await redisCommand(server!.port, 'SET', `${prefix ?? 'PHPREDIS_SESSION:'}${id}`, Buffer.from(bytes));
    },
  };
  beforeAll(async () => {
    server = await startRedis();
    b.ini['session.save_path'] = `tcp://127.0.0.1:${server.port}${prefix === undefined ? '' : `?prefix=${encodeURIComponent(prefix)}`}`;
  }, 30_000);
  afterAll(async () => {
    closeRedisConnections();
    await server?.stop();
  });
  return b;
}

function phpIni(b: Backend): Record<string, string> {
  // The save path may hold ';': it is set with ini_set in the script instead.
  const { 'session.save_path': _, ...rest } = b.ini;
  return { display_errors: 'stderr', error_reporting: '-1', ...rest };
}

function prelude(b: Backend): string {
  return `ini_set('session.save_path', base64_decode('${Buffer.from(b.ini['session.save_path']!).toString('base64')}'));\n`;
}

/** Runs PHP code with the backend's configuration; returns stdout (throws on a non-zero exit). */
export async function php(b: Backend, code: string): Promise<string> {
  const r = await runPhp(prelude(b) + code, { ini: phpIni(b), extensions: b.extensions });
  if (r.code !== 0) throw new Error(`php exited ${r.code}: ${r.stderr}\n${r.stdout.toString()}`);
  return r.stdout.toString();
}

export interface PhpChild {
  child: ChildProcess;
  /** Resolves once stdout has contained `text`. */
  saw(text: string): Promise<void>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** PHP in the background (stdout streamed), for the lock tests. */
export function spawnPhp(b: Backend, code: string): PhpChild {
  const bin = which('php');
  if (bin === null) throw new Error('php not found');
  const child = spawn(bin, [...phpArgs({ ini: phpIni(b), extensions: b.extensions }), '-r', prelude(b) + code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters.splice(0)) {
      if (stdout.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (c) => resolve({ code: c, stdout, stderr })));
  return {
    child,
    done,
    saw: (text) =>
      new Promise<void>((resolve, reject) => {
        if (stdout.includes(text)) return resolve();
        waiters.push({ text, resolve });
        void done.then(() => (stdout.includes(text) ? resolve() : reject(new Error(`php exited before printing ${text}: ${stderr}${stdout}`))));
      }),
  };
}

/** PHP writes each session of `sessions` (id → $_SESSION, given as JSON). */
export async function phpWrites(b: Backend, sessions: Record<string, unknown>): Promise<void> {
  const json = Buffer.from(JSON.stringify(sessions)).toString('base64');
  await php(
    b,
    `foreach (json_decode(base64_decode('${json}'), true) as $id => $data) {
       session_id((string)$id); session_start(); $_SESSION = $data; if (!session_write_close()) { fwrite(STDERR, "write failed $id"); exit(3); }
     }`,
  );
}

/**
 * PHP reads sessions and returns their $_SESSION as JSON (missing sessions come back as []).
 * session_write_close(), not read_and_close: pecl memcache releases its lock only on write.
 */
export async function phpReads(b: Backend, ids: string[]): Promise<Record<string, unknown>> {
  const list = Buffer.from(JSON.stringify(ids)).toString('base64');
  const out = await php(
    b,
    `$out = []; foreach (json_decode(base64_decode('${list}'), true) as $id) { session_id($id); session_start(); $out[$id] = $_SESSION; session_write_close(); }
     echo json_encode($out);`,
  );
  return JSON.parse(out) as Record<string, unknown>;
}

/** The whole of an async iterable. */
export async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
