/**
 * @module spec/files/php-interop
 * Live round trips with PHP 8.2 on one save path, for each serializer and dirdepth 0, 1 and 2:
 * PHP writes, the files handler reads PHP's bytes and our serializer decodes the same $_SESSION
 * (compared through serialize()); our serializer encodes a $_SESSION, the handler writes it, and
 * PHP's session_start() rebuilds the same $_SESSION. Also PHP's warnings for bad save paths,
 * compared text for text.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { filesModule } from '../../handlers/files.ts';
import { PhpArray } from '../../lib/value.ts';
import type { SerializerContext } from '../../lib/serializer.ts';
import { php as phpSerializer, php_binary, php_serialize, serialize, unserialize } from '../../serializers/index.ts';
import { makeTestContext, testSessionId } from '../handlers/suite.ts';
import { describeWith } from '../support/tools.ts';
import { handlerRequest, makeHashedTree, php, phpStr, phpWarnings, tempDir } from './support.ts';

/** A $_SESSION with every scalar type, binary and UTF-8 strings and nested arrays. */
const FIXTURE_PHP = `
$_SESSION['int'] = 42; $_SESSION['neg'] = -7; $_SESSION['max'] = PHP_INT_MAX;
$_SESSION['float'] = 0.1; $_SESSION['nan'] = -1.5e300;
$_SESSION['str'] = "h\\0\\xc3\\xa9\\n\\"|;:{}"; $_SESSION['empty'] = '';
$_SESSION['t'] = true; $_SESSION['f'] = false; $_SESSION['n'] = null;
$_SESSION['arr'] = ['a' => [1, 2, ['x' => null]], 5 => true, -3 => 'neg key'];
`;

const SERIALIZERS = { php: phpSerializer, php_binary, php_serialize } as const;
const serializerCtx = (): SerializerContext & { seen: string[] } => {
  const seen: string[] = [];
  return { seen, maxDepth: 4096, diagnostic: (_l, m) => void seen.push(m) };
};
const DEPTHS = [0, 1, 2] as const;

describeWith(['php'], 'files handler ⇄ PHP 8.2: round trips', () => {
  const tmp = tempDir('interop');
  beforeAll(() => makeHashedTree(tmp.dir, 2));
  afterAll(() => tmp.remove());

  for (const serializer of Object.keys(SERIALIZERS) as (keyof typeof SERIALIZERS)[]) {
    for (const depth of DEPTHS) {
      const savePath = () => (depth === 0 ? tmp.dir : `${depth};${tmp.dir}`);
      const ini = { 'session.serialize_handler': serializer };

      it(`PHP writes, the handler reads (${serializer}, dirdepth ${depth})`, async () => {
        const id = testSessionId();
        const out = await php(
          savePath(),
          `session_id('${id}'); session_start(); ${FIXTURE_PHP} echo base64_encode(session_encode()), "\\n", base64_encode(serialize($_SESSION)); session_write_close();`,
          ini,
        );
        const [encB64, serB64] = out.trim().split('\n');
        const encoded = Buffer.from(encB64!, 'base64');
        expect(encoded.length).toBeGreaterThan(100);
        const { data, ctx } = await handlerRequest(savePath(), id, null);
        expect(ctx.diagnostics).toEqual([]);
        expect(Buffer.from(data as Uint8Array).equals(encoded)).toBe(true);
        // The file sits where PHP's path rule puts it.
        const sub = id.slice(0, depth).split('').join('/');
        const file = `${tmp.dir}/${sub}${sub === '' ? '' : '/'}sess_${id}`;
        expect(readFileSync(file).equals(encoded)).toBe(true);
        // Our serializer rebuilds the same $_SESSION from the bytes the handler read.
        const sctx = serializerCtx();
        const decoded = SERIALIZERS[serializer].decode(data as Uint8Array, new PhpArray(), sctx);
        expect(decoded.ok).toBe(true);
        expect(sctx.seen).toEqual([]);
        expect(serialize((decoded as { session: PhpArray }).session).toString('base64')).toBe(serB64);
      });

      it(`the handler writes, PHP reads (${serializer}, dirdepth ${depth})`, async () => {
        // PHP's own encoding and serialize() of the fixture, made in a session-less PHP run.
        const ref = await php(
          savePath(),
          `session_id('${testSessionId()}'); session_start(); ${FIXTURE_PHP} echo base64_encode(session_encode()), "\\n", base64_encode(serialize($_SESSION)); session_destroy();`,
          ini,
        );
        const [encB64, serB64] = ref.trim().split('\n');
        // Our side: $_SESSION as a PhpArray, encoded by our serializer (must equal PHP's bytes).
        const session = unserialize(Buffer.from(serB64!, 'base64')) as PhpArray;
        const sctx = serializerCtx();
        const ours = SERIALIZERS[serializer].encode(session, sctx);
        expect(ours).not.toBeNull();
        expect(Buffer.from(ours!).toString('base64')).toBe(encB64);
        const id = testSessionId();
        // Existing longer content must be replaced, not overlaid.
        await handlerRequest(savePath(), id, () => new Uint8Array(Buffer.alloc(4000, 0x41)));
        const { data } = await handlerRequest(savePath(), id, () => ours!);
        expect(data).not.toBe(false);
        const out = await php(savePath(), `session_id('${id}'); session_start(); echo base64_encode(serialize($_SESSION));`, ini);
        expect(out).toBe(serB64);
      });
    }
  }

  it('a session PHP creates with a custom file mode keeps it; the handler uses the same mode', async () => {
    const id = testSessionId();
    await php(`0;0640;${tmp.dir}`, `session_id('${id}'); session_start(); $_SESSION['a'] = 1;`);
    const { statSync } = await import('node:fs');
    const phpMode = statSync(`${tmp.dir}/sess_${id}`).mode & 0o7777;
    const id2 = testSessionId();
    await handlerRequest(`0;0640;${tmp.dir}`, id2, () => new TextEncoder().encode('a|i:1;'));
    expect(statSync(`${tmp.dir}/sess_${id2}`).mode & 0o7777).toBe(phpMode);
  });
});

