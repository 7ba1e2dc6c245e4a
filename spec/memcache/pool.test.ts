/**
 * @module spec/memcache/pool
 * Three memcached servers: 1,000 sessions written by PHP are all found by the engine and the other
 * way round, for each module with its default distribution (php-memcached: libmemcached ketama;
 * pecl memcache: consistent crc32 ring, session_redundancy 2), and every key lands on the same
 * server(s) whoever wrote it. With one server down, pecl memcache fails over exactly as PHP does.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { LibmemcachedSelector } from '../../handlers/shared/memcache/ketama.ts';
import { dumpKeys, flushAll, startMemcached, type MemcachedProcess } from '../support/memcached-server.ts';
import { which } from '../support/tools.ts';
import { PHP_EXTENSIONS } from './support.ts';
import { describeWith } from '../support/tools.ts';
import { engineFor, php, savePathFor, useMemcachedServers, type ModuleName } from './support.ts';
import { runPhp } from '../support/tools.ts';

/** php -n with the extensions, display_errors on stderr, any exit code. */
async function runPhpLoose(code: string, iniValues: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const r = await runPhp(code, { extensions: PHP_EXTENSIONS, ini: { display_errors: 'stderr', error_reporting: '-1', ...iniValues } });
  return { stdout: r.stdout.toString(), stderr: r.stderr };
}

function phpWarningTexts(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => /^(?:Warning|Notice|Deprecated):\s+(.*) in Command line code on line \d+$/.exec(l.trim()))
    .filter((m) => m !== null)
    .map((m) => m[1]!);
}

const N = 1000;
const servers: MemcachedProcess[] = [];

const ids = Array.from({ length: N }, (_, i) => `pool${String(i).padStart(5, '0')}${'abcdefghijklmnopqrstuv'.slice(0, 20)}`);

async function placement(): Promise<string[]> {
  const out: string[] = [];
  for (const [i, s] of servers.entries()) {
    if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
    for (const k of await dumpKeys(s.port)) out.push(`${i} ${k.key}`);
  }
  return out.sort();
}

async function flush(): Promise<void> {
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) await flushAll(s.port);
}

function ini(module: ModuleName, addresses = servers.map((s) => s.address)): Record<string, string> {
  return { 'session.save_handler': module, 'session.save_path': savePathFor(module, addresses) };
}

async function phpWriteAll(module: ModuleName): Promise<void> {
  await php(
    `for ($i = 0; $i < ${N}; $i++) { session_id(sprintf('pool%05d%s', $i, 'abcdefghijklmnopqrst')); if (!session_start()) exit(3); $_SESSION['i'] = $i; $_SESSION['by'] = 'php'; session_write_close(); }`,
    ini(module),
    120_000,
  );
}

async function phpCountAll(module: ModuleName, by: string): Promise<number> {
  const r = await php(
    `$ok = 0; for ($i = 0; $i < ${N}; $i++) { session_id(sprintf('pool%05d%s', $i, 'abcdefghijklmnopqrst')); session_start(); if (($_SESSION['i'] ?? -1) === $i && ($_SESSION['by'] ?? '') === '${by}') $ok++; session_write_close(); } echo $ok;`,
    ini(module),
    120_000,
  );
  return Number(r.stdout.toString());
}

async function engineAll(module: ModuleName, fn: 'read' | 'write', by = 'engine'): Promise<number> {
  const engine = engineFor(ini(module));
  let ok = 0;
  const batch = 16; // small enough that a loaded machine stays inside the extensions' 1 s timeouts
  for (let b = 0; b < N; b += batch) {
    await Promise.all(
      ids.slice(b, b + batch).map(async (id, j) => {
        const i = b + j;
        const req = engine.request({ cookies: { PHPSESSID: id } });
        if (!(await req.start())) return;
        if (fn === 'write') {
          req.session.set('i', i);
          req.session.set('by', by);
          ok++;
        } else if (req.session.get('i') === i && req.session.get('by') === by) {
          ok++;
        }
        await req.writeClose();
        await req.end();
      }),
    );
  }
  return ok;
}

