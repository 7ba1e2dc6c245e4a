/**
 * @module handlers/redis/save-path
 * phpredis 5.3.7's two session.save_path syntaxes (redis_session.c, PS_OPEN_FUNC).
 *
 * `redis`: elements separated by commas and whitespace, each a URL read by php_url_parse_ex
 * (`tcp://host:port?...`, `tls://...`, `unix:///path?...` read as `file:///path`, a bare
 * `host:port`, or a bare `/path`); its query by parse_str(): weight (1), timeout (86400 s),
 * read_timeout (0), persistent, persistent_id, retry_interval, database (-1: no SELECT), prefix
 * (`PHPREDIS_SESSION:`), auth (a string, or `auth[]=user&auth[]=pass`). A URL PHP cannot parse
 * fails open with PHP's warning; no host and no path, weight <= 0 or timeout <= 0 fail silently.
 * phpredis prepends each server to its list, so the list is kept here in reverse order.
 *
 * `rediscluster`: the whole path is one query string: seed[]=host:port (required), timeout,
 * read_timeout, persistent, failover (`error` or `distribute`, else none), prefix
 * (`PHPREDIS_CLUSTER_SESSION:`), auth.
 */
import { confAuth, confBool, zvalDouble, zvalInt, zvalLong, zvalString, zvalTrue } from './conf.ts';
import { phpParseStr, phpUrlParse, type QueryArray, type QueryValue } from '../../lib/zend/url.ts';
import type { RedisEndpoint, TlsSettings } from './client.ts';

export const REDIS_SESSION_PREFIX = 'PHPREDIS_SESSION:';
export const CLUSTER_SESSION_PREFIX = 'PHPREDIS_CLUSTER_SESSION:';

/** PHP's default_socket_timeout: the read timeout when phpredis sets none. */
const DEFAULT_SOCKET_TIMEOUT_MS = 60_000;

/** One redis_pool_member. */
export interface PoolMember {
  endpoint: RedisEndpoint;
  weight: number;
  /** Key prefix of this server (`prefix=`), default PHPREDIS_SESSION:. */
  prefix: string;
  /** The address as PHP names it in messages (host of the URL, or the socket path). */
  label: string;
}

export type RedisPathResult =
  | { ok: true; members: PoolMember[]; totalWeight: number; warnings: string[] }
  | { ok: false; warnings: string[] };

const isSep = (c: string): boolean => c === ',' || c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';

function secondsToMs(s: number): number {
  return Math.max(0, Math.round(s * 1000));
}

/**
 * PHP's stream transports that speak TLS, and the protocol versions each allows (`ssl://` and
 * `tls://` negotiate any; `tlsv1.2://` only TLS 1.2).
 */
