/**
 * @module zend/strerror
 * errno numbers and texts as PHP prints them on Linux/glibc: strerror() (`Read failed: %s (%d)`,
 * `Permission denied`) and, for name lookups, gai_strerror(). Node reports errors by code
 * (`ENOENT`); this maps a code, or a Node error, to what PHP would have printed.
 */

/** glibc's errno numbers and strerror() texts for the errors I/O can meet. */
const STRERROR: Readonly<Record<string, readonly [number, string]>> = {
  EPERM: [1, 'Operation not permitted'],
  ENOENT: [2, 'No such file or directory'],
  EINTR: [4, 'Interrupted system call'],
  EIO: [5, 'Input/output error'],
  ENXIO: [6, 'No such device or address'],
  EBADF: [9, 'Bad file descriptor'],
  EAGAIN: [11, 'Resource temporarily unavailable'],
  ENOMEM: [12, 'Cannot allocate memory'],
  EACCES: [13, 'Permission denied'],
  EBUSY: [16, 'Device or resource busy'],
  EEXIST: [17, 'File exists'],
  EXDEV: [18, 'Invalid cross-device link'],
  ENODEV: [19, 'No such device'],
  ENOTDIR: [20, 'Not a directory'],
  EISDIR: [21, 'Is a directory'],
  EINVAL: [22, 'Invalid argument'],
  ENFILE: [23, 'Too many open files in system'],
  EMFILE: [24, 'Too many open files'],
  ETXTBSY: [26, 'Text file busy'],
  EFBIG: [27, 'File too large'],
  ENOSPC: [28, 'No space left on device'],
  ESPIPE: [29, 'Illegal seek'],
  EROFS: [30, 'Read-only file system'],
  EMLINK: [31, 'Too many links'],
  EPIPE: [32, 'Broken pipe'],
  ENAMETOOLONG: [36, 'File name too long'],
  ENOLCK: [37, 'No locks available'],
  ELOOP: [40, 'Too many levels of symbolic links'],
  EOVERFLOW: [75, 'Value too large for defined data type'],
  EOPNOTSUPP: [95, 'Operation not supported'],
  ENETUNREACH: [101, 'Network is unreachable'],
  ECONNRESET: [104, 'Connection reset by peer'],
  ETIMEDOUT: [110, 'Connection timed out'],
  ECONNREFUSED: [111, 'Connection refused'],
  EHOSTUNREACH: [113, 'No route to host'],
  ESTALE: [116, 'Stale file handle'],
  EDQUOT: [122, 'Disk quota exceeded'],
};

/** gai_strerror() texts for the getaddrinfo failures Node reports by code. */
const GAI_STRERROR: Readonly<Record<string, string>> = {
  ENOTFOUND: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
};

/** An errno and its text. */
export interface Errno {
  errno: number;
  text: string;
}

/** strerror() for a Node error code (`ENOENT`), or undefined for a code not in the table. */
export function strerror(code: string): Errno | undefined {
  const e = STRERROR[code];
  return e === undefined ? undefined : { errno: e[0], text: e[1] };
}

/** The text PHP prints for a Node error code: strerror(), or gai_strerror() for lookups; undefined if unknown. */
export function errorText(code: string): string | undefined {
  return STRERROR[code]?.[1] ?? GAI_STRERROR[code];
}

/** errno and strerror() text of a Node error, as PHP would print them (unknown codes: Node's code and errno). */
export function errnoOf(err: unknown): Errno {
  const e = err as NodeJS.ErrnoException | undefined;
  const known = e?.code === undefined ? undefined : strerror(e.code);
  if (known !== undefined) return known;
  const n = typeof e?.errno === 'number' ? Math.abs(e.errno) : 0;
  return { errno: n, text: e?.code ?? String(e?.message) };
}
