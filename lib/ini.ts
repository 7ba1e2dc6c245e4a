/**
 * @module ini (compatibility)
 * Thin re-export of lib/ini/ (the directory) kept until callers (lib/request.ts, lib/engine.ts)
 * import lib/ini/index.ts directly; then this file goes.
 */
export * from './ini/index.ts';
