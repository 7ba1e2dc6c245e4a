/**
 * @module spec/redis/cluster
 * `rediscluster` on a 3-master Redis Cluster started by the tests: the shared suite; 1,000
 * sessions written through phpredis' rediscluster handler read by the engine and 1,000 the other
 * way (keys, bytes and TTLs as PHP leaves them); a master killed mid-run: PHP's and the engine's
 * failure behaviour compared.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeRedisConnections } from '../../handlers/redis.ts';
import { redisCommand, startRedisCluster, type RedisCluster } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { engineFor, php, phpDiagnostics, TOOLS } from './support.ts';

const N = 1000;
let cluster: RedisCluster;

function ini(extra: Record<string, string> = {}, c: RedisCluster = cluster): Record<string, string> {
  return { 'session.save_handler': 'rediscluster', 'session.save_path': c.seeds, ...extra };
}

function ids(tag: string): string[] {
  return Array.from({ length: N }, (_, i) => `${tag}${process.pid}x${String(i).padStart(26, '0')}`.slice(-32));
}

/** The node (index) serving a key's slot. */
async function nodeOf(c: RedisCluster, key: string): Promise<number> {
  const slot = (await redisCommand(c.nodes[0]!.port, 'CLUSTER', 'KEYSLOT', key)) as number;
  return Math.floor(slot / Math.ceil(16384 / c.nodes.length));
}

