/**
 * @module msession/msession
 * `Msession`: PHP's msession functions (ecosystem.md §7) over the engine's configured module and
 * save path. Every read goes through the module's own SaveHandler (create → open → read, which
 * takes PHP's lock → write → close), so an msession call and a live PHP request on one session
 * serialize on the same lock; data is decoded and encoded with the configured serialize_handler.
 * Enumeration (list, count, find, listvar, scan) streams from the store (stores/), reading each
 * session without the lock (a scan never queues behind live requests).
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Diagnostic } from '../lib/errors.ts';
import type { SaveHandler, SaveHandlerContext, SaveHandlerModule } from '../lib/handler.ts';
import type { SerializerContext, SessionSerializer } from '../lib/serializer.ts';
import type { SessionEngine } from '../lib/engine.ts';
import { PhpArray, PhpFloat, toPhp, type JsInput, type PhpValue } from '../lib/value.ts';
import { SID_ALPHABET, binToReadable, isValidSessionId } from '../lib/session-id.ts';
import { MsessionError, checkAborted } from './errors.ts';
import { comparable, incValue } from './values.ts';
import { candidateFilter, type CandidateFilter } from './prefilter.ts';
import { entryBatches, idBatches, type ScanEntry } from './scan.ts';
import { storeFor, type LockInfo, type SessionStore } from './stores/index.ts';
import { keepLockOnWrite } from '../handlers/shared/lock-hold.ts';

export interface MsessionOptions {
  /** ini values for msession's calls only (like `-d`), over the engine's configuration. */
  ini?: Record<string, string>;
}

/** Progress of a scan: sessions looked at, matches, sessions that failed to read or decode. */
export interface ScanProgress {
  scanned: number;
  matched: number;
  errors: number;
  done: boolean;
}

export interface ScanOptions {
  signal?: AbortSignal;
  /** Called every {@link PROGRESS_EVERY} sessions and once at the end (done: true). */
  onProgress?: (p: ScanProgress) => void;
  /** A session that cannot be read or decoded (with its id); the scan goes on. */
  onError?: (err: MsessionError) => void;
}

export const PROGRESS_EVERY = 1000;
/**
 * Modules whose read of an unknown id leaves nothing behind when the handler closes without a
 * write (files creates the file; pecl memcache releases its lock by writing the session).
 */
const READ_CREATES_NOTHING = new Set(['memcached', 'redis', 'rediscluster']);


export type MsessionPlugin = (ms: Msession, id: string, param: unknown) => unknown;

interface Held {
  key: number;
  handler: SaveHandler;
  session: PhpArray;
  since: number;
}

/** What an operation inside the lock returns: an optional new session to write, and a result. */
type Change<T> = { result: T; write?: PhpArray; destroy?: boolean; touch?: number };

export class Msession {
  readonly #engine: SessionEngine;
  readonly #overrides: Map<string, string>;
  readonly #module: SaveHandlerModule;
  readonly #held = new Map<string, Held>();
  readonly #plugins = new Map<string, MsessionPlugin>();
  #store: SessionStore | null = null;
  #disconnected = false;
  /** PHP's msession functions under their PHP names (lists come back as arrays, as in PHP). */
  readonly functions: MsessionFunctions;

  constructor(engine: SessionEngine, options: MsessionOptions = {}) {
    this.#engine = engine;
    this.#overrides = new Map(Object.entries(options.ini ?? {}));
    const name = this.#ini('session.save_handler') ?? 'files';
    const mod = engine.modules.get(name);
    if (mod === undefined) throw new MsessionError('ERR_MSESSION_OPEN', `msession: session.save_handler "${name}" is not a registered module`);
    if (name.toLowerCase() === 'user') throw new MsessionError('ERR_MSESSION_CANNOT_ENUMERATE', 'msession: the "user" module is set per request by session_set_save_handler(); register the handler as a module (with msessionStore) to use msession');
    this.#module = mod;
    this.functions = makeFunctions(this);
  }

