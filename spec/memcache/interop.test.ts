/**
 * @module spec/memcache/interop
 * Live round trips with PHP on one real memcached, for each module and each serializer: PHP (with
 * the extension) writes and the engine reads the same $_SESSION; the engine writes and PHP reads
 * it. Then the stored items themselves are compared: key, flags, value bytes, expiry, lock record.
 */
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllConnections } from '../../handlers/shared/memcache/client.ts';
import { serialize, unserialize } from '../../serializers/var.ts';
import { testSessionId } from '../handlers/suite.ts';
import { dumpKeys, getItem, startMemcached, type MemcachedProcess } from '../support/memcached-server.ts';
import { describeWith } from '../support/tools.ts';
import { engineFor, php, phpBytes, savePathFor, spawnPhp, type ModuleName } from './support.ts';

let server: MemcachedProcess;
/** serialize() of the test $_SESSION, as PHP makes it. */
let payload: Buffer;
/** A ~60 kB compressible session: crosses memcache.compress_threshold. */
let bigPayload: Buffer;
/** A ~330 kB incompressible session: several times the client's 64 kB read buffer. */
let hugePayload: Buffer;

const PAYLOAD_PHP = `[
  'int' => 42, 'neg' => -7, 'float' => 1.5, 'bigint' => PHP_INT_MAX, 'bool' => true, 'null' => null,
  'str' => "h\\u{e9}llo \\"q\\" \\0 nul|pipe", 'list' => [1, 2, [3, 'x'], 7 => 'seven'],
  'nested' => ['a' => ['b' => ['c' => 0.1]]],
]`;

/** Builds $a, the ~330 kB session (too large to pass on PHP's command line, so PHP makes it). */
const HUGE_PHP = `mt_srand(16); $a = []; for ($i = 0; $i < 5000; $i++) { $s = ''; for ($j = 0; $j < 56; $j++) $s .= chr(mt_rand(0, 255)); $a["k$i"] = $s; }`;

const MODULES: ModuleName[] = ['memcached', 'memcache'];
const SERIALIZERS = ['php', 'php_binary', 'php_serialize'];

function dataKey(module: ModuleName, id: string): string {
  return module === 'memcached' ? `memc.sess.key.${id}` : id;
}
function lockKey(module: ModuleName, id: string): string {
  return module === 'memcached' ? `memc.sess.key.lock.${id}` : `${id}.lock`;
}

async function phpWrite(module: ModuleName, ser: string, id: string, value: Buffer, extraIni: Record<string, string> = {}): Promise<void> {
  await php(
    `session_id('${id}'); if (!session_start()) exit(3); $_SESSION = unserialize(${phpBytes(value)}); if (!session_write_close()) exit(4);`,
    { 'session.save_handler': module, 'session.save_path': savePathFor(module, [server.address]), 'session.serialize_handler': ser, ...extraIni },
  );
}

async function phpRead(module: ModuleName, ser: string, id: string): Promise<Buffer> {
  const r = await php(`session_id('${id}'); if (!session_start()) exit(3); echo serialize($_SESSION); session_write_close();`, {
    'session.save_handler': module,
    'session.save_path': savePathFor(module, [server.address]),
    'session.serialize_handler': ser,
  });
  return r.stdout;
}

const unixNow = (): number => Math.floor(Date.now() / 1000);

/** An absolute expiry set `seconds` ahead by an item stored between Unix times `from` and `to`. */
function expectExpiry(exp: number, seconds: number, from: number, to: number): void {
  // memcached's clock ticks in whole seconds and may lag the wall clock by up to one.
  expect(exp - seconds).toBeGreaterThanOrEqual(from - 1);
  expect(exp - seconds).toBeLessThanOrEqual(to);
}

