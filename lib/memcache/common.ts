/**
 * @module memcache/common
 * Small pieces both memcache modules share: ini reading, sleeping, expiry arithmetic.
 */
import type { SaveHandlerContext } from '../handler.ts';
import { iniScope } from '../ini/scope.ts';

/** memcached treats an exptime above 30 days as an absolute Unix time (REALTIME_MAXDELTA). */
export const REALTIME_MAXDELTA = 60 * 60 * 24 * 30;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** PHP's ini integer reading (ZEND_ATOL: the leading integer; "On"/"Off" are not integers). */
export function iniInt(ctx: SaveHandlerContext, name: string, dflt: number): number {
  return Number(iniScope(ctx).atol(name, BigInt(dflt)));
}

/** PHP's ini boolean (OnUpdateBool: "1", "on", "yes", "true" are true; others by integer value). */
export function iniBool(ctx: SaveHandlerContext, name: string, dflt: boolean): boolean {
  return iniScope(ctx).bool(name, dflt);
}

export function iniStr(ctx: SaveHandlerContext, name: string, dflt: string): string {
  return ctx.ini(name) ?? dflt;
}

/** Current Unix time in whole seconds on the request's clock. */
export function unixNow(ctx: SaveHandlerContext): number {
  return Math.floor(ctx.now() / 1000);
}
