/**
 * @module spec/package/pack
 * The package as a consumer gets it: the tracked files of this checkout (what a fresh clone has) are
 * copied to a temp dir and packed with `npm pack` (its `prepack` builds dist/), then the tarball is
 * installed into empty temp projects, offline, from the npm cache that `npm ci` filled:
 *
 * - a default install: every path of package.json "exports" imports (ESM), one session cycle runs
 *   on the files module with its default flock locking, the type declarations pass `tsc --strict`,
 *   and publint and are-the-types-wrong accept the tarball;
 * - an install with `--ignore-scripts`: flock still works (the prebuilt binding needs no script);
 * - an install with `--omit=optional` (no flock binding at all): session_start() fails with the
 *   error that names the fix, and session_engine.files_lock=lockfile still works.
 *
 * Offline: `npm ci` caches tarballs but not registry metadata, so `npm install <tarball>` in an
 * empty project would ask the registry for every dependency's versions (ENOTCACHED with --offline;
 * a network round trip per package with --prefer-offline). Each temp project therefore gets a
 * package-lock.json made from ours: the tarball plus the production dependency tree (and
 * typescript, @types/node for the type check) at the versions this repository tests, which
 * `npm ci --offline` installs from the cache alone.
 *
 * Everything is read from package.json (exports map, dependencies), never hard-coded here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../support/tools.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [k: string]: unknown;
}
interface Lock {
  name: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}
interface Manifest {
  name: string;
  version: string;
  license?: string;
  engines?: Record<string, string>;
  exports: Record<string, unknown>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  files?: string[];
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const rootLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lock;

/** Runs a program; throws with its output when it fails. */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Where the lock tree places dependency `name` as seen from the package at `from` (Node's lookup). */
function resolveInLock(lock: Lock, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (lock.packages[candidate] !== undefined) return candidate;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

/** The lock paths of `names` (top-level) and everything they need, optional dependencies included. */
function closure(lock: Lock, names: string[]): Set<string> {
  const out = new Set<string>();
  const todo = names.map((n) => resolveInLock(lock, '', n));
  while (todo.length > 0) {
    const p = todo.pop();
    if (p === undefined || out.has(p)) continue;
    out.add(p);
    const e = lock.packages[p]!;
    for (const dep of Object.keys({ ...e.dependencies, ...e.optionalDependencies })) todo.push(resolveInLock(lock, p, dep));
  }
  return out;
}

/**
 * An empty consumer project that depends on the tarball (and, for the type check, typescript,
 * @types/node and the optional peer dependencies), with a lockfile so `npm ci --offline` needs nothing but the npm cache.
 */
function makeConsumer(dir: string, tarball: string, opts: { withTypes: boolean }): void {
  mkdirSync(dir, { recursive: true });
  const spec = `file:${relative(dir, tarball)}`;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  // The type check imports every export, the framework adapters included: their optional peer
  // dependencies (fastify, hono, ...) are installed as a user of those adapters would.
  const devNames = opts.withTypes ? ['typescript', '@types/node', ...Object.keys(pkg.peerDependencies ?? {})] : [];
  const devDependencies = Object.fromEntries(devNames.map((n) => [n, rootLock.packages[resolveInLock(rootLock, '', n)!]!.version!]));
  const prodNames = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})];
  const prod = closure(rootLock, prodNames);
  const dev = closure(rootLock, devNames);
  const manifest = { name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: { [pkg.name]: spec }, devDependencies };
  const packages: Record<string, LockEntry> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: { [pkg.name]: spec }, devDependencies },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: spec,
      integrity,
      ...(pkg.license !== undefined ? { license: pkg.license } : {}),
      ...(pkg.dependencies !== undefined ? { dependencies: pkg.dependencies } : {}),
      ...(pkg.optionalDependencies !== undefined ? { optionalDependencies: pkg.optionalDependencies } : {}),
      ...(pkg.engines !== undefined ? { engines: pkg.engines } : {}),
    },
  };
  for (const p of [...prod, ...dev]) {
    const { dev: _d, devOptional: _o, optional, ...rest } = rootLock.packages[p]!;
    const isDev = !prod.has(p);
    const isOptional = optional === true || (rootLock.packages[p]!.devOptional === true && !isDev);
    packages[p] = { ...rest, ...(isDev ? { dev: true } : {}), ...(isOptional ? { optional: true } : {}) };
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
}

