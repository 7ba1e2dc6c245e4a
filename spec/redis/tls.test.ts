/**
 * @module spec/redis/tls
 * `tls://` save paths against redis-servers started with TLS (certificates made with openssl in a
 * temp dir), PHP (phpredis 5.3.7) and the engine side by side: round trips both ways with the CA
 * given as openssl.cafile, and the warnings of a certificate PHP refuses (unknown CA, a name that
 * does not match the subjectAltName or the CN, a cafile that does not exist), word for word.
 * 5.3.7's `redis` handler reads no `stream[...]` options, so `stream[verify_peer]=0` changes
 * nothing on either side.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serialize, unserialize } from '../../serializers/var.ts';
import { closeRedisConnections } from '../../handlers/redis.ts';
import { testSessionId } from '../handlers/suite.ts';
import { freePort } from '../php/runner.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import { describeWith } from '../support/tools.ts';
import { engineFor, php, phpBytes, phpDiagnostics, TOOLS } from './support.ts';

interface TlsServer {
  redis: RedisProcess;
  tlsPort: number;
}

/** Makes a CA and server certificates signed by it, each with the given subjectAltName (or none). */
function makeCertificates(dir: string, servers: Record<string, { cn: string; san?: string }>): void {
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=php-session-engine test CA');
  for (const [name, { cn, san }] of Object.entries(servers)) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    const ext = ['-extfile', `${name}.ext`];
    writeFileSync(join(dir, `${name}.ext`), san === undefined ? 'basicConstraints=CA:FALSE\n' : `subjectAltName=${san}\n`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', ...ext);
  }
}

describeWith([...TOOLS, 'openssl'], 'redis module: tls:// save paths, PHP and the engine', () => {
  let dir: string;
  const servers: Record<string, TlsServer> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pse-redis-tls-'));
    const certs = {
      good: { cn: 'redis.test', san: 'DNS:localhost,IP:127.0.0.1' },
      otherName: { cn: '127.0.0.1', san: 'DNS:elsewhere.test' },
      cnOnly: { cn: 'elsewhere.test' },
    };
    makeCertificates(dir, certs);
    for (const name of Object.keys(certs)) {
      const tlsPort = await freePort();
      const redis = await startRedis({
        args: ['--tls-port', String(tlsPort), '--tls-cert-file', join(dir, `${name}.pem`), '--tls-key-file', join(dir, `${name}.key`), '--tls-ca-cert-file', join(dir, 'ca.pem'), '--tls-auth-clients', 'no'],
      });
      servers[name] = { redis, tlsPort };
    }
  }, 60_000);

  afterAll(async () => {
    closeRedisConnections();
    await Promise.all(Object.values(servers).map((s) => s.redis.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const ini = (savePath: string, extra: Record<string, string> = {}): Record<string, string> => ({ 'session.save_handler': 'redis', 'session.save_path': savePath, ...extra });
  const ca = (): Record<string, string> => ({ 'openssl.cafile': join(dir, 'ca.pem') });
  const value = serialize(unserialize(Buffer.from('a:2:{s:4:"user";s:5:"alice";s:4:"list";a:2:{i:0;i:1;i:1;d:1.5;}}')));

  for (const scheme of ['tls', 'ssl', 'tlsv1.2']) {
    it(`${scheme}:// with openssl.cafile: PHP writes, the engine reads, and the other way`, async () => {
      const path = `${scheme}://127.0.0.1:${servers['good']!.tlsPort}`;
      const a = testSessionId();
      await php(`session_id('${a}'); if (!session_start()) exit(3); $_SESSION = unserialize(${phpBytes(value)}); if (!session_write_close()) exit(4);`, ini(path, ca()));
      const req = engineFor(ini(path, ca())).request({ cookies: { PHPSESSID: a } });
      expect(await req.start()).toBe(true);
      expect(serialize(req.sessionValue ?? null)).toEqual(value);
      req.session.set('n', 1);
      expect(await req.writeClose()).toBe(true);
      await req.end();
      expect(req.diagnostics).toEqual([]);
      const back = await php(`session_id('${a}'); if (!session_start()) exit(3); echo serialize($_SESSION); session_write_close();`, ini(path, ca()));
      expect(back.stdout.toString()).toBe('a:3:{s:4:"user";s:5:"alice";s:4:"list";a:2:{i:0;i:1;i:1;d:1.5;}s:1:"n";i:1;}');
    });
  }

  /** The same steps in PHP and the engine: results and diagnostics. */
  async function both(extraIni: Record<string, string>, path: string) {
    const id = testSessionId();
    const r = await php(`session_id('${id}'); var_dump(session_start()); $_SESSION['a'] = 1; var_dump(session_write_close());`, ini(path, extraIni));
    const req = engineFor(ini(path, extraIni)).request({ cookies: { PHPSESSID: id } });
    const results = [await req.start()];
    if (results[0]) req.session.set('a', 1);
    results.push(await req.writeClose());
    await req.end();
    const phpResults = r.stdout.toString().trim().split('\n').map((l) => l === 'bool(true)');
    return { php: { results: phpResults, diagnostics: phpDiagnostics(r.stderr) }, engine: { results, diagnostics: req.diagnostics } };
  }

  for (const [name, server, extra, query] of [
    ['a CA PHP does not know (no openssl.cafile)', 'good', {}, ''],
    ['no openssl.cafile, with stream[verify_peer]=0 (read by the cluster handler only)', 'good', {}, '?stream[verify_peer]=0'],
    ['a certificate whose subjectAltName names another host', 'otherName', 'ca', ''],
    ['a certificate with only a CN, for another host', 'cnOnly', 'ca', ''],
    ['an openssl.cafile that does not exist', 'good', { 'openssl.cafile': '/nonexistent/ca.pem' }, ''],
  ] as const) {
    it(`${name}: the same results and warnings as PHP`, async () => {
      const path = `tls://127.0.0.1:${servers[server]!.tlsPort}${query}`;
      const { php: p, engine: e } = await both(extra === 'ca' ? ca() : extra, path);
      expect(e).toEqual(p);
      expect(p.diagnostics.length).toBeGreaterThan(1);
    });
  }
});
