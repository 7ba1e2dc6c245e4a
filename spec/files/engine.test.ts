/**
 * @module spec/files/engine
 * The files module driven through the SessionEngine, against live PHP: the 2·K·M counter with
 * engine requests (start, modify $_SESSION, write_close) racing PHP processes, lazy_write's
 * touch, and the lock wait limit as session_start() sees it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync, utimesSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import { LockTimeoutError } from '../../lib/errors.ts';
import { testSessionId } from '../handlers/suite.ts';
import { describeWith, which } from '../support/tools.ts';
import { php, phpStr, tempDir } from './support.ts';

const K = 4;
const M = 25;

function phpProcess(savePath: string, code: string, marker: string): { ready: Promise<void>; done: Promise<string> } {
  const child = spawn(which('php')!, ['-n', '-d', 'session.use_cookies=0', '-d', 'session.cache_limiter=', '-d', 'display_errors=1', '-r', `ini_set('session.save_path', ${phpStr(savePath)}); ${code}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes(marker)) ready();
  });
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => (c === 0 ? resolve(out) : reject(new Error(`php exited ${c}: ${out}`))));
  });
  return { ready: readyP, done };
}

describeWith(['php'], 'files module through the engine, with PHP', () => {
  const tmp = tempDir('engine-files');
  afterAll(() => tmp.remove());
  const engine = (ini: Record<string, string | number> = {}) =>
    new SessionEngine({ ini: { 'session.save_path': tmp.dir, 'session.cache_limiter': '', ...ini } });

  it(`K=${K} PHP processes and K=${K} engine request loops, M=${M} increments each: exactly 2·K·M`, async () => {
    const id = testSessionId();
    const e = engine();
    const phpLoop = `for ($i = 0; $i < ${M}; $i++) { session_id('${id}'); session_start(); $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1; session_write_close(); } echo 'OK';`;
    const phps = Array.from({ length: K }, () => phpProcess(tmp.dir, phpLoop, 'OK').done);
    const nodes = Array.from({ length: K }, async () => {
      for (let i = 0; i < M; i++) {
        const req = e.request({ cookies: { PHPSESSID: id } });
        expect(await req.start()).toBe(true);
        const n = req.session.get('n');
        req.session.set('n', (typeof n === 'number' ? n : 0) + 1);
        expect(await req.writeClose()).toBe(true);
        await req.end();
        expect(req.diagnostics).toEqual([]);
      }
    });
    await Promise.all([...phps, ...nodes]);
    expect(readFileSync(`${tmp.dir}/sess_${id}`, 'latin1')).toBe(`n|i:${2 * K * M};`);
    // And PHP agrees.
    expect(await php(tmp.dir, `session_id('${id}'); session_start(); echo $_SESSION['n'];`)).toBe(String(2 * K * M));
  });

  it('lazy_write: an unchanged session is only re-timed, a changed one rewritten', async () => {
    const id = testSessionId();
    await php(tmp.dir, `session_id('${id}'); session_start(); $_SESSION['a'] = 'x';`);
    const file = `${tmp.dir}/sess_${id}`;
    utimesSync(file, 1_000_000, 1_000_000);
    const req = engine().request({ cookies: { PHPSESSID: id } });
    expect(await req.start()).toBe(true);
    expect(await req.writeClose()).toBe(true);
    expect(statSync(file).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    expect(readFileSync(file, 'latin1')).toBe('a|s:1:"x";');
  });

  it('session_engine.files_lock_timeout: session_start() gives PHP\'s read-failure warning and throws LockTimeoutError; nothing changes', async () => {
    const id = testSessionId();
    await php(tmp.dir, `session_id('${id}'); session_start(); $_SESSION['n'] = 1;`);
    const holder = phpProcess(tmp.dir, `session_id('${id}'); session_start(); echo 'LOCKED'; flush(); usleep(1200000);`, 'LOCKED');
    await holder.ready;
    const req = engine({ 'session_engine.files_lock_timeout': 150 }).request({ cookies: { PHPSESSID: id } });
    const err = await req.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect(req.diagnostics).toEqual([
      { level: 'E_WARNING', message: `session_start(): Failed to read session data: files (path: ${tmp.dir})` },
    ]);
    await req.end();
    await holder.done;
    expect(readFileSync(`${tmp.dir}/sess_${id}`, 'latin1')).toBe('n|i:1;');
  });
});
