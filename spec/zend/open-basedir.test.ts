/**
 * php_check_open_basedir() / OnUpdateBaseDir (lib/zend/open-basedir.ts) on a real temp tree. The
 * expected answers were checked against PHP 8.2 (`php -n -d open_basedir=... -r 'var_dump(
 * @file_exists(...))'` prints bool(false) for a refused path; see the cases' comments), and the
 * php-cgi scenarios spec/conformance/scenarios/open_basedir.json compare the warnings.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOpenBasedir, checkSpecificOpenBasedir, openBasedirMayChange } from '../../lib/zend/open-basedir.ts';

const root = mkdtempSync(join(tmpdir(), 'obd-'));
mkdirSync(join(root, 'a', 'b'), { recursive: true });
mkdirSync(join(root, 'ab'));
symlinkSync(join(root, 'ab'), join(root, 'a', 'link-out'));
symlinkSync(join(root, 'a', 'nowhere'), join(root, 'broken'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('php_check_specific_open_basedir', () => {
  it('accepts the directory itself, with or without a trailing slash, and what lies below', () => {
    expect(checkSpecificOpenBasedir(join(root, 'a'), join(root, 'a'))).toBe(true);
    expect(checkSpecificOpenBasedir(join(root, 'a') + '/', join(root, 'a'))).toBe(true);
    expect(checkSpecificOpenBasedir(join(root, 'a'), join(root, 'a', 'b'))).toBe(true);
    expect(checkSpecificOpenBasedir(join(root, 'a'), join(root, 'a', 'no', 'such', 'file'))).toBe(true);
  });
  it('refuses a sibling sharing the prefix, a .. escape and a symlink leading out', () => {
    expect(checkSpecificOpenBasedir(join(root, 'a'), join(root, 'ab'))).toBe(false);
    expect(checkSpecificOpenBasedir(join(root, 'a'), join(root, 'a', '..', 'ab'))).toBe(false);
    expect(checkSpecificOpenBasedir(join(root, 'a'), join(root, 'a', 'link-out', 'x'))).toBe(false);
  });
  it('follows a broken symlink by hand (its target decides)', () => {
    expect(checkSpecificOpenBasedir(join(root, 'a'), join(root, 'broken'))).toBe(true);
    expect(checkSpecificOpenBasedir(join(root, 'ab'), join(root, 'broken'))).toBe(false);
  });
  it('"." is the working directory; relative paths resolve against it', () => {
    expect(checkSpecificOpenBasedir('.', 'b', join(root, 'a'))).toBe(true);
    expect(checkSpecificOpenBasedir('.', '../ab', join(root, 'a'))).toBe(false);
  });
});

describe('php_check_open_basedir', () => {
  it('tries each ":"-separated entry and warns with the whole setting', () => {
    const warnings: string[] = [];
    const setting = `${join(root, 'ab')}:${join(root, 'a')}`;
    expect(checkOpenBasedir(join(root, 'a', 'b'), setting, (m) => warnings.push(m))).toBe(true);
    expect(checkOpenBasedir('/usr', setting, (m) => warnings.push(m))).toBe(false);
    expect(warnings).toEqual([`open_basedir restriction in effect. File(/usr) is not within the allowed path(s): (${setting})`]);
  });
  it('an empty setting allows everything; an over-long path is refused with its own warning', () => {
    expect(checkOpenBasedir('/usr', '')).toBe(true);
    const warnings: string[] = [];
    expect(checkOpenBasedir('/' + 'x'.repeat(4095), root, (m) => warnings.push(m))).toBe(false);
    expect(warnings[0]).toMatch(/^File name is longer than the maximum allowed path length on this platform \(4096\): \/x+$/);
  });
});

describe('OnUpdateBaseDir at run time', () => {
  it('takes a first value, then only narrower ones, never an empty one or a leading ..', () => {
    expect(openBasedirMayChange('', '/anything')).toBe(true);
    expect(openBasedirMayChange(root, join(root, 'a'))).toBe(true);
    expect(openBasedirMayChange(join(root, 'a'), root)).toBe(false);
    expect(openBasedirMayChange(root, '')).toBe(false);
    expect(openBasedirMayChange(root, '../x', join(root, 'a'))).toBe(false);
    expect(openBasedirMayChange(root, `${join(root, 'a')}:/usr`)).toBe(false);
  });
});
