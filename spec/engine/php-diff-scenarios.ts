/**
 * @module spec/engine/php-diff-scenarios
 * Free-form differential scenarios for the engine: each is PHP code run by php-cgi (spec/php/driver.php's
 * code mode) plus the same steps as engine calls (see diff-helper.ts); return values, diagnostics
 * (level + text) and header lines must match. Run by php-diff.test.ts; names are `engine/<name>` in
 * spec/php/expectations.json.
 */
import type { Scenario } from './diff-helper.ts';
import { PhpObject } from '../../lib/value.ts';

export const scenarios: Record<string, Scenario> = {
  'start: new id, cookie and nocache headers': {
    php: '$R[] = session_start(); $R[] = session_status(); $R[] = strlen(session_id());',
    js: async (req, R) => {
      R.push(await req.start(), req.status(), (req.id() as string).length);
    },
  },
  'start twice: notice, true': {
    php: '$R[] = session_start(); $R[] = session_start();',
    js: async (req, R) => {
      R.push(await req.start(), await req.start());
    },
  },
  'cookie id adopted: no Set-Cookie': {
    cookies: { PHPSESSID: 'abcdef0123456789abcdef0123456789' },
    php: '$R[] = session_start(); $R[] = session_id();',
    js: async (req, R) => {
      R.push(await req.start(), req.id());
    },
  },
  'dangerous id replaced': {
    cookies: { PHPSESSID: 'abc<def' },
    php: '$R[] = session_start(); $R[] = session_id() !== "abc<def";',
    js: async (req, R) => {
      R.push(await req.start(), req.id() !== 'abc<def');
    },
  },
  'invalid characters in cookie id: files read fails': {
    cookies: { PHPSESSID: 'abc!def' },
    php: '$R[] = session_start(); $R[] = session_id(); $R[] = session_status();',
    js: async (req, R) => {
      R.push(await req.start(), req.id(), req.status());
    },
  },
  'GET id ignored with use_only_cookies, used without': {
    ini: { 'session.use_only_cookies': '0' },
    query: { PHPSESSID: 'getid0123456789abcdef0123456789ab' },
    php: '$R[] = session_start(); $R[] = session_id(); $R[] = SID;',
    js: async (req, R) => {
      R.push(await req.start(), req.id(), req.sid);
    },
  },
  'session_id() set before start: cookie sent even with a client cookie': {
    cookies: { PHPSESSID: 'clientid0123456789abcdef01234567' },
    php: '$R[] = session_id("mine0123456789abcdef0123456789ab"); $R[] = session_start(); $R[] = session_id();',
    js: async (req, R) => {
      R.push(req.id('mine0123456789abcdef0123456789ab'), await req.start(), req.id());
    },
  },
  'cache limiter private': {
    ini: { 'session.cache_limiter': 'private', 'session.cache_expire': '30' },
    php: '$R[] = session_start();',
    js: async (req, R) => {
      R.push(await req.start());
    },
  },
  'cache limiter private_no_expire': {
    ini: { 'session.cache_limiter': 'private_no_expire' },
    php: '$R[] = session_start();',
    js: async (req, R) => {
      R.push(await req.start());
    },
  },
  'cache limiter public (upper case)': {
    ini: { 'session.cache_limiter': 'PUBLIC', 'session.cache_expire': '7' },
    php: '$R[] = session_start();',
    js: async (req, R) => {
      R.push(await req.start());
    },
  },
  'cache limiter unknown and empty': {
    php: 'session_cache_limiter("bogus"); $R[] = session_start(); session_write_close(); $R[] = session_cache_limiter(""); $R[] = session_start();',
    js: async (req, R) => {
      req.cacheLimiter('bogus');
      R.push(await req.start());
      await req.writeClose();
      R.push(req.cacheLimiter(''), await req.start());
    },
  },
  'cookie attributes: all of them': {
    ini: {
      'session.cookie_lifetime': '3600',
      'session.cookie_path': '/app',
      'session.cookie_domain': 'example.com',
      'session.cookie_secure': '1',
      'session.cookie_httponly': 'On',
      'session.cookie_samesite': 'Lax',
    },
    php: '$R[] = session_start();',
    js: async (req, R) => {
      R.push(await req.start());
    },
  },
  'cookie attributes: empty path, strange samesite': {
    php: 'session_set_cookie_params(["path" => "", "samesite" => "please", "lifetime" => 10]); $R[] = session_get_cookie_params(); $R[] = session_start();',
    js: async (req, R) => {
      await req.setCookieParams({ path: '', samesite: 'please', lifetime: 10 });
      R.push(req.getCookieParams(), await req.start());
    },
  },
  'set_cookie_params int form': {
    php: '$R[] = session_set_cookie_params(100, "/x", null, true); $R[] = session_get_cookie_params(); $R[] = session_set_cookie_params(-1); $R[] = session_get_cookie_params();',
    js: async (req, R) => {
      R.push(await req.setCookieParams(100, '/x', null, true), req.getCookieParams());
      R.push(await req.setCookieParams(-1), req.getCookieParams());
    },
  },
  'set_cookie_params array errors': {
    php: '$R[] = session_set_cookie_params(["lifetime" => 5, "bogus" => 1, 7 => 1]); try { session_set_cookie_params([]); } catch (ValueError $e) { $R[] = $e->getMessage(); } try { session_set_cookie_params(["path"=>"/"], "/"); } catch (ValueError $e) { $R[] = $e->getMessage(); }',
    js: async (req, R) => {
      R.push(await req.setCookieParams(new Map<string | number, unknown>([['lifetime', 5], ['bogus', 1], [7, 1]]) as never));
      for (const args of [[{}], [{ path: '/' }, '/']]) {
        try {
          await req.setCookieParams(...args);
        } catch (e) {
          R.push((e as Error).message);
        }
      }
    },
  },
  'set_cookie_params with use_cookies=0': {
    ini: { 'session.use_cookies': '0' },
    php: '$R[] = session_set_cookie_params(5);',
    js: async (req, R) => {
      R.push(await req.setCookieParams(5));
    },
  },
  'set_cookie_params while active': {
    php: 'session_start(); $R[] = session_set_cookie_params(5);',
    js: async (req, R) => {
      await req.start();
      R.push(await req.setCookieParams(5));
    },
  },
  'ini_set validation warnings': {
    php: `foreach ([["session.sid_length","21"],["session.sid_length","40"],["session.sid_bits_per_character","7"],["session.sid_bits_per_character","5"],["session.name",""],["session.name","123"],["session.name"," 1e3"],["session.name","ok"],["session.cookie_lifetime","-1"],["session.save_handler","user"],["session.save_handler","nope"],["session.save_handler","FILES"],["session.serialize_handler","nope"],["session.serialize_handler","php_serialize"],["session.gc_probability","abc"],["session.gc_divisor","5k"],["session.gc_divisor","0x10"],["session.gc_divisor","1q"],["session.gc_divisor","12 kb"],["session.auto_start","1"],["session.upload_progress.freq","5"],["session.nonexistent","1"],["session.use_strict_mode","yes"]] as [$k,$v]) { $R[] = ini_set($k, $v); $R[] = ini_get($k); }`,
    js: async (req, R) => {
      const pairs: Array<[string, string]> = [
        ['session.sid_length', '21'], ['session.sid_length', '40'], ['session.sid_bits_per_character', '7'],
        ['session.sid_bits_per_character', '5'], ['session.name', ''], ['session.name', '123'], ['session.name', ' 1e3'],
        ['session.name', 'ok'], ['session.cookie_lifetime', '-1'], ['session.save_handler', 'user'],
        ['session.save_handler', 'nope'], ['session.save_handler', 'FILES'], ['session.serialize_handler', 'nope'],
        ['session.serialize_handler', 'php_serialize'], ['session.gc_probability', 'abc'], ['session.gc_divisor', '5k'],
        ['session.gc_divisor', '0x10'], ['session.gc_divisor', '1q'], ['session.gc_divisor', '12 kb'],
        ['session.auto_start', '1'], ['session.upload_progress.freq', '5'], ['session.nonexistent', '1'],
        ['session.use_strict_mode', 'yes'],
      ];
      for (const [k, v] of pairs) R.push(req.iniSet(k, v), req.iniGet(k));
    },
  },
  'ini changes while active and ini_restore': {
    php: 'ini_set("session.gc_divisor", "7"); session_start(); $R[] = ini_set("session.gc_divisor", "8"); ini_restore("session.gc_divisor"); $R[] = ini_get("session.gc_divisor"); session_write_close(); ini_restore("session.gc_divisor"); $R[] = ini_get("session.gc_divisor");',
    js: async (req, R) => {
      req.iniSet('session.gc_divisor', '7');
      await req.start();
      R.push(req.iniSet('session.gc_divisor', '8'));
      req.iniRestore('session.gc_divisor');
      R.push(req.iniGet('session.gc_divisor'));
      await req.writeClose();
      req.iniRestore('session.gc_divisor');
      R.push(req.iniGet('session.gc_divisor'));
    },
  },
  'start options: read_and_close, unknown option, bad type': {
    php: '$R[] = session_start(["read_and_close" => true, "bogus" => 1, "name" => "OTHER", 5 => "x"]); $R[] = session_status(); $R[] = session_name(); try { session_start(["x" => new stdClass]); } catch (TypeError $e) { $R[] = $e->getMessage(); } try { session_start(["x" => 1.5]); } catch (TypeError $e) { $R[] = $e->getMessage(); }',
    js: async (req, R) => {
      R.push(await req.start(new Map<string | number, unknown>([['read_and_close', true], ['bogus', 1], ['name', 'OTHER'], [5, 'x']]) as never));
      R.push(req.status(), req.name());
      for (const v of [new PhpObject('stdClass'), 1.5]) {
        try {
          await req.start({ x: v });
        } catch (e) {
          R.push((e as Error).message);
        }
      }
    },
  },
  'state guards while active': {
    php: 'session_start(); $R[] = session_id("x"); $R[] = session_name("X"); $R[] = session_module_name("files"); $R[] = session_save_path("/tmp"); $R[] = session_cache_limiter("public"); $R[] = session_cache_expire(5); $R[] = session_name(); $R[] = session_cache_expire();',
    js: async (req, R) => {
      await req.start();
      R.push(req.id('x'), req.name('X'), req.moduleName('files'), req.savePath('/tmp'), req.cacheLimiter('public'), req.cacheExpire(5), req.name(), req.cacheExpire());
    },
  },
  'module name errors': {
    php: '$R[] = session_module_name(); $R[] = session_module_name("nope"); try { session_module_name("USER"); } catch (ValueError $e) { $R[] = $e->getMessage(); } try { session_save_path("a\\0b"); } catch (ValueError $e) { $R[] = $e->getMessage(); }',
    js: async (req, R) => {
      R.push(req.moduleName(), req.moduleName('nope'));
      try {
        req.moduleName('USER');
      } catch (e) {
        R.push((e as Error).message);
      }
      try {
        req.savePath('a\0b');
      } catch (e) {
        R.push((e as Error).message);
      }
    },
  },
  'name, cache expire setters return old values': {
    php: '$R[] = session_name("MYSESS"); $R[] = session_name(); $R[] = session_name(""); $R[] = session_name(); $R[] = session_cache_expire(10); $R[] = session_cache_expire(); $R[] = session_start();',
    js: async (req, R) => {
      R.push(req.name('MYSESS'), req.name(), req.name(''), req.name(), req.cacheExpire(10), req.cacheExpire(), await req.start());
    },
  },
  'forbidden characters in session name: no cookie, start true': {
    php: 'session_name("a.b"); $R[] = session_start(); $R[] = session_status();',
    js: async (req, R) => {
      req.name('a.b');
      R.push(await req.start(), req.status());
    },
  },
  'regenerate: cookie replaced and moved last': {
    php: 'session_start(); $old = session_id(); $R[] = session_regenerate_id(); $R[] = $old !== session_id(); $R[] = session_regenerate_id(true);',
    js: async (req, R) => {
      await req.start();
      const old = req.id();
      R.push(await req.regenerateId(), old !== req.id(), await req.regenerateId(true));
    },
  },
  'regenerate without session': {
    php: '$R[] = session_regenerate_id();',
    js: async (req, R) => {
      R.push(await req.regenerateId());
    },
  },
  'create_id prefixes': {
    php: '$R[] = session_create_id("bad prefix"); $R[] = strlen(session_create_id("pre-")); $R[] = strlen(session_create_id()); session_start(); $R[] = session_create_id() !== session_id();',
    js: async (req, R) => {
      R.push(await req.createId('bad prefix'), ((await req.createId('pre-')) as string).length, ((await req.createId()) as string).length);
      await req.start();
      R.push((await req.createId()) !== req.id());
    },
  },
  'destroy, encode, decode, gc, unset without a session': {
    php: '$R[] = session_destroy(); $R[] = session_encode(); $R[] = session_decode("a|i:1;"); $R[] = session_gc(); $R[] = session_unset(); $R[] = session_write_close(); $R[] = session_abort(); $R[] = session_reset();',
    js: async (req, R) => {
      R.push(await req.destroy(), req.encode(), await req.decode('a|i:1;'), await req.gc(), req.unset(), await req.writeClose(), await req.abort(), await req.reset());
    },
  },
  'encode/decode with a session': {
    php: 'session_start(); $R[] = session_encode(); $_SESSION["a"] = 1; $_SESSION[3] = 2; $R[] = session_encode(); unset($_SESSION[3]); $R[] = session_decode("b|s:1:\\"x\\";"); $R[] = $_SESSION; $R[] = session_decode("garbage"); $R[] = session_status(); $R[] = $_SESSION;',
    js: async (req, R) => {
      await req.start();
      R.push(req.encode());
      req.session.set('a', 1);
      req.session.set(3, 2);
      R.push(req.encode());
      req.session.delete(3);
      R.push(await req.decode('b|s:1:"x";'), req.session.clone(), await req.decode('garbage'), req.status(), req.session.clone());
    },
  },
  'destroy then encode': {
    php: 'session_start(); $_SESSION["a"] = 1; $R[] = session_destroy(); $R[] = session_encode(); $R[] = $_SESSION; $R[] = session_id();',
    js: async (req, R) => {
      await req.start();
      req.session.set('a', 1);
      R.push(await req.destroy(), req.encode(), req.session.clone(), req.id());
    },
  },
  'gc with files (depth 0) returns a count': {
    php: 'session_start(); $R[] = session_gc();',
    js: async (req, R) => {
      await req.start();
      R.push(await req.gc());
    },
  },
  'write, reopen and read back (php serializer)': {
    php: 'session_id("persist0123456789abcdef0123456789"); session_start(); $_SESSION["n"] = 5; session_write_close(); $_SESSION = []; session_start(); $R[] = $_SESSION; $R[] = session_encode();',
    js: async (req, R) => {
      req.id('persist0123456789abcdef0123456789');
      await req.start();
      req.session.set('n', 5);
      await req.writeClose();
      req.session = {};
      await req.start();
      R.push(req.session.clone(), req.encode());
    },
  },
  'unknown serializer in ini: disabled, then start warns': {
    ini: { 'session.serialize_handler': 'nope' },
    php: '$R[] = session_status(); $R[] = session_start(); $R[] = session_status();',
    js: async (req, R) => {
      R.push(req.status(), await req.start(), req.status());
    },
  },
  'sid_length and bits shape generated ids': {
    ini: { 'session.sid_length': '48', 'session.sid_bits_per_character': '6' },
    php: 'session_start(); $R[] = strlen(session_id()); $R[] = (bool)preg_match("/^[0-9a-zA-Z,-]+$/", session_id());',
    js: async (req, R) => {
      await req.start();
      const id = req.id() as string;
      R.push(id.length, /^[0-9a-zA-Z,-]+$/.test(id));
    },
  },
  'use_cookies=0: no cookie, SID defined with use_only_cookies=0': {
    ini: { 'session.use_cookies': '0', 'session.use_only_cookies': '0' },
    php: 'session_start(); $R[] = SID === session_name() . "=" . session_id();',
    js: async (req, R) => {
      await req.start();
      R.push(req.sid === `${req.name() as string}=${req.id() as string}`);
    },
  },
  'strict mode rejects unknown cookie id': {
    ini: { 'session.use_strict_mode': '1' },
    cookies: { PHPSESSID: 'unknown0123456789abcdef0123456789' },
    php: 'session_start(); $R[] = session_id() !== "unknown0123456789abcdef0123456789";',
    js: async (req, R) => {
      await req.start();
      R.push(req.id() !== 'unknown0123456789abcdef0123456789');
    },
  },
  'headers sent: start, id, name, regenerate refuse': {
    php: 'session_start(); ob_end_flush(); echo " "; flush(); $R[] = session_regenerate_id(); $R[] = ini_set("session.name", "X"); session_write_close(); $R[] = session_start(); $R[] = session_id("abc"); $R[] = session_name("Y"); ob_start();',
    js: async (req, R) => {
      await req.start();
      req.markHeadersSent();
      R.push(await req.regenerateId(), req.iniSet('session.name', 'X'));
      await req.writeClose();
      R.push(await req.start(), req.id('abc'), req.name('Y'));
    },
  },
  'headers sent with use_cookies=0: cache limiter fails the start': {
    ini: { 'session.use_cookies': '0' },
    php: 'ob_end_flush(); echo " "; flush(); $R[] = session_start(); $R[] = session_status(); session_cache_limiter(""); ob_start();',
    js: async (req, R) => {
      req.markHeadersSent();
      R.push(await req.start(), req.status());
      req.cacheLimiter('');
    },
  },
  'a reference alias of $_SESSION stays the session across regenerate (keep and delete)': {
    covers: ['bug70013.phpt'],
    php:
      'session_start(); $session = &$_SESSION; $session["test"] = 1; $R[] = session_regenerate_id(false); $session["test"] = 2;' +
      ' $R[] = $session["test"] === $_SESSION["test"]; $session["test"] = 3; $R[] = session_regenerate_id(true); $session["test"] = 4;' +
      ' $R[] = $session["test"] === $_SESSION["test"]; $R[] = $_SESSION["test"];',
    js: async (req, R) => {
      await req.start();
      const session = req.session;
      session.set('test', 1);
      R.push(await req.regenerateId(false));
      session.set('test', 2);
      R.push(session.get('test') === req.session.get('test'));
      session.set('test', 3);
      R.push(await req.regenerateId(true));
      session.set('test', 4);
      R.push(session.get('test') === req.session.get('test'), req.session.get('test'));
    },
  },
  'a generated id is kept across write_close and start; the data follows it': {
    covers: ['bug65475.phpt'],
    php:
      'session_start(); $_SESSION["foo"] = 1234; $_SESSION["cnt"] = 1; $id = session_id(); session_write_close(); session_start();' +
      ' $R[] = $id === session_id(); $_SESSION["cnt"]++; session_write_close(); session_start(); $R[] = $id === session_id();' +
      ' $R[] = $_SESSION["cnt"]; $R[] = $_SESSION["foo"]; session_write_close();',
    js: async (req, R) => {
      await req.start();
      req.session.set('foo', 1234);
      req.session.set('cnt', 1);
      const id = req.id();
      await req.writeClose();
      await req.start();
      R.push(id === req.id());
      req.session.set('cnt', (req.session.get('cnt') as number) + 1);
      await req.writeClose();
      await req.start();
      R.push(id === req.id(), req.session.get('cnt'), req.session.get('foo'));
      await req.writeClose();
    },
  },
  'regenerate_id(true) before start, while active, after destroy': {
    covers: ['session_regenerate_id_variation1.phpt'],
    php:
      '$R[] = session_id(); $R[] = session_regenerate_id(true); $R[] = session_id(); $R[] = session_start(); $R[] = session_regenerate_id(true);' +
      ' $R[] = strlen(session_id()); $R[] = session_destroy(); $R[] = session_regenerate_id(true); $R[] = session_id();',
    js: async (req, R) => {
      R.push(req.id(), await req.regenerateId(true), req.id(), await req.start(), await req.regenerateId(true));
      R.push((req.id() as string).length, await req.destroy(), await req.regenerateId(true), req.id());
    },
  },
};
