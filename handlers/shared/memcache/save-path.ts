/**
 * @module handlers/shared/memcache/save-path
 * The two extensions' session.save_path syntaxes.
 *
 * php-memcached hands the path to libmemcached's memcached_servers_parse: entries split on ',',
 * one whitespace char after a comma skipped; in each entry the first ':' ends the host, the port
 * is read with strtoul, and a ' ' or a second ':' after the port introduces the weight; port 0 or
 * missing means 11211, weight 0 means 1; a host beginning with '/' is a unix socket. An empty path
 * yields no servers (PHP: "failed to parse session.save_path").
 *
 * pecl memcache splits on commas and whitespace and parses each element as a URL
 * (`tcp://host:port?persistent=&weight=&timeout=&retry_interval=&udp_port=`, bare `host:port`,
 * `unix:///path`); an element without a host, or with weight <= 0 or timeout <= 0, fails open.
 */
import { cAtof, cStrtoul, zendAtol } from '../../../lib/zend/index.ts';

export interface LibmemcachedServer {
  host: string;
  port: number;
  weight: number;
  socketPath?: string;
}

/** memcached_servers_parse; null when it yields nothing. */
export function parseLibmemcachedServers(path: string): LibmemcachedServer[] | null {
  const out: LibmemcachedServer[] = [];
  let pos = 0;
  while (pos < path.length) {
    const comma = path.indexOf(',', pos);
    const entry = comma === -1 ? path.slice(pos) : path.slice(pos, comma);
    pos = comma === -1 ? path.length : comma + 1;
    let host = entry;
    let port = 0;
    let weight = 0;
    const colon = entry.indexOf(':');
    if (colon !== -1) {
      host = entry.slice(0, colon);
      const rest = entry.slice(colon + 1);
      port = Number(cStrtoul(rest).value & 0xffffn); // in_port_t
      let w = rest.indexOf(' ');
      if (w === -1) w = rest.indexOf(':');
      if (w !== -1) weight = Number(BigInt.asUintN(32, cStrtoul(rest.slice(w + 1)).value)); // uint32_t
    }
    const srv: LibmemcachedServer = { host, port: port === 0 ? 11211 : port, weight: weight === 0 ? 1 : weight };
    if (host.startsWith('/')) {
      srv.socketPath = host;
      srv.port = 0;
    }
    out.push(srv);
    if (pos < path.length && /\s/.test(path[pos]!)) pos++;
  }
  return out.length ? out : null;
}

export interface PeclServerSpec {
  /** The name the ring hashes: the URL host, or `unix:///path`. */
  host: string;
  port: number;
  weight: number;
  persistent: boolean;
  timeoutSec: number;
  retryIntervalSec: number;
  udpPort: number;
  socketPath?: string;
}

export type PeclPathResult =
  | { ok: true; servers: PeclServerSpec[] }
  /** `warning` is PHP's text when PHP warns; open fails silently otherwise. */
  | { ok: false; warning?: string };

/** PHP's loose string-to-int (ZEND_ATOL: leading integer, else 0). */
function phpInt(v: string): number {
  return Number(zendAtol(v));
}

/** PHP's string-to-bool ("" and "0" are false). */
function phpBool(v: string): boolean {
  return v !== '' && v !== '0';
}

/** A query string as PHP's parse_str reads flat keys (last one wins). */
function parseQuery(q: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of q.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const dec = (s: string): string => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        return s;
      }
    };
    m.set(dec(eq === -1 ? part : part.slice(0, eq)), eq === -1 ? '' : dec(part.slice(eq + 1)));
  }
  return m;
}

interface Url {
  scheme?: string;
  host?: string;
  port?: number;
  path?: string;
  query?: string;
}

/** The subset of php_url_parse_ex these paths use; null where PHP's parser gives up. */
function parseUrl(s: string): Url | null {
  const u: Url = {};
  let rest = s;
  const q = rest.indexOf('?');
  if (q !== -1) {
    u.query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const sch = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(rest);
  if (sch) {
    u.scheme = sch[1]!;
    rest = rest.slice(sch[0].length);
    const slash = rest.indexOf('/');
    const auth = slash === -1 ? rest : rest.slice(0, slash);
    if (slash !== -1) u.path = rest.slice(slash);
    if (auth === '') {
      if (u.scheme !== 'file') return null;
      return u;
    }
    const c = auth.lastIndexOf(':');
    if (c !== -1 && !auth.endsWith(']')) {
      const p = auth.slice(c + 1);
      if (p !== '') {
        if (!/^\d+$/.test(p) || Number(p) > 65535) return null;
        u.port = Number(p);
      }
      u.host = auth.slice(0, c);
    } else {
      u.host = auth;
    }
    if (u.host === '') return null;
    return u;
  }
  // host:port with no scheme: PHP's parser only reads a port when digits run to the end or to '/'
  // of the whole element ("h:1?q" is scheme "h", path "1": no host).
  const hp = /^([^:/?#]+):(\d+)(\/[^?]*)?$/.exec(s);
  if (hp) {
    if (Number(hp[2]) > 65535) return null;
    u.host = hp[1]!;
    u.port = Number(hp[2]);
    if (hp[3]) u.path = hp[3];
    return u;
  }
  u.path = rest;
  return u;
}

/** pecl memcache's PS_OPEN path parsing (defaults: weight 1, timeout 1 s, retry_interval 15 s). */
export function parsePeclSavePath(path: string, defaultPort = 11211): PeclPathResult {
  const servers: PeclServerSpec[] = [];
  const isSep = (c: string): boolean => c === ',' || /\s/.test(c);
  let i = 0;
  while (i < path.length) {
    while (i < path.length && isSep(path[i]!)) i++;
    let j = i;
    while (j < path.length && !isSep(path[j]!)) j++;
    if (i < j) {
      let elem = path.slice(i, j);
      if (elem.startsWith('unix:')) elem = 'file:' + elem.slice(5);
      const url = parseUrl(elem);
      if (!url) return { ok: false, warning: `Failed to parse memcache.save_path (error at offset ${i}, url was '${path}')` };
      let persistent = false;
      let udpPort = 0;
      let weight = 1;
      let timeout = 1;
      let retry = 15;
      if (url.query !== undefined) {
        const p = parseQuery(url.query);
        if (p.has('persistent')) persistent = phpBool(p.get('persistent')!);
        if (p.has('udp_port')) udpPort = phpInt(p.get('udp_port')!);
        if (p.has('weight')) weight = phpInt(p.get('weight')!);
        if (p.has('timeout')) timeout = cAtof(p.get('timeout')!);
        if (p.has('retry_interval')) retry = phpInt(p.get('retry_interval')!);
      }
      if (url.scheme === 'file' && url.path) {
        let host = `unix://${url.path}`;
        if (host.endsWith(':0')) host = host.slice(0, -2);
        servers.push({ host, port: 0, weight, persistent, timeoutSec: timeout, retryIntervalSec: retry, udpPort, socketPath: host.slice(7) });
      } else {
        if (url.host === undefined || weight <= 0 || timeout <= 0) return { ok: false };
        servers.push({ host: url.host, port: url.port ?? defaultPort, weight, persistent, timeoutSec: timeout, retryIntervalSec: retry, udpPort });
      }
    }
    i = j + 1;
  }
  return servers.length ? { ok: true, servers } : { ok: false };
}
