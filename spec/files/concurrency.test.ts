/**
 * @module spec/files/concurrency
 * No lost writes when PHP processes and Node requests share one session: K PHP processes and K
 * concurrent handler requests each increment one counter M times, and the count must end at
 * exactly 2·K·M. Then the same among Node processes in the lock-file mode, the wait limit, and
 * the in-process wait queue (many waiters, no thread-pool starvation).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { FILES_MESSAGES, filesModule } from '../../handlers/files.ts';
import { LockTimeoutError } from '../../lib/errors.ts';
import { sessionLockQueue } from '../../handlers/shared/lock-queue.ts';
import { makeTestContext, testSessionId } from '../handlers/suite.ts';
import { describeWith, which } from '../support/tools.ts';
import { handlerRequest, php, phpStr, tempDir } from './support.ts';

const K = 4;
const M = 25;

const counterOf = (data: Uint8Array | false): number => {
  if (data === false) throw new Error('read failed');
  return Number(/n\|i:(\d+);/.exec(Buffer.from(data).toString())?.[1] ?? '0');
};
const increment = (data: Uint8Array): Uint8Array => Buffer.from(`n|i:${counterOf(data) + 1};`);

/** K loops, each M sequential read-increment-write requests through the handler. */
/**
 * K loops of M read-increment-write requests. Without a lock (`unlocked`), a read may meet another
 * request's truncate-and-rewrite between fstat and read and fail with PHP's "Read returned less
 * bytes than requested", as PHP's own read does then: that is one more lost update, not an error.
 */
async function nodeIncrements(savePath: string, id: string, k: number, m: number, ini: Record<string, string>, unlocked = false): Promise<void> {
  await Promise.all(
    Array.from({ length: k }, async () => {
      for (let i = 0; i < m; i++) {
        const { data, ctx } = await handlerRequest(savePath, id, increment, ini);
        if (unlocked && data === false) {
          expect(ctx.diagnostics.map((d) => d.message)).toEqual([FILES_MESSAGES.SHORT_READ]);
          continue;
        }
        expect(data).not.toBe(false);
        expect(ctx.diagnostics).toEqual([]);
      }
    }),
  );
}