describeWith(['memcached', 'php', 'php-ext:memcached', 'php-ext:memcache'], 'memcache modules: a pool of three servers', () => {
  useMemcachedServers(servers, 3);

  for (const module of ['memcached', 'memcache'] as const) {
    describe(module, () => {
      it(`${N} sessions written by PHP are all read by the engine, on the same servers`, async () => {
        await flush();
        await phpWriteAll(module);
        const phpPlacement = await placement();
        // Every server holds some sessions: the distribution really is spread.
        for (let s = 0; s < 3; s++) expect(phpPlacement.filter((l) => l.startsWith(`${s} `)).length).toBeGreaterThan(N / 10);
        expect(await engineAll(module, 'read', 'php')).toBe(N);
        await flush();
        expect(await engineAll(module, 'write')).toBe(N);
        // Same keys on the same servers as PHP wrote them.
        expect(await placement()).toEqual(phpPlacement);
      }, 120_000);

      it(`${N} sessions written by the engine are all read by PHP`, async () => {
        await flush();
        expect(await engineAll(module, 'write')).toBe(N);
        expect(await phpCountAll(module, 'engine')).toBe(N);
      }, 120_000);
    });
  }

  it('memcached: lock records live where libmemcached hashes "lock.<id>" (the prefix is not hashed)', async () => {
    await flush();
    const lockIds = Array.from({ length: 12 }, (_, i) => `lockplace${i}abcdefghij`);
    const args = ['-n', ...PHP_EXTENSIONS.flatMap((e) => ['-d', `extension=${e}`])];
    for (const [k, v] of Object.entries(ini('memcached'))) args.push('-d', `${k}=${v}`);
    const holders = lockIds.map((id) => spawn(which('php')!, [...args, '-r', `session_id('${id}'); session_start(); sleep(30);`], { stdio: 'ignore' }));
    try {
      const until = Date.now() + 20_000;
      let locks: string[] = [];
      while (Date.now() < until) {
        locks = (await placement()).filter((l) => l.includes('memc.sess.key.lock.'));
        if (locks.length === lockIds.length) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const sel = new LibmemcachedSelector(
        servers.map((s) => ({ host: '127.0.0.1', port: s.port, weight: 1 })),
        'ketama',
      );
      expect(locks).toEqual(lockIds.map((id) => `${sel.select(`lock.${id}`)} memc.sess.key.lock.${id}`).sort());
    } finally {
      for (const h of holders) h.kill('SIGKILL');
    }
  }, 60_000);

  it('memcached: with one server down, warnings and results match PHP for ids on each side of the outage', async () => {
    const sel = new LibmemcachedSelector(
      servers.map((s) => ({ host: '127.0.0.1', port: s.port, weight: 1 })),
      'ketama',
    );
    // Ids whose lock / data keys fall on the dead server (index 1) or not, in each combination found.
    const picked = new Map<string, string>();
    for (let i = 0; i < 500 && picked.size < 4; i++) {
      const id = `outage${i}abcdefghijklmnop`;
      const kind = `${sel.select(`lock.${id}`) === 1 ? 'lockdead' : 'lockup'}-${sel.select(id) === 1 ? 'datadead' : 'dataup'}`;
      if (!picked.has(kind)) picked.set(kind, id);
    }
    expect(picked.size).toBe(4);
    const dead = servers[1]!;
    await dead.stop();
    try {
      for (const id of picked.values()) {
        const code = `session_id('${id}'); var_dump(session_start()); $_SESSION['x'] = 1; var_dump(session_write_close());`;
        const r = await runPhpLoose(code, ini('memcached'));
        const req = engineFor(ini('memcached')).request({ cookies: { PHPSESSID: id } });
        const started = await req.start();
        if (started) req.session.set('x', 1);
        const closed = await req.writeClose();
        await req.end();
        expect(`bool(${started}) bool(${closed})`, id).toBe(r.stdout.replace(/\s+/g, ' ').trim());
        const norm = (t: string): string => t.replace(/\(0x[0-9a-f]+\)/g, '(0x…)');
        expect(req.diagnostics.map((d) => norm(d.message)), id).toEqual(phpWarningTexts(r.stderr).map(norm));
      }
    } finally {
      servers[1] = await startMemcached(dead.port);
    }
  }, 60_000);

  it('memcache: with one server down PHP and the engine fail over to the same servers', async () => {
    await flush();
    // A port nothing listens on stands for the dead server (same ring position for everyone).
    const dead = servers[1]!;
    await dead.stop();
    try {
      await phpWriteAll('memcache');
      const phpPlacement = await placement();
      expect(phpPlacement.length).toBeGreaterThan(0);
      expect(await engineAll('memcache', 'read', 'php')).toBe(N);
      await flush();
      expect(await engineAll('memcache', 'write')).toBe(N);
      // The dead server keeps its place in the redundancy count: most sessions end up on one server.
      expect(await placement()).toEqual(phpPlacement);
      expect(await phpCountAll('memcache', 'engine')).toBe(N);
    } finally {
      servers[1] = await startMemcached(dead.port);
    }
  }, 120_000);
});
