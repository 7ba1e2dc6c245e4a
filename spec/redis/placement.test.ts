/**
 * @module spec/redis/placement
 * Several servers in save_path (mixed separators and weights): 1,000 sessions written by PHP are
 * all read by the engine and 1,000 written by the engine are all read by PHP, and every key sits
 * on the server PHP puts it on, whichever side wrote it.
 */
import { expect, it } from 'vitest';
import { redisCommand, type RedisProcess } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { engineFor, php, TOOLS, useRedisServers } from './support.ts';

const N = 1000;
const servers: RedisProcess[] = [];

function ids(tag: string): string[] {
  // Ids as PHP makes them (32 lowercase hex chars), varied in their first four bytes.
  return Array.from({ length: N }, (_, i) => {
    const h = (i * 2654435761) >>> 0;
    return `${h.toString(16).padStart(8, '0')}${tag}${String(i).padStart(24 - tag.length, '0')}`.slice(0, 32);
  });
}

/** Which server holds each session key (`PHPREDIS_SESSION:<id>`). */
async function placement(): Promise<Map<string, number>> {
  const where = new Map<string, number>();
  for (let s = 0; s < servers.length; s++) {
    const keys = (await redisCommand(servers[s]!.port, 'KEYS', 'PHPREDIS_SESSION:*')) as Buffer[];
    for (const k of keys) where.set(k.toString('latin1').slice('PHPREDIS_SESSION:'.length), s);
  }
  return where;
}

async function flush(): Promise<void> {
  await Promise.all(servers.map((s) => redisCommand(s.port, 'FLUSHALL')));
}

describeWith(TOOLS, 'redis module: several servers, shared with PHP', () => {
  useRedisServers(servers, 3);

  const savePath = (): string => `tcp://${servers[0]!.address}?weight=1, tcp://${servers[1]!.address}?weight=2,tcp://${servers[2]!.address}`;
  const ini = () => ({ 'session.save_handler': 'redis', 'session.save_path': savePath() });

  async function engineWriteAll(list: string[]): Promise<void> {
    const engine = engineFor(ini());
    for (let i = 0; i < list.length; i += 50) {
      await Promise.all(
        list.slice(i, i + 50).map(async (id) => {
          const req = engine.request({ cookies: { PHPSESSID: id } });
          expect(await req.start()).toBe(true);
          req.session.set('id', id);
          req.session.set('who', 'engine');
          await req.writeClose();
          await req.end();
          expect(req.diagnostics).toEqual([]);
        }),
      );
    }
  }

  it(`${N} sessions each way; every key on the server PHP chooses`, async () => {
    const a = ids('a');
    const b = ids('b');
    // PHP writes A.
    await php(
      `foreach (explode(',', '${a.join(',')}') as $id) { session_id($id); session_start(); $_SESSION['id'] = $id; $_SESSION['who'] = 'php'; session_write_close(); }`,
      ini(),
    );
    const phpPlaced = await placement();
    expect(phpPlaced.size).toBe(N);
    // All three servers are used, the weight-2 one most.
    const counts = [0, 0, 0];
    for (const s of phpPlaced.values()) counts[s]!++;
    expect(Math.min(...counts)).toBeGreaterThan(N / 10);

    // The engine reads every one of them.
    const engine = engineFor(ini());
    for (let i = 0; i < N; i += 50) {
      await Promise.all(
        a.slice(i, i + 50).map(async (id) => {
          const req = engine.request({ cookies: { PHPSESSID: id } });
          expect(await req.start()).toBe(true);
          expect(req.session.get('id')).toBe(id);
          expect(req.session.get('who')).toBe('php');
          await req.end();
        }),
      );
    }

    // The engine writes B; PHP reads every one of them.
    await engineWriteAll(b);
    const r = await php(
      `$ok = 0; foreach (explode(',', '${b.join(',')}') as $id) { session_id($id); session_start(); if (($_SESSION['id'] ?? null) === $id && $_SESSION['who'] === 'engine') $ok++; session_write_close(); } echo $ok;`,
      ini(),
    );
    expect(Number(r.stdout.toString())).toBe(N);

    // The same ids written by the engine land where PHP put them.
    await flush();
    await engineWriteAll(a);
    expect(await placement()).toEqual(phpPlaced);
  }, 60_000);
});