/** npm ci from the cache alone. */
function installOffline(dir: string, extra: string[] = []): void {
  run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error', ...extra], dir);
}

/**
 * Every import specifier the exports map offers, wildcards expanded over the installed files:
 * "./handlers/*" with "./dist/handlers/*.js" gives one specifier per dist/handlers/X.js.
 */
function exportSpecifiers(pkgDir: string): { specifier: string; json: boolean }[] {
  const target = (v: unknown): string | undefined => {
    if (typeof v === 'string') return v;
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return target(o['import'] ?? o['default'] ?? o['node']);
    }
    return undefined;
  };
  const out: { specifier: string; json: boolean }[] = [];
  for (const [key, value] of Object.entries(pkg.exports)) {
    const t = target(value);
    if (t === undefined) throw new Error(`exports["${key}"] has no import/default target`);
    const json = t.endsWith('.json');
    if (!key.includes('*')) {
      out.push({ specifier: `${pkg.name}${key.slice(1)}`, json });
      continue;
    }
    const [before, after] = t.split('*') as [string, string];
    const dir = join(pkgDir, dirname(`${before}x`));
    const prefix = before.slice(before.lastIndexOf('/') + 1);
    for (const f of readdirSync(dir)) {
      if (f.startsWith(prefix) && f.endsWith(after) && !f.endsWith(`.d${after}`)) {
        const star = f.slice(prefix.length, f.length - after.length);
        out.push({ specifier: `${pkg.name}${key.slice(1).replace('*', star)}`, json });
      }
    }
  }
  return out;
}

/** The session cycle a consumer runs: write in one request, read in the next, bytes on disk. */
const CYCLE = `
import { readFileSync } from 'node:fs';
import { SessionEngine, PhpArray } from '${pkg.name}';
const [dir, lock] = process.argv.slice(2);
const engine = new SessionEngine({ ini: { 'session.save_path': dir, 'session_engine.files_lock': lock } });
const out = {};
try {
  const a = engine.request({});
  out.started = await a.start();
  a.session.set('user', 42);
  a.session.set('cart', PhpArray.from({ apple: 2 }));
  const id = a.functions.session_id();
  await a.end();
  out.file = readFileSync(dir + '/sess_' + id, 'latin1');
  const b = engine.request({ cookies: { PHPSESSID: id } });
  await b.start();
  out.user = b.session.get('user');
  await b.end();
} catch (err) {
  out.error = { name: err.name, code: err.code, message: err.message };
}
console.log(JSON.stringify(out));
`;

function cycle(project: string, sessionDir: string, lock: string): Record<string, unknown> {
  mkdirSync(sessionDir, { recursive: true });
  writeFileSync(join(project, 'cycle.mjs'), CYCLE);
  return JSON.parse(run(process.execPath, ['cycle.mjs', sessionDir, lock], project)) as Record<string, unknown>;
}