  /** The module name msession works on. */
  get moduleName(): string {
    return this.#module.name;
  }

  #ini(name: string): string | undefined {
    return this.#overrides.get(name) ?? this.#engine.iniGet(name);
  }

  #context(diags: Diagnostic[]): SaveHandlerContext {
    return {
      ini: (n) => this.#ini(n),
      diagnostic: (level, message) => void diags.push({ level, message }),
      createId: () => this.#newId(Number(this.#ini('session.sid_length') ?? '32') || 32),
      now: () => Date.now(),
    };
  }

  #newId(length: number): string {
    const bits = Number(this.#ini('session.sid_bits_per_character') ?? '4') || 4;
    return binToReadable(randomBytes(Math.ceil((length * bits) / 8)), length, bits);
  }

  #serializer(): SessionSerializer {
    const name = this.#ini('session.serialize_handler') ?? 'php';
    const s = this.#engine.serializers.get(name);
    if (s === undefined) throw new MsessionError('ERR_MSESSION_OPEN', `msession: session.serialize_handler "${name}" is not registered`);
    return s;
  }

  #maxLifetime(): number {
    return Number(this.#ini('session.gc_maxlifetime') ?? '1440') || 0;
  }

  #alive(): void {
    if (this.#disconnected) throw new MsessionError('ERR_MSESSION_DISCONNECTED', 'msession: disconnect() was called');
  }

  #checkId(id: string): void {
    if (typeof id !== 'string' || !isValidSessionId(id) || id.includes('\0')) {
      throw new MsessionError('ERR_MSESSION_BAD_ID', `msession: invalid session id ${JSON.stringify(String(id))} (PHP accepts 1-256 characters of [a-zA-Z0-9,-])`, { id: String(id) });
    }
  }

  /** The store for enumeration and lifetimes (typed error when the module has none). */
  store(): SessionStore {
    this.#alive();
    this.#store ??= storeFor(this.#module, this.#ini('session.save_path') ?? '', this.#context([]));
    return this.#store;
  }

  /** Decodes stored bytes with the configured serializer; throws ERR_MSESSION_CORRUPT. */
  decode(id: string, data: Uint8Array): PhpArray {
    if (data.length === 0) return new PhpArray();
    const seen: string[] = [];
    const ctx: SerializerContext = { maxDepth: 4096, diagnostic: (_l, m) => void seen.push(m) };
    let r;
    try {
      r = this.#serializer().decode(data, new PhpArray(), ctx);
    } catch (e) {
      throw new MsessionError('ERR_MSESSION_CORRUPT', `msession: session ${id} does not decode: ${(e as Error).message}`, { id, cause: e });
    }
    if (!r.ok || !(r.session instanceof PhpArray)) {
      throw new MsessionError('ERR_MSESSION_CORRUPT', `msession: session ${id} does not decode with serialize_handler ${this.#serializer().name}${seen.length ? `: ${seen.join('; ')}` : ''}`, { id });
    }
    return r.session;
  }

  /** Encodes a session with the configured serializer; refuses (typed) what PHP would drop. */
  encode(id: string, session: PhpArray): Uint8Array {
    const seen: string[] = [];
    const ctx: SerializerContext = { maxDepth: 4096, diagnostic: (_l, m) => void seen.push(m) };
    const out = this.#serializer().encode(session, ctx);
    if (seen.length > 0 || (out === null && session.size > 0)) {
      // PHP would write a session without these keys (or an empty one): refuse rather than lose them.
      throw new MsessionError('ERR_MSESSION_VALUE', `msession: session ${id} cannot be encoded with serialize_handler ${this.#serializer().name}${seen.length ? `: ${seen.join('; ')}` : ''}`, { id });
    }
    return out ?? new Uint8Array(0);
  }

  /**
   * Refuses an id the store does not hold (PHP's read would create it: files makes an empty
   * file). Modules without a store (no enumeration) cannot tell, and are not asked.
   */
  async #mustExist(id: string): Promise<void> {
    let store: SessionStore;
    try {
      store = this.store();
    } catch (e) {
      if (e instanceof MsessionError && e.code === 'ERR_MSESSION_CANNOT_ENUMERATE') return;
      throw e;
    }
    if ((await store.ttl(id)) === null) throw new MsessionError('ERR_MSESSION_NO_SESSION', `msession: no session ${id}`, { id });
  }

  /** Opens the module and reads (and so locks) `id`, as session_start() does. */
  async #openRead(id: string): Promise<{ handler: SaveHandler; data: Uint8Array; diags: Diagnostic[] }> {
    const diags: Diagnostic[] = [];
    const handler = this.#module.create(this.#context(diags));
    const savePath = this.#ini('session.save_path') ?? '';
    if (!(await handler.open(savePath, this.#ini('session.name') ?? 'PHPSESSID'))) {
      throw new MsessionError('ERR_MSESSION_OPEN', `msession: ${this.#module.name} module: open("${savePath}") failed`, { id, diagnostics: diags });
    }
    let data: Uint8Array | false;
    try {
      data = await handler.read(id, this.#maxLifetime());
    } catch (e) {
      await Promise.resolve(handler.close()).catch(() => undefined);
      throw new MsessionError('ERR_MSESSION_READ', `msession: reading session ${id} failed: ${(e as Error).message}`, { id, diagnostics: diags, cause: e });
    }
    if (data === false) {
      await Promise.resolve(handler.close()).catch(() => undefined);
      throw new MsessionError('ERR_MSESSION_READ', `msession: reading session ${id} failed`, { id, diagnostics: diags });
    }
    return { handler, data, diags };
  }

  /** Ends a transaction: pecl memcache releases its lock only on write, so the bytes go back. */
  async #release(handler: SaveHandler, id: string, unchanged: Uint8Array | null): Promise<void> {
    if (unchanged !== null && this.#module.name.toLowerCase() === 'memcache') await handler.write(id, unchanged, this.#maxLifetime());
    await handler.close();
  }

  /**
   * Runs `fn` on the session under the module's lock (or under the lock this Msession holds via
   * lock()), writes what it returns, and releases. A failed write throws; the store then keeps
   * its previous bytes. With `raw`, the stored data is not decoded (`fn` gets an empty array):
   * destroy and setData work on sessions that do not decode.
   */
  async transaction<T>(id: string, fn: (session: PhpArray) => Change<T> | Promise<Change<T>>, opts: { raw?: boolean; create?: boolean } = {}): Promise<T> {
    this.#alive();
    this.#checkId(id);
    const held = this.#held.get(id);
    if (held !== undefined) {
      const change = await fn(held.session);
      await this.#apply(held.handler, id, change, []);
      if (change.write !== undefined) held.session = change.write;
      if (change.destroy === true) held.session = new PhpArray();
      await this.#touch(id, change);
      return change.result;
    }
    // memcached and redis reads create nothing: the existence check then costs a round trip only
    // when the read comes back empty (an empty session or none), under the lock.
    const checkAfter = opts.create !== true && READ_CREATES_NOTHING.has(this.#module.name.toLowerCase());
    if (opts.create !== true && !checkAfter) await this.#mustExist(id);
    const { handler, data, diags } = await this.#openRead(id);
    if (checkAfter && data.length === 0) {
      try {
        await this.#mustExist(id);
      } catch (e) {
        await Promise.resolve(handler.close()).catch(() => undefined);
        throw e;
      }
    }
    let change: Change<T>;
    try {
      change = await fn(opts.raw === true ? new PhpArray() : this.decode(id, data));
      await this.#apply(handler, id, change, diags);
    } catch (e) {
      await this.#release(handler, id, data).catch(() => undefined);
      throw e;
    }
    await this.#release(handler, id, change.write === undefined && change.destroy !== true ? data : null);
    await this.#touch(id, change);
    return change.result;
  }

  async #apply(handler: SaveHandler, id: string, change: Change<unknown>, diags: Diagnostic[]): Promise<void> {
    if (change.destroy === true) {
      if (!(await handler.destroy(id))) throw new MsessionError('ERR_MSESSION_WRITE', `msession: destroying session ${id} failed`, { id, diagnostics: diags });
      return;
    }
    if (change.write !== undefined) {
      const bytes = this.encode(id, change.write);
      if (!(await handler.write(id, bytes, this.#maxLifetime()))) {
        throw new MsessionError('ERR_MSESSION_WRITE', `msession: writing session ${id} failed`, { id, diagnostics: diags });
      }
    }
  }

  /**
   * Sets the lifetime after the write (pecl memcache releases its lock by writing the session,
   * which sets the item's expiry again, so the touch must come after the release there).
   */
  async #touch(id: string, change: Change<unknown>): Promise<void> {
    if (change.touch === undefined) return;
    if (!(await this.store().setTtl(id, change.touch))) throw new MsessionError('ERR_MSESSION_WRITE', `msession: session ${id} does not exist`, { id });
  }

  // --- one session ---------------------------------------------------------------------------

  /** msession_get: one variable, or `def` when unset. */
  get(id: string, name: string, def: PhpValue = null): Promise<PhpValue> {
    return this.transaction(id, (s) => ({ result: s.has(name) ? s.get(name)! : def }));
  }

  /** msession_set: sets one variable (plain JS values are converted with toPhp). */
  set(id: string, name: string, value: JsInput): Promise<true> {
    const v = toPhp(value);
    return this.transaction(id, (s) => {
      const next = s.clone();
      next.set(name, v);
      return { result: true, write: next };
    });
  }

  /** msession_get_array: the whole decoded session. */
  getArray(id: string): Promise<PhpArray> {
    return this.transaction(id, (s) => ({ result: s }));
  }

  /** msession_set_array: sets every variable of `values` (others are kept, as msession did). */
  setArray(id: string, values: PhpArray | Record<string, JsInput>): Promise<true> {
    const add = values instanceof PhpArray ? values : PhpArray.from(values);
    return this.transaction(id, (s) => {
      const next = s.clone();
      for (const [k, v] of add) next.set(k, v);
      return { result: true, write: next };
    });
  }

  /** msession_get_data: the stored (encoded) bytes. */
  async getData(id: string): Promise<Uint8Array> {
    this.#alive();
    this.#checkId(id);
    const held = this.#held.get(id);
    if (held !== undefined) return this.encode(id, held.session);
    await this.#mustExist(id);
    const { handler, data } = await this.#openRead(id);
    await this.#release(handler, id, data);
    return data;
  }

  /** msession_set_data: stores encoded bytes as they are, after checking they decode. */
  async setData(id: string, data: Uint8Array | string): Promise<true> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const decoded = this.decode(id, bytes);
    return this.transaction(id, () => ({ result: true, write: decoded }), { raw: true });
  }

  /** msession_inc: adds `by` (default 1) to a variable under the lock; returns the new value. */
  inc(id: string, name: string, by: number | bigint = 1): Promise<number | bigint | PhpFloat> {
    return this.transaction(id, (s) => {
      const next = s.clone();
      const v = incValue(id, name, s.get(name), by);
      next.set(name, v);
      return { result: v, write: next };
    });
  }

  /** msession_create: a new empty session; false when one with that id exists. */
  async create(id: string): Promise<boolean> {
    this.#checkId(id);
    if (await this.exists(id)) return false;
    return this.transaction(id, () => ({ result: true, write: new PhpArray() }), { create: true });
  }

  /** True when the store holds the session. */
  async exists(id: string): Promise<boolean> {
    this.#checkId(id);
    return (await this.store().ttl(id)) !== null;
  }

  /** msession_destroy: removes the session under its lock. */
  destroy(id: string): Promise<true> {
    return this.transaction(id, () => ({ result: true, destroy: true }), { raw: true });
  }

  /**
   * msession_timeout: seconds before the store drops the session (files: mtime + gc_maxlifetime;
   * memcached: the item's TTL; Infinity: never); with `seconds`, sets it under the lock first.
   * null when there is no such session.
   */
  async timeout(id: string, seconds?: number): Promise<number | null> {
    this.#checkId(id);
    if (seconds !== undefined) {
      if (!Number.isInteger(seconds) || seconds < 0) throw new MsessionError('ERR_MSESSION_VALUE', `msession: timeout must be a non-negative integer, ${seconds} given`, { id });
      if (!(await this.exists(id))) return null;
      await this.transaction(id, () => ({ result: true, touch: seconds }), { raw: true });
    }
    return this.store().ttl(id);
  }

  /** msession_lock: takes the module's lock and keeps it until unlock(); returns the key. */
  async lock(id: string): Promise<number> {
    this.#alive();
    this.#checkId(id);
    if (this.#held.has(id)) throw new MsessionError('ERR_MSESSION_LOCK_KEY', `msession: session ${id} is already locked by this Msession`, { id });
    await this.#mustExist(id);
    const { handler, data } = await this.#openRead(id);
    let session: PhpArray;
    try {
      session = this.decode(id, data);
    } catch (e) {
      await this.#release(handler, id, data).catch(() => undefined);
      throw e;
    }
    const key = randomInt(1, 2 ** 31 - 1);
    // set, inc... under this lock write through the handler, which keeps the lock until unlock().
    this.#held.set(id, { key, handler: keepLockOnWrite(handler), session, since: Date.now() });
    return key;
  }

  /** msession_unlock: releases a lock taken by lock() with its key. */
  async unlock(id: string, key: number): Promise<true> {
    const held = this.#held.get(id);
    if (held === undefined || held.key !== key) throw new MsessionError('ERR_MSESSION_LOCK_KEY', `msession: session ${id} is not locked here with key ${key}`, { id });
    this.#held.delete(id);
    await this.#release(keepLockOnWrite(held.handler, false), id, this.encode(id, held.session));
    return true;
  }

  /** Who holds PHP's lock on session `id` (store-specific detail: pids for files, expiry for memcache(d)). */
  async lockInfo(id: string): Promise<LockInfo> {
    this.#checkId(id);
    const store = this.store();
    if (store.lockInfo === undefined) throw new MsessionError('ERR_MSESSION_CANNOT_ENUMERATE', `msession: the ${store.module} store cannot tell who holds a lock`, { id });
    return store.lockInfo(id);
  }

  /** Sessions this Msession holds locked: id → since (ms). */
  locks(): Map<string, number> {
    return new Map([...this.#held].map(([id, h]) => [id, h.since]));
  }

  /** msession_uniq: an id of `length` characters (engine alphabet) that no stored session has. */
  async uniq(length = Number(this.#ini('session.sid_length') ?? '32') || 32): Promise<string> {
    if (!Number.isInteger(length) || length < 1 || length > 256) throw new MsessionError('ERR_MSESSION_VALUE', `msession: uniq length must be 1..256, ${length} given`);
    for (;;) {
      const id = this.#newId(length);
      if (!(await this.exists(id))) return id;
    }
  }

  /** msession_randstr: `length` random characters of the engine's id alphabet. */
  randstr(length: number): string {
    if (!Number.isInteger(length) || length < 0 || length > 1 << 20) throw new MsessionError('ERR_MSESSION_VALUE', `msession: randstr length must be 0..1048576, ${length} given`);
    return length === 0 ? '' : this.#newId(length);
  }

  /** Registers a plugin called by plugin(id, name, param). */
  registerPlugin(name: string, fn: MsessionPlugin): void {
    this.#plugins.set(name, fn);
  }

  /** msession_plugin: calls the plugin registered as `name` for the session. */
  async plugin(id: string, name: string, param?: unknown): Promise<unknown> {
    this.#checkId(id);
    const fn = this.#plugins.get(name);
    if (fn === undefined) throw new MsessionError('ERR_MSESSION_PLUGIN', `msession: no plugin "${name}" is registered`, { id });
    return fn(this, id, param);
  }

  /** msession_disconnect: releases held locks and the store; later calls fail. */
  async disconnect(): Promise<void> {
    if (this.#disconnected) return;
    for (const [id, h] of [...this.#held]) await this.unlock(id, h.key);
    this.#disconnected = true;
    await this.#store?.close();
    this.#store = null;
  }

  // --- across sessions -----------------------------------------------------------------------

  /** msession_list: every session id, streamed. */
  async *list(opts: ScanOptions = {}): AsyncGenerator<string> {
    const p: ScanProgress = { scanned: 0, matched: 0, errors: 0, done: false };
    for await (const batch of idBatches(this.store(), opts.signal)) {
      for (const id of batch) {
        checkAborted(opts.signal);
        p.scanned++;
        p.matched++;
        if (p.scanned % PROGRESS_EVERY === 0) opts.onProgress?.({ ...p });
        yield id;
      }
    }
    opts.onProgress?.({ ...p, done: true });
  }

  /** msession_count: how many sessions the store holds. */
  async count(opts: ScanOptions = {}): Promise<number> {
    let n = 0;
    for await (const _ of this.list(opts)) n++;
    return n;
  }

  /**
   * Every session, decoded (without taking locks). A session that cannot be read or decoded comes
   * as `{ ok: false, error }` with its id; one deleted since it was listed is skipped.
   */
  async *scan(opts: ScanOptions & { withTtl?: boolean } = {}): AsyncGenerator<ScanEntry> {
    for await (const { entries } of entryBatches(this.store(), (id, d) => this.decode(id, d), opts, null)) yield* entries;
  }

  async *#matching<T>(opts: ScanOptions, filter: CandidateFilter | null, pick: (e: { id: string; session: PhpArray }) => T | undefined): AsyncGenerator<T> {
    const p: ScanProgress = { scanned: 0, matched: 0, errors: 0, done: false };
    const tick = (): void => {
      p.scanned++;
      if (p.scanned % PROGRESS_EVERY === 0) opts.onProgress?.({ ...p });
    };
    for await (const { entries, skipped } of entryBatches(this.store(), (id, d) => this.decode(id, d), opts, filter)) {
      for (let i = 0; i < skipped; i++) tick();
      for (const e of entries) {
        if (e.ok) {
          const got = pick(e);
          if (got !== undefined) {
            checkAborted(opts.signal);
            p.matched++;
            yield got;
          }
        } else {
          p.errors++;
          opts.onError?.(e.error);
        }
        tick();
      }
    }
    opts.onProgress?.({ ...p, done: true });
  }

  /**
   * msession_find: ids of sessions whose variable `name` equals `value` (scalars compared as PHP
   * strings, as msession stored them: 42 matches "42"; arrays and objects by serialize() bytes).
   * Sessions whose bytes cannot hold the pair are not decoded (prefilter.ts), so a corrupt one among
   * them is not reported; scan() decodes every session.
   */
  find(name: string, value: JsInput, opts: ScanOptions = {}): AsyncGenerator<string> {
    const v = toPhp(value);
    const want = comparable(v);
    return this.#matching(opts, candidateFilter(this.#serializer(), name, v), ({ id, session }) => (session.has(name) && comparable(session.get(name)!) === want ? id : undefined));
  }

  /** msession_listvar: [id, value] of every session that has variable `name` (sessions without its bytes are not decoded). */
  listvar(name: string, opts: ScanOptions = {}): AsyncGenerator<[string, PhpValue]> {
    return this.#matching(opts, candidateFilter(this.#serializer(), name), ({ id, session }) => (session.has(name) ? ([id, session.get(name)!] as [string, PhpValue]) : undefined));
  }

  /** session_gc() of the module (files: removes sessions idle longer than gc_maxlifetime); returns the count or -1. */
  async gc(): Promise<number> {
    this.#alive();
    const diags: Diagnostic[] = [];
    const handler = this.#module.create(this.#context(diags));
    if (!(await handler.open(this.#ini('session.save_path') ?? '', this.#ini('session.name') ?? 'PHPSESSID'))) {
      throw new MsessionError('ERR_MSESSION_OPEN', `msession: ${this.#module.name} module: open failed`, { diagnostics: diags });
    }
    try {
      return await handler.gc(this.#maxLifetime());
    } finally {
      await handler.close();
    }
  }
}


export interface MsessionFunctions {
  msession_count(): Promise<number>;
  msession_create(session: string): Promise<boolean>;
  msession_destroy(session: string): Promise<true>;
  msession_disconnect(): Promise<void>;
  msession_find(name: string, value: JsInput): Promise<string[]>;
  msession_get(session: string, name: string, def?: PhpValue): Promise<PhpValue>;
  msession_get_array(session: string): Promise<PhpArray>;
  msession_get_data(session: string): Promise<Uint8Array>;
  msession_inc(session: string, name: string): Promise<number | bigint | PhpFloat>;
  msession_list(): Promise<string[]>;
  msession_listvar(name: string): Promise<PhpArray>;
  msession_lock(session: string): Promise<number>;
  msession_plugin(session: string, val: string, param?: unknown): Promise<unknown>;
  msession_randstr(length: number): string;
  msession_set(session: string, name: string, value: JsInput): Promise<true>;
  msession_set_array(session: string, values: PhpArray | Record<string, JsInput>): Promise<true>;
  msession_set_data(session: string, data: Uint8Array | string): Promise<true>;
  msession_timeout(session: string, seconds?: number): Promise<number | null>;
  msession_uniq(length: number): Promise<string>;
  msession_unlock(session: string, key: number): Promise<true>;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function makeFunctions(ms: Msession): MsessionFunctions {
  return Object.freeze({
    msession_count: () => ms.count(),
    msession_create: (s: string) => ms.create(s),
    msession_destroy: (s: string) => ms.destroy(s),
    msession_disconnect: () => ms.disconnect(),
    msession_find: (n: string, v: JsInput) => collect(ms.find(n, v)),
    msession_get: (s: string, n: string, d: PhpValue = null) => ms.get(s, n, d),
    msession_get_array: (s: string) => ms.getArray(s),
    msession_get_data: (s: string) => ms.getData(s),
    msession_inc: (s: string, n: string) => ms.inc(s, n),
    msession_list: () => collect(ms.list()),
    msession_listvar: async (n: string) => {
      const out = new PhpArray();
      for await (const [id, v] of ms.listvar(n)) out.set(id, v);
      return out;
    },
    msession_lock: (s: string) => ms.lock(s),
    msession_plugin: (s: string, v: string, p?: unknown) => ms.plugin(s, v, p),
    msession_randstr: (n: number) => ms.randstr(n),
    msession_set: (s: string, n: string, v: JsInput) => ms.set(s, n, v),
    msession_set_array: (s: string, v: PhpArray | Record<string, JsInput>) => ms.setArray(s, v),
    msession_set_data: (s: string, d: Uint8Array | string) => ms.setData(s, d),
    msession_timeout: (s: string, t?: number) => ms.timeout(s, t),
    msession_uniq: (n: number) => ms.uniq(n),
    msession_unlock: (s: string, k: number) => ms.unlock(s, k),
  });
}

export { SID_ALPHABET };
export { SCAN_BATCH, type ScanEntry } from './scan.ts';
