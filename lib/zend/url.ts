/**
 * @module zend/url
 * PHP's URL and query-string parsers: php_url_parse_ex (ext/standard/url.c, what parse_url() uses)
 * and the query-string parser behind parse_str() (php_default_treat_data with PARSE_STRING).
 * phpredis reads session.save_path with both; the trans-sid URL rewriter reads the URLs it rewrites
 * with the first. PHP's quirks are kept (the first `:` decides the scheme, `a.com:80`, ports read by
 * strtol, control characters replaced by `_`). Ported from PHP 8.2's source (read as the
 * specification); strings are handled as Latin-1, one char per byte.
 */

/** php_url: the parts PHP found (undefined where PHP leaves the field NULL). */
export interface PhpUrl {
  scheme?: string;
  user?: string;
  pass?: string;
  host?: string;
  port?: number;
  path?: string;
  query?: string;
  fragment?: string;
}

const isAlpha = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

/** iscntrl() bytes become '_' (php_replace_controlchars_ex). */
function ctrl(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, '_');
}

/** The first position in [s, e) holding any of `chars`, else e (binary_strcspn). */
function cspn(str: string, s: number, e: number, chars: string): number {
  for (const ch of chars) {
    const p = str.indexOf(ch, s);
    if (p !== -1 && p < e) e = p;
  }
  return e;
}

/** strtol(…, 10) of a short digit run with PHP's range check; null when PHP rejects the URL. */
function portOf(digits: string): number | null {
  const m = /^[ \t\n\v\f\r]*[+-]?\d+/.exec(digits);
  if (m === null) return null;
  const port = Number.parseInt(m[0], 10);
  return port >= 0 && port <= 65535 ? port : null;
}

/** php_url_parse_ex: null where PHP returns NULL. */
export function phpUrlParse(str: string): PhpUrl | null {
  const ret: PhpUrl = {};
  const ue = str.length;
  let s = 0;
  let e = str.indexOf(':');
  let p: number;
  let pp: number;

  // The C function's gotos become this small state machine.
  let state: 'scheme' | 'port' | 'host' | 'path' = 'scheme';
  if (e === -1 || e === s) {
    if (e !== -1) state = 'port';
    else if (s + 1 < ue && str[s] === '/' && str[s + 1] === '/') {
      s += 2;
      state = 'host';
    } else state = 'path';
  }

  if (state === 'scheme') {
    let bad = false;
    for (p = s; p < e; p++) {
      const c = str[p]!;
      if (!isAlpha(c) && !isDigit(c) && c !== '+' && c !== '.' && c !== '-') {
        bad = true;
        break;
      }
    }
    if (bad) {
      if (e + 1 < ue && e < cspn(str, s, ue, '?#')) state = 'port';
      else if (s + 1 < ue && str[s] === '/' && str[s + 1] === '/') {
        s += 2;
        state = 'host';
      } else state = 'path';
    } else if (e + 1 === ue) {
      ret.scheme = ctrl(str.slice(s, e));
      return ret;
    } else if (str[e + 1] !== '/') {
      // "a.com:80": a port, not a scheme, when only digits (fewer than 6) run to the end or a '/'.
      p = e + 1;
      while (p < ue && isDigit(str[p]!)) p++;
      if ((p === ue || str[p] === '/') && p - e < 7) state = 'port';
      else {
        ret.scheme = ctrl(str.slice(s, e));
        s = e + 1;
        state = 'path';
      }
    } else {
      ret.scheme = ctrl(str.slice(s, e));
      if (e + 2 < ue && str[e + 2] === '/') {
        s = e + 3;
        state = 'host';
        if (ret.scheme.toLowerCase() === 'file' && e + 3 < ue && str[e + 3] === '/') {
          if (e + 5 < ue && str[e + 5] === ':') s = e + 4;
          state = 'path';
        }
      } else {
        s = e + 1;
        state = 'path';
      }
    }
  }

  if (state === 'port') {
    p = e + 1;
    pp = p;
    while (pp < ue && pp - p < 6 && isDigit(str[pp]!)) pp++;
    if (pp - p > 0 && pp - p < 6 && (pp === ue || str[pp] === '/')) {
      const port = portOf(str.slice(p, pp));
      if (port === null) return null;
      ret.port = port;
      if (s + 1 < ue && str[s] === '/' && str[s + 1] === '/') s += 2;
      state = 'host';
    } else if (p === pp && pp === ue) {
      return null;
    } else if (s + 1 < ue && str[s] === '/' && str[s + 1] === '/') {
      s += 2;
      state = 'host';
    } else state = 'path';
  }

  if (state === 'host') {
    e = cspn(str, s, ue, '/?#');
    const at = str.lastIndexOf('@', e - 1);
    if (at >= s) {
      const colon = str.indexOf(':', s);
      if (colon !== -1 && colon < at) {
        ret.user = ctrl(str.slice(s, colon));
        ret.pass = ctrl(str.slice(colon + 1, at));
      } else {
        ret.user = ctrl(str.slice(s, at));
      }
      s = at + 1;
    }
    let c: number;
    if (s < ue && str[s] === '[' && str[e - 1] === ']') c = -1;
    else {
      c = str.lastIndexOf(':', e - 1);
      if (c < s) c = -1;
    }
    if (c !== -1) {
      if (ret.port === undefined || ret.port === 0) {
        const q = c + 1;
        if (e - q > 5) return null;
        if (e - q > 0) {
          const port = portOf(str.slice(q, e));
          if (port === null) return null;
          ret.port = port;
        }
      }
      p = c;
    } else p = e;
    if (p - s < 1) return null;
    ret.host = ctrl(str.slice(s, p));
    if (e === ue) return ret;
    s = e;
  }

  // just_path
  e = ue;
  const hash = str.indexOf('#', s);
  if (hash !== -1) {
    ret.fragment = hash + 1 < e ? ctrl(str.slice(hash + 1, e)) : '';
    e = hash;
  }
  const qm = str.indexOf('?', s);
  if (qm !== -1 && qm < e) {
    ret.query = qm + 1 < e ? ctrl(str.slice(qm + 1, e)) : '';
    e = qm;
  }
  if (s < e || s === ue) ret.path = ctrl(str.slice(s, e));
  return ret;
}

