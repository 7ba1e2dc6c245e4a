/**
 * @module spec/handlers/modules
 * The shared save-handler suite (suite.ts) for every module, from one table. Each row says how to
 * make a fresh backend for one test, which tools it needs (a missing tool skips the row loudly
 * locally and fails it under CI=true, see spec/support/tools.ts), and which shared cases it
 * knowingly does not pass, each with its reason (hono's style). Servers are real: memcached is
 * Debian's binary started on 127.0.0.1 and a free port for the row, and stopped after it.
 *
 * The `user` rows go through session_set_save_handler()'s own argument handling
 * (parseSaveHandlerArgs, as the engine calls it) with a handler object, then the user module's
 * per-request instance (createUserSaveHandler): the same path a registered object takes in a
 * request. One extra case also runs the object through a whole engine request.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SaveHandler, SaveHandlerContext, SaveHandlerModule } from '../../lib/handler.ts';
import { SessionEngine } from '../../lib/engine.ts';
import { filesModule } from '../../handlers/files.ts';
import { memcacheModule } from '../../handlers/memcache.ts';
import { memcachedModule } from '../../handlers/memcached.ts';
import { redisModule } from '../../handlers/redis.ts';
import { closeRedisConnections } from '../../handlers/redis/client.ts';
import { redisClusterModule } from '../../handlers/rediscluster.ts';
import {
  createUserSaveHandler,
  parseSaveHandlerArgs,
  SessionHandler,
  type SessionData,
  type SessionHandlerInterface,
  type SessionIdInterface,
  type SessionUpdateTimestampHandlerInterface,
} from '../../handlers/user.ts';
import { closeAllConnections } from '../../handlers/shared/memcache/client.ts';
import { makeHashedTree } from '../files/support.ts';
import { startMemcached } from '../support/memcached-server.ts';
import { startRedis, startRedisCluster } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { testSaveHandler, type HandlerFixture, type SaveHandlerSuiteOptions } from './suite.ts';

/** A server a row runs against, started once for the row and stopped after it. */
interface Backend {
  /** Programs it needs (for describeWith). */
  tools: string[];
  start(): Promise<{ address: string; stop(): Promise<void> }>;
}

interface ModuleRow {
  name: string;
  label?: string;
  backend?: Backend;
  /** One test's fixture; `address` is the row's server (undefined without a backend). */
  setup(address: string | undefined): HandlerFixture;
  skip?: SaveHandlerSuiteOptions['skip'];
  additionalTests?: SaveHandlerSuiteOptions['additionalTests'];
}

function tempSaveDir(tag: string, depth = 0): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `pse-${tag}-`));
  makeHashedTree(dir, depth);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---- files ---------------------------------------------------------------------------------

function filesRow(lock: 'flock' | 'lockfile' | 'none', depth: number): ModuleRow {
  return {
    name: 'files',
    label: `lock=${lock}, dirdepth=${depth}`,
    // The hashed subdirectories are pre-created, as PHP's mod_files.sh does.
    setup: () => {
      const { dir, cleanup } = tempSaveDir(`files-${lock}-${depth}`, depth);
      return {
        module: filesModule,
        savePath: depth === 0 ? dir : `${depth};${dir}`,
        ini: { 'session_engine.files_lock': lock, 'session_engine.files_gc_hashed': '1' },
        cleanup,
      };
    },
    skip:
      lock === 'none'
        ? [{ reason: 'session_engine.files_lock=none takes no lock by design', tests: ['locks: a second request on the same id waits for close'] }]
        : [],
  };
}

// ---- user ----------------------------------------------------------------------------------

interface StoredSession {
  data: SessionData;
  /** Last write or touch, on the request's clock (ms). */
  at: number;
}

/**
 * A user handler as an application writes one: PHP's three interfaces over a Map, with time()
 * taken from the request's clock (so the suite can move it). It takes no lock, like the
 * SessionHandlerInterface examples in PHP's manual.
 */
class MapSessionHandler implements SessionHandlerInterface, SessionIdInterface, SessionUpdateTimestampHandlerInterface {
  constructor(
    readonly store: Map<string, StoredSession>,
    readonly now: () => number,
  ) {}
  open(): boolean {
    return true;
  }
  close(): boolean {
    return true;
  }
  read(id: string): SessionData {
    return this.store.get(id)?.data ?? '';
  }
  write(id: string, data: SessionData): boolean {
    this.store.set(id, { data, at: this.now() });
    return true;
  }
  destroy(id: string): boolean {
    this.store.delete(id);
    return true;
  }
  gc(max_lifetime: number): number {
    let n = 0;
    for (const [id, s] of this.store) {
      if (s.at < this.now() - max_lifetime * 1000) {
        this.store.delete(id);
        n++;
      }
    }
    return n;
  }
  create_sid(): string {
    return randomBytes(16).toString('hex');
  }
  validateId(id: string): boolean {
    return this.store.has(id);
  }
  updateTimestamp(id: string, data: SessionData): boolean {
    this.store.set(id, { data, at: this.now() });
    return true;
  }
}