/** Polls the server until `count` keys match (a PHP process is taking them); at most 20 s. */
async function keysAppearing(count: number, match: (k: { key: string }) => boolean): Promise<{ key: string; exp: number }[]> {
  const until = Date.now() + 20_000;
  for (;;) {
    const keys = (await dumpKeys(server.port)).filter(match);
    if (keys.length >= count) return keys;
    if (Date.now() > until) throw new Error(`only ${keys.length} of ${count} keys appeared`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function engine(module: ModuleName, ser: string, extraIni: Record<string, string> = {}) {
  return engineFor({
    'session.save_handler': module,
    'session.save_path': savePathFor(module, [server.address]),
    'session.serialize_handler': ser,
    ...extraIni,
  });
}

async function engineRead(module: ModuleName, ser: string, id: string): Promise<Buffer> {
  const req = engine(module, ser).request({ cookies: { PHPSESSID: id } });
  expect(await req.start()).toBe(true);
  const out = serialize(req.sessionValue ?? null);
  expect(await req.writeClose()).toBe(true);
  await req.end();
  expect(req.diagnostics).toEqual([]);
  return out;
}

async function engineWrite(module: ModuleName, ser: string, id: string, value: Buffer, extraIni: Record<string, string> = {}): Promise<void> {
  const req = engine(module, ser, extraIni).request({ cookies: { PHPSESSID: id } });
  expect(await req.start()).toBe(true);
  req.sessionValue = unserialize(value);
  expect(await req.writeClose()).toBe(true);
  await req.end();
  expect(req.diagnostics).toEqual([]);
}

describeWith(['memcached', 'php', 'php-cgi', 'php-ext:memcached', 'php-ext:memcache'], 'memcache modules: live round trips with PHP', () => {
  beforeAll(async () => {
    server = await startMemcached();
    payload = (await php(`echo serialize(${PAYLOAD_PHP});`, {})).stdout;
    bigPayload = (await php(`$a = []; for ($i = 0; $i < 2000; $i++) $a["k$i"] = "value number $i"; echo serialize($a);`, {})).stdout;
    hugePayload = (await php(`${HUGE_PHP} echo serialize($a);`, {})).stdout;
  }, 30_000);
  afterAll(async () => {
    closeAllConnections();
    await server?.stop();
  });

  for (const module of MODULES) {
    describe(module, () => {
      for (const ser of SERIALIZERS) {
        it(`${ser}: PHP writes, the engine reads the same $_SESSION`, async () => {
          const id = testSessionId();
          await phpWrite(module, ser, id, payload);
          expect((await engineRead(module, ser, id)).toString('latin1')).toBe(payload.toString('latin1'));
        });

        it(`${ser}: the engine writes, PHP reads the same $_SESSION`, async () => {
          const id = testSessionId();
          await engineWrite(module, ser, id, payload);
          expect((await phpRead(module, ser, id)).toString('latin1')).toBe(payload.toString('latin1'));
        });

        it(`${ser}: the stored item (flags, bytes, expiry) and lock record match PHP's`, async () => {
          const fromPhp = testSessionId();
          const fromEngine = testSessionId();
          await phpWrite(module, ser, fromPhp, payload);
          await engineWrite(module, ser, fromEngine, payload);
          const a = await getItem(server.port, dataKey(module, fromPhp));
          const b = await getItem(server.port, dataKey(module, fromEngine));
          expect(a).not.toBeNull();
          expect(b!.flags).toBe(a!.flags);
          expect(b!.value.toString('latin1')).toBe(a!.value.toString('latin1'));
          const keys = await dumpKeys(server.port);
          const expA = keys.find((k) => k.key === dataKey(module, fromPhp))!.exp;
          const expB = keys.find((k) => k.key === dataKey(module, fromEngine))!.exp;
          expect(Math.abs(expA - expB)).toBeLessThanOrEqual(2);
          // Lock after write_close: php-memcached deletes it; pecl memcache leaves integer 0.
          const la = await getItem(server.port, lockKey(module, fromPhp));
          const lb = await getItem(server.port, lockKey(module, fromEngine));
          expect(lb === null).toBe(la === null);
          if (la && lb) {
            expect(lb.flags).toBe(la.flags);
            expect(lb.value.toString()).toBe(la.value.toString());
            const lockExpA = keys.find((k) => k.key === lockKey(module, fromPhp))!.exp;
            const lockExpB = keys.find((k) => k.key === lockKey(module, fromEngine))!.exp;
            expect(Math.abs(lockExpA - lockExpB)).toBeLessThanOrEqual(2);
          }
        });
      }

      it('a large session crosses compress_threshold the same way both directions', async () => {
        const fromPhp = testSessionId();
        const fromEngine = testSessionId();
        await phpWrite(module, 'php', fromPhp, bigPayload);
        await engineWrite(module, 'php', fromEngine, bigPayload);
        expect((await engineRead(module, 'php', fromPhp)).toString('latin1')).toBe(bigPayload.toString('latin1'));
        expect((await phpRead(module, 'php', fromEngine)).toString('latin1')).toBe(bigPayload.toString('latin1'));
        const a = (await getItem(server.port, dataKey(module, fromPhp)))!;
        const b = (await getItem(server.port, dataKey(module, fromEngine)))!;
        expect(b.flags).toBe(a.flags);
        if (module === 'memcache') {
          expect(a.flags).toBe(2);
          expect(inflateSync(b.value).toString('latin1')).toBe(inflateSync(a.value).toString('latin1'));
        } else {
          expect(b.value.toString('latin1')).toBe(a.value.toString('latin1'));
        }
      });

      it('a ~330 kB incompressible session round-trips both directions byte for byte, stored as PHP stores it', async () => {
        const fromPhp = testSessionId();
        const fromEngine = testSessionId();
        await php(`session_id('${fromPhp}'); if (!session_start()) exit(3); ${HUGE_PHP} $_SESSION = $a; if (!session_write_close()) exit(4);`, {
          'session.save_handler': module,
          'session.save_path': savePathFor(module, [server.address]),
        });
        await engineWrite(module, 'php', fromEngine, hugePayload);
        expect((await engineRead(module, 'php', fromPhp)).equals(hugePayload)).toBe(true);
        expect((await phpRead(module, 'php', fromEngine)).equals(hugePayload)).toBe(true);
        const a = (await getItem(server.port, dataKey(module, fromPhp)))!;
        const b = (await getItem(server.port, dataKey(module, fromEngine)))!;
        expect(a.value.length).toBeGreaterThan(300_000);
        expect(b.flags).toBe(a.flags);
        expect(b.value.equals(a.value)).toBe(true);
      });

      it('gc_maxlifetime above 30 days gives the same expiry as PHP', async () => {
        const ini = { 'session.gc_maxlifetime': String(40 * 86400) };
        const fromPhp = testSessionId();
        const fromEngine = testSessionId();
        await phpWrite(module, 'php', fromPhp, payload, ini);
        await engineWrite(module, 'php', fromEngine, payload, ini);
        const keys = await dumpKeys(server.port);
        const expA = keys.find((k) => k.key === dataKey(module, fromPhp))!.exp;
        const expB = keys.find((k) => k.key === dataKey(module, fromEngine))!.exp;
        expect(expA).toBeGreaterThan(Date.now() / 1000 + 39 * 86400);
        expect(Math.abs(expA - expB)).toBeLessThanOrEqual(2);
      });
    });
  }

  it('memcache: memcache.session_prefix_static_key prefixes data and lock keys as PHP does', async () => {
    const ini = { 'memcache.session_prefix_static_key': 'pfx1' };
    const fromPhp = testSessionId();
    const fromEngine = testSessionId();
    await phpWrite('memcache', 'php', fromPhp, payload, ini);
    await engineWrite('memcache', 'php', fromEngine, payload, ini);
    const keys = (await dumpKeys(server.port)).map((k) => k.key);
    expect(keys).toContain(`pfx1${fromPhp}`);
    expect(keys).toContain(`pfx1${fromPhp}.lock`);
    expect(keys).toContain(`pfx1${fromEngine}`);
    expect(keys).toContain(`pfx1${fromEngine}.lock`);
    const req = engine('memcache', 'php', ini).request({ cookies: { PHPSESSID: fromPhp } });
    expect(await req.start()).toBe(true);
    expect(serialize(req.sessionValue ?? null).toString('latin1')).toBe(payload.toString('latin1'));
    await req.writeClose();
    await req.end();
  });

  it('memcached: a new session reserves its id like PHP under php-cgi (empty item + lock, expiring after max_execution_time = 30)', async () => {
    // php-memcached stores both with the lock expiry: sess_lock_expire, else max_execution_time,
    // which is 30 under php-cgi/php-fpm (0 under the CLI: never). The engine's stand-in for it,
    // session_engine.max_execution_time, defaults to 30.
    const before = new Set((await dumpKeys(server.port)).map((k) => k.key));
    const phpFrom = unixNow();
    const running = spawnPhp(`session_start(); usleep(1500000);`, {
      'session.save_handler': 'memcached',
      'session.save_path': server.address,
    }, { cgi: true });
    const phpKeys = await keysAppearing(2, (k) => !before.has(k.key));
    const phpTo = unixNow();
    expect((await running.done).code).toBe(0);
    const phpData = phpKeys.find((k) => !k.key.startsWith('memc.sess.key.lock.'))!;
    const phpLock = phpKeys.find((k) => k.key.startsWith('memc.sess.key.lock.'))!;
    expect(phpData.key.slice('memc.sess.key.'.length)).toBe(phpLock.key.slice('memc.sess.key.lock.'.length));

    const ourFrom = unixNow();
    const req = engine('memcached', 'php').request({});
    expect(await req.start()).toBe(true);
    const id = req.id() as string;
    const keys = await dumpKeys(server.port);
    const ourTo = unixNow();
    const ours = keys.find((k) => k.key === `memc.sess.key.${id}`)!;
    const ourLock = keys.find((k) => k.key === `memc.sess.key.lock.${id}`)!;
    // Absolute expiry = the server's clock (whole seconds, up to a second behind) + 30.
    for (const exp of [phpData.exp, phpLock.exp]) expectExpiry(exp, 30, phpFrom, phpTo);
    for (const exp of [ours.exp, ourLock.exp]) expectExpiry(exp, 30, ourFrom, ourTo);
    expect(await getItem(server.port, `memc.sess.key.${id}`)).toMatchObject({ flags: 0, value: Buffer.alloc(0) });
    await req.writeClose();
    await req.end();
    expect(await getItem(server.port, `memc.sess.key.lock.${id}`)).toBeNull();
  });

  /** php-cgi and the engine each hold a lock under `sess_lock_expire = value`; both carry `seconds`. */
  async function lockExpiryLikePhp(value: string, seconds: number): Promise<void> {
    const ini = { 'session.save_handler': 'memcached', 'session.save_path': server.address, 'memcached.sess_lock_expire': value };
    const id = testSessionId();
    const from = unixNow();
    const running = spawnPhp(`session_id('${id}p'); session_start(); usleep(1500000);`, ini, { cgi: true });
    const req = engineFor(ini).request({ cookies: { PHPSESSID: `${id}e` } });
    expect(await req.start()).toBe(true);
    const locks = await keysAppearing(2, (k) => k.key === `memc.sess.key.lock.${id}p` || k.key === `memc.sess.key.lock.${id}e`);
    const to = unixNow();
    await req.writeClose();
    await req.end();
    expect((await running.done).code).toBe(0);
    expect(locks.map((l) => l.key).sort()).toEqual([`memc.sess.key.lock.${id}e`, `memc.sess.key.lock.${id}p`]);
    for (const l of locks) expectExpiry(l.exp, seconds, from, to);
  }

  it('memcached: sess_lock_expire wins over max_execution_time, as in PHP', () => lockExpiryLikePhp('7', 7));

  // php-memcached declares sess_lock_expire with OnUpdateLongGEZero, which PHP 8.2 parses with
  // zend_ini_parse_quantity: "0x40" is 64 and "1k" is 1024 (C atol would read 0, then fall back to
  // max_execution_time = 30, and 1). Both PHP's lock and ours must carry the same expiry.
  for (const [value, seconds] of [
    ['0x40', 64],
    ['1k', 1024],
  ] as const) {
    it(`memcached: sess_lock_expire = "${value}" is read as PHP reads it (${seconds} s)`, () => lockExpiryLikePhp(value, seconds));
  }
});