describeWith(['php'], 'files handler ⇄ PHP 8.2: warnings for bad save paths', () => {
  const tmp = tempDir('interop-warn');
  afterAll(() => tmp.remove());

  /** PHP's module-level warnings for a save path (dropping the engine's own "Failed to ..." line). */
  const phpModuleWarnings = async (savePath: string, id: string): Promise<string[]> => {
    const out = await php(savePath, `session_id(${phpStr(id)}); session_start();`);
    return phpWarnings(out)
      .filter((w) => !/Failed to (read session data|initialize storage module)/.test(w))
      .map((w) => w.replace(/^session_start\(\): /, ''));
  };

  const cases: [string, (dir: string) => string, string][] = [
    ['a missing directory', (d) => `${d}/missing`, 'abcdef0123'],
    ['a missing hashed subdirectory', (d) => `2;${d}`, 'abcdef0123'],
    ['an id no longer than dirdepth', (d) => `3;${d}`, 'abc'],
    ['a negative dirdepth', (d) => `-1;${d}`, 'abcdef0123'],
    ['an out-of-range dirdepth', (d) => `99999999999999999999;${d}`, 'abcdef0123'],
    ['an out-of-range file mode', (d) => `0;77777;${d}`, 'abcdef0123'],
    ['a path longer than MAXPATHLEN', (d) => `${d}/${'x'.repeat(4100)}`, 'abcdef0123'],
    ['an id with "../"', (d) => d, '../etc/passwd'],
  ];
  for (const [what, path, id] of cases) {
    it(`${what}: the same warnings as PHP`, async () => {
      const expected = await phpModuleWarnings(path(tmp.dir), id);
      expect(expected.length).toBeGreaterThan(0);
      const ctx = makeTestContext();
      const h = filesModule.create(ctx);
      if (await h.open(path(tmp.dir), 'PHPSESSID')) {
        expect(await h.read(id, 1440)).toBe(false);
        await h.close();
      }
      expect(ctx.diagnostics.map((d) => d.message)).toEqual(expected);
      expect(existsSync(`${tmp.dir}/missing`)).toBe(false);
    });
  }
});
