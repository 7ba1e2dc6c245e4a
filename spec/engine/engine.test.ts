/**
 * Engine behaviour with an in-memory module: lazy_write, read_and_close, decode failure, GC draw,
 * write failures, strict-mode collisions, exceptions from modules, RSHUTDOWN, shutdown functions,
 * ini files, and request input handling.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import { PhpArray } from '../../lib/value.ts';
import { createMemoryModule, type MemoryModuleOptions } from '../support/memory-module.ts';

const enc = new TextEncoder();

function setup(opts: MemoryModuleOptions = {}, ini: Record<string, string | number | boolean> = {}, gcRandom?: () => number) {
  const mem = createMemoryModule(opts);
  const engine = new SessionEngine({
    modules: [mem],
    ini: { 'session.save_handler': 'memory', 'session.gc_probability': 0, ...ini },
    ...(gcRandom !== undefined ? { gcRandom } : {}),
  });
  return { mem, engine };
}

const ID = 'abcdef0123456789abcdef0123456789';

describe('life cycle', () => {
  it('writes at end(), reads back on the next request', async () => {
    const { mem, engine } = setup();
    const r1 = engine.request();
    await r1.start();
    r1.session.set('n', 1);
    const id = r1.id() as string;
    await r1.end();
    expect(new TextDecoder().decode(mem.store.get(id)!.data)).toBe('n|i:1;');
    const r2 = engine.request({ cookies: { PHPSESSID: id } });
    await r2.start();
    expect(r2.session.get('n')).toBe(1);
    expect(r2.headers.some(([n]) => n === 'Set-Cookie')).toBe(false);
    await r2.end();
    expect(r2.status()).toBe(1);
  });

  it('lazy_write: unchanged data calls updateTimestamp, changed data writes', async () => {
    const { mem, engine } = setup();
    mem.store.set(ID, { data: enc.encode('a|i:1;'), mtime: 0 });
    const r = engine.request({ cookies: { PHPSESSID: ID } });
    await r.start();
    await r.writeClose();
    expect(mem.log).toContain(`updateTimestamp(${ID})`);
    mem.log.length = 0;
    await r.start();
    r.session.set('a', 2);
    await r.writeClose();
    expect(mem.log).toContain(`write(${ID},a|i:2;)`);
  });

  it('lazy_write off, or a module without updateTimestamp, always writes', async () => {
    for (const [opts, ini] of [
      [{}, { 'session.lazy_write': 0 }],
      [{ without: ['updateTimestamp'] as const }, {}],
    ] as const) {
      const { mem, engine } = setup({ without: [...(opts as MemoryModuleOptions).without ?? []] }, ini);
      mem.store.set(ID, { data: enc.encode('a|i:1;'), mtime: 0 });
      const r = engine.request({ cookies: { PHPSESSID: ID } });
      await r.start();
      await r.writeClose();
      expect(mem.log).toContain(`write(${ID},a|i:1;)`);
      expect(mem.log.some((l) => l.startsWith('updateTimestamp'))).toBe(false);
    }
  });

  it('an empty session is written as "" and never updated (bug71162)', async () => {
    const { mem, engine } = setup();
    mem.store.set(ID, { data: new Uint8Array(0), mtime: 0 });
    const r = engine.request({ cookies: { PHPSESSID: ID } });
    await r.start();
    await r.writeClose();
    expect(mem.log).toContain(`write(${ID},)`);
  });

  it('read_and_close keeps $_SESSION but closes without writing', async () => {
    const { mem, engine } = setup();
    mem.store.set(ID, { data: enc.encode('a|i:1;'), mtime: 0 });
    const r = engine.request({ cookies: { PHPSESSID: ID } });
    expect(await r.start({ read_and_close: true })).toBe(true);
    expect(r.status()).toBe(1);
    expect(r.session.get('a')).toBe(1);
    expect(mem.log).toEqual(['open(,PHPSESSID)', `read(${ID})`, 'close()']);
  });

  it('decode failure destroys the stored session and start returns false', async () => {
    const { mem, engine } = setup();
    mem.store.set(ID, { data: enc.encode('garbage'), mtime: 0 });
    const r = engine.request({ cookies: { PHPSESSID: ID } });
    expect(await r.start()).toBe(false);
    expect(mem.store.has(ID)).toBe(false);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      'session_start(): Failed to decode session object. Session has been destroyed',
    ]);
    expect(r.session.size).toBe(0);
    expect(r.status()).toBe(1);
  });

  it('write failure of a non-user module warns with the module name and save path', async () => {
    const { engine } = setup({ fail: { write: true } }, { 'session.save_path': '/some/where' });
    const r = engine.request();
    await r.start();
    r.session.set('a', 1);
    expect(await r.writeClose()).toBe(true);
    expect(r.diagnostics).toEqual([
      {
        level: 'E_WARNING',
        message:
          'session_write_close(): Failed to write session data (memory). Please verify that the current setting of session.save_path is correct (/some/where)',
      },
    ]);
  });

  it('failedWrites counts the saves whose write failed, at write_close and at the end, and nothing else', async () => {
    const ok = setup().engine.request();
    await ok.start();
    ok.session.set('a', 1);
    expect(await ok.writeClose()).toBe(true);
    await ok.end();
    expect(ok.failedWrites).toBe(0);
    const { engine } = setup({ fail: { write: true } });
    const r = engine.request();
    expect(r.failedWrites).toBe(0);
    await r.start();
    r.session.set('a', 1);
    expect(await r.writeClose()).toBe(true);
    expect(r.failedWrites).toBe(1);
    await r.start();
    await r.end();
    expect(r.failedWrites).toBe(2);
    expect(r.diagnostics.filter((d) => d.message.includes('Failed to write session data'))).toHaveLength(2);
  });

  it('RSHUTDOWN diagnostics carry the "PHP Request Shutdown: " prefix', async () => {
    const { engine } = setup({ fail: { write: true } });
    const r = engine.request();
    await r.start();
    await r.end();
    expect(r.diagnostics[0]!.message).toMatch(/^PHP Request Shutdown: Failed to write session data \(memory\)/);
  });

  it('open failure, read failure, create_sid failure', async () => {
    let { engine } = setup({ fail: { open: true } });
    let r = engine.request();
    expect(await r.start()).toBe(false);
    expect(r.diagnostics[0]!.message).toBe('session_start(): Failed to initialize storage module: memory (path: )');
    ({ engine } = setup({ fail: { read: true } }));
    r = engine.request();
    expect(await r.start()).toBe(false);
    expect(r.diagnostics[0]!.message).toBe('session_start(): Failed to read session data: memory (path: )');
    ({ engine } = setup({ fail: { createSid: true } }));
    r = engine.request();
    await expect(r.start()).rejects.toMatchObject({ name: 'Error', message: 'Failed to create session ID: memory (path: )' });
    expect(r.status()).toBe(1);
  });

  it('a module exception propagates out of the session function after cleanup', async () => {
    const { mem, engine } = setup({ throwOn: { read: new Error('db down') } });
    const r = engine.request();
    await expect(r.start()).rejects.toThrow('db down');
    expect(r.status()).toBe(1);
    expect(r.diagnostics).toEqual([]);
    expect(mem.log.at(-1)).toBe('close()');
  });

  it('strict mode: unknown id replaced via createSid; regenerate retries collisions', async () => {
    const { mem, engine } = setup({ sidQueue: ['taken0123456789abcdef0123456789ab', 'fresh0123456789abcdef0123456789ab'] }, { 'session.use_strict_mode': 1 });
    mem.store.set('taken0123456789abcdef0123456789ab', { data: new Uint8Array(0), mtime: 0 });
    const r = engine.request({ cookies: { PHPSESSID: 'unknownid0123456789abcdef012345' } });
    await r.start();
    expect(r.id()).toBe('taken0123456789abcdef0123456789ab');
    expect(r.headers[0]).toEqual(['Set-Cookie', 'PHPSESSID=taken0123456789abcdef0123456789ab; path=/']);
    mem.options.sidQueue!.unshift('taken0123456789abcdef0123456789ab');
    expect(await r.regenerateId()).toBe(true);
    expect(r.id()).toBe('fresh0123456789abcdef0123456789ab');
    expect(r.headers.filter(([n]) => n === 'Set-Cookie')).toEqual([['Set-Cookie', 'PHPSESSID=fresh0123456789abcdef0123456789ab; path=/']]);
    expect(r.headers.at(-1)![0]).toBe('Set-Cookie');
  });

  it('session_create_id retries collisions and fails after three', async () => {
    const taken = 'dup00123456789abcdef0123456789ab';
    const { mem, engine } = setup({ sidQueue: [] });
    mem.store.set(taken, { data: new Uint8Array(0), mtime: 0 });
    const r = engine.request();
    await r.start();
    mem.options.sidQueue!.push(taken, taken, taken);
    expect(await r.createId('p-')).toBe(false);
    expect(r.diagnostics.at(-1)!.message).toBe('session_create_id(): Failed to create new ID');
  });

  it('session_destroy deletes the data, keeps $_SESSION contents, sends no cookie', async () => {
    const { mem, engine } = setup();
    mem.store.set(ID, { data: enc.encode('a|i:1;'), mtime: 0 });
    const r = engine.request({ cookies: { PHPSESSID: ID } });
    await r.start();
    expect(await r.destroy()).toBe(true);
    expect(mem.store.has(ID)).toBe(false);
    expect(r.session.get('a')).toBe(1);
    expect(r.id()).toBe('');
    expect(r.headers.some(([n]) => n === 'Set-Cookie')).toBe(false);
  });

  it('session_reset reloads stored data; session_abort discards changes', async () => {
    const { mem, engine } = setup();
    mem.store.set(ID, { data: enc.encode('a|i:1;'), mtime: 0 });
    const r = engine.request({ cookies: { PHPSESSID: ID } });
    await r.start();
    r.session.set('a', 5);
    expect(await r.reset()).toBe(true);
    expect(r.session.get('a')).toBe(1);
    r.session.set('a', 6);
    expect(await r.abort()).toBe(true);
    expect(new TextDecoder().decode(mem.store.get(ID)!.data)).toBe('a|i:1;');
  });

  it('session_register_shutdown writes before RSHUTDOWN; runtime shutdown functions run first', async () => {
    const { mem, engine } = setup();
    const r = engine.request();
    await r.start();
    r.session.set('x', 1);
    r.registerShutdown();
    r.registerShutdownFunction(() => mem.log.push('user shutdown'));
    await r.end();
    const w = mem.log.findIndex((l) => l.startsWith('write('));
    expect(w).toBeGreaterThan(-1);
    expect(mem.log.indexOf('user shutdown')).toBeGreaterThan(w);
  });

  it('non-array $_SESSION is not written', async () => {
    const { mem, engine } = setup();
    const r = engine.request();
    await r.start();
    r.sessionValue = 5;
    await r.end();
    expect(mem.log.some((l) => l.startsWith('write'))).toBe(false);
    expect(r.diagnostics).toEqual([]);
  });
});

describe('request input', () => {
  it('ignores inherited properties and non-string cookie values', async () => {
    const { engine } = setup();
    const cookies = Object.create({ PHPSESSID: 'fromproto0123456789abcdef0123456' }) as Record<string, string>;
    const r = engine.request({ cookies });
    await r.start();
    expect(r.id()).not.toBe('fromproto0123456789abcdef0123456');
    const r2 = engine.request({ cookies: { PHPSESSID: PhpArray.from(['x']) } });
    await r2.start();
    expect(r2.diagnostics).toEqual([]);
    // an array cookie gives no id; the new id's cookie is sent (checked with php-cgi)
    expect(r2.headers.some(([n]) => n === 'Set-Cookie')).toBe(true);
  });

  it('referer_check drops ids from foreign referers (use_only_cookies off)', async () => {
    const { engine } = setup({}, { 'session.use_only_cookies': 0, 'session.referer_check': 'example.com' });
    const r = engine.request({ query: { PHPSESSID: ID }, server: { HTTP_REFERER: 'https://evil.test/' } });
    await r.start();
    expect(r.id()).not.toBe(ID);
    const r2 = engine.request({ query: { PHPSESSID: ID }, server: { HTTP_REFERER: 'https://example.com/x' } });
    await r2.start();
    expect(r2.id()).toBe(ID);
  });

  it('headersSent with a location adds PHP\'s "(output started at ...)" suffix', async () => {
    const { engine } = setup({}, { 'session.use_cookies': 0 });
    const r = engine.request({ headersSent: { file: '/app/index.php', line: 3 } });
    expect(await r.start()).toBe(false);
    expect(r.diagnostics[0]!.message).toBe(
      'session_start(): Session cache limiter cannot be sent after headers have already been sent (output started at /app/index.php:3)',
    );
  });

  it('onDiagnostic receives diagnostics live', async () => {
    const { engine } = setup();
    const seen: string[] = [];
    const r = engine.request({ onDiagnostic: (d) => seen.push(d.message) });
    await r.start();
    await r.start();
    expect(seen).toEqual(['session_start(): Ignoring session_start() because a session is already active']);
  });
});

describe('garbage collection draw', () => {
  it('runs when the draw is below probability/divisor, passing gc_maxlifetime', async () => {
    const draws = [0.05, 0.5];
    const { mem, engine } = setup({}, { 'session.gc_probability': 1, 'session.gc_divisor': 10, 'session.gc_maxlifetime': 77 }, () => draws.shift()!);
    for (let i = 0; i < 2; i++) {
      const r = engine.request();
      await r.start();
      await r.end();
    }
    expect(mem.log.filter((l) => l.startsWith('gc('))).toEqual(['gc(77)']);
    // GC runs after read
    expect(mem.log.indexOf('gc(77)')).toBe(mem.log.findIndex((l) => l.startsWith('read(')) + 1);
  });

  it('probability >= divisor or divisor <= 0: always; probability 0: never', async () => {
    for (const [p, d, expected] of [[5, 5, 3], [1, 0, 3], [0, 1, 0], [-1, 100, 0]] as const) {
      const { mem, engine } = setup({}, { 'session.gc_probability': p, 'session.gc_divisor': d }, () => 0.999);
      for (let i = 0; i < 3; i++) {
        const r = engine.request();
        await r.start();
        await r.end();
      }
      expect(mem.log.filter((l) => l.startsWith('gc(')).length).toBe(expected);
    }
  });

  it('observed rate with the combined LCG matches gc_probability/gc_divisor', async () => {
    const { mem, engine } = setup({}, { 'session.gc_probability': 1, 'session.gc_divisor': 10 });
    const N = 2000;
    for (let i = 0; i < N; i++) {
      const r = engine.request();
      await r.start({ read_and_close: true });
    }
    const runs = mem.log.filter((l) => l.startsWith('gc(')).length;
    // binomial(2000, 0.1): mean 200, sd ~13.4; 5 sd either side
    expect(runs).toBeGreaterThan(133);
    expect(runs).toBeLessThan(267);
  });

  it('session_gc runs at once and returns the count; -1 becomes false', async () => {
    const { mem, engine } = setup();
    mem.store.set('old', { data: new Uint8Array(0), mtime: 0 });
    const r = engine.request({ now: 10_000_000 });
    await r.start();
    expect(await r.gc()).toBe(1);
    const f = setup({ fail: { gc: true } });
    const r2 = f.engine.request();
    await r2.start();
    expect(await r2.gc()).toBe(false);
  });
});

describe('configuration', () => {
  it('reads a php.ini file; engine ini options win', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eng-ini-'));
    try {
      const file = join(dir, 'php.ini');
      writeFileSync(file, '[Session]\n; comment\nsession.name = "FROMFILE"\nsession.use_strict_mode = On\nsession.cookie_httponly = off\nsession.gc_divisor = 1000 ; trailing\n');
      const engine = new SessionEngine({ iniFile: file, ini: { 'session.gc_divisor': 50 } });
      expect(engine.iniGet('session.name')).toBe('FROMFILE');
      expect(engine.iniGet('session.use_strict_mode')).toBe('1');
      expect(engine.iniGet('session.cookie_httponly')).toBe('');
      expect(engine.iniGet('session.gc_divisor')).toBe('50');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('save_handler=user in the configuration: E_ERROR at startup, the old value stays', () => {
    const engine = new SessionEngine({ ini: { 'session.save_handler': 'user' } });
    expect(engine.startupDiagnostics).toEqual([
      { level: 'E_ERROR', message: 'PHP Startup: Session save handler "user" cannot be set by ini_set()' },
    ]);
    expect(engine.iniGet('session.save_handler')).toBe('files');
  });

  it('an unknown save handler disables sessions (session_status_disabled)', async () => {
    const engine = new SessionEngine({ ini: { 'session.save_handler': 'nope' } });
    const r = engine.request();
    expect(r.status()).toBe(0);
    expect(await r.start()).toBe(false);
    expect(r.diagnostics[0]!.message).toBe('session_start(): Cannot find session save handler "nope" - session startup failed');
  });

  it('per-request ini changes do not leak into the next request', () => {
    const { engine } = setup();
    const r = engine.request();
    r.iniSet('session.name', 'CHANGED');
    expect(engine.request().iniGet('session.name')).toBe('PHPSESSID');
  });

  it('module ini entries are registered with their defaults', () => {
    const engine = new SessionEngine();
    expect(engine.iniGet('session_engine.files_lock')).toBe('flock');
    expect(engine.request().iniGet('session_engine.files_lock')).toBe('flock');
  });

  it('PHP functions check argument counts and types', () => {
    const { engine } = setup();
    const r = engine.request();
    expect(() => r.functions.session_status(1)).toThrow('session_status() expects exactly 0 arguments, 1 given');
    expect(() => r.functions.session_id('a', 'b')).toThrow('session_id() expects at most 1 argument, 2 given');
    expect(() => r.functions.session_id([] as never)).toThrow('session_id(): Argument #1 ($id) must be of type ?string, array given');
    expect(r.functions.session_cache_expire('12')).toBe(180);
    expect(r.functions.session_cache_expire()).toBe(12);
  });
});

describe('php.ini.sample', () => {
  it('documents every directive the engine knows, with its default value', () => {
    const sample = new URL('../../php.ini.sample', import.meta.url).pathname;
    const text = readFileSync(sample, 'utf8');
    const engine = new SessionEngine();
    const fromFile = new SessionEngine({ iniFile: sample });
    for (const name of engine.iniNames()) {
      expect(text, name).toMatch(new RegExp(`^;?${name.replace(/\./g, '\\.')} =`, 'm'));
      expect(fromFile.iniGet(name), name).toBe(engine.iniGet(name));
    }
    expect(fromFile.startupDiagnostics).toEqual([]);
  });
});

describe('session.auto_start', () => {
  it('starts the session at request startup', async () => {
    const { mem, engine } = setup({}, { 'session.auto_start': 1 });
    mem.store.set(ID, { data: enc.encode('a|i:1;'), mtime: 0 });
    const r = engine.request({ cookies: { PHPSESSID: ID } });
    await r.ready;
    expect(r.status()).toBe(2);
    expect(r.session.get('a')).toBe(1);
    expect(await r.start()).toBe(true);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      'session_start(): Ignoring session_start() because a session is already active',
    ]);
  });

  it('startup warnings carry the "PHP Request Startup: " prefix', async () => {
    const { engine } = setup({ fail: { open: true } }, { 'session.auto_start': 1 });
    const r = engine.request();
    await r.ready;
    expect(r.diagnostics[0]!.message).toBe('PHP Request Startup: Failed to initialize storage module: memory (path: )');
  });
});

describe('end() robustness', () => {
  it('a throwing shutdown function stops the others, the session is still written, the error surfaces', async () => {
    const { mem, engine } = setup();
    const r = engine.request();
    await r.start();
    r.session.set('k', 'v');
    r.registerShutdownFunction(() => {
      throw new Error('shutdown failed');
    });
    let second = false;
    r.registerShutdownFunction(() => {
      second = true;
    });
    await expect(r.end()).rejects.toThrow('shutdown failed');
    expect(second).toBe(false);
    expect(mem.log.some((l) => l.endsWith('k|s:1:"v";)'))).toBe(true);
    expect(r.status()).toBe(1);
  });
});
