/**
 * Keeps spec/conformance/PHPT.md and the scenarios' `covers` fields honest (no PHP needed).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allCovers, NOT_COVERED, PHPT_MD, phptFiles, renderPhptMd } from './phpt.ts';

describe('PHPT.md coverage table', () => {
  const files = new Set(phptFiles());

  it('lists the 244 phpt files of PHP 8.2 ext/session/tests', () => {
    expect(files.size).toBe(244);
  });

  it('every scenario (conformance and spec/user) covers only real phpt names', () => {
    const bad = allCovers().flatMap((s) => s.covers.filter((c) => !files.has(c)).map((c) => `${s.name}: ${c}`));
    expect(bad).toEqual([]);
  });

  it('no phpt is both covered and given a reason for not being covered', () => {
    const covered = new Set(allCovers().flatMap((s) => s.covers));
    expect(Object.keys(NOT_COVERED).filter((n) => covered.has(`${n}.phpt`))).toEqual([]);
    expect(Object.keys(NOT_COVERED).filter((n) => !files.has(`${n}.phpt`))).toEqual([]);
  });

  it('PHPT.md is up to date (regenerate with spec/conformance/phpt.ts)', () => {
    expect(readFileSync(PHPT_MD, 'utf8')).toBe(renderPhptMd());
  });
});
