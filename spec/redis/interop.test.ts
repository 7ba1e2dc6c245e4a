/**
 * @module spec/redis/interop
 * Live round trips with PHP (phpredis 5.3.7) on one real redis-server, for each serializer: PHP
 * writes and the engine reads the same $_SESSION, and the other way. Then what is stored is
 * compared: key, value bytes, TTL, and the lock key PHP leaves while it holds a session.
 */
import { hostname } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { serialize, unserialize } from '../../serializers/var.ts';
import { testSessionId } from '../handlers/suite.ts';
import { redisCommand, type RedisProcess } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { engineFor, php, phpBytes, phpDiagnostics, TOOLS, useRedisServers } from './support.ts';

const servers: RedisProcess[] = [];
let payload: Buffer;

const PAYLOAD_PHP = `[
  'int' => 42, 'neg' => -7, 'float' => 1.5, 'bigint' => PHP_INT_MAX, 'bool' => true, 'null' => null,
  'str' => "h\\u{e9}llo \\"q\\" \\0 nul|pipe", 'list' => [1, 2, [3, 'x'], 7 => 'seven'],
  'nested' => ['a' => ['b' => ['c' => 0.1]]],
]`;
const SERIALIZERS = ['php', 'php_binary', 'php_serialize'];
const LOCKING = { 'redis.session.locking_enabled': '1', 'redis.session.lock_expire': '7' };

function ini(extra: Record<string, string> = {}): Record<string, string> {
  return { 'session.save_handler': 'redis', 'session.save_path': `tcp://${servers[0]!.address}`, ...extra };
}

async function phpWrite(id: string, value: Buffer, extra: Record<string, string> = {}): Promise<void> {
  await php(`session_id('${id}'); if (!session_start()) exit(3); $_SESSION = unserialize(${phpBytes(value)}); if (!session_write_close()) exit(4);`, ini(extra));
}

async function phpRead(id: string, extra: Record<string, string> = {}): Promise<Buffer> {
  return (await php(`session_id('${id}'); if (!session_start()) exit(3); echo serialize($_SESSION); session_write_close();`, ini(extra))).stdout;
}

async function engineRead(id: string, extra: Record<string, string> = {}): Promise<Buffer> {
  const req = engineFor(ini(extra)).request({ cookies: { PHPSESSID: id } });
  expect(await req.start()).toBe(true);
  const out = serialize(req.sessionValue ?? null);
  expect(await req.writeClose()).toBe(true);
  await req.end();
  expect(req.diagnostics).toEqual([]);
  return out;
}

async function engineWrite(id: string, value: Buffer, extra: Record<string, string> = {}): Promise<void> {
  const req = engineFor(ini(extra)).request({ cookies: { PHPSESSID: id } });
  expect(await req.start()).toBe(true);
  req.sessionValue = unserialize(value);
  expect(await req.writeClose()).toBe(true);
  await req.end();
  expect(req.diagnostics).toEqual([]);
}

const key = (id: string): string => `PHPREDIS_SESSION:${id}`;
const str = (r: unknown): string | null => (Buffer.isBuffer(r) ? r.toString('latin1') : r === null ? null : String(r));

