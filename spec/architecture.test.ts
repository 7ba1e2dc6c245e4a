/**
 * @module spec/architecture
 * The shape of the source tree (issue #11, STYLE.md points 19 and 21), checked on every run:
 *
 * - imports go one way: level 0 (PHP runtime) ← 1 (contracts) ← 2 (peers) ← 3 (assembly); an
 *   import that points up a level, or sideways between two level-2 peers (serializers, handlers,
 *   session core), fails;
 * - no source file is longer than {@link MAX_LINES} lines unless its first comment says why
 *   (a line starting `Long file:` followed by the reason);
 * - package.json "exports" reaches no internal module.
 *
 * Today's code breaks these rules in known places. Each known break is listed below with the
 * issue/branch that removes it, so the test is green now and fails on any NEW break. A listed
 * break that has gone away fails too ("stale"), so the lists only shrink: delete the entry when
 * its branch lands.
 *
 * Imports are read with TypeScript's own pre-processor (ts.preProcessFile): static imports,
 * `import type`, `export ... from` and dynamic `import()`; type-only imports count, since they tie
 * the files together just the same.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SOURCE_DIRS = ['lib', 'handlers', 'serializers', 'msession'] as const;
export const MAX_LINES = 600;

/** Where a file sits: its level, and for level 2 which peer it belongs to. */
export interface Place {
  level: 0 | 1 | 2 | 3 | 4;
  peer?: 'serializers' | 'handlers' | 'session';
}

/**
 * The target shape of issue #11. Files of lib/ that no rule names are session core (level 2,
 * peer "session"): today's lib/cookie.ts, lib/session-id.ts, lib/lcg.ts. Code only the save
 * handlers use lives under handlers/ (handlers/files/, handlers/shared/).
 */
export function placeOf(file: string): Place | undefined {
  if (/^lib\/zend\//.test(file) || ['lib/value.ts', 'lib/array-internals.ts', 'lib/key-index.ts', 'lib/errors.ts', 'lib/messages.ts'].includes(file)) return { level: 0 };
  if (/^lib\/ini\//.test(file) || ['lib/handler.ts', 'lib/serializer.ts', 'lib/registry.ts'].includes(file)) {
    return { level: 1 };
  }
  if (['lib/engine.ts', 'lib/request.ts', 'lib/builtins.ts', 'lib/index.ts'].includes(file)) return { level: 3 };
  // msession/ (issue #14) works over the package: only the package root imports it.
  if (file.startsWith('msession/')) return { level: 4 };
  if (file.startsWith('serializers/')) return { level: 2, peer: 'serializers' };
  if (file.startsWith('handlers/')) return { level: 2, peer: 'handlers' };
  if (file.startsWith('lib/')) return { level: 2, peer: 'session' };
  return undefined;
}

/** Why an import edge breaks the rules, or undefined when it is allowed. */
export function edgeViolation(from: string, to: string): string | undefined {
  const a = placeOf(from);
  const b = placeOf(to);
  if (a === undefined) return `${from} is outside lib/, handlers/, serializers/`;
  if (b === undefined) return `imports ${to}, which is outside lib/, handlers/, serializers/`;
  // The one upward edge: the package root re-exports msession (which adds engine.msession()).
  if (from === 'lib/index.ts' && to === 'msession/index.ts') return undefined;
  if (b.level > a.level) return `points up (level ${a.level} imports level ${b.level})`;
  if (a.level === 2 && b.level === 2 && a.peer !== b.peer) return `points sideways (level-2 peer ${a.peer} imports peer ${b.peer})`;
  return undefined;
}

/** Source files (.ts) under the given top-level directories, as repo-relative paths with `/`. */
export function sourceFiles(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (abs: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const p = join(abs, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) out.push(relative(root, p).split('\\').join('/'));
    }
  };
  for (const d of dirs) walk(join(root, d));
  return out.sort();
}

