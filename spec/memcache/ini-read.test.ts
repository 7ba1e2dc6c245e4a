/**
 * @module spec/memcache/ini-read
 * handlers/shared/memcache/common.ts IniRead: the memcache modules' named typed ini reads, over the
 * typed scope and its remembered conversions (lib/ini/scope.ts). They must give what the request's
 * typed scope gives for the value read at that call, however the raw text changes between calls
 * and between requests with different ini tables.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SaveHandlerContext } from '../../lib/handler.ts';
import { iniScope } from '../../lib/ini/scope.ts';
import { atolIni, boolIni, intIni } from '../../handlers/shared/memcache/common.ts';

function ctxWith(values: Map<string, string>): SaveHandlerContext {
  return { ini: (n) => values.get(n), diagnostic: () => {}, createId: () => 'x', now: () => 0 };
}

const RAW = ['0', '1', '150', ' 150', '1k', '2M', '-5', 'on', 'off', 'yes', '', 'abc', '0x1A', '9223372036854775807', '30s'];

describe('IniRead (memcache modules)', () => {
  it('follows every change of the raw value, as the typed scope reads it', () => {
    const reads = { int: intIni('t.int', 150), bool: boolIni('t.bool', true), atol: atolIni('t.atol', 30) };
    fc.assert(
      fc.property(fc.array(fc.option(fc.constantFrom(...RAW), { nil: undefined }), { minLength: 1, maxLength: 30 }), (steps) => {
        for (const raw of steps) {
          // Each step a request with its own table (undefined: the directive is unknown there).
          const values = new Map<string, string>();
          if (raw !== undefined) for (const n of ['t.int', 't.bool', 't.atol']) values.set(n, raw);
          const ctx = ctxWith(values);
          const scope = iniScope(ctx);
          expect(reads.int.get(ctx)).toBe(scope.int('t.int', 150));
          expect(reads.bool.get(ctx)).toBe(scope.bool('t.bool', true));
          expect(reads.atol.get(ctx)).toBe(Number(scope.atol('t.atol', 30n)));
        }
      }),
      { seed: 1611, numRuns: 200 },
    );
  });

  it('an ini_set between two calls of one request acts at the next call', () => {
    const values = new Map([['t.wait', '150']]);
    const ctx = ctxWith(values);
    const wait = intIni('t.wait', 150);
    expect(wait.get(ctx)).toBe(150);
    values.set('t.wait', '1k');
    expect(wait.get(ctx)).toBe(1024);
    values.delete('t.wait');
    expect(wait.get(ctx)).toBe(150);
    values.set('t.wait', '1k');
    expect(wait.get(ctx)).toBe(1024);
  });
});
