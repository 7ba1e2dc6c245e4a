/**
 * @module spec/oracle/generate
 * Random PHP values generated ON THE PHP SIDE (a seeded mt_rand generator in `php -n`): nested
 * arrays with int/numeric-string/binary keys, objects of every visibility (including a private
 * property shadowed by a subclass), stdClass, incomplete classes, Serializable (`C:`), pure and
 * backed enums, shared objects, PHP references (`&`) inside and across arrays, self-referencing
 * arrays and objects, integral/extreme/special floats, 64-bit ints and arbitrary byte strings.
 *
 * For each value PHP returns serialize($v), serialize(unserialize(serialize($v))) (PHP's own
 * round trip) and session_encode() with each serializer of an array session built from it.
 */
import { runPhp } from '../support/tools.ts';
import { ORACLE_INI, PHP_NO_STORAGE_HANDLER } from './php-oracle.ts';

/** Classes the generated values use; the same text is the prelude for re-reading them in PHP. */
export const GEN_PRELUDE = String.raw`
class P { public $a = 1; protected $b = 'two'; private $c = 3.5; public function set($a, $b, $c) { $this->a = $a; $this->b = $b; $this->c = $c; return $this; } }
class Q extends P { private $c = null; public $d = []; public function setQ($c, $d) { $this->c = $c; $this->d = $d; return $this; } }
class S implements Serializable {
  public function __construct(public $d = '') {}
  public function serialize() { return $this->d; }
  public function unserialize($d) { $this->d = $d; }
}
enum E1 { case A; case B; case Cc; }
enum E2: string { case X = 'x'; case Y = 'y'; }
`;

