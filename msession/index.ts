/**
 * @module msession
 * PHP's msession functions across live sessions (issue #14): `engine.msession()` and `Msession`.
 * Importing this module (the package root does) adds `msession()` to SessionEngine.
 */
import { SessionEngine } from '../lib/engine.ts';
import { Msession, type MsessionOptions } from './msession.ts';

export { Msession, PROGRESS_EVERY, type MsessionOptions, type MsessionFunctions, type MsessionPlugin, type ScanEntry, type ScanOptions, type ScanProgress } from './msession.ts';
export { MsessionError, type MsessionErrorCode } from './errors.ts';
export type { EnumerableModule, LockInfo, SessionStore, StoreFactory } from './stores/index.ts';

declare module '../lib/engine.ts' {
  interface SessionEngine {
    /** An Msession bound to the configured module, save path and serialize_handler. */
    msession(options?: MsessionOptions): Msession;
  }
}

Object.defineProperty(SessionEngine.prototype, 'msession', {
  value: function msession(this: SessionEngine, options?: MsessionOptions): Msession {
    return new Msession(this, options);
  },
  writable: true,
  configurable: true,
  enumerable: false,
});