async function waitFor(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describeWith(TOOLS, 'redis module: live round trips with PHP', () => {
  useRedisServers(servers, 1);
  beforeAll(async () => {
    payload = (await php(`echo serialize(${PAYLOAD_PHP});`, {})).stdout;
  }, 30_000);

  for (const ser of SERIALIZERS) {
    describe(`session.serialize_handler=${ser}`, () => {
      const s = { 'session.serialize_handler': ser };
      it('PHP writes, the engine reads the same $_SESSION', async () => {
        const id = testSessionId();
        await phpWrite(id, payload, s);
        expect((await engineRead(id, s)).toString('latin1')).toBe(payload.toString('latin1'));
      });

      it('the engine writes, PHP reads the same $_SESSION', async () => {
        const id = testSessionId();
        await engineWrite(id, payload, s);
        expect((await phpRead(id, s)).toString('latin1')).toBe(payload.toString('latin1'));
      });

      it('with locking on both sides: the stored bytes and TTL match PHP and no lock is left', async () => {
        const fromPhp = testSessionId();
        const fromEngine = testSessionId();
        const x = { ...s, ...LOCKING, 'session.gc_maxlifetime': '1000' };
        await phpWrite(fromPhp, payload, x);
        await engineWrite(fromEngine, payload, x);
        const a = await redisCommand(servers[0]!.port, 'GET', key(fromPhp));
        const b = await redisCommand(servers[0]!.port, 'GET', key(fromEngine));
        expect(Buffer.isBuffer(a)).toBe(true);
        expect(str(b)).toBe(str(a));
        const ttlA = (await redisCommand(servers[0]!.port, 'TTL', key(fromPhp))) as number;
        const ttlB = (await redisCommand(servers[0]!.port, 'TTL', key(fromEngine))) as number;
        expect(ttlA).toBeGreaterThan(990);
        expect(Math.abs(ttlA - ttlB)).toBeLessThanOrEqual(2);
        expect(await redisCommand(servers[0]!.port, 'EXISTS', `${key(fromPhp)}_LOCK`)).toBe(0);
        expect(await redisCommand(servers[0]!.port, 'EXISTS', `${key(fromEngine)}_LOCK`)).toBe(0);
      });
    });
  }

  it('the lock an open session holds: same key and expiry as PHP; the value is PHP\'s hostname|pid plus a per-request part', async () => {
    const id = testSessionId();
    const phpRun = php(`session_id('${id}'); session_start(); usleep(1500000); session_write_close();`, ini(LOCKING));
    await waitFor(async () => (await redisCommand(servers[0]!.port, 'EXISTS', `${key(id)}_LOCK`)) === 1, "PHP's lock");
    const phpSecret = str(await redisCommand(servers[0]!.port, 'GET', `${key(id)}_LOCK`));
    const phpPttl = (await redisCommand(servers[0]!.port, 'PTTL', `${key(id)}_LOCK`)) as number;
    await phpRun;
    expect(phpSecret).toMatch(new RegExp(`^${hostname()}\\|\\d+$`));
    expect(phpPttl).toBeGreaterThan(5000);
    expect(phpPttl).toBeLessThanOrEqual(7000);

    const req = engineFor(ini(LOCKING)).request({ cookies: { PHPSESSID: id } });
    expect(await req.start()).toBe(true);
    const ourSecret = str(await redisCommand(servers[0]!.port, 'GET', `${key(id)}_LOCK`));
    const ourPttl = (await redisCommand(servers[0]!.port, 'PTTL', `${key(id)}_LOCK`)) as number;
    expect(ourSecret).toMatch(new RegExp(`^${hostname()}\\|${process.pid}\\|[0-9a-z]+\\.[0-9a-f]{12}$`));
    expect(ourPttl).toBeGreaterThan(5000);
    expect(ourPttl).toBeLessThanOrEqual(7000);
    await req.writeClose();
    await req.end();
    expect(await redisCommand(servers[0]!.port, 'EXISTS', `${key(id)}_LOCK`)).toBe(0);
  });

  it('a locked cycle is two round trips: SET NX with the GET, then one script that writes and unlocks (phpredis: four)', async () => {
    const port = servers[0]!.port;
    const scriptCalls = async (): Promise<number> => {
      const info = String(await redisCommand(port, 'INFO', 'commandstats'));
      return ['evalsha', 'eval'].reduce((n, c) => n + Number(new RegExp(`cmdstat_${c}:calls=(\\d+)`).exec(info)?.[1] ?? 0), 0);
    };
    const id = testSessionId();
    const cycle = async (n: number): Promise<void> => {
      const req = engineFor(ini(LOCKING)).request({ cookies: { PHPSESSID: id } });
      expect(await req.start()).toBe(true);
      req.session.set('n', n);
      expect(await req.writeClose()).toBe(true);
      await req.end();
      expect(req.diagnostics).toEqual([]);
    };
    await cycle(0); // loads the script into the server
    const before = await scriptCalls();
    for (let i = 1; i <= 5; i++) await cycle(i);
    // One script per cycle: the write and the unlock together (no separate release script).
    expect((await scriptCalls()) - before).toBe(5);
    expect(await redisCommand(port, 'EXISTS', `${key(id)}_LOCK`)).toBe(0);
    expect(str(await redisCommand(port, 'GET', key(id)))).toBe('n|i:5;');
    expect(String(await phpRead(id, LOCKING))).toBe('a:1:{s:1:"n";i:5;}');
  });

  it('a new session (create_sid) takes the lock of its new id before the read, as PHP does', async () => {
    const before = new Set(((await redisCommand(servers[0]!.port, 'KEYS', '*_LOCK')) as Buffer[]).map(String));
    const phpRun = php(`session_start(); echo session_id(); usleep(1000000); session_write_close();`, ini(LOCKING));
    await waitFor(async () => ((await redisCommand(servers[0]!.port, 'KEYS', '*_LOCK')) as Buffer[]).some((k) => !before.has(String(k))), "PHP's new lock");
    const phpId = (await phpRun).stdout.toString();
    expect(await redisCommand(servers[0]!.port, 'EXISTS', key(phpId))).toBe(1);

    const req = engineFor(ini(LOCKING)).request({});
    expect(await req.start()).toBe(true);
    const id = req.id() as string;
    expect(await redisCommand(servers[0]!.port, 'EXISTS', `${key(id)}_LOCK`)).toBe(1);
    await req.writeClose();
    await req.end();
    expect(await redisCommand(servers[0]!.port, 'EXISTS', key(id))).toBe(1);
    expect(await redisCommand(servers[0]!.port, 'EXISTS', `${key(id)}_LOCK`)).toBe(0);
  });

  for (const deleteOld of [false, true]) {
    it(`session_regenerate_id(${deleteOld}) with locking: the same keys and locks left as PHP`, async () => {
      const layout = async (oldId: string, newId: string): Promise<string[]> => {
        const keys = ((await redisCommand(servers[0]!.port, 'KEYS', '*')) as Buffer[]).map(String);
        return keys
          .filter((k) => k.includes(oldId) || k.includes(newId))
          .map((k) => k.replace(oldId, '<old>').replace(newId, '<new>'))
          .sort();
      };
      const phpOld = testSessionId();
      await phpWrite(phpOld, payload, LOCKING);
      const r = await php(
        `session_id('${phpOld}'); session_start(); session_regenerate_id(${deleteOld}); $_SESSION['x'] = 1; echo session_id(); session_write_close();`,
        ini(LOCKING),
      );
      const phpLayout = await layout(phpOld, r.stdout.toString());
      expect(phpLayout).toContain('PHPREDIS_SESSION:<new>');

      const ourOld = testSessionId();
      await engineWrite(ourOld, payload, LOCKING);
      const req = engineFor(ini(LOCKING)).request({ cookies: { PHPSESSID: ourOld } });
      expect(await req.start()).toBe(true);
      expect(await req.regenerateId(deleteOld)).toBe(true);
      req.session.set('x', 1);
      const ourNew = req.id() as string;
      await req.writeClose();
      await req.end();
      expect(req.diagnostics).toEqual(phpDiagnostics(r.stderr));
      expect(await layout(ourOld, ourNew)).toEqual(phpLayout);
    });
  }

  it('prefix= and database= in save_path place the keys as PHP does', async () => {
    const path = `tcp://${servers[0]!.address}?prefix=app1:&database=3`;
    const a = testSessionId();
    const b = testSessionId();
    await phpWrite(a, payload, { 'session.save_path': path });
    await engineWrite(b, payload, { 'session.save_path': path });
    const keys = async (db: number): Promise<string[]> => {
      const r = (await redisCommand(servers[0]!.port, 'EVAL', `redis.call('select', ${db}); return redis.call('keys', '*')`, 0)) as Buffer[];
      return r.map(String);
    };
    const in3 = await keys(3);
    expect(in3).toContain(`app1:${a}`);
    expect(in3).toContain(`app1:${b}`);
    expect((await engineRead(a, { 'session.save_path': path })).toString('latin1')).toBe(payload.toString('latin1'));
  });

  for (const [name, value] of [
    ['<= 0', '0'],
    ['above INT_MAX', '3000000000'],
  ] as const) {
    it(`session.gc_maxlifetime ${name}: the same notices and TTL as PHP`, async () => {
      const id1 = testSessionId();
      const id2 = testSessionId();
      const x = { 'session.gc_maxlifetime': value };
      const r = await php(`session_id('${id1}'); session_start(); $_SESSION['a'] = 1; session_write_close();`, ini(x));
      const req = engineFor(ini(x)).request({ cookies: { PHPSESSID: id2 } });
      await req.start();
      req.session.set('a', 1);
      await req.writeClose();
      await req.end();
      expect(req.diagnostics).toEqual(phpDiagnostics(r.stderr));
      expect(req.diagnostics.length).toBeGreaterThan(0);
      const t1 = (await redisCommand(servers[0]!.port, 'TTL', key(id1))) as number;
      const t2 = (await redisCommand(servers[0]!.port, 'TTL', key(id2))) as number;
      expect(Math.abs(t1 - t2)).toBeLessThanOrEqual(2);
    });
  }
});
