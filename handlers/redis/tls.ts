/**
 * @module handlers/redis/tls
 * TLS for the redis modules, as PHP's openssl stream transport (`ssl://`, `tls://`, `tlsv1.x://`)
 * connects for phpredis: what the ssl context options become in Node's tls.connect(), and the
 * warnings PHP prints when the handshake or the peer check fails.
 *
 * The `redis` handler of phpredis 5.3.7 passes no stream context: the peer is verified against
 * openssl.cafile / openssl.capath (else the system's CAs) and its name against the URL's host. The
 * `rediscluster` handler turns every `stream[name]=value` of its save_path into the ssl context
 * option `name` (verify_peer, verify_peer_name, peer_name, cafile, capath, local_cert, local_pk,
 * passphrase, ciphers are read here).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';

/** An ssl stream context, as far as it is used. */
export interface TlsSettings {
  /** verify_peer (default on): the certificate chain must lead to a trusted CA. */
  verifyPeer: boolean;
  /** verify_peer_name (default on): the certificate must name `peerName`. */
  verifyPeerName: boolean;
  /** allow_self_signed: read but not supported (a self-signed certificate must be in cafile). */
  allowSelfSigned: boolean;
  /** peer_name, else the host connected to. */
  peerName?: string;
  cafile?: string;
  capath?: string;
  /** local_cert: a PEM file with the client certificate (and its key when local_pk is unset). */
  localCert?: string;
  localPk?: string;
  passphrase?: string;
  ciphers?: string;
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
}

/** A TLS set-up that fails before connecting (an unreadable file), with PHP's warnings. */
export class TlsSetupError extends Error {
  readonly phpWarnings: { message: string; raw: boolean }[];
  constructor(message: string, phpWarnings: { message: string; raw: boolean }[]) {
    super(message);
    this.phpWarnings = phpWarnings;
  }
  override get name(): string {
    return 'TlsSetupError';
  }
}

const CRYPTO_FAILED = { message: 'Failed to enable crypto', raw: false };

/** The CA certificates of a capath directory (every PEM certificate found in its files). */
function readCaPath(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    try {
      const text = readFileSync(join(dir, name), 'latin1');
      if (text.includes('-----BEGIN CERTIFICATE-----')) out.push(text);
    } catch {
      // not a readable file: OpenSSL skips it too
    }
  }
  return out;
}

/** tls.connect() options for `t` on `host`; throws a TlsSetupError when a file cannot be read. */
export function tlsConnectOptions(t: TlsSettings, host: string): ConnectionOptions {
  const o: ConnectionOptions = {};
  const peer = t.peerName ?? host;
  if (isIP(peer) === 0 && peer !== '') o.servername = peer;
  if (t.cafile !== undefined || t.capath !== undefined) {
    const ca: (string | Buffer)[] = [];
    if (t.cafile !== undefined) {
      try {
        ca.push(readFileSync(t.cafile));
      } catch {
        throw new TlsSetupError(`cannot read cafile ${t.cafile}`, [{ message: `failed loading cafile stream: \`${t.cafile}'`, raw: true }, CRYPTO_FAILED]);
      }
    }
    if (t.capath !== undefined) {
      try {
        ca.push(...readCaPath(t.capath));
      } catch {
        throw new TlsSetupError(`cannot read capath ${t.capath}`, [{ message: `Unable to set verify locations \`${t.cafile ?? '(null)'}' \`${t.capath}'`, raw: false }, CRYPTO_FAILED]);
      }
    }
    o.ca = ca;
  }
  if (t.localCert !== undefined) {
    // php_openssl_check_path_ex: a file that cannot be found is refused before loading.
    const read = (path: string, what: string): Buffer => {
      try {
        return readFileSync(path);
      } catch {
        throw new TlsSetupError(`cannot read ${path}`, [{ message: `Unable to get real path of ${what} file \`${path}'`, raw: false }, CRYPTO_FAILED]);
      }
    };
    const cert = read(t.localCert, 'certificate');
    o.cert = cert;
    o.key = t.localPk !== undefined ? read(t.localPk, 'private key') : cert;
  }
  if (t.passphrase !== undefined) o.passphrase = t.passphrase;
  if (t.ciphers !== undefined) o.ciphers = t.ciphers;
  if (t.minVersion !== undefined) o.minVersion = t.minVersion;
  if (t.maxVersion !== undefined) o.maxVersion = t.maxVersion;
  // Node checks the name only after the chain verified, and only when rejecting unverified peers.
  o.rejectUnauthorized = t.verifyPeer;
  if (!t.verifyPeerName) o.checkServerIdentity = () => undefined;
  else if (t.peerName !== undefined) o.checkServerIdentity = (_host: string, cert: PeerCertificate) => checkServerIdentity(peer, cert);
  return o;
}

/** X.509 verification failures as Node names them (OpenSSL's X509_V_ERR_* without the prefix). */
const VERIFY_ERROR = /^(CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|INVALID_CA|PATH_LENGTH_EXCEEDED|INVALID_PURPOSE|CRL_|ERROR_IN_|HOSTNAME_MISMATCH|KEYUSAGE_)/;

/**
 * PHP's warnings for a failed TLS connection (besides the session read failure that follows), or
 * null when `e` is not a TLS failure PHP reports on its own.
 */
export function tlsWarnings(e: unknown, t: TlsSettings, host: string): { message: string; raw: boolean }[] | null {
  if (e instanceof TlsSetupError) return e.phpWarnings;
  const err = e as { code?: unknown; cert?: PeerCertificate; message?: unknown; library?: unknown; reason?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  if (VERIFY_ERROR.test(code)) {
    // The handshake itself fails (PHP sets SSL_VERIFY_PEER), with OpenSSL's error.
    return [{ message: 'SSL operation failed with code 1. OpenSSL Error messages:\nerror:0A000086:SSL routines::certificate verify failed', raw: false }, CRYPTO_FAILED];
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const peer = t.peerName ?? host;
    const cert = err?.cert;
    if (cert?.subjectaltname !== undefined && cert.subjectaltname !== '') {
      return [{ message: `Peer certificate subjectAltName did not match expected name \`${peer}'`, raw: false }, CRYPTO_FAILED];
    }
    const cn = cert?.subject?.CN;
    const name = Array.isArray(cn) ? cn[0] : cn;
    if (name === undefined) return [{ message: 'Unable to locate peer certificate CN', raw: false }, CRYPTO_FAILED];
    return [{ message: `Peer certificate CN=\`${name}' did not match expected CN=\`${peer}'`, raw: false }, CRYPTO_FAILED];
  }
  if (err?.library === 'SSL routines' && typeof err.reason === 'string' && typeof err.message === 'string') {
    const hex = /error:([0-9A-Fa-f]{8}):/.exec(err.message)?.[1]?.toUpperCase();
    if (hex !== undefined) return [{ message: `SSL operation failed with code 1. OpenSSL Error messages:\nerror:${hex}:SSL routines::${err.reason}`, raw: false }, CRYPTO_FAILED];
  }
  return null;
}
