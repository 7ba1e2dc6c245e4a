/**
 * @module msession/stores/memcached
 * Enumeration for `session.save_handler = memcached` (php-memcached) and `memcache` (pecl):
 * memcached keeps no index, so the only listing the servers allow is the LRU crawler's metadump (`hash`, else `all`; see {@link metadump}). Limits (README,
 * "msession"): the listing is a walk while the store changes, so items written during it may be
 * missed and items deleted during it may still be listed (reads then find them gone and skip
 * them); one dump runs per server at a time (BUSY: retried); every server of the save path is
 * listed, so with replicas an id comes once per server holding it (no de-duplication: constant
 * memory wins).
 * Reads for scans use the meta protocol (`mg <key> v f t`), without PHP's lock, pipelined: a
 * batch of ids goes out in one write and its replies come back in order (one round trip).
 */
import { createConnection, type Socket } from 'node:net';
import type { SaveHandlerContext } from '../../lib/handler.ts';
import { parseLibmemcachedServers, parsePeclSavePath } from '../../handlers/shared/memcache/save-path.ts';
import { isValidSessionKey } from '../../handlers/files.ts';
import { unpackSessionValue } from '../../handlers/memcache.ts';
import { MsessionError, checkAborted } from '../errors.ts';
import type { PeekResult, ScanOptions, SessionStore } from './types.ts';

/** How long a server may stay silent while a reply is due. */
const IDLE_TIMEOUT_MS = 10_000;

interface Server {
  host: string;
  port: number;
  socketPath?: string;
}

interface Layout {
  module: 'memcached' | 'memcache';
  servers: Server[];
  /** Key of a session's data. */
  key(id: string): string;
  /** The id a listed key holds, or null when the key is not session data. */
  idOf(key: string): string | null;
  /** Key of a session's lock item. */
  lockKey(id: string): string;
  /** Whether a stored lock value means "held" (pecl memcache stores 0 once released). */
  lockHeld(value: Buffer): boolean;
  /** Seconds a lock lives when taken. */
  lockSeconds(): number;
  /** Value bytes from the stored bytes and flags (pecl memcache compresses). */
  unpack(value: Uint8Array, flags: number): Uint8Array | null;
}

function serverName(s: Server): string {
  return s.socketPath ?? `${s.host}:${s.port}`;
}

function dial(s: Server): Socket {
  return s.socketPath !== undefined ? createConnection(s.socketPath) : createConnection(s.port, s.host);
}

/** One text-protocol connection for meta gets, replies read in order. */
class MetaConnection {
  readonly #server: Server;
  #socket: Socket | null = null;
  #buf: Buffer = Buffer.alloc(0);
  readonly #waiting: { resolve: (v: { value: Buffer; flags: number; ttl: number } | null) => void; reject: (e: Error) => void }[] = [];

  constructor(server: Server) {
    this.#server = server;
  }

  #fail(e: Error): void {
    for (const w of this.#waiting.splice(0)) w.reject(e);
    this.#socket?.destroy();
    this.#socket = null;
    this.#buf = Buffer.alloc(0);
  }

