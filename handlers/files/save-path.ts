/**
 * @module handlers/files/save-path
 * Where mod_files keeps a session: `session.save_path` parsed as PS_OPEN_FUNC(files) does
 * (`[N;[MODE;]]DIR`), the data file's path (ps_files_path_create), and mod_files.c's warning texts,
 * which the other parts of the module use too.
 */
import { cStrtol, phpSessionValidKey, type Errno } from '../../lib/zend/index.ts';

/** PHP's MAXPATHLEN on Linux. */
export const MAXPATHLEN = 4096;
/** The data files' name prefix (`sess_<id>`). */
export const FILE_PREFIX = 'sess_';

/** Warning texts, byte-identical to mod_files.c's. */
export const FILES_MESSAGES = {
  FIRST_PARAM_INVALID: 'The first parameter in session.save_path is invalid',
  SECOND_PARAM_INVALID: 'The second parameter in session.save_path is invalid',
  ILLEGAL_ID:
    'Session ID is too long or contains illegal characters. Only the A-Z, a-z, 0-9, "-", and "," characters are allowed',
  PATH_CREATE_FAILED: `Failed to create session data file path. Too short session ID, invalid save_path or path length exceeds ${MAXPATHLEN} characters`,
  NOT_YOUR_UID: 'Session data file is not created by your uid',
  SHORT_READ: 'Read returned less bytes than requested',
  SHORT_WRITE: 'Write wrote less bytes than requested',
  openFailed: (path: string, e: Errno) => `open(${path}, O_RDWR) failed: ${e.text} (${e.errno})`,
  readFailed: (e: Errno) => `Read failed: ${e.text} (${e.errno})`,
  writeFailed: (e: Errno) => `Write failed: ${e.text} (${e.errno})`,
  opendirFailed: (dir: string, e: Errno) => `ps_files_cleanup_dir: opendir(${dir}) failed: ${e.text} (${e.errno})`,
  dirnameTooLong: (dir: string) => `ps_files_cleanup_dir: dirname(${dir}) is too long`,
} as const;

/** Result of parsing `session.save_path` (PS_OPEN_FUNC(files)). */
export interface FilesSavePath {
  /** Directory levels; Infinity stands for PHP's wrapped negative depth (every path build fails). */
  dirDepth: number;
  fileMode: number;
  basedir: string;
}

/** The temporary directory PHP uses for an empty save_path (php_get_temporary_directory). */
export function phpTempDir(sysTempDir: string | undefined): string {
  if (sysTempDir !== undefined && sysTempDir.length >= 1) {
    if (sysTempDir.length >= 2 && sysTempDir.endsWith('/')) return sysTempDir.slice(0, -1);
    if (!sysTempDir.endsWith('/')) return sysTempDir;
  }
  const env = process.env['TMPDIR'];
  if (env !== undefined && env !== '') return env.endsWith('/') ? env.slice(0, -1) : env;
  return '/tmp';
}

/**
 * Parses a files save_path as PHP does: `DIR`, `N;DIR` or `N;MODE;DIR` (the directory keeps any
 * further `;`). Returns the warning text PHP gives for an invalid N or MODE.
 */
export function parseFilesSavePath(savePath: string, sysTempDir?: string): FilesSavePath | { error: string } {
  const raw = savePath === '' ? phpTempDir(sysTempDir) : savePath;
  const parts: string[] = [];
  let rest = raw;
  let semi = rest.indexOf(';');
  while (semi >= 0 && parts.length < 2) {
    parts.push(rest.slice(0, semi));
    rest = rest.slice(semi + 1);
    semi = parts.length < 2 ? rest.indexOf(';') : -1;
  }
  parts.push(rest);
  let dirDepth = 0;
  let fileMode = 0o600;
  if (parts.length > 1) {
    const { value: d, erange: dErange } = cStrtol(parts[0]!, 10);
    if (dErange) return { error: FILES_MESSAGES.FIRST_PARAM_INVALID };
    // PHP casts to size_t: a negative depth becomes huge, so no path can ever be built.
    dirDepth = d < 0n ? Infinity : d > BigInt(MAXPATHLEN) ? Infinity : Number(d);
  }
  if (parts.length > 2) {
    const { value: m, erange: mErange } = cStrtol(parts[1]!, 8);
    if (mErange) return { error: FILES_MESSAGES.SECOND_PARAM_INVALID };
    const asInt = BigInt.asIntN(32, m); // PHP stores it in an int
    if (asInt < 0n || asInt > 0o7777n) return { error: FILES_MESSAGES.SECOND_PARAM_INVALID };
    fileMode = Number(asInt);
  }
  return { dirDepth, fileMode, basedir: parts[parts.length - 1]! };
}

/** php_session_valid_key() (one implementation, in lib/zend). */
export const isValidSessionKey = phpSessionValidKey;

/**
 * `<basedir>/<id[0]>/…/<id[N-1]>/sess_<id>`, or null when PHP's ps_files_path_create would fail
 * (id not longer than the depth, or the path would not fit MAXPATHLEN).
 */
export function sessionFilePath(basedir: string, dirDepth: number, id: string): string | null {
  if (id.length <= dirDepth) return null;
  const need = Buffer.byteLength(basedir) + 2 * dirDepth + Buffer.byteLength(id) + 5 + FILE_PREFIX.length + 1;
  if (need > MAXPATHLEN) return null;
  let p = `${basedir}/`;
  for (let i = 0; i < dirDepth; i++) p += `${id[i]}/`;
  return p + FILE_PREFIX + id;
}