/** The relative imports of a file's text, resolved to repo-relative paths (packages are skipped). */
export function importsOf(file: string, text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  const out = new Set<string>();
  for (const ref of info.importedFiles) {
    if (!ref.fileName.startsWith('.')) continue;
    const target = join(dirname(file), ref.fileName).split('\\').join('/');
    out.add(target.endsWith('.js') ? target.replace(/\.js$/, '.ts') : target);
  }
  return [...out].sort();
}

export interface Edge {
  from: string;
  to: string;
}

/** Every import edge that breaks the layering, as `from -> to`. */
export function layerViolations(edges: readonly Edge[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const { from, to } of edges) {
    const why = edgeViolation(from, to);
    if (why !== undefined) out.set(`${from} -> ${to}`, why);
  }
  return out;
}

/** Import cycles (strongly connected components with more than one file), each sorted. */
export function cycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The first comment of a file (a leading block or run of line comments), or ''. */
export function firstComment(text: string): string {
  const m = /^\s*(\/\*[\s\S]*?\*\/|(?:\/\/[^\n]*\n\s*)+)/.exec(text.replace(/^#![^\n]*\n/, ''));
  return m?.[1] ?? '';
}

/** A reason for the length, written where a reader opens the file: `Long file: <why>`. */
export function hasLengthReason(text: string): boolean {
  return /^[\s*/]*Long file: \S.{19,}/m.test(firstComment(text));
}

/** Files over the line limit that give no reason for it: file → line count. */
export function oversized(files: ReadonlyMap<string, string>, max = MAX_LINES): Map<string, number> {
  const out = new Map<string, number>();
  for (const [file, text] of files) {
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > max && !hasLengthReason(text)) out.set(file, lines);
  }
  return out;
}

/** `*` of an exports subpath pattern matches any string, `/` included (Node's rule). */
function patternRegex(pattern: string): RegExp {
  const esc = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${esc}$`);
}

/** Every string target of an exports entry (all conditions, nested). */
function targetsOf(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(targetsOf);
  if (v !== null && typeof v === 'object') return Object.values(v).flatMap(targetsOf);
  return [];
}

/**
 * The source files a package.json "exports" map lets a consumer import. Targets under ./dist/ are
 * mapped back to their source (`dist/x/y.js` and `dist/x/y.d.ts` come from `x/y.ts`).
 */
export function exportedSources(exportsMap: Record<string, unknown>, files: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const target of Object.values(exportsMap).flatMap(targetsOf)) {
    const src = target
      .replace(/^\.\//, '')
      .replace(/^dist\//, '')
      .replace(/\.d\.ts$/, '.ts')
      .replace(/\.js$/, '.ts');
    const re = patternRegex(src);
    for (const f of files) if (re.test(f)) out.add(f);
  }
  return out;
}

/** A module is internal when its first comment says so (`@internal` or "Not part of the public API"). */
export function isInternal(text: string): boolean {
  return /@internal\b|Not part of the public API/i.test(firstComment(text));
}

// ---------------------------------------------------------------------------------------------
// Today's known breaks. Each entry names what removes it; delete it when that lands.

/** Import edges that break the layering today: `from -> to` → what removes it. */
export const KNOWN_LAYER_VIOLATIONS: Record<string, string> = {
};

/** Import cycles today (files joined by `, `) → what removes them. */
export const KNOWN_CYCLES: Record<string, string> = {
};

/** Files over MAX_LINES without a `Long file:` reason today → what removes them. */
export const KNOWN_OVERSIZED: Record<string, string> = {
};

/** Internal modules reachable through package.json "exports" today → what removes them. */
export const KNOWN_EXPORTED_INTERNALS: Record<string, string> = {
};

// ---------------------------------------------------------------------------------------------

/** Compares what was found with what is known: new breaks and stale entries, as messages. */
export function unexpected(found: ReadonlyMap<string, string>, known: Readonly<Record<string, string>>): { added: string[]; stale: string[] } {
  return {
    added: [...found].filter(([k]) => !(k in known)).map(([k, why]) => `${k}: ${why}`),
    stale: Object.keys(known).filter((k) => !found.has(k)),
  };
}

const files = new Map(sourceFiles(ROOT, SOURCE_DIRS).map((f) => [f, readFileSync(join(ROOT, f), 'utf8')] as const));
const edges: Edge[] = [...files].flatMap(([from, text]) => importsOf(from, text).map((to) => ({ from, to })));

describe('architecture: the checker itself', () => {
  // Made-up graphs, so the checks below are known to be able to fail.
  it('places files on the levels of issue #11', () => {
    expect(placeOf('lib/zend/strtol.ts')).toEqual({ level: 0 });
    expect(placeOf('lib/ini/table.ts')).toEqual({ level: 1 });
    expect(placeOf('lib/session/start.ts')).toEqual({ level: 2, peer: 'session' });
    expect(placeOf('handlers/files/gc.ts')).toEqual({ level: 2, peer: 'handlers' });
    expect(placeOf('serializers/php.ts')).toEqual({ level: 2, peer: 'serializers' });
    expect(placeOf('lib/builtins.ts')).toEqual({ level: 3 });
    expect(placeOf('msession/stores/files.ts')).toEqual({ level: 4 });
    expect(edgeViolation('lib/index.ts', 'msession/index.ts')).toBeUndefined();
    expect(edgeViolation('lib/engine.ts', 'msession/index.ts')).toMatch(/points up/);
    expect(placeOf('spec/x.ts')).toBeUndefined();
  });

  it('flags an upward edge, a sideways edge between peers, and an edge out of the source tree', () => {
    const v = layerViolations([
      { from: 'lib/errors.ts', to: 'lib/handler.ts' },
      { from: 'lib/handler.ts', to: 'lib/errors.ts' },
      { from: 'serializers/php.ts', to: 'handlers/files.ts' },
      { from: 'handlers/files.ts', to: 'lib/session/ids.ts' },
      { from: 'lib/session/start.ts', to: 'lib/engine.ts' },
      { from: 'lib/builtins.ts', to: 'handlers/files.ts' },
      { from: 'lib/engine.ts', to: 'lib/request.ts' },
      { from: 'handlers/files/gc.ts', to: 'handlers/files/locks.ts' },
      { from: 'lib/value.ts', to: 'spec/helpers.ts' },
    ]);
    expect([...v.keys()]).toEqual([
      'lib/errors.ts -> lib/handler.ts',
      'serializers/php.ts -> handlers/files.ts',
      'handlers/files.ts -> lib/session/ids.ts',
      'lib/session/start.ts -> lib/engine.ts',
      'lib/value.ts -> spec/helpers.ts',
    ]);
  });

  it('reads static, type-only, re-export and dynamic imports, and skips packages', () => {
    const text = [
      "import { a } from './a.ts';",
      "import type {\n  B,\n} from '../serializers/b.ts';",
      "export * from './c.ts';",
      "const d = await import('./d/index.ts');",
      "import fs from 'node:fs';",
      "import glob from 'fast-glob';",
      "// import { e } from './commented.ts';",
    ].join('\n');
    expect(importsOf('lib/x.ts', text)).toEqual(['lib/a.ts', 'lib/c.ts', 'lib/d/index.ts', 'serializers/b.ts']);
  });

  it('finds cycles', () => {
    expect(
      cycles([
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
        { from: 'c', to: 'a' },
        { from: 'c', to: 'd' },
      ]),
    ).toEqual([['a', 'b', 'c']]);
  });

  it('accepts a long file only with a written reason in its first comment', () => {
    const body = 'x;\n'.repeat(MAX_LINES + 1);
    const m = new Map([
      ['plain.ts', `/** @module plain */\n${body}`],
      ['reasoned.ts', `/**\n * @module reasoned\n * Long file: one C routine ported as one state machine.\n */\n${body}`],
      ['late.ts', `/** @module late */\n// Long file: said too late, not in the first comment.\n${body}`],
      ['short.ts', '/** @module short */\nx;\n'],
    ]);
    expect([...oversized(m).keys()]).toEqual(['plain.ts', 'late.ts']);
  });

  it('maps exports patterns (with `*` crossing `/`) and dist targets back to sources', () => {
    const all = ['lib/index.ts', 'serializers/php.ts', 'serializers/internal.ts', 'serializers/var/read.ts', 'handlers/files.ts'];
    const reached = exportedSources(
      { '.': { types: './dist/lib/index.d.ts', import: './dist/lib/index.js' }, './serializers/*': { import: './dist/serializers/*.js' } },
      all,
    );
    expect([...reached].sort()).toEqual(['lib/index.ts', 'serializers/internal.ts', 'serializers/php.ts', 'serializers/var/read.ts']);
    expect(isInternal('/**\n * @module serializers/internal\n * Not part of the public API: ...\n */')).toBe(true);
    expect(isInternal('/** @module serializers/php */')).toBe(false);
  });

  it('reports new breaks and stale known entries', () => {
    const found = new Map([
      ['a -> b', 'points up'],
      ['c -> d', 'points sideways'],
    ]);
    expect(unexpected(found, { 'a -> b': 'issue #1', 'e -> f': 'issue #2' })).toEqual({
      added: ['c -> d: points sideways'],
      stale: ['e -> f'],
    });
  });
});

