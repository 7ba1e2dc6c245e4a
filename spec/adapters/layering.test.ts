/**
 * @module spec/adapters/layering
 * The adapters are level 4: thin layers over the package's public entry points. Each file of
 * adapters/ imports only 'php-session-engine' (or its public subpaths), its sibling adapters,
 * node: built-ins, the framework packages and busboy (multipart, for upload progress); every adapter is a package.json subpath export.
 * Also: the GC startup warning (issue #12 item 6) against Debian's own php.ini files.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SessionEngine } from 'php-session-engine';
import { startupWarnings } from 'php-session-engine/http';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ALLOWED = /^(php-session-engine(\/(http|express|fastify|hono))?|node:.+|cookie|busboy|fastify|fastify-plugin|hono|\.\/[a-z-]+\.ts)$/;

describe('adapters/ layering', () => {
  const files = readdirSync(join(ROOT, 'adapters')).filter((f) => f.endsWith('.ts'));
  it.each(files)('%s imports only public entry points', (file) => {
    const info = ts.preProcessFile(readFileSync(join(ROOT, 'adapters', file), 'utf8'), true, true);
    const bad = info.importedFiles.map((i) => i.fileName).filter((n) => !ALLOWED.test(n));
    expect(bad).toEqual([]);
  });
  it('each adapter is a subpath export of the package', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, string>> };
    for (const name of ['http', 'express', 'fastify', 'hono']) {
      expect(pkg.exports[`./${name}`]?.['php-session-engine-source']).toBe(`./adapters/${name}.ts`);
    }
  });
});

describe('startup warning: GC on a files save path (item 6)', () => {
  it("php -n's defaults (gc_probability=1) warn", () => {
    const [w] = startupWarnings(new SessionEngine({ ini: { 'session.save_path': '/var/lib/php/sessions' } }));
    expect(w?.message).toMatch(/session GC is enabled on the files save path "\/var\/lib\/php\/sessions" \(session\.gc_probability=1/);
  });
  const debian = ['fpm', 'cli', 'cgi', 'apache2'].map((s) => `/etc/php/8.2/${s}/php.ini`).filter((f) => existsSync(f));
  it.skipIf(debian.length === 0)("Debian's php.ini (gc_probability=0) does not", () => {
    for (const iniFile of debian) expect(startupWarnings(new SessionEngine({ iniFile }))).toEqual([]);
  });
  it('memcached sessions do not (PHP does not collect them either)', () => {
    expect(startupWarnings(new SessionEngine({ ini: { 'session.save_handler': 'memcached', 'session.save_path': '127.0.0.1:11211' } }))).toEqual([]);
  });
});
