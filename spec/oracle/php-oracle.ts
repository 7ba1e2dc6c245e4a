/**
 * @module spec/oracle/php-oracle
 * The PHP oracle: runs real `php -n` to serialize, unserialize, session_encode and session_decode,
 * many operations batched into ONE PHP process (spec/php/driver.php's oracle mode: a JSON request on
 * stdin, a JSON answer on stdout, binary data base64-encoded both ways).
 *
 * Usable by any test:
 *
 *   const [r] = await phpOracle([{ op: 'unserialize', data: bytes }]);
 *   r.ok; r.reserialized; r.diagnostics   // PHP's value re-serialized, PHP's warnings/notices
 *
 * Diagnostics are `{ level, message }` with PHP's message text as an error handler receives it
 * (`unserialize(): Error at offset 0 of 3 bytes`, `session_decode(): ...`).
 * `prelude` is PHP code run first (class/enum declarations the data refers to).
 */
import { runOracleInPhp } from '../php/driver.ts';
import { runPhp } from '../support/tools.ts';

export interface OracleDiagnostic {
  level: 'E_WARNING' | 'E_NOTICE' | 'E_DEPRECATED' | 'E_ERROR' | string;
  message: string;
}

export type OracleOp =
  /** unserialize(data, options) then serialize() of the result. */
  | { op: 'unserialize'; data: Uint8Array | string; options?: { allowed_classes?: boolean | string[]; max_depth?: number } }
  /** serialize(eval("return <expr>;")). */
  | { op: 'serialize'; expr: string }
  /** Starts a session with session.serialize_handler=handler, $_SESSION = unserialize(value), session_encode(). */
  | { op: 'session_encode'; handler: string; value: Uint8Array | string }
  /** Starts an empty session, session_decode(data), then session_encode() and serialize($_SESSION). */
  | { op: 'session_decode'; handler: string; data: Uint8Array | string };

export interface OracleResult {
  /** unserialize: PHP did not fail; session_decode: its return value; session_encode: returned a string. */
  ok: boolean;
  /** unserialize: serialize() of the result; serialize: the bytes. */
  reserialized?: Buffer;
  /** session_encode / session_decode: session_encode()'s bytes (undefined when it returned false). */
  encoded?: Buffer;
  /** session_decode: serialize($_SESSION) after decoding (`$_SESSION` may not be an array). */
  session?: Buffer;
  /** The exception PHP threw, as "Class: message". */
  exception?: string;
  diagnostics: OracleDiagnostic[];
}

/**
 * PHP code that installs a save handler storing nothing, so session_encode()/session_decode() can
 * run in `php -n` without touching the disk.
 */
export const PHP_NO_STORAGE_HANDLER = String.raw`class OracleMemHandler implements SessionHandlerInterface {
  public function open($p, $n): bool { return true; }
  public function close(): bool { return true; }
  public function read($id): string|false { return ''; }
  public function write($id, $d): bool { return true; }
  public function destroy($id): bool { return true; }
  public function gc($l): int|false { return 0; }
}
session_set_save_handler(new OracleMemHandler(), false);`;

function b64(d: Uint8Array | string): string {
  return (typeof d === 'string' ? Buffer.from(d, 'latin1') : Buffer.from(d.buffer, d.byteOffset, d.byteLength)).toString('base64');
}

/** Base PHP settings the oracle runs with (php -n defaults plus what a CLI session needs). */
export const ORACLE_INI: Record<string, string> = {
  'session.use_cookies': '0',
  'session.use_only_cookies': '0',
  'session.cache_limiter': '',
  'session.use_strict_mode': '0',
  'memory_limit': '512M',
  'error_reporting': '-1',
  'display_errors': 'stderr',
};

/**
 * Runs the ops in one `php -n` process. Strings given as data are taken as Latin-1 (one char per
 * byte) so tests can write binary payloads literally.
 */
export async function phpOracle(
  ops: readonly OracleOp[],
  opts: { prelude?: string; ini?: Record<string, string>; timeoutMs?: number } = {},
): Promise<OracleResult[]> {
  const req = {
    // The no-storage handler first, then the caller's declarations (spec/php/driver.php evals it).
    prelude: `${PHP_NO_STORAGE_HANDLER}\n${opts.prelude ?? ''}`,
    ops: ops.map((o) => {
      switch (o.op) {
        case 'unserialize':
          return { op: o.op, data: b64(o.data), ...(o.options !== undefined ? { options: o.options } : {}) };
        case 'serialize':
          return { op: o.op, expr: o.expr };
        case 'session_encode':
          return { op: o.op, handler: o.handler, value: b64(o.value) };
        case 'session_decode':
          return { op: o.op, handler: o.handler, data: b64(o.data) };
      }
    }),
  };
  const raw = (await runOracleInPhp(req, { ini: { ...ORACLE_INI, ...(opts.ini ?? {}) }, timeoutMs: opts.timeoutMs ?? 120_000 })) as {
    ok: boolean;
    reserialized?: string;
    encoded?: string;
    session?: string;
    exception?: string;
    diagnostics: [string, string][];
  }[];
  return raw.map((r) => {
    const out: OracleResult = {
      ok: r.ok,
      diagnostics: r.diagnostics.map(([level, message]) => ({ level, message })),
    };
    if (r.reserialized !== undefined) out.reserialized = Buffer.from(r.reserialized, 'base64');
    if (r.encoded !== undefined) out.encoded = Buffer.from(r.encoded, 'base64');
    if (r.session !== undefined) out.session = Buffer.from(r.session, 'base64');
    if (r.exception !== undefined) out.exception = r.exception;
    return out;
  });
}

/** Runs arbitrary PHP (with `php -n`) and returns stdout; a thin convenience over runPhp. */
export async function phpEval(code: string, ini: Record<string, string> = {}): Promise<Buffer> {
  const r = await runPhp(code, { ini: { ...ORACLE_INI, ...ini } });
  if (r.code !== 0) throw new Error(`php failed (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
  return r.stdout;
}