describeWith(TOOLS, 'rediscluster module', () => {
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  }, 30_000);
  afterAll(async () => {
    closeRedisConnections();
    await cluster?.stop();
  });

  it(`${N} sessions PHP→engine and ${N} engine→PHP; the same keys, bytes and TTLs`, async () => {
    const a = ids('a');
    const b = ids('b');
    const x = { 'session.gc_maxlifetime': '1200' };
    await php(
      `foreach (explode(',', '${a.join(',')}') as $id) { session_id($id); session_start(); $_SESSION['id'] = $id; $_SESSION['who'] = 'php'; session_write_close(); }`,
      ini(x),
    );
    const engine = engineFor(ini(x));
    const batch = async (list: string[], fn: (id: string) => Promise<void>): Promise<void> => {
      for (let i = 0; i < list.length; i += 50) await Promise.all(list.slice(i, i + 50).map(fn));
    };
    await batch(a, async (id) => {
      const req = engine.request({ cookies: { PHPSESSID: id } });
      expect(await req.start()).toBe(true);
      expect(req.session.get('id')).toBe(id);
      expect(req.session.get('who')).toBe('php');
      await req.end();
    });
    await batch(b, async (id) => {
      const req = engine.request({ cookies: { PHPSESSID: id } });
      expect(await req.start()).toBe(true);
      req.session.set('id', id);
      req.session.set('who', 'php');
      await req.writeClose();
      await req.end();
      expect(req.diagnostics).toEqual([]);
    });
    const r = await php(
      `$ok = 0; foreach (explode(',', '${b.join(',')}') as $id) { session_id($id); session_start(); if (($_SESSION['id'] ?? null) === $id) $ok++; session_write_close(); } echo $ok;`,
      ini(x),
    );
    expect(Number(r.stdout.toString())).toBe(N);
    // Same layout: the PHP-written and engine-written sessions hold the same bytes (modulo the id)
    // under PHPREDIS_CLUSTER_SESSION:<id>, with the same TTL, on the node serving the slot.
    for (let i = 0; i < N; i += 97) {
      const ka = `PHPREDIS_CLUSTER_SESSION:${a[i]!}`;
      const kb = `PHPREDIS_CLUSTER_SESSION:${b[i]!}`;
      const na = cluster.nodes[await nodeOf(cluster, ka)]!.port;
      const nb = cluster.nodes[await nodeOf(cluster, kb)]!.port;
      const va = String(await redisCommand(na, 'GET', ka));
      const vb = String(await redisCommand(nb, 'GET', kb));
      expect(vb.replace(b[i]!, a[i]!)).toBe(va);
      const ta = (await redisCommand(na, 'TTL', ka)) as number;
      const tb = (await redisCommand(nb, 'TTL', kb)) as number;
      expect(ta).toBeGreaterThan(1100);
      expect(Math.abs(ta - tb)).toBeLessThanOrEqual(5);
    }
  }, 60_000);

  it('bad cluster save paths: the same results and warnings as PHP', async () => {
    for (const savePath of ['seed=127.0.0.1:1', 'seed[]=nocolon', 'timeout=-1&seed[]=127.0.0.1:1', 'prefix=x']) {
      const r = await php(`session_start();`, { 'session.save_handler': 'rediscluster', 'session.save_path': savePath });
      const req = engineFor({ 'session.save_handler': 'rediscluster', 'session.save_path': savePath }).request({});
      await req.start().catch(() => undefined);
      const ours = req.diagnostics;
      await req.end();
      expect(ours, savePath).toEqual(phpDiagnostics(r.stderr));
    }
  });

  it('no seed reachable: PHP\'s RedisClusterException from session_start(), no warning', async () => {
    const path = { 'session.save_handler': 'rediscluster', 'session.save_path': 'seed[]=127.0.0.1:1&seed[]=127.0.0.1:2' };
    const r = await php(`try { session_start(); } catch (Throwable $e) { echo get_class($e), ': ', $e->getMessage(); }`, path);
    const req = engineFor(path).request({});
    let thrown = '';
    await req.start().catch((e: Error) => (thrown = `${e.name}: ${e.message}`));
    await req.end().catch(() => undefined);
    expect(thrown).toBe(r.stdout.toString());
    expect(thrown).toBe("RedisClusterException: Couldn't map cluster keyspace using any provided seed");
    expect(req.diagnostics).toEqual(phpDiagnostics(r.stderr));
  });

  it('a master killed mid-run: PHP and the engine both end every request with RedisClusterException (CLUSTERDOWN), nothing half-written', async () => {
    const c = await startRedisCluster(3);
    try {
      const id = `killrun${process.pid}`;
      const cycle = `session_id('${id}'); session_start(); $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1; session_write_close();`;
      await php(cycle, ini({}, c));
      const engine = engineFor(ini({}, c));
      const engineCycle = async (): Promise<{ thrown: string | null; diagnostics: unknown }> => {
        const req = engine.request({ cookies: { PHPSESSID: id } });
        let thrown: string | null = null;
        try {
          if (await req.start()) {
            req.session.set('n', (req.session.get('n') as number) + 1);
            await req.writeClose();
          }
        } catch (e) {
          thrown = `${(e as Error).name}: ${(e as Error).message}`;
        }
        await req.end().catch(() => undefined);
        return { thrown, diagnostics: req.diagnostics };
      };
      expect(await engineCycle()).toEqual({ thrown: null, diagnostics: [] });
      const victim = await nodeOf(c, `PHPREDIS_CLUSTER_SESSION:${id}`);
      const before = String(await redisCommand(c.nodes[victim]!.port, 'GET', `PHPREDIS_CLUSTER_SESSION:${id}`));
      expect(before).toBe('n|i:2;');
      await c.nodes[victim]!.stop();
      // Requests running while the cluster notices: none hangs, none reports success.
      const during = await Promise.all([engineCycle(), engineCycle()]);
      for (const d of during) expect(d.thrown).toMatch(/^RedisClusterException: /);
      // Once the survivors say cluster_state:fail, both sides answer the same way for any id.
      const survivor = c.nodes.find((_, i) => i !== victim)!;
      for (let i = 0; !String(await redisCommand(survivor.port, 'CLUSTER', 'INFO')).includes('cluster_state:fail'); i++) {
        if (i > 400) throw new Error('the cluster never noticed the dead master');
        await new Promise((r) => setTimeout(r, 25));
      }
      const r = await php(`try { ${cycle} } catch (Throwable $e) { echo get_class($e), ': ', $e->getMessage(); }`, ini({}, c));
      const ours = await engineCycle();
      expect(ours.thrown).toBe(r.stdout.toString());
      expect(ours.diagnostics).toEqual(phpDiagnostics(r.stderr));
      expect(ours.thrown).toBe('RedisClusterException: The Redis Cluster is down (CLUSTERDOWN)');
    } finally {
      closeRedisConnections();
      await c.stop();
    }
  }, 60_000);

  it('with a replica per master: failover=distribute reads from replicas on both sides; after a master dies and its replica takes over, both sides carry on', async () => {
    const c = await startRedisCluster(3, ['--cluster-node-timeout', '500'], true);
    try {
      const x = ini({}, c);
      x['session.save_path'] += '&failover=distribute';
      const list = Array.from({ length: 30 }, (_, i) => `repl${process.pid}x${i}`);
      await php(`foreach (explode(',', '${list.join(',')}') as $id) { session_id($id); session_start(); $_SESSION['id'] = $id; session_write_close(); }`, x);
      // Every write has reached the replica before anyone reads.
      for (let i = 0; i < 3; i++) expect(await redisCommand(c.nodes[i]!.port, 'WAIT', 1, 5000)).toBe(1);
      const replicaGets = async (): Promise<number> => {
        let n = 0;
        for (const r of c.nodes.slice(3)) n += Number(/cmdstat_get:calls=(\d+)/.exec(String(await redisCommand(r.port, 'INFO', 'commandstats')))?.[1] ?? 0);
        return n;
      };
      const engine = engineFor(x);
      const engineReadAll = async (ids: string[]): Promise<unknown[]> => {
        const out: unknown[] = [];
        for (const id of ids) {
          const req = engine.request({ cookies: { PHPSESSID: id } });
          let thrown: string | null = null;
          try {
            expect(await req.start()).toBe(true);
            out.push(req.session.get('id'));
            await req.writeClose();
          } catch (e) {
            thrown = `${(e as Error).name}: ${(e as Error).message}`;
          }
          await req.end().catch(() => undefined);
          expect({ id, thrown, diagnostics: req.diagnostics }).toEqual({ id, thrown: null, diagnostics: [] });
        }
        return out;
      };
      const before = await replicaGets();
      expect(await engineReadAll(list)).toEqual(list);
      const afterEngine = await replicaGets();
      expect(afterEngine).toBeGreaterThan(before);
      await php(`foreach (explode(',', '${list.join(',')}') as $id) { session_id($id); session_start(); session_write_close(); }`, x);
      expect(await replicaGets()).toBeGreaterThan(afterEngine);

      // Master 0 dies; its replica is promoted.
      await c.nodes[0]!.stop();
      // Each node converges on its own: wait until every survivor says cluster_state:ok (a node still
      // saying fail answers CLUSTERDOWN, to PHP as to us).
      for (let i = 0; ; i++) {
        const role = String(await redisCommand(c.nodes[3]!.port, 'INFO', 'replication'));
        const states = await Promise.all(c.nodes.slice(1).map(async (n) => String(await redisCommand(n.port, 'CLUSTER', 'INFO'))));
        if (role.includes('role:master') && states.every((st) => st.includes('cluster_state:ok'))) break;
        if (i > 600) throw new Error('the replica was never promoted');
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(await engineReadAll(list)).toEqual(list);
      const r = await php(
        `$ok = 0; foreach (explode(',', '${list.join(',')}') as $id) { session_id($id); session_start(); if (($_SESSION['id'] ?? null) === $id) $ok++; session_write_close(); } echo $ok;`,
        x,
      );
      expect(r.stderr).toBe('');
      expect(Number(r.stdout.toString())).toBe(list.length);
    } finally {
      closeRedisConnections();
      await c.stop();
    }
  }, 60_000);
});
