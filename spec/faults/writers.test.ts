/**
 * @module spec/faults/writers
 * K Node requests in one process and K PHP processes increment one session counter, for every
 * module (files, memcached, memcache, redis with its locking on). Each side counts the increments it was told succeeded (no
 * warning; session_write_close() alone says nothing, it returns true in PHP 8.2 even when the
 * write failed). The counter must end exactly at the sum: a failure may happen (a lock not
 * obtained in time), but only loudly, never as a success whose write was lost.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import { closeAllConnections } from '../../handlers/shared/memcache/client.ts';
import { tempDir } from '../files/support.ts';
import { closeRedisConnections } from '../../handlers/redis.ts';
import { PHP_EXTENSIONS } from '../memcache/support.ts';
import { PHP_EXTENSIONS as REDIS_EXTENSIONS } from '../redis/support.ts';
import { startMemcached, type MemcachedProcess } from '../support/memcached-server.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import { describeWith, which } from '../support/tools.ts';
import { increment, storedN } from './support.ts';

const K_NODE = 24;
const K_PHP = 4;
const M = 5;

type Module = 'files' | 'memcached' | 'memcache' | 'redis';

/** The same settings on both sides: quick lock retries, a lock budget no request comes near. */
function iniFor(module: Module, savePath: string): Record<string, string> {
  switch (module) {
    case 'files':
      return { 'session.save_handler': 'files', 'session.save_path': savePath };
    case 'memcached':
      return {
        'session.save_handler': 'memcached',
        'session.save_path': savePath,
        'memcached.sess_lock_wait_min': '5',
        'memcached.sess_lock_wait_max': '20',
        'memcached.sess_lock_retries': '200',
      };
    case 'memcache':
      return { 'session.save_handler': 'memcache', 'session.save_path': `tcp://${savePath}`, 'memcache.lock_timeout': '1' };
    case 'redis':
      // phpredis locks only when asked; 1,000 tries 5 ms apart.
      return {
        'session.save_handler': 'redis',
        'session.save_path': `tcp://${savePath}`,
        'redis.session.locking_enabled': '1',
        'redis.session.lock_retries': '1000',
        'redis.session.lock_wait_time': '5000',
      };
  }
}

/** A PHP process making M attempts; prints "OK <acknowledged increments>". */
function phpWriter(module: Module, id: string, ini: Record<string, string>): Promise<{ ok: number; stderr: string }> {
  const args = ['-n'];
  if (module !== 'files') for (const e of module === 'redis' ? REDIS_EXTENSIONS : PHP_EXTENSIONS) args.push('-d', `extension=${e}`);
  const all: Record<string, string> = { display_errors: 'stderr', 'session.gc_probability': '0', 'session.cache_limiter': '', ...ini };
  // The files save path may hold ';': set from the script.
  const savePath = all['session.save_path']!;
  delete all['session.save_path'];
  for (const [k, v] of Object.entries(all)) args.push('-d', `${k}=${v}`);
  args.push(
    '-r',
    `ini_set('session.save_path', base64_decode('${Buffer.from(savePath).toString('base64')}')); $ok = 0; ` +
      `for ($j = 0; $j < ${M}; $j++) { session_id('${id}'); error_clear_last(); ` +
      `if (@session_start()) { $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1; @session_write_close(); if (error_get_last() === null) $ok++; } } echo "OK $ok";`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(which('php')!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /OK (\d+)$/.exec(out);
      if (code !== 0 || m === null) reject(new Error(`php exited ${code}: ${out} ${stderr}`));
      else resolve({ ok: Number(m[1]), stderr });
    });
  });
}

describeWith(['php', 'memcached', 'redis-server', 'php-ext:memcached', 'php-ext:memcache', 'php-ext:redis'], `${K_NODE} Node requests and ${K_PHP} PHP processes on one session, ${M} increments each`, () => {
  let memcached: MemcachedProcess;
  let redis: RedisProcess;
  const tmp = tempDir('writers');
  beforeAll(async () => {
    [memcached, redis] = await Promise.all([startMemcached(), startRedis()]);
  }, 30_000);
  afterAll(async () => {
    closeAllConnections();
    closeRedisConnections();
    await Promise.all([memcached?.stop(), redis?.stop()]);
    tmp.remove();
  });

  describe.each(['files', 'memcached', 'memcache', 'redis'] as const)('%s', (module) => {
    it('the counter equals the increments each side was told succeeded; every failure is loud', async () => {
      const id = `writers${module}${process.pid}`;
      const server = module === 'redis' ? redis : memcached;
      const ini = iniFor(module, module === 'files' ? tmp.dir : server.address);
      const engine = new SessionEngine({ ini: { 'session.cache_limiter': '', ...ini } });
      let nodeOk = 0;
      const silent: string[] = [];
      const nodeLoop = async (): Promise<void> => {
        for (let j = 0; j < M; j++) {
          const a = await increment(engine, id);
          if (a.started && a.closed && a.warnings.length === 0) nodeOk++;
          else if (a.warnings.length === 0) silent.push(JSON.stringify(a));
        }
      };
      const [phps] = await Promise.all([
        Promise.all(Array.from({ length: K_PHP }, () => phpWriter(module, id, ini))),
        ...Array.from({ length: K_NODE }, nodeLoop),
      ]);
      const phpOk = phps.reduce((s, p) => s + p.ok, 0);
      const counter =
        module === 'files'
          ? Number(/n\|i:(\d+);/.exec(readFileSync(`${tmp.dir}/sess_${id}`, 'latin1'))?.[1] ?? -1)
          : await storedN(server.port, module, id);
      console.log(`[faults] ${module}: node ${nodeOk}/${K_NODE * M} acknowledged, php ${phpOk}/${K_PHP * M}, counter ${counter}`);
      expect(silent).toEqual([]);
      expect(counter).toBe(nodeOk + phpOk);
    }, 60_000);
  });
});
