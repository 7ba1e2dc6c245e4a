/**
 * @module spec/msession/suite
 * The msession tests every store runs against live PHP 8.2: sessions PHP wrote are listed, counted,
 * found and changed by msession and read back by PHP; `inc` from concurrent msession callers and PHP
 * requests adds up exactly; a lock held by msession holds PHP's session_start() until unlock().
 */
import { expect, it } from 'vitest';
import { MsessionError, PhpArray, type ScanProgress } from '../../lib/index.ts';
import { testSessionId } from '../handlers/suite.ts';
import { all, php, phpReads, phpWrites, spawnPhp, type Backend } from './support.ts';

const sorted = (a: string[]): string[] => [...a].sort();

export function msessionSuite(b: Backend): void {
  const ids = Array.from({ length: 6 }, () => testSessionId());
  const [a, bb, c, d, e, f] = ids as [string, string, string, string, string, string];

  it(`${b.name}: lists, counts, finds and listvars the sessions PHP wrote`, async () => {
    await phpWrites(b, {
      [a]: { user: 42, tenant: 'acme', n: 1 },
      [bb]: { user: '42', tenant: 'acme' },
      [c]: { user: 7, tenant: 'other', tags: ['x', 'y'] },
      [d]: { tenant: 'acme' },
      [e]: {},
      [f]: { user: 43 },
    });
    const ms = b.engine().msession();
    try {
      // PHP keeps an empty session too (files: an empty file; memcached: an empty item).
      expect(sorted(await all(ms.list()))).toEqual(sorted(ids));
      expect(await ms.count()).toBe(6);
      expect(sorted(await all(ms.find('user', 42)))).toEqual(sorted([a, bb]));
      expect(sorted(await all(ms.find('tenant', 'acme')))).toEqual(sorted([a, bb, d]));
      expect(await all(ms.find('tags', ['x', 'y']))).toEqual([c]);
      const vars = Object.fromEntries(await all(ms.listvar('user')));
      expect(vars).toEqual({ [a]: 42, [bb]: '42', [c]: 7, [f]: 43 });
      // The PHP-named functions answer with arrays, as PHP's did.
      expect(sorted(await ms.functions.msession_find('user', 42))).toEqual(sorted([a, bb]));
      expect((await ms.functions.msession_listvar('tenant')).size).toBe(4);
      expect(await ms.functions.msession_count()).toBe(6);
      expect(await ms.get(a, 'tenant')).toBe('acme');
      expect(await ms.get(a, 'missing', 'dflt')).toBe('dflt');
      expect((await ms.getArray(c)).toJS()).toEqual({ user: 7, tenant: 'other', tags: ['x', 'y'] });
    } finally {
      await ms.disconnect();
    }
  });

  it(`${b.name}: what msession changes is what PHP reads`, async () => {
    const ms = b.engine().msession();
    try {
      await ms.set(a, 'flag', true);
      await ms.setArray(bb, { user: 99, extra: [1, 2] });
      expect(await ms.inc(a, 'n')).toBe(2);
      expect(await ms.inc(a, 'fresh', 5)).toBe(5);
      await ms.setData(d, 'tenant|s:3:"xyz";k|i:1;');
      await ms.destroy(e);
      expect(await ms.create(e)).toBe(true);
      expect(await ms.create(e)).toBe(false);
      const back = await phpReads(b, [a, bb, d, e]);
      expect(back[a]).toEqual({ user: 42, tenant: 'acme', n: 2, flag: true, fresh: 5 });
      expect(back[bb]).toEqual({ user: 99, tenant: 'acme', extra: [1, 2] });
      expect(back[d]).toEqual({ tenant: 'xyz', k: 1 });
      expect(back[e]).toEqual([]);
      // setData refuses bytes that do not decode (nothing is written).
      await expect(ms.setData(d, 'garbage')).rejects.toMatchObject({ code: 'ERR_MSESSION_CORRUPT', id: d });
      expect((await phpReads(b, [d]))[d]).toEqual({ tenant: 'xyz', k: 1 });
      // PHP's encoder would drop a key with '|' (php serializer): refused, nothing lost.
      await expect(ms.set(d, 'a|b', 1)).rejects.toMatchObject({ code: 'ERR_MSESSION_VALUE' });
      expect((await phpReads(b, [d]))[d]).toEqual({ tenant: 'xyz', k: 1 });
    } finally {
      await ms.disconnect();
    }
  });

  it(`${b.name}: a corrupt session is reported with its id and the scan goes on`, async () => {
    const bad = testSessionId();
    await b.plant(bad, 'user|i:42;broken|s:99:"short";');
    const ms = b.engine().msession();
    try {
      const errors: MsessionError[] = [];
      const progress: ScanProgress[] = [];
      const found = await all(ms.find('user', 42, { onError: (err) => errors.push(err), onProgress: (p) => progress.push(p) }));
      expect(sorted(found)).toEqual(sorted([a]));
      expect(errors.map((x) => [x.code, x.id])).toEqual([['ERR_MSESSION_CORRUPT', bad]]);
      expect(progress.at(-1)).toEqual({ scanned: 7, matched: 1, errors: 1, done: true });
      const scan = await all(ms.scan());
      expect(scan.filter((x) => !x.ok).map((x) => x.id)).toEqual([bad]);
      await expect(ms.get(bad, 'user')).rejects.toMatchObject({ code: 'ERR_MSESSION_CORRUPT', id: bad });
      await ms.destroy(bad);
      expect(await ms.count()).toBe(6);
    } finally {
      await ms.disconnect();
    }
  });

  it(`${b.name}: an aborted scan stops with ERR_MSESSION_ABORTED; bad ids are refused`, async () => {
    const ms = b.engine().msession();
    try {
      const ac = new AbortController();
      const seen: string[] = [];
      await expect(
        (async () => {
          for await (const id of ms.list({ signal: ac.signal })) {
            seen.push(id);
            ac.abort('enough');
          }
        })(),
      ).rejects.toMatchObject({ code: 'ERR_MSESSION_ABORTED' });
      expect(seen.length).toBe(1);
      // An unknown id is an error, and nothing gets created for it.
      const ghost = testSessionId();
      await expect(ms.get(ghost, 'x')).rejects.toMatchObject({ code: 'ERR_MSESSION_NO_SESSION', id: ghost });
      await expect(ms.set(ghost, 'x', 1)).rejects.toMatchObject({ code: 'ERR_MSESSION_NO_SESSION' });
      await expect(ms.lock(ghost)).rejects.toMatchObject({ code: 'ERR_MSESSION_NO_SESSION' });
      expect(await ms.count()).toBe(6);
      for (const id of ['', '../etc/passwd', 'a b', 'x'.repeat(257)]) {
        await expect(ms.get(id, 'x')).rejects.toMatchObject({ code: 'ERR_MSESSION_BAD_ID' });
      }
      const u = await ms.uniq(40);
      expect(u).toMatch(/^[0-9a-f]{40}$/);
      expect(ms.randstr(10)).toMatch(/^[0-9a-f]{10}$/);
      ms.registerPlugin('tenantOf', async (m, id) => m.get(id, 'tenant'));
      expect(await ms.plugin(a, 'tenantOf')).toBe('acme');
      await expect(ms.plugin(a, 'nope')).rejects.toMatchObject({ code: 'ERR_MSESSION_PLUGIN' });
    } finally {
      await ms.disconnect();
    }
  });

  it(`${b.name}: timeout reads and sets the remaining lifetime`, async () => {
    // PHP wrote with gc_maxlifetime 1440 (its default), which both stores count from.
    const ms = b.engine().msession();
    try {
      const t = await ms.timeout(a);
      expect(t).toBeGreaterThan(1300);
      // memcached's clock ticks once a second: an absolute expiry (pecl memcache writes
      // time() + 1440) can read back as one second more.
      expect(t).toBeLessThanOrEqual(1441);
      const set = await ms.timeout(a, 100);
      expect(set).toBeGreaterThan(90);
      expect(set).toBeLessThanOrEqual(101);
      expect(await ms.timeout(testSessionId())).toBeNull();
    } finally {
      await ms.disconnect();
    }
  });

  it(`${b.name}: inc from K msession callers and K PHP requests adds up exactly`, async () => {
    const id = testSessionId();
    await phpWrites(b, { [id]: { hits: 0 } });
    const K = 3;
    const N = 8;
    const engines = Array.from({ length: K }, () => b.engine().msession());
    const phpRuns = Array.from({ length: K }, () =>
      php(b, `for ($i = 0; $i < ${N}; $i++) { session_id('${id}'); session_start(); $_SESSION['hits']++; session_write_close(); }`),
    );
    const ours = engines.map(async (ms) => {
      for (let i = 0; i < N; i++) await ms.inc(id, 'hits');
    });
    await Promise.all([...phpRuns, ...ours]);
    await Promise.all(engines.map((ms) => ms.disconnect()));
    expect((await phpReads(b, [id]))[id]).toEqual({ hits: 2 * K * N });
  }, 120_000);

  it(`${b.name}: a lock held by msession holds PHP's session_start() until unlock()`, async () => {
    const id = testSessionId();
    await phpWrites(b, { [id]: { step: 'php-wrote' } });
    const ms = b.engine().msession();
    const key = await ms.lock(id);
    const child = spawnPhp(
      b,
      `echo "starting\\n"; session_id('${id}'); session_start(); echo "started ", $_SESSION['step'], " ", (int)(microtime(true) * 1000), "\\n"; $_SESSION['php'] = 1; session_write_close();`,
    );
    let unlockedAt = 0;
    try {
      await child.saw('starting');
      await new Promise((r) => setTimeout(r, 400));
      // Written through the held lock: PHP, once let in, must see it.
      await ms.set(id, 'step', 'set-under-lock');
      unlockedAt = Date.now();
      await ms.unlock(id, key);
    } finally {
      await ms.disconnect();
    }
    const out = await child.done;
    expect(out.code, out.stderr).toBe(0);
    const m = /started (\S+) (\d+)/.exec(out.stdout);
    expect(m?.[1]).toBe('set-under-lock');
    // Ordering, not duration: PHP's session_start() returned after msession let go.
    expect(Number(m?.[2])).toBeGreaterThanOrEqual(unlockedAt);
    expect((await phpReads(b, [id]))[id]).toEqual({ step: 'set-under-lock', php: 1 });
    await expect(ms.get(id, 'x')).rejects.toMatchObject({ code: 'ERR_MSESSION_DISCONNECTED' });
    expect(PhpArray).toBeDefined();
  }, 60_000);
}
