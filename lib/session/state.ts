/**
 * @module session/state
 * PHP's PS(): the per-request session state of ext/session (php_session.h, php_ps_globals), as a
 * plain record. Routines in lib/session/ read and change it; nothing else holds session state.
 */
import type { SaveHandler, SaveHandlerModule, UserHandlerSpec } from '../handler.ts';
import type { SessionSerializer } from '../serializer.ts';
import type { PhpArray, PhpValue } from '../value.ts';
import type { Lease } from './bytes-pool.ts';

/** session_status() values. */
export const PHP_SESSION_DISABLED = 0;
export const PHP_SESSION_NONE = 1;
export const PHP_SESSION_ACTIVE = 2;
export type SessionStatus = 0 | 1 | 2;

/** Re-exported for callers that need PHP's `session_status()` names. */
export const SessionStatusNames = {
  [PHP_SESSION_DISABLED]: 'PHP_SESSION_DISABLED',
  [PHP_SESSION_NONE]: 'PHP_SESSION_NONE',
  [PHP_SESSION_ACTIVE]: 'PHP_SESSION_ACTIVE',
} as const;

/** PS(): one request's session globals. */
export interface SessionState {
  /** PS(session_status). */
  status: SessionStatus;
  /** PS(id); null = not set. */
  id: string | null;
  /** PS(send_cookie). */
  sendCookie: boolean;
  /** PS(define_sid). */
  defineSid: boolean;
  /** PS(mod). */
  mod: SaveHandlerModule | undefined;
  /** PS(default_mod): the module before `user` was installed. */
  defaultMod: SaveHandlerModule | undefined;
  /** PS(serializer). */
  serializer: SessionSerializer | undefined;
  /** PS(mod_data): the module's instance. */
  handler: SaveHandler | null;
  /** PHP's `PS(mod_data) || PS(mod_user_implemented)` for modules other than user. */
  handlerOpen: boolean;
  /** PS(session_vars): the data read, kept for lazy_write. */
  snapshot: Uint8Array | null;
  /** The snapshot's count on its bytes when they are the engine's pooled encoder output (bytes-pool.ts). */
  snapshotLease: Lease | undefined;
  /** $_SESSION (PS(http_session_vars)); undefined when unset. */
  sessionVar: PhpValue | undefined;
  /** $_SESSION is the session's array (php_session_track_init ran and nothing unbound it). */
  bound: boolean;
  /** PS(set_handler): session_set_save_handler is switching the module to `user`. */
  settingUserHandler: boolean;
  /** PS(mod_user_names): what session_set_save_handler registered. */
  userSpec: UserHandlerSpec | undefined;
  /**
   * PS(mod_user_class_name): the class of the handler object given to session_set_save_handler,
   * which names a failed write (`Class::write`). Callables clear it, and so does
   * php_rshutdown_session_globals (session_destroy): later failures are named `write`.
   */
  userClassName: string | undefined;
  /** The SID constant ("" or "name=id"); undefined before the first id reset. */
  sid: string | undefined;
  /** Trans-sid is armed (PHP would rewrite output URLs). */
  transSid: boolean;
  /** PS(in_save_handler) as a depth: a module call is running. */
  inHandler: number;
  /** PS(rfc1867_progress): the upload being tracked (session/upload-progress). */
  uploadProgress: UploadProgress | undefined;
}

/** php_session_rfc1867_progress (see session/upload-progress). */
export interface UploadProgress {
  sid: string | undefined;
  key: string | undefined;
  updateStep: number;
  nextUpdate: number;
  nextUpdateTime: number;
  cancelUpload: boolean;
  applyTransSid: boolean;
  contentLength: number;
  /** The record (start_time, content_length, bytes_processed, done, files). */
  data: PhpArray | undefined;
  files: PhpArray;
  current: PhpArray | undefined;
}

/** php_rinit_session_globals for a new request. */
export function newSessionState(): SessionState {
  return {
    status: PHP_SESSION_NONE,
    id: null,
    sendCookie: false,
    defineSid: true,
    mod: undefined,
    defaultMod: undefined,
    serializer: undefined,
    handler: null,
    handlerOpen: false,
    snapshot: null,
    snapshotLease: undefined,
    sessionVar: undefined,
    bound: false,
    settingUserHandler: false,
    userSpec: undefined,
    userClassName: undefined,
    sid: undefined,
    transSid: false,
    inHandler: 0,
    uploadProgress: undefined,
  };
}
