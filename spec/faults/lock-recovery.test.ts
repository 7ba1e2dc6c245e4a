/**
 * @module spec/faults/lock-recovery
 * kill -9 of a process that holds a session lock (issue #10, item 3). A Node process (the engine,
 * in a child) or a PHP process takes the lock on a session and is killed with SIGKILL; then the
 * next engine request and the next PHP request, started together, both get the session with the
 * data the killed process found, and their two increments both land:
 * - files: the kernel drops the dead process's flock at once;
 * - memcached: the lock item expires (php-memcached: sess_lock_expire, else max_execution_time;
 *   the engine's stand-in is session_engine.max_execution_time, 2 s here; PHP under php-cgi with
 *   max_execution_time=2);
 * - memcache: the lock item expires after memcache.lock_timeout (2 s here).
 * Expiries are 2 s so the file runs in seconds; the requests after the kill wait long enough
 * (their lock budgets are several times that) and nothing here measures time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import type { MemcachedProcess } from '../support/memcached-server.ts';
import { describeWith } from '../support/tools.ts';
import { php, spawnPhp, useMemcachedServers, type PhpChild } from '../memcache/support.ts';

type Module = 'files' | 'memcached' | 'memcache';

const HOLDER = fileURLToPath(new URL('./lock-holder.ts', import.meta.url));

interface Setup {
  /** For the killed holder (and the seed write): short lock lifetimes. */
  holder: Record<string, string>;
  /** For the requests after the kill: lock waits well past those lifetimes. */
  next: Record<string, string>;
  /** The PHP holder runs under php-cgi (max_execution_time as under php-fpm) rather than the CLI. */
  phpCgi: boolean;
}

function setupFor(module: Module, savePath: string): Setup {
  const base = { 'session.save_handler': module, 'session.save_path': savePath };
  switch (module) {
    case 'files':
      return { holder: base, next: base, phpCgi: false };
    case 'memcached':
      return {
        // sess_lock_expire stays 0: the expiry comes from max_execution_time on both sides.
        holder: { ...base, 'session_engine.max_execution_time': '2', max_execution_time: '2' },
        next: { ...base, 'memcached.sess_lock_retries': '100', 'memcached.sess_lock_wait_min': '100', 'memcached.sess_lock_wait_max': '100' },
        phpCgi: true,
      };
    case 'memcache':
      return { holder: { ...base, 'memcache.lock_timeout': '2' }, next: { ...base, 'memcache.lock_timeout': '10' }, phpCgi: false };
  }
}

/** Only the directives each side knows (PHP warns about none, the engine ignores unknown ones). */
function phpIni(ini: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(ini).filter(([k]) => !k.startsWith('session_engine.')));
}
function engineIni(ini: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(ini).filter(([k]) => k !== 'max_execution_time'));
}

/** Resolves with the first stdout line starting with `locked`; rejects if the child exits first or after 30 s. */
function lockedLine(child: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`holder never reported the lock: ${out} ${stderr()}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      // A whole line only: PHP's echo may arrive in pieces.
      const m = /^(locked .*)\n/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`holder exited (${code}) before holding the lock: ${out} ${stderr()}`));
    });
  });
}

function nodeHolder(ini: Record<string, string>, id: string): { child: ChildProcess; locked: Promise<string> } {
  const child = spawn(process.execPath, ['--conditions=php-session-engine-source', '--import', 'tsx', HOLDER, JSON.stringify(engineIni(ini)), id], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, locked: lockedLine(child, () => err) };
}

function phpHolder(ini: Record<string, string>, id: string, cgi: boolean): { child: ChildProcess; locked: Promise<string>; php: PhpChild } {
  const p = spawnPhp(`session_id('${id}'); session_start(); echo 'locked ', json_encode($_SESSION['n'] ?? null), "\\n"; flush(); sleep(60);`, phpIni(ini), { cgi });
  let err = '';
  p.child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child: p.child, locked: lockedLine(p.child, () => err), php: p };
}

async function killed(child: ChildProcess): Promise<void> {
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

async function engineIncrement(ini: Record<string, string>, id: string): Promise<{ ok: boolean; saw: unknown; diagnostics: string[] }> {
  const req = new SessionEngine({ ini: engineIni(ini) }).request({ cookies: { PHPSESSID: id } });
  const started = await req.start();
  const saw = started ? (req.session.get('n') ?? null) : undefined;
  if (started) req.session.set('n', ((saw as number | null) ?? 0) + 1);
  const ok = started && (await req.writeClose());
  await req.end();
  return { ok, saw, diagnostics: req.diagnostics.map((d) => d.message) };
}

async function phpIncrement(ini: Record<string, string>, id: string): Promise<string> {
  const r = await php(
    `session_id('${id}'); if (!session_start()) exit(3); $saw = $_SESSION['n'] ?? null; $_SESSION['n'] = ($saw ?? 0) + 1; if (!session_write_close()) exit(4); echo json_encode($saw);`,
    phpIni(ini),
  );
  return r.stdout.toString();
}

let seq = 0;

function recoveryTests(module: Module, savePath: () => string): void {
  for (const holderKind of ['node', 'php'] as const) {
    it(`${module}: a ${holderKind === 'node' ? 'Node (engine)' : 'PHP'} process killed with SIGKILL while holding the lock; the next engine and PHP requests both get the session`, async () => {
      const s = setupFor(module, savePath());
      const id = `killed${holderKind}${process.pid}x${++seq}`;
      // Seed n = 1 with the holder's settings (pecl memcache's lock record keeps the lifetime of
      // the write before it when incr takes it).
      expect(await engineIncrement(s.holder, id)).toMatchObject({ ok: true, saw: null });
      const holder = holderKind === 'node' ? nodeHolder(s.holder, id) : phpHolder(s.holder, id, s.phpCgi);
      expect(await holder.locked).toBe('locked 1');
      await killed(holder.child);
      const [fromEngine, fromPhp] = await Promise.all([engineIncrement(s.next, id), phpIncrement(s.next, id)]);
      expect(fromEngine.diagnostics).toEqual([]);
      expect(fromEngine.ok).toBe(true);
      // Whoever came second saw the first one's write.
      expect([fromEngine.saw, JSON.parse(fromPhp) as unknown].sort()).toEqual([1, 2]);
      expect(await phpIncrement(s.next, id)).toBe('3');
    }, 60_000);
  }
}

describeWith(['php', 'php-cgi', 'memcached', 'php-ext:memcached', 'php-ext:memcache'], 'kill -9 of a lock holder: the next requests recover as in PHP', () => {
  describe('files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pse-lockrec-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    recoveryTests('files', () => dir);
  });

  describe('memcache modules', () => {
    const servers: MemcachedProcess[] = [];
    useMemcachedServers(servers, 1);
    recoveryTests('memcached', () => servers[0]!.address);
    recoveryTests('memcache', () => `tcp://${servers[0]!.address}`);
  });
});