const GENERATOR = String.raw`
function r($a, $b) { return mt_rand($a, $b); }
function u8($cp) {
  if ($cp < 0x80) return chr($cp);
  if ($cp < 0x800) return chr(0xC0 | ($cp >> 6)) . chr(0x80 | ($cp & 0x3F));
  if ($cp < 0x10000) return chr(0xE0 | ($cp >> 12)) . chr(0x80 | (($cp >> 6) & 0x3F)) . chr(0x80 | ($cp & 0x3F));
  return chr(0xF0 | ($cp >> 18)) . chr(0x80 | (($cp >> 12) & 0x3F)) . chr(0x80 | (($cp >> 6) & 0x3F)) . chr(0x80 | ($cp & 0x3F));
}
function rstr() {
  switch (r(0, 6)) {
    case 0: return '';
    case 1: $s = ''; $n = r(1, 24); for ($i = 0; $i < $n; $i++) $s .= chr(r(0, 255)); return $s;
    case 2: $l = ['a', '__proto__', 'constructor', 'prototype', '5', '05', '-3', '-0', '0', '+1', '1.5', ' 7', 'x|y', '|', '!', "a\0b", '"', '";', '}', 's:1:"a";', "\xc3\xa9", "\xff\xfe", '9223372036854775807', '9223372036854775808', '-9223372036854775808', '9007199254740993'];
            return $l[r(0, count($l) - 1)];
    case 3: $s = ''; $n = r(1, 12); for ($i = 0; $i < $n; $i++) $s .= chr(r(97, 122)); return $s;
    case 4: $s = ''; $n = r(1, 8); for ($i = 0; $i < $n; $i++) { $k = r(0, 3); $s .= u8($k == 0 ? r(0x20, 0x7e) : ($k == 1 ? r(0x80, 0x7ff) : ($k == 2 ? r(0xe000, 0xfffd) : r(0x10000, 0x10ffff)))); } return $s;
    case 5: return (string) r(-100000, 100000);
    default: $s = ''; $n = r(0, 300); for ($i = 0; $i < $n; $i++) $s .= chr(r(32, 126)); return $s;
  }
}
function rint() {
  switch (r(0, 5)) {
    case 0: $l = [0, 1, -1, PHP_INT_MAX, PHP_INT_MIN, 9007199254740991, 9007199254740992, 9007199254740993, -9007199254740991, -9007199254740992, -9007199254740993, 2147483647, -2147483648, 4294967296];
            return $l[r(0, count($l) - 1)];
    case 1: return r(-1000, 1000);
    case 2: return mt_rand();
    case 3: return mt_rand() * mt_rand() * (r(0, 1) ? 1 : -1);
    case 4: return (mt_rand() << 32) | mt_rand();
    default: return -mt_rand();
  }
}
function rfloat() {
  switch (r(0, 6)) {
    case 0: return (float) r(-1000, 1000);
    case 1: return mt_rand() / mt_getrandmax();
    case 2: $b = ''; for ($i = 0; $i < 8; $i++) $b .= chr(r(0, 255)); return unpack('e', $b)[1];
    case 3: $l = [0.0, -0.0, INF, -INF, NAN, PHP_FLOAT_EPSILON, PHP_FLOAT_MIN, PHP_FLOAT_MAX, 5e-324, 1e15, 1e16, 1e17, 1e22, 1e25, 0.1, 0.0001, 0.00001, -1.5e-7, 2 ** 53, 2.0 ** 63, 0.1 + 0.2, 1 / 3, 123456789012345678.0, 1e100, -1e-100];
            return $l[r(0, count($l) - 1)];
    case 4: return mt_rand() * (10 ** r(-30, 30));
    case 5: return (float) rint();
    default: return r(-1000000, 1000000) / 1000;
  }
}
function rkey() {
  switch (r(0, 3)) {
    case 0: return r(-5, 20);
    case 1: return rint();
    default: return rstr();
  }
}
function rscalar() {
  switch (r(0, 5)) {
    case 0: return null;
    case 1: return (bool) r(0, 1);
    case 2: return rint();
    case 3: return rfloat();
    default: return rstr();
  }
}
function robject($depth, &$pool) {
  switch (r(0, 6)) {
    case 0: $o = new stdClass; $n = r(0, 4); for ($i = 0; $i < $n; $i++) { $k = rstr(); if ($k === "" || $k[0] === "\0") $k = "p" . $k; $o->{$k} = rvalue($depth + 1, $pool); } break;
    case 1: $o = (new P)->set(rvalue($depth + 1, $pool), rscalar(), rscalar()); break;
    case 2: $o = (new Q)->setQ(rscalar(), rvalue($depth + 1, $pool)); if (r(0, 1)) $o->set(rscalar(), rscalar(), rscalar()); break;
    case 3: $o = new S(rstr()); break;
    case 4: $o = r(0, 1) ? [E1::A, E1::B, E1::Cc][r(0, 2)] : [E2::X, E2::Y][r(0, 1)]; break;
    case 5: $o = unserialize('O:7:"Missing":1:{s:1:"p";' . serialize(rscalar()) . '}'); break;
    default: $o = new stdClass; $o->self = $o; $o->v = rscalar(); break;
  }
  $pool[] = $o;
  return $o;
}
function rarray($depth, &$pool) {
  $a = [];
  $n = r(0, $depth > 2 ? 3 : 8);
  for ($i = 0; $i < $n; $i++) {
    $v = rvalue($depth + 1, $pool);
    if (r(0, 3) == 0) { try { $a[] = $v; } catch (Error $e) { $a[rstr()] = $v; } } else $a[rkey()] = $v;
  }
  $keys = array_keys($a);
  if (count($keys) >= 2 && r(0, 3) == 0) {
    $k1 = $keys[r(0, count($keys) - 1)]; $k2 = $keys[r(0, count($keys) - 1)];
    if ($k1 !== $k2) $a[$k2] = &$a[$k1];
  }
  if (count($keys) >= 1 && r(0, 5) == 0) {
    $k1 = $keys[r(0, count($keys) - 1)];
    if (is_array($a[$k1]) && count($a[$k1]) > 0) {
      $inner = array_keys($a[$k1]);
      $a[rstr()] = &$a[$k1][$inner[0]];
    }
  }
  return $a;
}
function rvalue($depth, &$pool) {
  if ($depth > 4) return rscalar();
  $k = r(0, 9);
  if ($k < 4) return rscalar();
  if ($k < 7) return rarray($depth, $pool);
  if ($k < 8 && count($pool) > 0) return $pool[r(0, count($pool) - 1)];
  return robject($depth, $pool);
}
set_error_handler(function () { return true; });
${PHP_NO_STORAGE_HANDLER}
$args = json_decode(stream_get_contents(STDIN), true);
mt_srand($args['seed'], MT_RAND_MT19937);
$out = [];
for ($n = 0; $n < $args['count']; $n++) {
  $pool = [];
  $v = rvalue(0, $pool);
  if (is_array($v) && r(0, 9) == 0) $v['self'] = &$v;
  $ser = serialize($v);
  $item = ['ser' => base64_encode($ser), 'rt' => base64_encode(serialize(unserialize($ser)))];
  // An array session: string keys mostly, some int keys (skipped by php/php_binary), shared refs.
  $sess = [];
  $m = r(0, 6);
  for ($i = 0; $i < $m; $i++) {
    $key = r(0, 5) == 0 ? r(-3, 3) : rstr();
    if (r(0, 7) == 0 && strlen((string)$key) < 200) $key = str_repeat('k', r(120, 135));
    $sess[$key] = r(0, 2) == 0 ? $v : rvalue(1, $pool);
  }
  $skeys = array_keys($sess);
  if (count($skeys) >= 2 && r(0, 2) == 0) { $sess[$skeys[1]] = &$sess[$skeys[0]]; }
  $sessSer = serialize($sess);
  $item['session'] = base64_encode($sessSer);
  foreach (['php', 'php_binary', 'php_serialize'] as $h) {
    ini_set('session.serialize_handler', $h);
    session_id('gen0123456789abcdef');
    session_start();
    $_SESSION = unserialize($sessSer);
    $e = session_encode();
    $item[$h] = $e === false ? null : base64_encode($e);
    session_abort();
    $item[$h . '_rt'] = null;
    if ($e !== false) {
      session_start();
      $_SESSION = [];
      $ok = session_decode($e);
      if ($ok && session_status() === PHP_SESSION_ACTIVE) { $e2 = session_encode(); $item[$h . '_rt'] = $e2 === false ? null : base64_encode($e2); }
      if (session_status() === PHP_SESSION_ACTIVE) session_abort();
    }
  }
  $out[] = $item;
}
echo json_encode($out, JSON_THROW_ON_ERROR);
`;