describeWith(['git', 'npm'], 'the packed tarball, installed into an empty project', () => {
  let tmp: string;
  let tarball: string;
  let files: string[];
  let app: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'pse-pack-'));
    // What a fresh clone has: the tracked files (plus new, not ignored ones while developing).
    const clone = join(tmp, 'clone');
    const tracked = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f !== '' && existsSync(join(ROOT, f)));
    for (const f of tracked) cpSync(join(ROOT, f), join(clone, f));
    expect(existsSync(join(clone, 'dist'))).toBe(false);
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp, '--loglevel=error'], clone)) as { filename: string; files: { path: string }[] }[];
    tarball = join(tmp, packed[0]!.filename);
    files = packed[0]!.files.map((f) => f.path);
    app = join(tmp, 'app');
    makeConsumer(app, tarball, { withTypes: true });
    installOffline(app);
  }, 300_000);

  afterAll(() => {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  it('holds the built dist/, LICENSE, README and the sources, and no tests', () => {
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    expect(files).toContain('dist/lib/index.js');
    expect(files).toContain('dist/lib/index.d.ts');
    expect(files.filter((f) => f.startsWith('spec/') || f.includes('.test.'))).toEqual([]);
    expect(readFileSync(join(app, 'node_modules', pkg.name, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} php-session-engine contributors\n/);
  });

  it('imports every path of package.json "exports" (ESM)', () => {
    const specs = exportSpecifiers(join(app, 'node_modules', pkg.name));
    expect(specs.length).toBeGreaterThan(Object.keys(pkg.exports).length - 1);
    const code = specs
      .map((s, i) => (s.json ? `import m${i} from '${s.specifier}' with { type: 'json' };` : `import * as m${i} from '${s.specifier}';`))
      .concat(`console.log(JSON.stringify([${specs.map((_, i) => `Object.keys(m${i}).length`).join(', ')}]));`)
      .join('\n');
    writeFileSync(join(app, 'imports.mjs'), code);
    const counts = JSON.parse(run(process.execPath, ['imports.mjs'], app)) as number[];
    // Every module exports something (a module that resolved to nothing would be a packaging bug).
    expect(Object.fromEntries(specs.map((s, i) => [s.specifier, counts[i]! > 0]))).toEqual(Object.fromEntries(specs.map((s) => [s.specifier, true])));
  });

  it('runs a session cycle on the files module with flock locking', () => {
    const r = cycle(app, join(tmp, 'sessions-flock'), 'flock');
    expect(r).toEqual({ started: true, file: 'user|i:42;cart|a:1:{s:5:"apple";i:2;}', user: 42 });
  });

  it('type declarations pass tsc --strict in the consumer project', () => {
    const specs = exportSpecifiers(join(app, 'node_modules', pkg.name)).filter((s) => !s.json);
    const code = [
      ...specs.map((s, i) => `import * as m${i} from '${s.specifier}';`),
      `import { SessionEngine, PhpArray, serialize, unserialize, type Diagnostic } from '${pkg.name}';`,
      `const engine: SessionEngine = new SessionEngine({ ini: { 'session.save_path': '/tmp' } });`,
      `const req = engine.request({ cookies: { PHPSESSID: 'abc' }, onDiagnostic: (d: Diagnostic) => console.warn(d.message) });`,
      `const started: boolean = await req.start();`,
      `req.session.set('cart', PhpArray.from({ apple: 2 }));`,
      `const bytes = serialize(PhpArray.from({ user: 42 }));`,
      `const back = unserialize(bytes);`,
      `await req.end();`,
      `export const all = [${specs.map((_, i) => `m${i}`).join(', ')}, started, back];`,
    ].join('\n');
    writeFileSync(join(app, 'check.ts'), code);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], skipLibCheck: false },
        files: ['check.ts'],
      }),
    );
    run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
    // A full type check (our declarations and @types/node, skipLibCheck off): bounded work, seconds
    // alone but several times that on a loaded machine.
  }, 180_000);

  it('publint --strict and are-the-types-wrong (ESM-only profile) accept the tarball', () => {
    run(process.execPath, [join(ROOT, 'node_modules/publint/src/cli.js'), 'run', tarball, '--strict'], ROOT);
    run(process.execPath, [join(ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--profile', 'esm-only', '--format', 'table-flipped'], ROOT);
  }, 120_000);

  it('--ignore-scripts: flock still works (the binding is prebuilt, no install script runs)', () => {
    const p = join(tmp, 'app-ignore-scripts');
    makeConsumer(p, tarball, { withTypes: false });
    installOffline(p, ['--ignore-scripts']);
    expect(cycle(p, join(tmp, 'sessions-ignore-scripts'), 'flock')).toMatchObject({ started: true, user: 42 });
  });

  it('without the optional flock binding: session_start() names the fix; files_lock=lockfile works', () => {
    const p = join(tmp, 'app-no-optional');
    makeConsumer(p, tarball, { withTypes: false });
    installOffline(p, ['--omit=optional']);
    expect(existsSync(join(p, 'node_modules/fs-ext-extra-prebuilt'))).toBe(false);
    const r = cycle(p, join(tmp, 'sessions-no-optional'), 'flock');
    expect(r['error']).toMatchObject({ name: 'SessionError', code: 'ERR_HANDLER' });
    expect((r['error'] as { message: string }).message).toMatch(/needs a flock\(2\) binding.*npm install fs-ext-extra-prebuilt.*files_lock=lockfile/s);
    expect(cycle(p, join(tmp, 'sessions-lockfile'), 'lockfile')).toMatchObject({ started: true, user: 42 });
  });
});
