/**
 * @module spec/adapters/session-view
 * Issue #12 item 3 and the `req.session` view, without HTTP: plain JS values are converted (or
 * refused) when they are set, never at the end where the whole write would be lost; PhpArray has
 * a toJSON; the view's property access, typing of numbers, float forcing, helpers and the lazy
 * start (anonymous requests create nothing).
 */
import { PhpArray, PhpFloat, SessionEngine, serialize, unserialize, type JsInput } from 'php-session-engine';
import { PhpSessions, parseCookies } from 'php-session-engine/http';
import { describe, expect, it } from 'vitest';
import { createMemoryModule } from '../support/memory-module.ts';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('PhpArray: plain JS at set time (item 3)', () => {
  it('set() and push() convert plain objects, arrays, Maps and undefined as PhpArray.from() does', () => {
    const a = new PhpArray();
    a.set('cart', { apple: 2, pear: 1.5 } as never);
    a.set('tags', ['x', 'y'] as never);
    a.set('m', new Map([[1, 'one']]) as never);
    a.set('u', undefined as never);
    a.push({ deep: [1, { k: true }] } as never);
    expect(text(serialize(a))).toBe(
      text(
        serialize(
          PhpArray.from(
            new Map<string | number, JsInput>([
              ['cart', { apple: 2, pear: 1.5 }],
              ['tags', ['x', 'y']],
              ['m', new Map([[1, 'one']])],
              ['u', null],
              [0, { deep: [1, { k: true }] }],
            ]),
          ),
        ),
      ),
    );
    expect(a.get('cart')).toBeInstanceOf(PhpArray);
  });

  it('a value PHP cannot hold throws a TypeError at set(), leaving the array as it was', () => {
    const a = PhpArray.from({ keep: 1 });
    for (const bad of [new Date(0), () => 1, Symbol('s'), new (class Thing {})()]) {
      expect(() => a.set('bad', bad as never)).toThrow(TypeError);
      expect(() => a.push(bad as never)).toThrow(TypeError);
    }
    expect(text(serialize(a))).toBe(text(serialize(PhpArray.from({ keep: 1 }))));
  });

  it('JSON.stringify(phpArray): lists as arrays, maps as objects, int64 as strings, bytes as Latin-1', () => {
    const a = unserialize(new TextEncoder().encode('a:4:{s:4:"list";a:2:{i:0;i:1;i:1;d:2.5;}s:3:"big";i:9223372036854775807;s:1:"f";d:2;s:1:"o";a:1:{s:1:"k";b:1;}}')) as PhpArray;
    expect(JSON.parse(JSON.stringify(a))).toEqual({ list: [1, 2.5], big: '9223372036854775807', f: 2, o: { k: true } });
  });

  it('a failed set does not lose the other keys of the request: the write lands', async () => {
    const mod = createMemoryModule();
    const engine = new SessionEngine({ modules: [mod], ini: { 'session.save_handler': mod.name } });
    const req = engine.request();
    expect(await req.start()).toBe(true);
    req.session.set('user', 7);
    expect(() => req.session.set('when', new Date() as never)).toThrow(TypeError);
    req.session.set('cart', { apple: 2 } as never);
    await req.end();
    const [entry] = mod.store.values();
    expect(text(entry!.data)).toBe('user|i:7;cart|a:1:{s:5:"apple";i:2;}');
  });
});

describe('req.session view', () => {
  const setup = (cookie = '', opts: { autoStart?: boolean; readOnly?: boolean } = {}) => {
    const mod = createMemoryModule();
    const sessions = new PhpSessions({ ini: { 'session.save_handler': mod.name }, engine: new SessionEngine({ modules: [mod], ini: { 'session.save_handler': mod.name } }), ...opts }, parseCookies);
    return { mod, ctx: sessions.context({ cookie, url: '/' }, undefined) };
  };

  it('property access and get/set/has/delete; integral numbers are ints, others floats, PhpFloat forces a float', async () => {
    const { mod, ctx } = setup();
    const s = ctx.session;
    await ctx.begin();
    s.n = 2;
    s.price = 9.5;
    s.set('f', new PhpFloat(2));
    s.cart = { apple: 2 };
    expect(s.n).toBe(2);
    expect('cart' in s).toBe(true);
    expect(s.has('price')).toBe(true);
    expect(Object.keys(s)).toEqual(['n', 'price', 'f', 'cart']);
    delete s.price;
    expect(s.delete('nothing')).toBe(false);
    expect(JSON.stringify(s)).toBe('{"n":2,"f":2,"cart":{"apple":2}}');
    expect(() => {
      s.when = new Date() as never;
    }).toThrow(TypeError);
    await ctx.end();
    const [entry] = mod.store.values();
    expect(text(entry!.data)).toBe('n|i:2;f|d:2;cart|a:1:{s:5:"apple";i:2;}');
  });

  it('no cookie and no write: nothing is started, stored or sent', async () => {
    const { mod, ctx } = setup();
    await ctx.begin();
    expect(ctx.session.user).toBeUndefined();
    await ctx.end();
    expect(mod.store.size).toBe(0);
    expect(ctx.request.headers).toEqual([]);
  });

  it('no cookie, a write: the session starts at the end and sends its cookie', async () => {
    const { mod, ctx } = setup();
    await ctx.begin();
    ctx.session.user = 5;
    await ctx.end();
    expect(mod.store.size).toBe(1);
    expect(ctx.request.headers.map(([n]) => n)).toContain('Set-Cookie');
  });

  it('readOnly: the data is read, writes are refused, nothing is written', async () => {
    const first = setup();
    await first.ctx.begin();
    first.ctx.session.n = 1;
    await first.ctx.end();
    const [id] = first.mod.store.keys();
    const mod = first.mod;
    const engine = new SessionEngine({ modules: [mod], ini: { 'session.save_handler': mod.name } });
    const ctx = new PhpSessions({ engine, readOnly: true }, parseCookies).context({ cookie: `PHPSESSID=${id}`, url: '/' }, undefined);
    await ctx.begin();
    expect(ctx.session.n).toBe(1);
    expect(() => (ctx.session.n = 2)).toThrow(/read-only/);
    await ctx.end();
    expect(text(mod.store.get(id!)!.data)).toBe('n|i:1;');
  });

  it("$_COOKIE keeps every cookie name as php-cgi does, __proto__ and constructor included; no prototype is touched", () => {
    // php-cgi -n, HTTP_COOKIE='__proto__=x; constructor=y; a=1', var_export($_COOKIE):
    // array ('__proto__' => 'x', 'constructor' => 'y', 'a' => '1') (recorded 2026-12-04, PHP 8.2).
    // (The copy into a plain object the adapters made before dropped __proto__.)
    const { ctx } = setup('__proto__=x; constructor=y; a=1');
    const cookies = ctx.request.cookies;
    expect(Object.keys(cookies)).toEqual(['__proto__', 'constructor', 'a']);
    expect(Object.getOwnPropertyDescriptor(cookies, '__proto__')?.value).toBe('x');
    expect(cookies['constructor']).toBe('y');
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});
