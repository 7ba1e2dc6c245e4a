/**
 * @module spec/redis/large-sessions
 * Large sessions on one shared redis connection, where the client's reply reader
 * (handlers/redis/reply-reader.ts) hands each large GET reply on as a view of the buffer it was
 * read into: replies a caller holds while later replies arrive on the same socket (a reader that
 * reused its buffer fails there: checked by making it reuse), and, end to end, requests
 * overlapping on the connection, lazy $_SESSION entries materialised only after other requests'
 * reads and writes, the validated-bytes cache across requests, and PHP reading back every write.
 * (The engine itself never keeps the bytes a module returns: it compares them with its cache, or
 * takes a copy, serializers/lazy.ts and lib/session/codec.ts; the end-to-end tests guard that the
 * bytes and the values stay right whatever the client does.)
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { SessionEngine } from '../../lib/engine.ts';
import type { SessionRequest } from '../../lib/request.ts';
import { RedisConnection } from '../../handlers/redis/client.ts';
import type { RedisProcess } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { engineFor, php, TOOLS, useRedisServers } from './support.ts';

const SEED = 0x6c617267;
const servers: RedisProcess[] = [];

/** ASCII bytes unique to (id, version), with CR LF and `$` in them (what RESP framing keys on). */
function blob(id: number, version: number, size: number): string {
  const unit = `<${id}.${version}>$12\r\n*3\r\n${String.fromCharCode(65 + ((id * 7 + version) % 26))}`;
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

/** blob() in PHP, for PHP to write sessions of its own. */
const PHP_BLOB = `function blob($id, $version, $size) { $unit = "<$id.$version>\\$12\\r\\n*3\\r\\n" . chr(65 + (($id * 7 + $version) % 26)); return substr(str_repeat($unit, (int) ceil($size / strlen($unit))), 0, $size); }`;

interface Expected {
  /** The blob is blob(k, version, size). */
  k: number;
  version: number;
  size: number;
  n: number;
  tags: string[];
}

const blobOf = (e: Expected): string => blob(e.k, e.version, e.size);

describeWith(TOOLS, 'redis: large sessions on one connection', () => {
  useRedisServers(servers, 1);
  const ini = (): Record<string, string> => ({ 'session.save_handler': 'redis', 'session.save_path': `tcp://${servers[0]!.address}`, 'session.use_cookies': '0' });
  /** lazy_write on (PHP's default: the engine keeps the bytes read as its snapshot) and off. */
  const engineIni = (lazyWrite: string): Record<string, string> => ({ 'session.save_handler': 'redis', 'session.save_path': `tcp://${servers[0]!.address}`, 'session.cache_limiter': '', 'session.lazy_write': lazyWrite });
  const sid = (prefix: string, i: number): string => `${prefix}${i.toString(16).padStart(26 - prefix.length, '0')}`;

  /** PHP writes each session (blob, n, tags) as phpredis stores it. */
  async function phpWrites(sessions: Map<string, Expected>): Promise<void> {
    const lines = [...sessions].map(
      ([id, e]) =>
        `session_id('${id}'); session_start(); $_SESSION = ['blob' => blob(${e.k}, ${e.version}, ${e.size}), 'n' => ${e.n}, 'tags' => json_decode('${JSON.stringify(e.tags)}', true)]; session_write_close();`,
    );
    await php([PHP_BLOB, ...lines].join('\n'), ini());
  }

  /** What PHP reads back for each session: md5 of blob, its length, n and tags. */
  async function phpReads(ids: string[]): Promise<Record<string, unknown>> {
    const code = `$out = []; foreach (json_decode('${JSON.stringify(ids)}', true) as $id) { session_id($id); session_start(); $out[$id] = ['md5' => md5($_SESSION['blob']), 'len' => strlen($_SESSION['blob']), 'n' => $_SESSION['n'], 'tags' => $_SESSION['tags']]; session_write_close(); } echo json_encode($out);`;
    return JSON.parse((await php(code, ini())).stdout.toString()) as Record<string, unknown>;
  }

  const md5 = async (s: string): Promise<string> => (await import('node:crypto')).createHash('md5').update(s, 'latin1').digest('hex');
  async function expectPhpSees(sessions: Map<string, Expected>): Promise<void> {
    const seen = await phpReads([...sessions.keys()]);
    for (const [id, e] of sessions) expect(seen[id], id).toEqual({ md5: await md5(blobOf(e)), len: e.size, n: e.n, tags: e.tags });
  }

  /**
   * A 200 KB session read first: the connection's read buffer then has room for every later reply
   * at once (the case where a reader that reused its buffer would overwrite the bytes read before).
   */
  async function warm(engine: SessionEngine): Promise<void> {
    const id = sid('lgwarm', 0);
    await phpWrites(new Map([[id, { k: 9, version: 0, size: 200_000, n: 0, tags: [] }]]));
    const req = await start(engine, id);
    expect(req.session.get('n')).toBe(0);
    await req.end();
  }

  const start = async (engine: SessionEngine, id: string): Promise<SessionRequest> => {
    const req = engine.request({ cookies: { PHPSESSID: id } });
    expect(await req.start()).toBe(true);
    return req;
  };

  it('replies a caller holds stay as they came while later replies arrive on the same connection (large and small, overlapping and one by one)', async () => {
    const c = new RedisConnection({ scheme: 'tcp', host: '127.0.0.1', port: servers[0]!.port, database: -1, connectTimeoutMs: 2000, readTimeoutMs: 60_000 });
    try {
      const sizes = [200_000, 40_000, 150_000, 20_000, 5_000, 90_000, 16_384, 120_000];
      const values = sizes.map((n, i) => Buffer.from(blob(i, 7, n), 'latin1'));
      await Promise.all(values.map((v, i) => c.call('SET', `lgc:${i}`, v)));
      const held: unknown[] = [];
      // One by one: each reply lands where the one before it did, if the buffer were reused.
      for (let i = 0; i < values.length; i++) held.push(await c.call('GET', `lgc:${i}`));
      // Overlapping: the replies share reads.
      held.push(...(await Promise.all(values.map((_, i) => c.call('GET', `lgc:${i}`)))));
      for (let i = 0; i < values.length; i++) {
        expect(await c.call('SETEX', `lgc:${i}`, 60, values[(i + 1) % values.length]!)).toBeTruthy();
        held.push(await c.call('GET', `lgc:${i}`));
      }
      const want = [...values, ...values, ...values.map((_, i) => values[(i + 1) % values.length]!)];
      expect(held.map((h, i) => Buffer.isBuffer(h) && h.equals(want[i]!))).toEqual(want.map(() => true));
    } finally {
      c.close();
    }
  });

  it.each(['1', '0'])('lazy_write=%s: overlapping requests on one connection: entries read lazily after later reads and writes hold the bytes PHP wrote; PHP reads back every write', async (lazyWrite) => {
    const sessions = new Map<string, Expected>();
    for (let i = 0; i < 6; i++) sessions.set(sid(`lgs${lazyWrite}x`, i), { k: i, version: 0, size: 40_000 + i * 30_000, n: i, tags: [`t${i}`, 'x'.repeat(i * 100)] });
    await phpWrites(sessions);
    const engine = engineFor(engineIni(lazyWrite));
    const ids = [...sessions.keys()];
    await warm(engine);
    // Round 1 starts every session, half at once (their GET replies share the socket), half one
    // after the other, and touches nothing.
    const first = await Promise.all(ids.slice(0, 3).map((id) => start(engine, id)));
    for (const id of ids.slice(3)) first.push(await start(engine, id));
    // Round 2 reads and rewrites each session (a new blob, another size) on the same connection.
    const second = await Promise.all(ids.map((id) => start(engine, id)));
    second.forEach((req, i) => {
      const e = sessions.get(ids[i]!)!;
      expect(req.session.get('n')).toBe(e.n);
      e.version = 1;
      e.size = 150_000 - i * 20_000;
      req.session.set('blob', blobOf(e));
    });
    await Promise.all(second.map(async (req) => { expect(await req.writeClose()).toBe(true); await req.end(); }));
    // Round 3 reads the new bytes (more large replies through the reader) and keeps its session open.
    const third = await Promise.all(ids.map((id) => start(engine, id)));
    // Round 1's entries, materialised only now, are the bytes PHP wrote (round 1 read them).
    first.forEach((req, i) => {
      expect(req.session.get('blob')).toBe(blob(i, 0, 40_000 + i * 30_000));
      expect((req.session.get('tags') as { toJS(): unknown }).toJS()).toEqual([`t${i}`, 'x'.repeat(i * 100)]);
    });
    for (const req of first) await req.abort?.();
    third.forEach((req, i) => {
      const e = sessions.get(ids[i]!)!;
      expect(req.session.get('blob')).toBe(blobOf(e));
      e.n += 10;
      req.session.set('n', e.n);
    });
    await Promise.all(third.map(async (req) => { expect(await req.writeClose()).toBe(true); await req.end(); }));
    for (const req of first) await req.end();
    expect([...first, ...second, ...third].flatMap((r) => r.diagnostics)).toEqual([]);
    await expectPhpSees(sessions);
  }, 60_000);

  it.each(['1', '0'])('lazy_write=%s: fast-check: any interleaving of requests over large sessions (lazy entries read late, writes in between): each read sees the last write, and PHP reads back the last writes', async (lazyWrite) => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.record({ session: fc.nat(3), size: fc.integer({ min: 16_000, max: 180_000 }), rewrite: fc.boolean() }), { minLength: 4, maxLength: 10 }),
        async (s, steps) => {
          run++;
          const sessions = new Map<string, Expected>();
          const ids = [0, 1, 2, 3].map((i) => sid(`lgp${lazyWrite}x${run}x`, i));
          ids.forEach((id, i) => sessions.set(id, { k: i, version: 0, size: 20_000 + i * 40_000, n: 0, tags: [id] }));
          await phpWrites(sessions);
          const engine = engineFor(engineIni(lazyWrite));
          await warm(engine);
          // One request chain per session (requests on one id follow each other, as with
          // locking); the chains interleave as the scheduler decides, on one connection.
          let version = 0;
          const chains = ids.map(async (id, k) => {
            for (const step of steps.filter((st) => st.session === k)) {
              const e = sessions.get(id)!;
              const want = { blob: blobOf(e), n: e.n };
              const req = await s.schedule(start(engine, id), `start ${id}`);
              // Entries are materialised a scheduler turn later, after whatever ran meanwhile.
              await s.schedule(Promise.resolve(), `read ${id}`);
              expect(req.session.get('n')).toBe(want.n);
              expect(req.session.get('blob')).toBe(want.blob);
              e.n++;
              req.session.set('n', e.n);
              if (step.rewrite) {
                e.version = ++version;
                e.size = step.size;
                req.session.set('blob', blobOf(e));
              }
              expect(await s.schedule(req.writeClose(), `write ${id}`)).toBe(true);
              await req.end();
              expect(req.diagnostics).toEqual([]);
            }
          });
          await s.waitFor(Promise.all(chains));
          await expectPhpSees(sessions);
        },
      ),
      { seed: SEED, numRuns: 8 },
    );
  }, 120_000);
});