  #socketNow(): Socket {
    if (this.#socket !== null) return this.#socket;
    const s = dial(this.#server);
    s.on('data', (d: Buffer) => {
      this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
      this.#drain();
    });
    s.on('error', (e) => this.#fail(new MsessionError('ERR_MSESSION_SCAN', `msession: memcached ${serverName(this.#server)}: ${e.message}`, { cause: e })));
    s.on('close', () => this.#fail(new MsessionError('ERR_MSESSION_SCAN', `msession: memcached ${serverName(this.#server)}: connection closed`)));
    s.setTimeout(IDLE_TIMEOUT_MS, () => {
      if (this.#waiting.length > 0) this.#fail(new MsessionError('ERR_MSESSION_SCAN', `msession: memcached ${serverName(this.#server)}: no reply for ${IDLE_TIMEOUT_MS} ms`));
    });
    this.#socket = s;
    return s;
  }

  #drain(): void {
    for (;;) {
      const w = this.#waiting[0];
      if (w === undefined) return;
      const eol = this.#buf.indexOf('\r\n');
      if (eol < 0) return;
      const line = this.#buf.subarray(0, eol).toString('latin1');
      if (line === 'EN') {
        this.#buf = this.#buf.subarray(eol + 2);
        this.#waiting.shift()!.resolve(null);
        continue;
      }
      const m = /^VA (\d+)((?: \S+)*)$/.exec(line);
      if (m === null) {
        this.#fail(new MsessionError('ERR_MSESSION_SCAN', `msession: memcached ${serverName(this.#server)}: unexpected reply ${JSON.stringify(line.slice(0, 80))}`));
        return;
      }
      const len = Number(m[1]);
      if (this.#buf.length < eol + 2 + len + 2) return;
      const value = Buffer.from(this.#buf.subarray(eol + 2, eol + 2 + len));
      this.#buf = this.#buf.subarray(eol + 2 + len + 2);
      let flags = 0;
      let ttl = -1;
      for (const f of m[2]!.trim().split(' ')) {
        if (f.startsWith('f')) flags = Number(f.slice(1));
        else if (f.startsWith('t')) ttl = Number(f.slice(1));
      }
      this.#waiting.shift()!.resolve({ value, flags, ttl });
    }
  }

  get(key: string): Promise<{ value: Buffer; flags: number; ttl: number } | null> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#socketNow().write(`mg ${key} v f t\r\n`);
    });
  }

  /** Many gets in one write (replies come in order). */
  getMany(keys: readonly string[]): Promise<({ value: Buffer; flags: number; ttl: number } | null)[]> {
    const all = keys.map(() => new Promise<{ value: Buffer; flags: number; ttl: number } | null>((resolve, reject) => this.#waiting.push({ resolve, reject })));
    this.#socketNow().write(keys.map((k) => `mg ${k} v f t\r\n`).join(''));
    return Promise.all(all);
  }

  close(): void {
    const s = this.#socket;
    this.#socket = null;
    s?.removeAllListeners('close');
    s?.destroy();
  }
}

/** What one metadump connection has produced so far. */
interface Dump {
  keys: string[];
  head: number;
  state: 'running' | 'end' | 'busy' | 'badclass' | 'failed';
  failure: Error | null;
  wake: (() => void) | null;
}

/**
 * Reads a metadump to its end without ever pausing the socket: while the crawler waits for a
 * reader that stopped, it holds memcached's item locks, and the `mg` reads of the scan then wait
 * for it: a deadlock (seen with 60,000 and 100,000 items on 1.6.18, not 30,000). So the keys wait in memory (about 60
 * bytes each) rather than in the socket.
 */
function startDump(server: Server, mode: 'hash' | 'all'): { dump: Dump; socket: Socket } {
  const dump: Dump = { keys: [], head: 0, state: 'running', failure: null, wake: null };
  const socket = dial(server);
  const wake = (): void => {
    const w = dump.wake;
    dump.wake = null;
    w?.();
  };
  const stop = (state: Dump['state'], failure: Error | null = null): void => {
    if (dump.state !== 'running') return;
    dump.state = state;
    dump.failure = failure;
    socket.destroy();
    wake();
  };
  let tail = '';
  socket.on('data', (d: Buffer) => {
    const lines = (tail + d.toString('latin1')).split('\n');
    tail = lines.pop()!;
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.startsWith('key=')) {
        const end = line.indexOf(' ');
        dump.keys.push(decodeURIComponent(line.slice(4, end < 0 ? undefined : end)));
      } else if (line === 'END') return stop('end');
      else if (line.startsWith('BUSY')) return stop('busy');
      else if (line.startsWith('BADCLASS') && mode === 'hash') return stop('badclass');
      else if (line.startsWith('ERROR') || line.startsWith('CLIENT_ERROR') || line.startsWith('SERVER_ERROR')) {
        return stop('failed', new MsessionError('ERR_MSESSION_CANNOT_ENUMERATE', `msession: memcached ${serverName(server)} refuses "lru_crawler metadump ${mode}" (${line}); it needs memcached >= 1.4.31 with the LRU crawler enabled`));
      }
    }
    wake();
  });
  socket.on('error', (e) => stop('failed', e));
  socket.on('close', () => stop('failed', new Error('connection closed before END')));
  // A server that stops answering mid-dump ends the scan with an error, not a hang.
  socket.setTimeout(IDLE_TIMEOUT_MS, () => stop('failed', new Error(`no data for ${IDLE_TIMEOUT_MS} ms`)));
  socket.write(`lru_crawler metadump ${mode}\r\n`);
  return { dump, socket };
}

/**
 * Streams the keys of one server, URL-decoded: `lru_crawler metadump hash` (a walk of the hash
 * table; servers without it answer BADCLASS), else `lru_crawler metadump all` (a walk of the LRUs: items the
 * LRU maintainer moves between sub-LRUs during the walk, e.g. just-written or just-read ones, can
 * be missed; seen on 1.6.18, hence `hash` first).
 */
async function* metadump(server: Server, opts: ScanOptions): AsyncGenerator<string> {
  let mode: 'hash' | 'all' = 'hash';
  for (let attempt = 0; ; attempt++) {
    checkAborted(opts.signal);
    const { dump, socket } = startDump(server, mode);
    try {
      for (;;) {
        checkAborted(opts.signal);
        if (dump.head < dump.keys.length) {
          const key = dump.keys[dump.head]!;
          dump.head++;
          if (dump.head >= 4096 && dump.head * 2 >= dump.keys.length) {
            dump.keys = dump.keys.slice(dump.head);
            dump.head = 0;
          }
          yield key;
          continue;
        }
        if (dump.state !== 'running') break;
        await new Promise<void>((resolve) => {
          dump.wake = resolve;
        });
      }
    } finally {
      socket.destroy();
    }
    if (dump.state === 'end') return;
    if (dump.state === 'failed') {
      if (dump.failure instanceof MsessionError) throw dump.failure;
      throw new MsessionError('ERR_MSESSION_SCAN', `msession: memcached ${serverName(server)} failed mid-scan: ${dump.failure?.message ?? 'connection closed'}`, { cause: dump.failure ?? undefined });
    }
    // A server older than the hash walk: the LRU walk, with its limits.
    if (dump.state === 'badclass') mode = 'all';
    if (attempt === 200) throw new MsessionError('ERR_MSESSION_SCAN', `msession: memcached ${serverName(server)}: LRU crawler stayed busy`);
    if (dump.state === 'busy') await new Promise((r) => setTimeout(r, 25));
  }
}

function layoutStore(layout: Layout, ctx: SaveHandlerContext): SessionStore {
  const conns = layout.servers.map((s) => new MetaConnection(s));
  const checkId = (id: string): void => {
    if (!isValidSessionKey(id)) throw new MsessionError('ERR_MSESSION_BAD_ID', `msession: the ${layout.module} module rejects session id "${id}"`, { id });
  };
  const find = async (id: string) => {
    checkId(id);
    for (const c of conns) {
      const got = await c.get(layout.key(id));
      if (got !== null) return got;
    }
    return null;
  };
  const unpacked = (id: string, got: { value: Buffer; flags: number }): Uint8Array | MsessionError => {
    const v = layout.unpack(new Uint8Array(got.value), got.flags);
    return v ?? new MsessionError('ERR_MSESSION_CORRUPT', `msession: session ${id} holds a value the ${layout.module} module cannot read (flags ${got.flags})`, { id });
  };
  return {
    module: layout.module,
    async *ids(opts = {}) {
      for (const s of layout.servers) {
        for await (const key of metadump(s, opts)) {
          const id = layout.idOf(key);
          if (id !== null) yield id;
        }
      }
    },
    async peek(id) {
      const got = await find(id);
      if (got === null) return null;
      const v = unpacked(id, got);
      if (v instanceof MsessionError) throw v;
      return v;
    },
    async peekMany(ids) {
      for (const id of ids) checkId(id);
      const out: PeekResult[] = ids.map(() => null);
      // Like find(): the first server holding the session answers; the rest are asked for the others.
      let todo = ids.map((_, i) => i);
      for (const c of conns) {
        if (todo.length === 0) break;
        const got = await c.getMany(todo.map((i) => layout.key(ids[i]!)));
        const next: number[] = [];
        todo.forEach((i, k) => {
          const g = got[k] ?? null;
          if (g === null) next.push(i);
          else out[i] = unpacked(ids[i]!, g);
        });
        todo = next;
      }
      return out;
    },
    async ttl(id) {
      const got = await find(id);
      if (got === null) return null;
      return got.ttl < 0 ? Infinity : got.ttl;
    },
    async setTtl(id, seconds) {
      checkId(id);
      const exp = seconds > 60 * 60 * 24 * 30 ? Math.floor(ctx.now() / 1000) + seconds : seconds;
      let found = false;
      for (const s of layout.servers) {
        const reply = await oneCommand(s, `touch ${layout.key(id)} ${exp}`);
        if (reply.startsWith('TOUCHED')) found = true;
      }
      return found;
    },
    async lockInfo(id) {
      checkId(id);
      for (const c of conns) {
        const got = await c.get(layout.lockKey(id));
        if (got === null || !layout.lockHeld(got.value)) continue;
        const expiresIn = got.ttl < 0 ? Infinity : got.ttl;
        return { locked: true, expiresIn, heldFor: Number.isFinite(expiresIn) ? Math.max(0, layout.lockSeconds() - expiresIn) : 0 };
      }
      return { locked: false };
    },
    async size(id) {
      const got = await find(id);
      return got === null ? null : got.value.length;
    },
    async close() {
      for (const c of conns) c.close();
    },
  };
}

function oneCommand(server: Server, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dial(server);
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.endsWith('\r\n')) {
        s.destroy();
        resolve(buf.trim());
      }
    });
    s.on('error', (e) => reject(new MsessionError('ERR_MSESSION_WRITE', `msession: memcached ${serverName(server)}: ${e.message}`, { cause: e })));
    s.write(`${cmd}\r\n`);
  });
}