/** Starts a PHP process; resolves `ready` when its stdout contains `marker`. */
function startPhp(savePath: string, code: string, marker = 'LOCKED'): { child: ChildProcess; ready: Promise<void>; done: Promise<string> } {
  const child = spawn(which('php')!, ['-n', '-d', 'session.use_cookies=0', '-d', 'session.cache_limiter=', '-d', 'display_errors=1', '-r', `ini_set('session.save_path', ${phpStr(savePath)}); ${code}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let resolveReady: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes(marker)) resolveReady();
  });
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`php exited ${code}: ${out}`))));
  });
  return { child, ready, done };
}

const worker = fileURLToPath(new URL('./fixtures/increment-worker.ts', import.meta.url));

function startNodeWorker(savePath: string, id: string, m: number, lock: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=php-session-engine-source', '--import', 'tsx', worker, savePath, id, String(m), lock], {
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && err === '' ? resolve() : reject(new Error(`worker exited ${code}: ${err}`))));
  });
}

describeWith(['php'], 'files handler: concurrency with PHP (flock)', () => {
  const tmp = tempDir('conc');
  afterAll(() => tmp.remove());

  it(`K=${K} PHP processes and K=${K} Node request loops, M=${M} increments each: exactly 2·K·M`, async () => {
    const id = testSessionId();
    const phpLoop = `for ($i = 0; $i < ${M}; $i++) { session_id('${id}'); session_start(); $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1; session_write_close(); } echo 'OK';`;
    const phps = Array.from({ length: K }, () => startPhp(tmp.dir, phpLoop, 'OK').done);
    await Promise.all([...phps, nodeIncrements(tmp.dir, id, K, M, { 'session_engine.files_lock': 'flock' })]);
    for (const p of phps) expect(await p).toBe('OK');
    expect(readFileSync(`${tmp.dir}/sess_${id}`, 'latin1')).toBe(`n|i:${2 * K * M};`);
  });

  it('a PHP request holding the session makes a Node request wait, and the Node request sees its write', async () => {
    const id = testSessionId();
    const p = startPhp(tmp.dir, `session_id('${id}'); session_start(); echo 'LOCKED'; flush(); usleep(600000); $_SESSION['n'] = 7; session_write_close();`);
    await p.ready;
    const t0 = Date.now();
    const { data } = await handlerRequest(tmp.dir, id, null);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(Buffer.from(data as Uint8Array).toString()).toBe('n|i:7;');
    await p.done;
  });

  it('a Node request holding the session makes PHP wait, and PHP sees its write', async () => {
    const id = testSessionId();
    const h = filesModule.create(makeTestContext());
    await h.open(tmp.dir, 'PHPSESSID');
    expect(await h.read(id, 1440)).toEqual(new Uint8Array(0));
    const p = startPhp(tmp.dir, `echo 'STARTED'; flush(); session_id('${id}'); session_start(); echo serialize($_SESSION);`, 'STARTED');
    await p.ready;
    let finished = false;
    void p.done.then(() => (finished = true));
    await new Promise((r) => setTimeout(r, 500));
    expect(finished).toBe(false);
    await h.write(id, Buffer.from('n|i:8;'), 1440);
    await h.close();
    expect(await p.done).toBe('STARTEDa:1:{s:1:"n";i:8;}');
  });

  it('a wait limit ends with LockTimeoutError and leaves the session unchanged', async () => {
    const id = testSessionId();
    await php(tmp.dir, `session_id('${id}'); session_start(); $_SESSION['n'] = 1;`);
    const p = startPhp(tmp.dir, `session_id('${id}'); session_start(); echo 'LOCKED'; flush(); usleep(1500000); session_write_close();`);
    await p.ready;
    const ctx = makeTestContext({ 'session_engine.files_lock_timeout': '200' });
    const h = filesModule.create(ctx);
    await h.open(tmp.dir, 'PHPSESSID');
    let phpDone = false;
    void p.done.then(() => (phpDone = true));
    const t0 = Date.now();
    const err = await Promise.resolve(h.read(id, 1440)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect((err as LockTimeoutError).code).toBe('ERR_LOCK_TIMEOUT');
    expect((err as LockTimeoutError).id).toBe(id);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    // The limit ended the wait, not PHP's release (PHP holds the lock for 1.5 s).
    expect(phpDone).toBe(false);
    // Nothing is held and nothing was written: a write now must not go through the old descriptor.
    await h.close();
    await p.done;
    expect(readFileSync(`${tmp.dir}/sess_${id}`, 'latin1')).toBe('n|i:1;');
  });

  it('100 Node requests queued on a session PHP holds do not starve the thread pool, and all get through', async () => {
    const id = testSessionId();
    writeFileSync(`${tmp.dir}/sess_${id}`, 'n|i:0;');
    const p = startPhp(tmp.dir, `session_id('${id}'); session_start(); echo 'LOCKED'; flush(); usleep(1500000); session_write_close();`);
    await p.ready;
    const all = nodeIncrements(tmp.dir, id, 100, 1, {});
    await new Promise((r) => setTimeout(r, 100));
    expect(sessionLockQueue.waiting(`${tmp.dir}/sess_${id}`)).toBe(99);
    // Other file I/O still runs while 100 requests wait: 16 reads on the thread pool finish
    // before PHP lets go of the session (a starved pool would hold them until then).
    let phpDone = false;
    void p.done.then(() => (phpDone = true));
    await Promise.all(Array.from({ length: 16 }, () => readFile(worker)));
    expect(phpDone).toBe(false);
    expect(sessionLockQueue.waiting(`${tmp.dir}/sess_${id}`)).toBe(99);
    await p.done;
    await all;
    expect(readFileSync(`${tmp.dir}/sess_${id}`, 'latin1')).toBe('n|i:100;');
    expect(sessionLockQueue.size).toBe(0);
  });
});

describeWith(['node'], 'files handler: concurrency among Node processes', () => {
  const tmp = tempDir('conc-node');
  afterAll(() => tmp.remove());

  for (const lock of ['lockfile', 'flock'] as const) {
    it(`lock=${lock}: K=${K} worker processes and K=${K} in-process loops, M=${M} each: exactly 2·K·M`, async () => {
      const id = testSessionId();
      await Promise.all([
        ...Array.from({ length: K }, () => startNodeWorker(tmp.dir, id, M, lock)),
        nodeIncrements(tmp.dir, id, K, M, { 'session_engine.files_lock': lock }),
      ]);
      expect(readFileSync(`${tmp.dir}/sess_${id}`, 'latin1')).toBe(`n|i:${2 * K * M};`);
    });
  }

  it('lock=none loses updates under the same load (shows the test can fail)', async () => {
    const id = testSessionId();
    await nodeIncrements(tmp.dir, id, 8, 10, { 'session_engine.files_lock': 'none' }, true);
    const n = counterOf(readFileSync(`${tmp.dir}/sess_${id}`));
    expect(n).toBeLessThan(80);
  });
});
