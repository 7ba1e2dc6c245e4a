/**
 * @module spec/redis/save-path
 * The pieces of PHP phpredis parses session.save_path with, against PHP itself: php_url_parse_ex
 * (PHP's parse_url() is the same function) and parse_str(), on hand-picked paths and on
 * fast-check generated ones (fixed seed); and the redis.session.* ini defaults.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redisIni } from '../../handlers/redis.ts';
import { parseClusterSavePath } from '../../handlers/redis/save-path.ts';
import { tlsConnectOptions } from '../../handlers/redis/tls.ts';
import { phpParseStr, phpUrlParse, type QueryArray } from '../../lib/zend/url.ts';
import { describeWith } from '../support/tools.ts';
import { php } from './support.ts';

const URLS = [
  'tcp://127.0.0.1:6379',
  'tcp://127.0.0.1:6379?weight=2&timeout=2.5&prefix=app:',
  'tls://redis.example:6380?auth[]=user&auth[]=p%40ss#frag',
  'file:///var/run/redis.sock?persistent=1',
  'file:/var/run/redis.sock',
  '127.0.0.1:6379',
  'localhost',
  'localhost:6379?x=1',
  '/tmp/redis.sock',
  'tcp://[::1]:6379',
  'tcp://user:pw@host:1/path?q#f',
  'tcp://127.0.0.1:99999',
  'tcp://:80',
  'http://:80',
  ':6379',
  'a:',
  '//host:12/x',
  'host:123456',
  'tcp://host:6379/',
  'tcp://h?x',
  'mailto:x@y',
  'tcp://host:0',
  'x:1?y',
];

const QUERIES = [
  'weight=2&timeout=1.5&prefix=a%3Ab',
  'auth[]=user&auth[]=pass',
  'auth[user]=u&auth[pass]=p',
  'seed[]=127.0.0.1:7000&seed[]=127.0.0.1:7001&failover=distribute',
  'a.b=1&a b=2&+c=3',
  'x[=1&y[a]b=2&z[]=1&z[]=2&z[5]=x&z[]=y',
  'stream[verify_peer]=0&stream[cafile]=%2Fx',
  '=x&&k&k2=&k3=a=b',
  'p=%zz&q=%41%4',
];

describeWith(['php'], 'redis save_path parsing compared with PHP', () => {
  it('php_url_parse_ex: hand-picked and generated URLs give PHP parse_url()\'s parts', async () => {
    const gen = fc.sample(
      fc
        .array(fc.constantFrom('tcp', 'tls', 'file', 'unix', ':', '//', '/', '?', '#', '@', '[', ']', 'h', 'host', '1', '6379', '99999', '.', '-', 'a=b', '&', ' ', ''), { maxLength: 8 })
        .map((p) => p.join('')),
      { numRuns: 300, seed: 1313 },
    );
    const all = [...URLS, ...gen];
    const r = await php(
      `foreach (json_decode(base64_decode('${Buffer.from(JSON.stringify(all)).toString('base64')}')) as $u) { $p = parse_url($u); echo json_encode($p === false ? false : $p), "\\n"; }`,
      {},
    );
    const lines = r.stdout.toString().trim().split('\n');
    const ours = all.map((u) => {
      const p = phpUrlParse(u);
      if (p === null) return 'false';
      const o: Record<string, string | number> = {};
      for (const k of ['scheme', 'host', 'port', 'user', 'pass', 'path', 'query', 'fragment'] as const) if (p[k] !== undefined) o[k] = p[k]!;
      return JSON.stringify(o);
    });
    // json_encode orders keys as PHP's parse_url fills them; compare as objects.
    expect(ours.map((x) => JSON.parse(x))).toEqual(lines.map((x) => JSON.parse(x)));
  });

  it('parse_str: the arrays phpredis reads its parameters from', async () => {
    const toObj = (a: QueryArray): unknown => Object.fromEntries([...a].map(([k, v]) => [String(k), typeof v === 'string' ? v : toObj(v)]));
    const r = await php(
      `foreach (json_decode(base64_decode('${Buffer.from(JSON.stringify(QUERIES)).toString('base64')}')) as $q) { parse_str($q, $o); echo json_encode($o, JSON_FORCE_OBJECT), "\\n"; }`,
      {},
    );
    const lines = r.stdout.toString().trim().split('\n');
    expect(QUERIES.map((q) => toObj(phpParseStr(q)))).toEqual(lines.map((l) => JSON.parse(l)));
  });
});

describeWith(['php', 'php-ext:redis'], 'redis.session.* ini compared with PHP', () => {
  it("defaults are phpredis 5.3.7's", async () => {
    const names = redisIni.map((e) => e.name);
    const r = await php(`foreach (json_decode('${JSON.stringify(names)}') as $n) echo $n, '=', ini_get($n), "\\n";`, {});
    expect(redisIni.map((e) => `${e.name}=${e.default}`)).toEqual(r.stdout.toString().trim().split('\n'));
  });
});

describe('rediscluster stream[...] options', () => {
  it('become the TLS settings of every node (no stream: plain TCP), with openssl.cafile as the fallback CA', () => {
    const plain = parseClusterSavePath('seed[]=127.0.0.1:7000');
    expect(plain.ok && plain.path.tls).toBeNull();
    const r = parseClusterSavePath(
      'seed[]=127.0.0.1:7000&stream[verify_peer]=1&stream[verify_peer_name]=0&stream[peer_name]=redis.test&stream[local_cert]=/c.pem&stream[local_pk]=/k.pem&stream[passphrase]=pw&stream[ciphers]=HIGH',
      { cafile: '/ini-ca.pem', capath: '' },
    );
    expect(r.ok && r.path.tls).toEqual({ verifyPeer: true, verifyPeerName: false, allowSelfSigned: false, peerName: 'redis.test', cafile: '/ini-ca.pem', localCert: '/c.pem', localPk: '/k.pem', passphrase: 'pw', ciphers: 'HIGH' });
    // zend_is_true: '0' and '' are off; stream[cafile] wins over the ini.
    const off = parseClusterSavePath('seed[]=127.0.0.1:7000&stream[verify_peer]=0&stream[verify_peer_name]=&stream[cafile]=/ca.pem', { cafile: '/ini-ca.pem', capath: '' });
    expect(off.ok && off.path.tls).toEqual({ verifyPeer: false, verifyPeerName: false, allowSelfSigned: false, cafile: '/ca.pem' });
  });

  it('tls settings become tls.connect() options: verify_peer=0 accepts any chain, verify_peer_name=0 any name', () => {
    expect(tlsConnectOptions({ verifyPeer: false, verifyPeerName: true, allowSelfSigned: false }, '127.0.0.1')).toEqual({ rejectUnauthorized: false });
    const noName = tlsConnectOptions({ verifyPeer: true, verifyPeerName: false, allowSelfSigned: false }, 'redis.test');
    expect(noName.rejectUnauthorized).toBe(true);
    expect(noName.servername).toBe('redis.test');
    expect(noName.checkServerIdentity?.('redis.test', {} as never)).toBeUndefined();
  });
});
