/**
 * @module zend/open-basedir
 * main/fopen_wrappers.c's open_basedir rules: php_check_open_basedir() (is a path inside one of the
 * `:`-separated directories of `open_basedir`? warns when not) and OnUpdateBaseDir (at run time the
 * setting may only be narrowed). Paths are resolved against the process's working directory, which
 * is also what PHP's special basedir "." stands for (VCWD_GETCWD).
 */
import { readlinkSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';

/** MAXPATHLEN on Linux. */
const MAXPATHLEN = 4096;

function realpathOrUndefined(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** expand_filepath(): absolute against the cwd, `.`/`..` folded, symlinks resolved when the path exists. */
function expandFilepath(p: string, cwd: string): string {
  const abs = resolve(cwd, p);
  return realpathOrUndefined(abs) ?? abs;
}

/** php_check_specific_open_basedir(): true when `path` lies inside `basedir`. */
export function checkSpecificOpenBasedir(basedir: string, path: string, cwd: string = process.cwd()): boolean {
  const localBasedir = basedir === '.' ? cwd : basedir;
  if (path.length > MAXPATHLEN - 1) return false;
  let pathTmp = expandFilepath(path, cwd);
  let resolvedName: string | undefined;
  let nesting = 0;
  for (;;) {
    resolvedName = realpathOrUndefined(pathTmp);
    if (resolvedName !== undefined) break;
    if (nesting === 0) {
      try {
        pathTmp = readlinkSync(pathTmp); // a broken symlink: follow it by hand
      } catch {
        // not a symlink
      }
    }
    const slash = pathTmp.lastIndexOf('/');
    // none of the path components exist: definitely not inside
    if (slash < 0) return false;
    pathTmp = pathTmp.slice(0, slash);
    if (pathTmp === '') {
      resolvedName = '';
      break;
    }
    nesting++;
  }
  let resolvedBasedir = expandFilepath(localBasedir, cwd);
  if (!resolvedBasedir.endsWith('/')) resolvedBasedir += '/';
  if (resolvedName.startsWith(resolvedBasedir)) return true;
  // "/openbasedir/" and "/openbasedir" are the same directory
  return resolvedBasedir.length === resolvedName.length + 1 && resolvedBasedir.startsWith(resolvedName);
}

/** The warnings php_check_open_basedir() gives. */
export const OPEN_BASEDIR_MESSAGES = {
  restricted: (path: string, openBasedir: string) =>
    `open_basedir restriction in effect. File(${path}) is not within the allowed path(s): (${openBasedir})`,
  tooLong: (path: string) => `File name is longer than the maximum allowed path length on this platform (${MAXPATHLEN}): ${path}`,
};

/**
 * php_check_open_basedir_ex(): true when `path` may be used under `openBasedir` (always, when the
 * setting is empty). When it may not and `warn` is given, the warning PHP gives is passed to it.
 */
export function checkOpenBasedir(path: string, openBasedir: string, warn?: (message: string) => void, cwd: string = process.cwd()): boolean {
  if (openBasedir === '') return true;
  if (path.length > MAXPATHLEN - 1) {
    // PHP warns about the length whether or not it was asked to warn
    warn?.(OPEN_BASEDIR_MESSAGES.tooLong(path));
    return false;
  }
  for (const dir of openBasedir.split(':')) {
    if (dir === '') break; // strtok-like walk: an empty item ends it (while (ptr && *ptr))
    if (checkSpecificOpenBasedir(dir, path, cwd)) return true;
  }
  warn?.(OPEN_BASEDIR_MESSAGES.restricted(path, openBasedir));
  return false;
}

/**
 * OnUpdateBaseDir at run time: a first value is taken as is; once set, the setting cannot be
 * emptied, no entry may start with a `..` component, and each entry must lie inside the current
 * setting (no warning: the change just fails).
 */
export function openBasedirMayChange(current: string, next: string, cwd: string = process.cwd()): boolean {
  if (current === '') return true;
  if (next === '') return false;
  for (const dir of next.split(':')) {
    if (dir === '') break;
    if (dir === '..' || dir.startsWith('../')) return false;
    if (!checkOpenBasedir(dir, current, undefined, cwd)) return false;
  }
  return true;
}