/** PHP's SessionHandler, extended without overrides: every call goes to the default module. */
class PassThroughHandler extends SessionHandler {}

/**
 * The `user` module as the engine drives it: session_set_save_handler($object)'s argument
 * handling, then one user-module instance per request, on a context that says a session is
 * active (SessionHandler's methods require one).
 */
function userModuleWith(makeObject: (ctx: SaveHandlerContext) => object, defaultModule?: SaveHandlerModule): SaveHandlerModule {
  return {
    name: 'user',
    create(ctx: SaveHandlerContext): SaveHandler {
      const spec = parseSaveHandlerArgs([makeObject(ctx)]);
      expect(spec.argumentDiagnostics).toEqual([]);
      return createUserSaveHandler(spec, {
        ini: (n) => ctx.ini(n),
        diagnostic: (l, m, raw) => ctx.diagnostic(l, m, raw),
        createId: () => ctx.createId(),
        now: () => ctx.now(),
        defaultModule,
        sessionActive: () => true,
      });
    },
  };
}

const userMapRow: ModuleRow = {
  name: 'user',
  label: 'SessionHandlerInterface object over a Map',
  setup: () => {
    const store = new Map<string, StoredSession>();
    return { module: userModuleWith((ctx) => new MapSessionHandler(store, () => ctx.now())), savePath: '' };
  },
  skip: [
    {
      reason: 'a user handler locks only if its own code does; this one (like the manual\'s examples) does not',
      tests: ['locks: a second request on the same id waits for close'],
    },
  ],
  additionalTests: () => {
    it('the same object registered with session_set_save_handler() in an engine request keeps sessions across requests', async () => {
      const store = new Map<string, StoredSession>();
      const engine = new SessionEngine({ ini: { 'session.use_strict_mode': '1', 'session.gc_probability': '0' } });
      const first = engine.request({});
      expect(await first.functions['session_set_save_handler']!(new MapSessionHandler(store, () => Date.now()))).toBe(true);
      expect(await first.functions['session_start']!()).toBe(true);
      const id = first.functions['session_id']!() as string;
      first.session.set('n', 1);
      await first.end();
      expect([...store.keys()]).toEqual([id]);
      expect(store.get(id)?.data).toBe('n|i:1;');

      const second = engine.request({ cookies: { PHPSESSID: id } });
      expect(await second.functions['session_set_save_handler']!(new MapSessionHandler(store, () => Date.now()))).toBe(true);
      expect(await second.functions['session_start']!()).toBe(true);
      expect(second.functions['session_id']!()).toBe(id);
      expect(second.session.get('n')).toBe(1);
      await second.end();
      expect(second.diagnostics).toEqual([]);
    });
  },
};

const userSessionHandlerRow: ModuleRow = {
  name: 'user',
  label: 'SessionHandler subclass over files',
  setup: () => {
    const { dir, cleanup } = tempSaveDir('user-files');
    return {
      module: userModuleWith(() => new PassThroughHandler(), filesModule),
      savePath: dir,
      ini: { 'session_engine.files_lock': 'flock' },
      cleanup,
    };
  },
};

// ---- memcached / memcache ------------------------------------------------------------------

const memcachedServer: Backend = {
  tools: ['memcached'],
  start: async () => {
    const server = await startMemcached();
    return {
      address: server.address,
      stop: async () => {
        closeAllConnections();
        await server.stop();
      },
    };
  },
};

const noGc = {
  reason: 'both extensions leave expiry to memcached: gc() reports no count (session_gc() returns false in PHP too)',
  tests: ['gc returns a count', 'gc removes sessions older than maxlifetime and keeps fresh ones'],
};
const itemSize = {
  reason: "memcached's default 1 MB item limit refuses a 1 MiB value, for PHP as for us",
  tests: ['a 1 MiB payload round-trips'],
};
let prefixes = 0;

const memcachedRow: ModuleRow = {
  name: 'memcached',
  backend: memcachedServer,
  // A fresh prefix per test: sessions of different tests never meet.
  setup: (address) => ({ module: memcachedModule, savePath: address!, ini: { 'memcached.sess_prefix': `t${process.pid}.${++prefixes}.` } }),
  skip: [
    noGc,
    itemSize,
    {
      reason: 'php-memcached update_timestamp is a memcached touch: it never creates the item (and reports success)',
      tests: ['updateTimestamp on a new id stores the data'],
    },
    {
      reason: 'php-memcached create_sid reserves the new id by adding an empty item, so the id then exists (validateSid true)',
      tests: ['createSid returns a valid id that is not in use'],
    },
  ],
};