/** A value parse_str() produces: a string or a nested array (insertion-ordered). */
export type QueryValue = string | QueryArray;
export type QueryArray = Map<string | number, QueryValue>;

/** php_url_decode: '+' is a space, %XX a byte (bad escapes stay as they are). */
export function phpUrlDecode(s: string): string {
  return s.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

/** PHP's array key rule: a decimal integer string without leading zeros is an integer key. */
function arrayKey(k: string): string | number {
  if (/^(0|-?[1-9]\d{0,17})$/.test(k)) {
    const n = Number(k);
    if (Number.isSafeInteger(n)) return n;
  }
  return k;
}

function nextIndex(a: QueryArray): number {
  let max = -1;
  for (const k of a.keys()) if (typeof k === 'number' && k > max) max = k;
  return max + 1;
}

/**
 * php_register_variable_ex for one `name=value`: leading spaces dropped, '.' and ' ' in the base
 * name become '_', `[]` appends and `[key]` nests; a '[' never closed ends the name as '_'.
 */
function register(into: QueryArray, rawName: string, value: string): void {
  let name = rawName.replace(/^ +/, '');
  const nul = name.indexOf('\0');
  if (nul !== -1) name = name.slice(0, nul);
  const bracket = name.indexOf('[');
  let base = bracket === -1 ? name : name.slice(0, bracket);
  base = base.replace(/[ .]/g, '_');
  if (base === '') return;
  const indices: (string | null)[] = [];
  let rest = bracket === -1 ? '' : name.slice(bracket);
  while (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1) {
      // An unterminated '[' in the first level is kept as '_' in the name; deeper, it ends parsing.
      if (indices.length === 0) base = `${base}_${rest.slice(1).replace(/[ .]/g, '_')}`;
      break;
    }
    const idx = rest.slice(1, close);
    indices.push(idx === '' ? null : idx);
    rest = rest.slice(close + 1);
    if (!rest.startsWith('[')) break;
  }
  let target = into;
  let key: string | number = arrayKey(base);
  for (const idx of indices) {
    let child = target.get(key);
    if (!(child instanceof Map)) {
      child = new Map();
      target.set(key, child);
    }
    target = child;
    key = idx === null ? nextIndex(target) : arrayKey(idx);
  }
  target.set(key, value);
}

/** parse_str() of a query string, '&' separated (arg_separator.input's default). */
export function phpParseStr(query: string): QueryArray {
  const out: QueryArray = new Map();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = phpUrlDecode(eq === -1 ? part : part.slice(0, eq));
    const value = eq === -1 ? '' : phpUrlDecode(part.slice(eq + 1));
    register(out, name, value);
  }
  return out;
}
