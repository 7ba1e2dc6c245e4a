/**
 * @module msession/errors
 * The typed errors of the msession layer. Every failure names what failed and, for one session,
 * its id; PHP's own diagnostics raised on the way (the module's warnings) travel with it.
 */
import type { Diagnostic } from '../lib/errors.ts';

export type MsessionErrorCode =
  /** The configured module offers no way to list its sessions (the reason is in the message). */
  | 'ERR_MSESSION_CANNOT_ENUMERATE'
  /** The module could not be opened (bad save path, server down). */
  | 'ERR_MSESSION_OPEN'
  /** An id the module would reject (php_session_valid_key) or none at all. */
  | 'ERR_MSESSION_BAD_ID'
  /** No session with that id is stored (msession never creates one except through create()). */
  | 'ERR_MSESSION_NO_SESSION'
  /** Reading (and locking) a session failed. */
  | 'ERR_MSESSION_READ'
  /** Writing a session failed: the store keeps what it had before. */
  | 'ERR_MSESSION_WRITE'
  /** The stored data does not decode with the configured serialize_handler. */
  | 'ERR_MSESSION_CORRUPT'
  /** unlock() with a key that is not the one lock() returned, or for a session not locked here. */
  | 'ERR_MSESSION_LOCK_KEY'
  /** A value (for set/inc) that cannot be stored as asked. */
  | 'ERR_MSESSION_VALUE'
  /** No plugin of that name is registered. */
  | 'ERR_MSESSION_PLUGIN'
  /** The operation was aborted through its AbortSignal. */
  | 'ERR_MSESSION_ABORTED'
  /** A store failed in the middle of a scan. */
  | 'ERR_MSESSION_SCAN'
  /** disconnect() was called: this Msession takes no more calls. */
  | 'ERR_MSESSION_DISCONNECTED';

export class MsessionError extends Error {
  readonly code: MsessionErrorCode;
  /** The session concerned, when there is one. */
  readonly id: string | undefined;
  /** PHP's diagnostics raised by the module during the failed call. */
  readonly diagnostics: readonly Diagnostic[];
  constructor(code: MsessionErrorCode, message: string, opts: { id?: string; diagnostics?: readonly Diagnostic[]; cause?: unknown } = {}) {
    const diag = opts.diagnostics?.length ? ` (${opts.diagnostics.map((d) => d.message).join('; ')})` : '';
    super(`${message}${diag}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.id = opts.id;
    this.diagnostics = opts.diagnostics ?? [];
  }
  override get name(): string {
    return 'MsessionError';
  }
}

/** Throws ERR_MSESSION_ABORTED when `signal` has fired. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new MsessionError('ERR_MSESSION_ABORTED', `msession: aborted (${String(signal.reason)})`, { cause: signal.reason });
}
