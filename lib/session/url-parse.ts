/**
 * @module lib/session/url-parse
 * PHP's URL parser (php_url_parse_ex2 in ext/standard/url.c, what `parse_url()` uses), as the URL
 * rewriter needs it: on "binary" strings (one char per byte), control characters in every part
 * replaced by `_`, `null` where PHP returns NULL (parse_url() false). Ported from the C rules, not
 * from a URL standard: PHP's quirks (the first `:` anywhere decides the scheme, `a.com:80`, ports
 * read by strtol) are kept, because the rewriter's output depends on them.
 */

export interface PhpUrl {
  scheme?: string;
  user?: string;
  pass?: string;
  host?: string;
  /** 0 when absent (or `:0`), as php_url's unsigned short. */
  port: number;
  path?: string;
  query?: string;
  fragment?: string;
}

const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** php_replace_controlchars_ex: every iscntrl() byte (0-31, 127) becomes `_`. */
function noCtrl(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, '_');
}

/** strtol(buf, &end, 10) as PHP's port checks use it: the value, or undefined when no digits were read. */
function strtol10(buf: string): number | undefined {
  let i = 0;
  while (i < buf.length && isSpace(buf.charCodeAt(i))) i++;
  let neg = false;
  if (buf[i] === '+' || buf[i] === '-') {
    neg = buf[i] === '-';
    i++;
  }
  const from = i;
  let v = 0;
  while (i < buf.length && isDigit(buf.charCodeAt(i))) v = v * 10 + (buf.charCodeAt(i++) - 0x30);
  if (i === from) return undefined;
  return neg ? -v : v;
}

/** The end of the span from s up to the first of `chars` (binary_strcspn). */
function cspn(str: string, s: number, e: number, chars: string): number {
  for (const ch of chars) {
    const p = str.indexOf(ch, s);
    if (p >= 0 && p < e) e = p;
  }
  return e;
}

/** php_url_parse_ex(str, len): the parts, or null for a URL PHP rejects. */
export function phpUrlParse(str: string): PhpUrl | null {
  const ret: PhpUrl = { port: 0 };
  const ue = str.length;
  let s = 0;
  let e = str.indexOf(':');
  let p: number;
  let pp: number;
  let stage: 'port' | 'host' | 'path' | 'hostless' = 'hostless';

  scheme: if (e > 0) {
    for (p = s; p < e; p++) {
      const c = str.charCodeAt(p);
      if (!isAlpha(c) && !isDigit(c) && c !== 0x2b && c !== 0x2e && c !== 0x2d) {
        if (e + 1 < ue && e < cspn(str, s, ue, '?#')) stage = 'port';
        else if (s + 1 < ue && str[s] === '/' && str[s + 1] === '/') {
          s += 2;
          stage = 'host';
        } else stage = 'path';
        break scheme;
      }
    }
    if (e + 1 === ue) {
      ret.scheme = noCtrl(str.slice(s, e));
      return ret;
    }
    if (str[e + 1] !== '/') {
      p = e + 1;
      while (p < ue && isDigit(str.charCodeAt(p))) p++;
      if ((p === ue || str[p] === '/') && p - e < 7) {
        stage = 'port';
        break scheme;
      }
      ret.scheme = noCtrl(str.slice(s, e));
      s = e + 1;
      stage = 'path';
      break scheme;
    }
    ret.scheme = noCtrl(str.slice(s, e));
    if (e + 2 < ue && str[e + 2] === '/') {
      s = e + 3;
      if (ret.scheme.toLowerCase() === 'file' && e + 3 < ue && str[e + 3] === '/') {
        if (e + 5 < ue && str[e + 5] === ':') s = e + 4;
        stage = 'path';
        break scheme;
      }
      stage = 'host';
    } else {
      s = e + 1;
      stage = 'path';
    }
  } else if (e === 0) {
    stage = 'port';
  }

  if (stage === 'port') {
    p = e + 1;
    pp = p;
    while (pp < ue && pp - p < 6 && isDigit(str.charCodeAt(pp))) pp++;
    if (pp - p > 0 && pp - p < 6 && (pp === ue || str[pp] === '/')) {
      const port = strtol10(str.slice(p, pp));
      if (port === undefined || port < 0 || port > 65535) return null;
      ret.port = port;
      if (s + 1 < ue && str[s] === '/' && str[s + 1] === '/') s += 2;
      stage = 'host';
    } else if (p === pp && pp === ue) {
      return null;
    } else if (s + 1 < ue && str[s] === '/' && str[s + 1] === '/') {
      s += 2;
      stage = 'host';
    } else {
      stage = 'path';
    }
  } else if (stage === 'hostless') {
    if (s + 1 < ue && str[s] === '/' && str[s + 1] === '/') {
      s += 2;
      stage = 'host';
    } else {
      stage = 'path';
    }
  }

  if (stage === 'host') {
    e = cspn(str, s, ue, '/?#');
    const at = e > s ? str.lastIndexOf('@', e - 1) : -1;
    if (at >= s) {
      const colon = str.indexOf(':', s);
      if (colon >= 0 && colon < at) {
        ret.user = noCtrl(str.slice(s, colon));
        ret.pass = noCtrl(str.slice(colon + 1, at));
      } else {
        ret.user = noCtrl(str.slice(s, at));
      }
      s = at + 1;
    }
    let colon: number;
    if (s < ue && str[s] === '[' && str[e - 1] === ']') colon = -1;
    else {
      colon = e > s ? str.lastIndexOf(':', e - 1) : -1;
      if (colon < s) colon = -1;
    }
    if (colon >= 0) {
      p = colon;
      if (ret.port === 0) {
        p++;
        if (e - p > 5) return null;
        if (e - p > 0) {
          const port = strtol10(str.slice(p, e));
          if (port === undefined || port < 0 || port > 65535) return null;
          ret.port = port;
        }
        p--;
      }
    } else {
      p = e;
    }
    if (p - s < 1) return null;
    ret.host = noCtrl(str.slice(s, p));
    if (e === ue) return ret;
    s = e;
  }

  // just_path
  e = ue;
  const hash = str.indexOf('#', s);
  if (hash >= 0) {
    ret.fragment = hash + 1 < e ? noCtrl(str.slice(hash + 1, e)) : '';
    e = hash;
  }
  const q = str.indexOf('?', s);
  if (q >= 0 && q < e) {
    ret.query = q + 1 < e ? noCtrl(str.slice(q + 1, e)) : '';
    e = q;
  }
  if (s < e || s === ue) ret.path = noCtrl(str.slice(s, e));
  return ret;
}