describe('architecture: this repository', () => {
  it('reads the source tree', () => {
    expect(files.size).toBeGreaterThan(20);
    expect(edges.length).toBeGreaterThan(40);
    for (const { to } of edges) expect(files.has(to), `import of a missing file ${to}`).toBe(true);
  });

  it('imports point down a level or stay inside their own level-2 peer (known breaks listed)', () => {
    const { added, stale } = unexpected(layerViolations(edges), KNOWN_LAYER_VIOLATIONS);
    expect(added, 'new import edges that point up or sideways (see issue #11 "Target shape")').toEqual([]);
    expect(stale, 'these known breaks are gone: delete them from KNOWN_LAYER_VIOLATIONS').toEqual([]);
  });

  it('has no import cycles (known ones listed)', () => {
    const found = new Map(cycles(edges).map((c) => [c.join(', '), 'import cycle'] as const));
    const { added, stale } = unexpected(found, KNOWN_CYCLES);
    expect(added, 'new import cycles').toEqual([]);
    expect(stale, 'these known cycles are gone: delete them from KNOWN_CYCLES').toEqual([]);
  });

  it(`no source file is over ${MAX_LINES} lines without a "Long file:" reason in its first comment (known ones listed)`, () => {
    const found = new Map([...oversized(files)].map(([f, n]) => [f, `${n} lines`] as const));
    const { added, stale } = unexpected(found, KNOWN_OVERSIZED);
    expect(added, `files over ${MAX_LINES} lines: split them, or give the reason in the first comment ("Long file: ...")`).toEqual([]);
    expect(stale, 'these files are short now (or give a reason): delete them from KNOWN_OVERSIZED').toEqual([]);
  });

  it('package.json "exports" reaches no internal module (known ones listed)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const reached = exportedSources(pkg.exports, [...files.keys()]);
    expect(reached.has('lib/index.ts'), 'the root export must reach lib/index.ts').toBe(true);
    const internals = new Map(
      [...reached].filter((f) => f === 'serializers/internal.ts' || isInternal(files.get(f) ?? '')).map((f) => [f, 'internal, but exported'] as const),
    );
    const { added, stale } = unexpected(internals, KNOWN_EXPORTED_INTERNALS);
    expect(added, 'internal modules importable through package.json "exports"').toEqual([]);
    expect(stale, 'these internals are no longer exported: delete them from KNOWN_EXPORTED_INTERNALS').toEqual([]);
  });
});
