/**
 * @module spec/redis/cluster-connect
 * ioredis 6.1's `Cluster#connect()` never settles when the ready check fails after the slot map
 * loaded (handlers/redis/cluster-connect.ts). A fake cluster node answers CLUSTER SLOTS with itself
 * and CLUSTER INFO with `cluster_state:fail`: the plain call is left pending after the cluster ended
 * (the bug, pinned: if this starts settling, ioredis fixed it), `connectCluster()` rejects, and a
 * rediscluster session start and an msession scan on that node end (RedisClusterException and a
 * typed error) instead of hanging. PHP differs on this node: phpredis 5.3.7 reads CLUSTER SLOTS only,
 * never CLUSTER INFO, so it starts the session (run by hand against the same fake node: bool(true),
 * then GET and SETEX sent); the engine's client refuses a cluster that says cluster_state:fail
 * (README, redis section: deviations).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/index.ts';
import { closeRedisConnections } from '../../handlers/rediscluster.ts';
import { connectCluster } from '../../handlers/redis/cluster-connect.ts';

/** The commands in one chunk of RESP arrays (the fake reads whole commands per chunk). */
function commands(chunk: string): string[][] {
  const out: string[][] = [];
  const lines = chunk.split('\r\n');
  for (let i = 0; i < lines.length && lines[i]!.startsWith('*'); ) {
    const n = Number(lines[i]!.slice(1));
    const args: string[] = [];
    for (let k = 0, j = i + 2; k < n; k++, j += 2) args.push(lines[j]!.toLowerCase());
    out.push(args);
    i += 1 + 2 * n;
  }
  return out;
}

let server: Server;
let port = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.on('data', (d: Buffer) => {
      for (const c of commands(d.toString('latin1'))) {
        if (c[0] === 'cluster' && c[1] === 'slots') s.write(`*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:${port}\r\n`);
        else if (c[0] === 'cluster' && c[1] === 'info') s.write('$20\r\ncluster_state:fail\r\n\r\n');
        else if (c[0] === 'hello') s.write('-ERR unknown command\r\n');
        else s.write('+OK\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  port = typeof a === 'object' && a ? a.port : 0;
});

afterAll(async () => {
  closeRedisConnections();
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

const cluster = (): Cluster => {
  const c = new Cluster([{ host: '127.0.0.1', port }], { lazyConnect: true, clusterRetryStrategy: () => null, redisOptions: { enableReadyCheck: false, maxRetriesPerRequest: 0 } });
  c.on('error', () => undefined);
  return c;
};

describe('ioredis Cluster#connect() after a failed ready check', () => {
  it('is left pending once the cluster has ended (the library bug)', async () => {
    const c = cluster();
    let settled = false;
    const ended = new Promise<void>((r) => c.once('end', () => r()));
    void c.connect().then(
      () => (settled = true),
      () => (settled = true),
    );
    await ended;
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(c.status).toBe('end');
    expect(settled).toBe(false);
    c.disconnect();
  });

  it('connectCluster() rejects when the cluster ends', async () => {
    const c = cluster();
    await expect(connectCluster(c)).rejects.toThrow(/None of startup nodes is available/);
    expect(c.status).toBe('end');
  });

  it('a rediscluster session start throws RedisClusterException, and an msession scan a typed error, instead of hanging', async () => {
    const engine = new SessionEngine({ ini: { 'session.save_handler': 'rediscluster', 'session.save_path': `seed[]=127.0.0.1:${port}&timeout=2` } });
    const req = engine.request({ cookies: {} });
    // The exception phpredis throws when no seed maps the keyspace (PHP itself starts the session
    // on this node: it does not look at cluster_state).
    await expect(req.start()).rejects.toThrow(/Couldn't map cluster keyspace using any provided seed/);
    await req.end().catch(() => undefined);
    const ms = engine.msession();
    try {
      await expect(ms.count()).rejects.toMatchObject({ code: 'ERR_MSESSION_SCAN' });
    } finally {
      await ms.disconnect();
    }
  });
});
