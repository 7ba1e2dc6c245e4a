/**
 * @module cookie
 * The header lines the session module sends: its Set-Cookie line (php_session_send_cookie) and the
 * cache limiter headers (CACHE_LIMITER_FUNC in session.c), plus PHP's urlencode() and the GMT date
 * format they use.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Characters a session name must not contain to be sent as a cookie (SESSION_FORBIDDEN_CHARS). */
export const FORBIDDEN_NAME_CHARS = '=,;.[ \t\r\n\u000b\u000c';

export function hasForbiddenNameChars(name: string): boolean {
  for (const c of name) if (FORBIDDEN_NAME_CHARS.includes(c)) return true;
  return false;
}

/** PHP's urlencode(): [A-Za-z0-9_.-] kept, space as "+", every other byte as upper-case %XX. */
export function phpUrlEncode(s: string | Uint8Array): string {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  let out = '';
  for (const b of bytes) {
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f) {
      out += String.fromCharCode(b);
    } else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** `Www, DD Mon YYYY HH:MM:SS GMT` for a Unix time in seconds (any int64 value). */
export function gmtDate(seconds: bigint | number): string {
  const t = BigInt(seconds);
  let days = t / 86400n;
  let rem = t % 86400n;
  if (rem < 0n) {
    rem += 86400n;
    days -= 1n;
  }
  // civil-from-days (proleptic Gregorian)
  const z = days + 719468n;
  const era = (z >= 0n ? z : z - 146096n) / 146097n;
  const doe = z - era * 146097n;
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
  let y = yoe + era * 400n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const d = doy - (153n * mp + 2n) / 5n + 1n;
  const m = mp < 10n ? mp + 3n : mp - 9n;
  if (m <= 2n) y += 1n;
  const wd = Number((((days + 4n) % 7n) + 7n) % 7n);
  const hh = Number(rem / 3600n);
  const mm = Number((rem % 3600n) / 60n);
  const ss = Number(rem % 60n);
  const p2 = (n: number | bigint): string => String(n).padStart(2, '0');
  return `${DAYS[wd]}, ${p2(d)} ${MONTHS[Number(m) - 1]} ${y} ${p2(hh)}:${p2(mm)}:${p2(ss)} GMT`;
}

export interface CookieSettings {
  name: string;
  id: string;
  lifetime: bigint;
  path: string;
  domain: string;
  secure: boolean;
  httponly: boolean;
  samesite: string;
  /** Current time, seconds. */
  nowSeconds: number;
}

/** The value of the session's Set-Cookie header, attributes in PHP's order. */
export function sessionCookieValue(c: CookieSettings): string {
  let s = `${c.name}=${phpUrlEncode(c.id)}`;
  if (c.lifetime > 0n) {
    const t = BigInt(c.nowSeconds) + c.lifetime;
    if (t > 0n) s += `; expires=${gmtDate(t)}; Max-Age=${c.lifetime}`;
  }
  if (c.path !== '') s += `; path=${c.path}`;
  if (c.domain !== '') s += `; domain=${c.domain}`;
  if (c.secure) s += '; secure';
  if (c.httponly) s += '; HttpOnly';
  if (c.samesite !== '') s += `; SameSite=${c.samesite}`;
  return s;
}

/** The date every expired cache limiter sends. */
export const PAST_EXPIRES = 'Thu, 19 Nov 1981 08:52:00 GMT';

/** `nocache`'s lines (the default limiter's, the same on every request). */
const NOCACHE_LINES: ReadonlyArray<readonly [string, string]> = [
  ['Expires', PAST_EXPIRES],
  ['Cache-Control', 'no-store, no-cache, must-revalidate'],
  ['Pragma', 'no-cache'],
];

/**
 * The headers of a cache limiter, or undefined for an unknown name (matched case-insensitively).
 * `lastModified` is the mtime (seconds) of the running script when known.
 */
export function cacheLimiterHeaders(
  limiter: string,
  cacheExpire: bigint,
  nowSeconds: number,
  lastModified?: number,
): ReadonlyArray<readonly [string, string]> | undefined {
  if (limiter === 'nocache') return NOCACHE_LINES;
  const maxAge = cacheExpire * 60n;
  const lm: Array<[string, string]> = lastModified === undefined ? [] : [['Last-Modified', gmtDate(lastModified)]];
  switch (limiter.toLowerCase()) {
    case 'public':
      return [
        ['Expires', gmtDate(BigInt(nowSeconds) + maxAge)],
        ['Cache-Control', `public, max-age=${maxAge}`],
        ...lm,
      ];
    case 'private':
      return [['Expires', PAST_EXPIRES], ['Cache-Control', `private, max-age=${maxAge}`], ...lm];
    case 'private_no_expire':
      return [['Cache-Control', `private, max-age=${maxAge}`], ...lm];
    case 'nocache':
      return NOCACHE_LINES;
    default:
      return undefined;
  }
}
