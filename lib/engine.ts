/**
 * @module engine
 * The session engine: PHP's MINIT/MSHUTDOWN for ext/session. It owns the ini registry (PHP's
 * built-in defaults, engine options, a php.ini file) and the module and serializer registries, and
 * creates one {@link SessionRequest} per request (RINIT).
 */
import { readFileSync } from 'node:fs';
import type { Diagnostic, DiagnosticLevel } from './errors.ts';
import type { SaveHandlerModule, UserModuleApi } from './handler.ts';
import type { SessionSerializer } from './serializer.ts';
import { Registry } from './registry.ts';
import { IniTable, iniString, moduleIniEntry, parseIniText, sessionEntryMap, type IniHost } from './ini/index.ts';
import { CombinedLcg } from './lcg.ts';
import { builtinModules, builtinSerializers, releaseBuiltinResources, userModuleApi } from './builtins.ts';
import { SessionRequest } from './request.ts';
import type { EngineCore } from './session/context.ts';
import { DEFAULT_VALIDATED_CACHE_BYTES, ValidatedCache } from './session/validated.ts';
import { BytesPool } from './session/bytes-pool.ts';
import type { RequestOptions } from './session/sapi.ts';

/** What every request after the first takes from the startup diagnostics (shared: read only). */
const NO_DIAGNOSTICS: readonly Diagnostic[] = [];

export interface SessionEngineOptions {
  /** ini values applied after the php.ini file (like `php -d`). */
  ini?: Record<string, string | number | boolean>;
  /** A php.ini file to read (only directives the engine knows are used). */
  iniFile?: string;
  /** Extra modules registered after the built-in ones. */
  modules?: readonly SaveHandlerModule[];
  /** Extra serializers registered after the built-in ones. */
  serializers?: readonly SessionSerializer[];
  /** Uniform [0, 1) source for the GC draw; default PHP's combined LCG. */
  gcRandom?: () => number;
  /**
   * Lazy `$_SESSION` (default true): the `php`, `php_binary` and `php_serialize` serializers validate the whole
   * session at start but build each entry on first access, and write entries nobody read back
   * as the bytes they came from (README "Lazy $_SESSION"). false = decode everything at start,
   * as PHP does. The environment variable PHP_SESSION_ENGINE_LAZY_DECODE=0 changes the default
   * (the test suite runs both ways with it).
   */
  lazyDecode?: boolean;
  /**
   * Bound of the validated-bytes cache of lazy decoding, in bytes (default 32 MiB; 0 = no
   * cache). Per session, the engine keeps the bytes it last wrote or last validated without a
   * diagnostic, with what the validation found; a later read of byte-for-byte the same bytes
   * reuses that result instead of scanning them again (README "Lazy $_SESSION"). Least recently
   * used sessions go first; each counts its payload's bytes plus a small fixed allowance.
   */
  validatedCacheBytes?: number;
}

/**
 * MINIT: build once, then call {@link SessionEngine.request} per request.
 * @example
 * const engine = new SessionEngine({ ini: { 'session.save_path': '/tmp/sess' } });
 * const req = engine.request({ cookies: { PHPSESSID: id } });
 * await req.start();
 * req.session.set('count', 1);
 * await req.end();
 */
export class SessionEngine {
  /** Save-handler modules (`session.save_handler`). */
  readonly modules: Registry<SaveHandlerModule>;
  /** Session serializers (`session.serialize_handler`). */
  readonly serializers: Registry<SessionSerializer>;
  /**
   * Diagnostics raised while applying the configuration ("PHP Startup: ..."). The first request
   * also lists them in its diagnostics, where PHP prints them.
   */
  readonly startupDiagnostics: Diagnostic[] = [];

  readonly #master: IniTable;
  readonly #lcg = new CombinedLcg();
  readonly #gcRandom: () => number;
  readonly #userApi: UserModuleApi | undefined = userModuleApi;
  #startupShown = false;
  /** modules.size when the master table last had every module's entries added. */
  #masterSynced = -1;
  /** What every request gets from the engine (built once: requests are made per HTTP request). */
  readonly #core: EngineCore;