/** php-memcached: data under `<sess_prefix><id>`, locks under `<sess_prefix>lock.<id>`. */
export function memcachedStore(savePath: string, ctx: SaveHandlerContext): SessionStore {
  const servers = parseLibmemcachedServers(savePath);
  if (servers === null || servers.length === 0) throw new MsessionError('ERR_MSESSION_OPEN', `msession: cannot parse memcached session.save_path "${savePath}"`);
  const prefix = ctx.ini('memcached.sess_prefix') ?? 'memc.sess.key.';
  return layoutStore(
    {
      module: 'memcached',
      servers: servers.map((s) => ({ host: s.host, port: s.port, ...(s.socketPath !== undefined ? { socketPath: s.socketPath } : {}) })),
      key: (id) => prefix + id,
      lockKey: (id) => `${prefix}lock.${id}`,
      lockHeld: () => true,
      lockSeconds: () => Number(ctx.ini('memcached.sess_lock_expire') ?? '0') || Number(ctx.ini('session_engine.max_execution_time') ?? '30') || 30,
      idOf: (key) => {
        if (!key.startsWith(prefix)) return null;
        const id = key.slice(prefix.length);
        return isValidSessionKey(id) ? id : null; // `lock.<id>` has a dot: never a valid id
      },
      unpack: (v) => v,
    },
    ctx,
  );
}

