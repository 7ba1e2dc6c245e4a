/**
 * @module spec/memcache/ini
 * The memcached.sess_* and memcache.* directives: defaults as `php -n` with the extensions reports
 * them, and ini_set() refusals (return value, warning text, value kept) compared with PHP.
 */
import { describe, expect, it } from 'vitest';
import { memcacheIni } from '../../handlers/memcache.ts';
import { memcachedIni } from '../../handlers/memcached.ts';
import { describeWith } from '../support/tools.ts';
import { engineFor, php } from './support.ts';

const CASES: [string, string][] = [
  ['memcached.sess_consistent_hash_type', 'x'],
  ['memcached.sess_consistent_hash_type', 'ketama_weighted'],
  ['memcached.sess_prefix', 'a b'],
  ['memcached.sess_prefix', 'a'.repeat(300)],
  ['memcached.sess_prefix', 'app1.'],
  ['memcache.hash_strategy', 'x'],
  ['memcache.hash_strategy', 'Standard'],
  ['memcache.hash_function', 'fnv'],
  ['memcache.hash_function', 'md5'],
  ['memcache.protocol', 'x'],
  ['memcache.lock_timeout', '0'],
  ['memcache.lock_timeout', '5x'],
  ['memcache.lock_timeout', '5'],
  ['memcache.compress_threshold', '-1'],
  ['memcache.compress_threshold', '0'],
  ['memcache.session_redundancy', '0'],
  ['memcache.session_redundancy', ' 3'],
  ['memcache.max_failover_attempts', '0'],
  ['memcache.chunk_size', '0'],
];

describeWith(['php', 'php-ext:memcached', 'php-ext:memcache'], 'memcache modules: ini directives compared with PHP', () => {
  it('defaults are the extensions\' defaults', async () => {
    const names = [...memcachedIni, ...memcacheIni].map((e) => e.name);
    const r = await php(`foreach (json_decode('${JSON.stringify(names)}') as $n) echo $n, '=', ini_get($n), "\\n";`, {});
    const fromPhp = r.stdout.toString().trim().split('\n');
    expect([...memcachedIni, ...memcacheIni].map((e) => `${e.name}=${e.default}`)).toEqual(fromPhp);
  });

  it('ini_set() accepts and refuses values as PHP does, with the same warnings', async () => {
    const r = await php(
      `foreach (json_decode(base64_decode('${Buffer.from(JSON.stringify(CASES)).toString('base64')}')) as [$k, $v]) { $old = ini_set($k, $v); echo json_encode([$old, ini_get($k)]), "\\n"; ini_restore($k); }`,
      {},
    );
    const phpLines = r.stdout.toString().trim().split('\n');
    const phpWarnings = r.stderr
      .split('\n')
      .map((l) => /^(Warning|Deprecated):\s+(.*) in Command line code on line \d+$/.exec(l.trim()))
      .filter((m) => m !== null)
      .map((m) => m[2]);
    const engine = engineFor({});
    const ours: string[] = [];
    const warnings: string[] = [];
    for (const [k, v] of CASES) {
      const req = engine.request({});
      const old = req.iniSet(k, v);
      ours.push(JSON.stringify([old, req.iniGet(k)]));
      warnings.push(...req.diagnostics.map((d) => d.message));
      await req.end();
    }
    expect(ours).toEqual(phpLines);
    expect(warnings).toEqual(phpWarnings);
  });
});

describe('session_engine.max_execution_time (the memcached lock expiry when sess_lock_expire is 0)', () => {
  it('defaults to 30 and takes positive seconds only, so every lock expires', async () => {
    const engine = engineFor({});
    expect(engine.iniGet('session_engine.max_execution_time')).toBe('30');
    const results: unknown[] = [];
    const warnings: string[] = [];
    for (const v of ['0', '-5', 'x', '', '7']) {
      const req = engine.request({});
      results.push([req.iniSet('session_engine.max_execution_time', v), req.iniGet('session_engine.max_execution_time')]);
      warnings.push(...req.diagnostics.map((d) => d.message));
      await req.end();
    }
    expect(results).toEqual([[false, '30'], [false, '30'], [false, '30'], [false, '30'], ['30', '7']]);
    expect(warnings).toEqual(
      ['0', '-5', 'x', ''].map((v) => `ini_set(): session_engine.max_execution_time must be a positive number of seconds; "${v}" given`),
    );
    const atStartup = engineFor({ 'session_engine.max_execution_time': '0' });
    expect(atStartup.iniGet('session_engine.max_execution_time')).toBe('30');
    expect(atStartup.startupDiagnostics.map((d) => d.message)).toEqual([
      'PHP Startup: session_engine.max_execution_time must be a positive number of seconds; "0" given',
    ]);
  });
});