  constructor(options: SessionEngineOptions = {}) {
    this.modules = new Registry(builtinModules);
    for (const m of options.modules ?? []) this.modules.register(m);
    this.serializers = new Registry(builtinSerializers);
    for (const s of options.serializers ?? []) this.serializers.register(s);
    this.#gcRandom = options.gcRandom ?? (() => this.#lcg.next());

    // Defaults first (registered without the "active"/"headers" guards mattering: nothing runs yet).
    const defaults = this.#host('startup', false);
    this.#master = new IniTable(new Map());
    for (const e of sessionEntryMap().values()) this.#master.define(e, defaults);
    this.#syncModuleIni(this.#master, defaults);
    this.#masterSynced = this.modules.size;

    const values = new Map<string, string>();
    if (options.iniFile !== undefined) {
      for (const [k, v] of parseIniText(readFileSync(options.iniFile, 'utf8'))) values.set(k, v);
    }
    for (const [k, v] of Object.entries(options.ini ?? {})) values.set(k, iniString(v));
    const startup = this.#host('startup', false);
    for (const [k, v] of values) {
      // PHP applies configuration to any known entry, whatever its changeable mode.
      this.#master.alter(k, v, startup, false);
    }

    const lazyDecode = options.lazyDecode ?? process.env['PHP_SESSION_ENGINE_LAZY_DECODE'] !== '0';
    const cacheBytes = options.validatedCacheBytes ?? DEFAULT_VALIDATED_CACHE_BYTES;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) {
      throw new TypeError(`SessionEngine: validatedCacheBytes must be a non-negative integer, got ${String(cacheBytes)}`);
    }
    const bytesPool = new BytesPool();
    this.#core = {
      masterIni: this.#master,
      findModule: (n) => this.modules.get(n),
      findSerializer: (n) => this.serializers.get(n),
      userApi: this.#userApi,
      gcRandom: this.#gcRandom,
      syncModuleIni: (t, h) => {
        // A copy of the master table lacks nothing while no module was registered since the
        // master was synced (the registry only grows).
        if (this.modules.size !== this.#masterSynced) this.#syncModuleIni(t, h);
      },
      lazyDecode,
      validated: lazyDecode && cacheBytes > 0 ? new ValidatedCache(cacheBytes, bytesPool) : undefined,
      bytesPool,
      builtinSerializer: (s) => builtinSerializers.includes(s),
      takeStartupDiagnostics: () => {
        if (this.#startupShown) return NO_DIAGNOSTICS;
        this.#startupShown = true;
        return [...this.startupDiagnostics];
      },
    };
  }

  #host(stage: 'startup' | 'runtime', modulesActivated: boolean): IniHost {
    return {
      stage,
      modulesActivated,
      settingUserHandler: false,
      sessionActive: () => false,
      headersSent: () => false,
      report: (level: DiagnosticLevel, message: string, raw?: boolean) => {
        this.startupDiagnostics.push({ level, message: raw === true ? message : `PHP Startup: ${message}` });
      },
      findModule: (n) => this.modules.get(n),
      findSerializer: (n) => this.serializers.get(n),
    };
  }

  /**
   * Adds the ini entries of modules registered since (with their defaults). The host is only made
   * when an entry is missing (per request, usually none is).
   */
  #syncModuleIni(table: IniTable, host: IniHost | (() => IniHost)): void {
    let h: IniHost | undefined;
    for (const m of this.modules.list()) {
      const entries = m.ini;
      if (entries === undefined) continue;
      for (const e of entries) {
        if (table.has(e.name)) continue;
        h ??= typeof host === 'function' ? host() : host;
        table.define(moduleIniEntry(e, m.name), h);
      }
    }
  }

  /** Registers a module and its ini entries; false when the name is taken or the registry is full. */
  registerModule(module: SaveHandlerModule): boolean {
    if (!this.modules.register(module)) return false;
    this.#syncModuleIni(this.#master, this.#host('startup', false));
    this.#masterSynced = this.modules.size;
    return true;
  }

  /** The configured (master) value of a directive, as `php -i` reports it. */
  iniGet(name: string): string | undefined {
    return this.#master.get(name);
  }

  /** Names of every directive the engine knows. */
  iniNames(): string[] {
    return this.#master.names();
  }

  /** RINIT: a new request with its own (copy-on-write) copy of the ini values. */
  request(options: RequestOptions = {}): SessionRequest {
    return new SessionRequest(this.#core, options);
  }

  /**
   * MSHUTDOWN: runs each module's `shutdown()` and releases the process-wide resources of the
   * built-in modules (the pooled memcached connections), so the process can exit by itself.
   * Call it once every request of every engine in the process has ended: the connection pool is
   * shared (a later request opens new connections).
   */
  async shutdown(): Promise<void> {
    const errors: unknown[] = [];
    for (const m of this.modules.list()) {
      if (m.shutdown === undefined) continue;
      try {
        await m.shutdown();
      } catch (e) {
        errors.push(e);
      }
    }
    releaseBuiltinResources();
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'module shutdown failed');
  }
}