/** pecl memcache: data under `<prefix_static_key><id>`, locks under `<key>.lock`. */
export function memcacheStore(savePath: string, ctx: SaveHandlerContext): SessionStore {
  const path = (ctx.ini('memcache.session_save_path') ?? '') || savePath;
  const parsed = parsePeclSavePath(path, Number(ctx.ini('memcache.default_port') ?? '11211'));
  if (!parsed.ok || parsed.servers.length === 0) throw new MsessionError('ERR_MSESSION_OPEN', `msession: cannot parse memcache session.save_path "${path}"`);
  const prefix = ctx.ini('memcache.session_prefix_static_key') ?? '';
  return layoutStore(
    {
      module: 'memcache',
      servers: parsed.servers.map((s) => ({ host: s.host, port: s.port, ...(s.socketPath !== undefined ? { socketPath: s.socketPath } : {}) })),
      key: (id) => prefix + id,
      lockKey: (id) => `${prefix}${id}.lock`,
      lockHeld: (v) => v.toString('latin1').trim() !== '0',
      lockSeconds: () => Number(ctx.ini('memcache.lock_timeout') ?? '15') || 15,
      idOf: (key) => {
        if (!key.startsWith(prefix)) return null;
        const id = key.slice(prefix.length);
        return isValidSessionKey(id) ? id : null; // `<id>.lock` has a dot: never a valid id
      },
      unpack: (v, flags) => unpackSessionValue(v, flags),
    },
    ctx,
  );
}