const TLS_SCHEMES: Record<string, Pick<TlsSettings, 'minVersion' | 'maxVersion'>> = {
  ssl: {},
  tls: {},
  'tlsv1.0': { minVersion: 'TLSv1', maxVersion: 'TLSv1' },
  'tlsv1.1': { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' },
  'tlsv1.2': { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' },
  'tlsv1.3': { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' },
};

/** PHP's openssl.cafile and openssl.capath: the CA locations when no stream option names one. */
export interface OpensslIni {
  cafile: string;
  capath: string;
}

/** The ssl stream context of a connection, as PHP's openssl transport reads it. */
function tlsFromContext(peerName: string | undefined, opts: ReadonlyMap<string | number, QueryValue> | undefined, ini: OpensslIni): TlsSettings {
  const str = (k: string): string | undefined => {
    const v = opts?.get(k);
    return v === undefined ? undefined : zvalString(v);
  };
  const bool = (k: string, dflt: boolean): boolean => {
    const v = opts?.get(k);
    return v === undefined ? dflt : zvalTrue(v);
  };
  const t: TlsSettings = { verifyPeer: bool('verify_peer', true), verifyPeerName: bool('verify_peer_name', true), allowSelfSigned: bool('allow_self_signed', false) };
  const peer = str('peer_name') ?? peerName;
  if (peer !== undefined) t.peerName = peer;
  // php_openssl_enable_peer_verification: the options, else the ini; '' means unset.
  const cafile = str('cafile') || ini.cafile;
  const capath = str('capath') || ini.capath;
  if (cafile) t.cafile = cafile;
  if (capath) t.capath = capath;
  for (const [key, opt] of [
    ['localCert', 'local_cert'],
    ['localPk', 'local_pk'],
    ['passphrase', 'passphrase'],
    ['ciphers', 'ciphers'],
  ] as const) {
    const v = str(opt);
    if (v !== undefined && v !== '') t[key] = v;
  }
  return t;
}

/**
 * Parsed save paths, kept per path (not per request) like the memcache modules' server rings;
 * the endpoint objects then identify their shared connection without re-keying it each call.
 */
type ParsedPath = RedisPathResult;
/** What reads the request's ini values (a SaveHandlerContext). */
type IniReader = { ini(name: string): string | undefined };

/** openssl.cafile and openssl.capath, which PHP's TLS transports fall back to. */
export function opensslIni(ctx: IniReader): OpensslIni {
  return { cafile: ctx.ini('openssl.cafile') ?? '', capath: ctx.ini('openssl.capath') ?? '' };
}

/** Per save path: its parse, and whether a member uses TLS (whose settings read openssl.cafile/capath). */
const parsedPaths = new Map<string, { parsed: ParsedPath; tls: boolean }>();
/** The parses of TLS paths, per (openssl.cafile, openssl.capath, save path). */
const parsedTlsPaths = new Map<string, ParsedPath>();
export function cachedRedisSavePath(savePath: string, ctx: IniReader): ParsedPath {
  let p = parsedPaths.get(savePath);
  if (p === undefined) {
    if (parsedPaths.size > 64) parsedPaths.clear();
    const parsed = parseRedisSavePath(savePath);
    p = { parsed, tls: parsed.ok && parsed.members.some((m) => m.endpoint.tls !== undefined) };
    parsedPaths.set(savePath, p);
  }
  if (!p.tls) return p.parsed;
  const openssl = opensslIni(ctx);
  const key = `${openssl.cafile}\0${openssl.capath}\0${savePath}`;
  let t = parsedTlsPaths.get(key);
  if (t === undefined) {
    if (parsedTlsPaths.size > 64) parsedTlsPaths.clear();
    t = parseRedisSavePath(savePath, openssl);
    parsedTlsPaths.set(key, t);
  }
  return t;
}

/** PS_OPEN_FUNC(redis): the server pool, head first (the last element of the path). */
export function parseRedisSavePath(savePath: string, openssl: OpensslIni = { cafile: '', capath: '' }): RedisPathResult {
  const warnings: string[] = [];
  const members: PoolMember[] = [];
  let total = 0;
  const n = savePath.length;
  for (let i = 0, j = 0; i < n; i = j + 1) {
    while (i < n && isSep(savePath[i]!)) i++;
    j = i;
    while (j < n && !isSep(savePath[j]!)) j++;
    if (i >= j) continue;
    const elem = savePath.slice(i, j);
    const url = phpUrlParse(elem.startsWith('unix:') ? `file:${elem.slice(5)}` : elem);
    if (url === null) {
      warnings.push(`Failed to parse session.save_path (error at offset ${i}, url was '${elem}')`);
      return { ok: false, warnings };
    }
    let weight = 1;
    let timeout = 86400;
    let readTimeout = 0;
    let db = -1;
    let prefix: string | undefined;
    let user: string | undefined;
    let pass: string | undefined;
    let persistent = false;
    let persistentId: string | undefined;
    let retryInterval = 0;
    if (url.query !== undefined) {
      const ht = phpParseStr(url.fragment !== undefined ? `${url.query}#${url.fragment}` : url.query);
      const get = (k: string) => ht.get(k);
      if (get('weight') !== undefined) weight = zvalInt(get('weight')!);
      if (get('persistent') !== undefined) persistent = confBool(get('persistent')!);
      if (get('database') !== undefined) db = zvalInt(get('database')!);
      if (get('timeout') !== undefined) timeout = zvalDouble(get('timeout')!);
      if (get('read_timeout') !== undefined) readTimeout = zvalDouble(get('read_timeout')!);
      if (get('retry_interval') !== undefined) retryInterval = zvalLong(get('retry_interval')!);
      if (get('persistent_id') !== undefined) persistentId = zvalString(get('persistent_id')!);
      if (get('prefix') !== undefined) prefix = zvalString(get('prefix')!);
      const auth = get('auth');
      if (auth !== undefined) {
        const a = confAuth(auth);
        if (a !== null && 'warning' in a) warnings.push(a.warning);
        else if (a !== null) {
          pass = a.pass;
          user = a.user;
        }
      }
    }
    if ((url.path === undefined && url.host === undefined) || weight <= 0 || timeout <= 0) {
      return { ok: false, warnings };
    }
    const scheme = (url.scheme ?? 'tcp').toLowerCase();
    const tlsScheme = TLS_SCHEMES[scheme];
    let endpoint: RedisEndpoint;
    const common = {
      database: db,
      connectTimeoutMs: secondsToMs(timeout),
      readTimeoutMs: readTimeout > 0 ? secondsToMs(readTimeout) : DEFAULT_SOCKET_TIMEOUT_MS,
      retryInterval,
      // redis_sock_create keeps persistent_id only for a persistent connection.
      ...(persistent && persistentId !== undefined ? { persistentId } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(pass !== undefined ? { pass } : {}),
    };
    let label: string;
    if (url.host !== undefined) {
      // redis_sock_connect: port 0 (none given) means 6379; a host with ':' is an IPv6 address.
      const host = url.host.startsWith('[') && url.host.endsWith(']') ? url.host.slice(1, -1) : url.host;
      endpoint = { scheme, host, port: url.port === undefined || url.port === 0 ? 6379 : url.port, ...common };
      // 5.3.7's redis handler sets no stream context (it reads no `stream[...]`): PHP's defaults,
      // the peer checked against openssl.cafile/capath (or the system's CAs) and the URL's host.
      if (tlsScheme !== undefined) endpoint.tls = { ...tlsFromContext(url.host, undefined, openssl), ...tlsScheme };
      label = url.host;
    } else {
      endpoint = { scheme: 'unix', host: url.path!, port: 0, path: url.path!, ...common };
      label = url.path!;
    }
    members.unshift({ endpoint, weight, prefix: prefix ?? REDIS_SESSION_PREFIX, label });
    total += weight;
  }
  if (members.length === 0) return { ok: false, warnings };
  return { ok: true, members, totalWeight: total, warnings };
}

export type ClusterFailover = 'none' | 'error' | 'distribute';

export interface ClusterPath {
  seeds: { host: string; port: number }[];
  timeoutSec: number;
  readTimeoutSec: number;
  failover: ClusterFailover;
  prefix: string;
  user?: string;
  pass?: string;
  /** TLS when the path has `stream[...]` options (phpredis then connects with ssl://). */
  tls: TlsSettings | null;
}

export type ClusterPathResult = { ok: true; path: ClusterPath; warnings: string[] } | { ok: false; warnings: string[] };

/** PS_OPEN_FUNC(rediscluster) up to the keyspace mapping. */
export function parseClusterSavePath(savePath: string, openssl: OpensslIni = { cafile: '', capath: '' }): ClusterPathResult {
  const warnings: string[] = [];
  const conf: QueryArray = phpParseStr(savePath);
  const seedArr = conf.get('seed');
  if (!(seedArr instanceof Map)) return { ok: false, warnings };
  const timeout = conf.has('timeout') ? zvalDouble(conf.get('timeout')!) : 0;
  const readTimeout = conf.has('read_timeout') ? zvalDouble(conf.get('read_timeout')!) : 0;
  if (conf.has('persistent')) confBool(conf.get('persistent')!);
  if (timeout < 0 || readTimeout < 0) {
    warnings.push("Can't set negative timeout values in session configuration");
    return { ok: false, warnings };
  }
  const prefix = conf.has('prefix') ? zvalString(conf.get('prefix')!) : CLUSTER_SESSION_PREFIX;
  let user: string | undefined;
  let pass: string | undefined;
  if (conf.has('auth')) {
    const a = confAuth(conf.get('auth')!);
    if (a !== null && 'warning' in a) warnings.push(a.warning);
    else if (a !== null) {
      pass = a.pass;
      user = a.user;
    }
  }
  let failover: ClusterFailover = 'none';
  if (conf.has('failover')) {
    const f = zvalString(conf.get('failover')!).toLowerCase();
    if (f === 'error') failover = 'error';
    else if (f === 'distribute') failover = 'distribute';
  }
  // cluster_validate_args / get_valid_seeds.
  if (timeout > 2147483647 || readTimeout > 2147483647 || seedArr.size === 0) {
    warnings.push('No valid seeds detected');
    return { ok: false, warnings };
  }
  const valid = new Set<string>();
  for (const v of seedArr.values()) {
    if (typeof v !== 'string') {
      warnings.push('Skipping non-string entry in seeds array');
      continue;
    }
    if (!v.includes(':')) {
      warnings.push(`Seed '${v}' not in host:port format, ignoring`);
      continue;
    }
    valid.add(v);
  }
  if (valid.size === 0) {
    warnings.push('No valid seeds detected');
    return { ok: false, warnings };
  }
  const seeds = [...valid].map((s) => {
    const c = s.lastIndexOf(':');
    return { host: s.slice(0, c), port: Number.parseInt(s.slice(c + 1), 10) || 0 };
  });
  // redis_sock_set_stream_context: every `stream[name]` becomes the ssl context option `name`;
  // with a context, cluster nodes are reached through ssl:// (peer name: each node's host).
  const stream = conf.get('stream');
  const tls = stream instanceof Map ? tlsFromContext(undefined, stream, openssl) : null;
  const path: ClusterPath = { seeds, timeoutSec: timeout, readTimeoutSec: readTimeout, failover, prefix, tls };
  if (user !== undefined) path.user = user;
  if (pass !== undefined) path.pass = pass;
  return { ok: true, path, warnings };
}
