/**
 * @module spec/support/memory-module
 * An in-memory save-handler module for engine tests: a shared store, a call log, and switches to
 * make any operation fail or to leave out the optional hooks.
 */
import type { SaveHandler, SaveHandlerContext, SaveHandlerModule } from '../../lib/handler.ts';

export interface MemoryEntry {
  data: Uint8Array;
  /** Last write or touch, ms (the request clock). */
  mtime: number;
}

export type MemoryOp = 'open' | 'close' | 'read' | 'write' | 'destroy' | 'gc' | 'createSid' | 'validateSid' | 'updateTimestamp';

export interface MemoryModuleOptions {
  name?: string;
  /** Operations that return failure. */
  fail?: Partial<Record<MemoryOp, boolean>>;
  /** Operations that throw this error. */
  throwOn?: Partial<Record<MemoryOp, Error>>;
  /** Leave out createSid / validateSid / updateTimestamp. */
  without?: Array<'createSid' | 'validateSid' | 'updateTimestamp'>;
  /** Ids createSid hands out first (for collision tests). */
  sidQueue?: string[];
}

export interface MemoryModule extends SaveHandlerModule {
  readonly store: Map<string, MemoryEntry>;
  /** Every call, e.g. `open(/p,PHPSESSID)`, `read(abc)`, `write(abc,a|i:1;)`. */
  readonly log: string[];
  readonly options: MemoryModuleOptions;
}

const dec = new TextDecoder();

export function createMemoryModule(options: MemoryModuleOptions = {}): MemoryModule {
  const store = new Map<string, MemoryEntry>();
  const log: string[] = [];
  const check = (op: MemoryOp): boolean => {
    const t = options.throwOn?.[op];
    if (t !== undefined) throw t;
    return options.fail?.[op] !== true;
  };
  const without = new Set(options.without ?? []);
  const module: MemoryModule = {
    name: options.name ?? 'memory',
    store,
    log,
    options,
    create(ctx: SaveHandlerContext): SaveHandler {
      const h: SaveHandler = {
        name: options.name ?? 'memory',
        open(savePath, sessionName) {
          log.push(`open(${savePath},${sessionName})`);
          return check('open');
        },
        close() {
          log.push('close()');
          return check('close');
        },
        read(id) {
          log.push(`read(${id})`);
          if (!check('read')) return false;
          return store.get(id)?.data.slice() ?? new Uint8Array(0);
        },
        write(id, data) {
          log.push(`write(${id},${dec.decode(data)})`);
          if (!check('write')) return false;
          store.set(id, { data: data.slice(), mtime: ctx.now() });
          return true;
        },
        destroy(id) {
          log.push(`destroy(${id})`);
          if (!check('destroy')) return false;
          store.delete(id);
          return true;
        },
        gc(maxLifetime) {
          log.push(`gc(${maxLifetime})`);
          if (!check('gc')) return -1;
          let n = 0;
          for (const [id, e] of store) {
            if (ctx.now() - e.mtime > maxLifetime * 1000) {
              store.delete(id);
              n++;
            }
          }
          return n;
        },
      };
      if (!without.has('createSid')) {
        h.createSid = () => {
          log.push('createSid()');
          if (!check('createSid')) return false;
          return options.sidQueue?.shift() ?? ctx.createId();
        };
      }
      if (!without.has('validateSid')) {
        h.validateSid = (id) => {
          log.push(`validateSid(${id})`);
          if (!check('validateSid')) return false;
          return store.has(id);
        };
      }
      if (!without.has('updateTimestamp')) {
        h.updateTimestamp = (id) => {
          log.push(`updateTimestamp(${id})`);
          if (!check('updateTimestamp')) return false;
          const e = store.get(id);
          if (e !== undefined) e.mtime = ctx.now();
          return true;
        };
      }
      return h;
    },
  };
  return module;
}