const memcacheRow: ModuleRow = {
  name: 'memcache',
  backend: memcachedServer,
  // pecl memcache releases its lock only in write(): a case that reads without writing and reads
  // again waits for lock_timeout, as PHP would (15 s by default; 2 s here to keep the run short).
  setup: (address) => ({ module: memcacheModule, savePath: `tcp://${address!}`, ini: { 'memcache.lock_timeout': '2' } }),
  skip: [noGc, itemSize],
};

// ---- redis / rediscluster (phpredis) ------------------------------------------------------

const redisServer: Backend = {
  tools: ['redis-server'],
  start: async () => {
    const server = await startRedis();
    return {
      address: server.address,
      stop: async () => {
        closeRedisConnections();
        await server.stop();
      },
    };
  },
};

/** A 3-master Redis Cluster; the row's `address` is its save_path seed list. */
const redisClusterServers: Backend = {
  tools: ['redis-server'],
  start: async () => {
    const cluster = await startRedisCluster(3);
    return {
      address: cluster.seeds,
      stop: async () => {
        closeRedisConnections();
        await cluster.stop();
      },
    };
  },
};

const redisNoGc = {
  reason: 'phpredis leaves expiry to Redis (SETEX): gc() reports no count (session_gc() returns false in PHP too)',
  tests: ['gc returns a count', 'gc removes sessions older than maxlifetime and keeps fresh ones'],
};
const redisExpireOnly = {
  reason: 'phpredis update_timestamp is EXPIRE: it never creates the key (and reports success)',
  tests: ['updateTimestamp on a new id stores the data'],
};

const redisDefaultsRow: ModuleRow = {
  name: 'redis',
  label: "phpredis' defaults: no locking",
  backend: redisServer,
  // A fresh key prefix per test: sessions of different tests never meet.
  setup: (address) => ({ module: redisModule, savePath: `tcp://${address!}?prefix=t${process.pid}.${++prefixes}:` }),
  skip: [
    redisNoGc,
    redisExpireOnly,
    {
      reason: 'redis.session.locking_enabled is 0 by default, as in phpredis: concurrent requests do not wait',
      tests: ['locks: a second request on the same id waits for close'],
    },
  ],
};

const redisLockingRow: ModuleRow = {
  name: 'redis',
  label: 'redis.session.locking_enabled=1, lock_retries=-1',
  backend: redisServer,
  setup: (address) => ({
    module: redisModule,
    savePath: `tcp://${address!}?prefix=t${process.pid}.${++prefixes}:`,
    ini: { 'redis.session.locking_enabled': '1', 'redis.session.lock_retries': '-1', 'redis.session.lock_expire': '10' },
  }),
  skip: [redisNoGc, redisExpireOnly],
};

const redisClusterRow: ModuleRow = {
  name: 'rediscluster',
  label: '3 masters',
  backend: redisClusterServers,
  setup: (address) => ({ module: redisClusterModule, savePath: `${address!}&prefix=t${process.pid}.${++prefixes}:` }),
  skip: [
    redisNoGc,
    {
      reason: "phpredis 5.3.7's rediscluster handler has no locking",
      tests: ['locks: a second request on the same id waits for close'],
    },
  ],
};

// ---- the table -----------------------------------------------------------------------------

const MODULES: ModuleRow[] = [
  filesRow('flock', 0),
  filesRow('flock', 2),
  filesRow('lockfile', 0),
  filesRow('none', 0),
  userMapRow,
  userSessionHandlerRow,
  memcachedRow,
  memcacheRow,
  redisDefaultsRow,
  redisLockingRow,
  redisClusterRow,
];

for (const row of MODULES) {
  const title = `module ${row.name}${row.label === undefined ? '' : ` (${row.label})`}`;
  describeWith(row.backend?.tools ?? [], title, () => {
    let server: { address: string; stop(): Promise<void> } | undefined;
    if (row.backend !== undefined) {
      const backend = row.backend;
      beforeAll(async () => {
        server = await backend.start();
      });
      afterAll(async () => {
        await server?.stop();
      });
    }
    testSaveHandler({
      name: row.name,
      ...(row.label !== undefined ? { label: row.label } : {}),
      setup: () => row.setup(server?.address),
      ...(row.skip !== undefined ? { skip: row.skip } : {}),
      ...(row.additionalTests !== undefined ? { additionalTests: row.additionalTests } : {}),
    });
  });
}

it('the table has a row for every built-in module', async () => {
  const { builtinModules } = await import('../../lib/builtins.ts');
  const covered = new Set(MODULES.map((r) => r.name));
  expect(builtinModules.map((m) => m.name).filter((n) => !covered.has(n))).toEqual([]);
});