export interface GeneratedValue {
  /** serialize($v) */
  ser: Buffer;
  /** serialize(unserialize(serialize($v))): PHP's own round trip (differs from `ser` in rare reference cases). */
  rt: Buffer;
  /** serialize($session): the array session the session_encode() results came from. */
  session: Buffer;
  /** session_encode() under each serializer (null = it returned false). */
  php: Buffer | null;
  php_binary: Buffer | null;
  php_serialize: Buffer | null;
  /** PHP's session_decode() of that encoding followed by session_encode() (null = false / failed). */
  php_rt: Buffer | null;
  php_binary_rt: Buffer | null;
  php_serialize_rt: Buffer | null;
}

/** Generates `count` random values in PHP with mt_srand(seed). Deterministic for a seed. */
export async function phpGenerate(seed: number, count: number): Promise<GeneratedValue[]> {
  const res = await runPhp(GEN_PRELUDE + GENERATOR, {
    ini: { ...ORACLE_INI },
    stdin: JSON.stringify({ seed, count }),
    timeoutMs: 120_000,
  });
  if (res.code !== 0) throw new Error(`php generator failed (exit ${res.code}): ${res.stderr.slice(0, 2000)}`);
  const raw = JSON.parse(res.stdout.toString('utf8')) as Record<string, string | null>[];
  const b = (s: string | null | undefined): Buffer | null => (s === null || s === undefined ? null : Buffer.from(s, 'base64'));
  return raw.map((r) => ({
    ser: b(r['ser'])!,
    rt: b(r['rt'])!,
    session: b(r['session'])!,
    php: b(r['php']),
    php_binary: b(r['php_binary']),
    php_serialize: b(r['php_serialize']),
    php_rt: b(r['php_rt']),
    php_binary_rt: b(r['php_binary_rt']),
    php_serialize_rt: b(r['php_serialize_rt']),
  }));
}
