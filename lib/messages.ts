/**
 * @module messages
 * Warning, notice and error texts of PHP 8.2's session extension. These strings are behaviour:
 * tests compare them byte for byte with what PHP prints, so they are kept exactly as PHP words them
 * (ext/session/session.c and Zend/zend_ini.c). Templates take their arguments positionally.
 */

/** Fills `%s` placeholders in order. */
export function fmt(template: string, ...args: readonly (string | number)[]): string {
  let i = 0;
  return template.replace(/%s/g, () => String(args[i++] ?? ''));
}

export const MSG = {
  // ini guards (SESSION_CHECK_ACTIVE_STATE / SESSION_CHECK_OUTPUT_STATE)
  INI_ACTIVE: 'Session ini settings cannot be changed when a session is active',
  INI_HEADERS: 'Session ini settings cannot be changed after headers have already been sent',
  // ini handlers
  SAVE_HANDLER_NOT_FOUND: 'Session save handler "%s" cannot be found',
  SAVE_HANDLER_USER: 'Session save handler "user" cannot be set by ini_set()',
  SERIALIZER_NOT_FOUND: 'Serialization handler "%s" cannot be found',
  NAME_NUMERIC: 'session.name "%s" cannot be numeric or empty',
  COOKIE_LIFETIME_NEGATIVE: 'CookieLifetime cannot be negative',
  SID_LENGTH: 'session.configuration "session.sid_length" must be between 22 and 256',
  SID_BITS: 'session.configuration "session.sid_bits_per_character" must be between 4 and 6',
  FREQ_NEGATIVE: 'session.upload_progress.freq must be greater than or equal to 0',
  FREQ_PERCENT: 'session.upload_progress.freq must be less than or equal to 100%',
  INVALID_SETTING: 'Invalid "%s" setting. %s',
  // life cycle
  DESTROY_UNINITIALIZED: 'Trying to destroy uninitialized session',
  DESTROY_FAILED: 'Session object destruction failed',
  ENCODE_UNKNOWN_SERIALIZER: 'Unknown session.serialize_handler. Failed to encode session object',
  ENCODE_NO_SESSION: 'Cannot encode non-existent session',
  DECODE_FAILED: 'Failed to decode session object. Session has been destroyed',
  DECODE_UNKNOWN_SERIALIZER: 'Unknown session.serialize_handler. Failed to decode session object',
  NO_STORAGE_MODULE: 'No storage module chosen - failed to initialize session',
  INIT_STORAGE_FAILED: 'Failed to initialize storage module: %s (path: %s)',
  CREATE_ID_FAILED: 'Failed to create session ID: %s (path: %s)',
  READ_FAILED: 'Failed to read session data: %s (path: %s)',
  WRITE_FAILED:
    'Failed to write session data (%s). Please verify that the current setting of session.save_path is correct (%s)',
  WRITE_FAILED_USER: 'Failed to write session data using user defined save handler. (session.save_path: %s, handler: %s)',
  CACHE_LIMITER_SENT: 'Session cache limiter cannot be sent after headers have already been sent',
  CACHE_LIMITER_SENT_AT:
    'Session cache limiter cannot be sent after headers have already been sent (output started at %s:%s)',
  COOKIE_SENT: 'Session cookie cannot be sent after headers have already been sent',
  COOKIE_SENT_AT: 'Session cookie cannot be sent after headers have already been sent (output started at %s:%s)',
  COOKIE_NAME_FORBIDDEN: "session.name cannot contain any of the following '=,;.[ \\t\\r\\n\\013\\014'",
  ID_NOT_INITIALIZED: 'Cannot set session ID - session ID is not initialized',
  ALREADY_STARTED: 'Ignoring session_start() because a session has already been started',
  NO_SAVE_HANDLER: 'Cannot find session save handler "%s" - session startup failed',
  NO_SERIALIZER: 'Cannot find session serialization handler "%s" - session startup failed',
  // functions
  COOKIES_DISABLED: 'Session cookies cannot be used when session.use_cookies is disabled',
  COOKIE_PARAMS_ACTIVE: 'Session cookie parameters cannot be changed when a session is active',
  COOKIE_PARAMS_HEADERS: 'Session cookie parameters cannot be changed after headers have already been sent',
  COOKIE_PARAMS_MUST_BE_NULL: 'must be null when argument #1 ($lifetime_or_options) is an array',
  COOKIE_PARAMS_UNKNOWN_KEY: 'Argument #1 ($lifetime_or_options) contains an unrecognized key "%s"',
  COOKIE_PARAMS_NUMERIC_KEY: 'Argument #1 ($lifetime_or_options) cannot contain numeric keys',
  COOKIE_PARAMS_NO_KEY: 'must contain at least 1 valid key',
  NAME_ACTIVE: 'Session name cannot be changed when a session is active',
  NAME_HEADERS: 'Session name cannot be changed after headers have already been sent',
  MODULE_ACTIVE: 'Session save handler module cannot be changed when a session is active',
  MODULE_HEADERS: 'Session save handler module cannot be changed after headers have already been sent',
  MODULE_USER: 'cannot be "user"',
  MODULE_NOT_FOUND: 'Session handler module "%s" cannot be found',
  SAVE_HANDLER_ACTIVE: 'Session save handler cannot be changed when a session is active',
  SAVE_HANDLER_HEADERS: 'Session save handler cannot be changed after headers have already been sent',
  SHUTDOWN_REGISTER: 'Unable to register session shutdown function',
  SAVE_PATH_ACTIVE: 'Session save path cannot be changed when a session is active',
  SAVE_PATH_HEADERS: 'Session save path cannot be changed after headers have already been sent',
  SAVE_PATH_NUL: 'must not contain any null bytes',
  ID_ACTIVE: 'Session ID cannot be changed when a session is active',
  ID_HEADERS: 'Session ID cannot be changed after headers have already been sent',
  REGENERATE_INACTIVE: 'Session ID cannot be regenerated when there is no active session',
  REGENERATE_HEADERS: 'Session ID cannot be regenerated after headers have already been sent',
  REGENERATE_DESTROY_FAILED: 'Session object destruction failed. ID: %s (path: %s)',
  REGENERATE_WRITE_FAILED: 'Session write failed. ID: %s (path: %s)',
  REGENERATE_OPEN_FAILED: 'Failed to open session: %s (path: %s)',
  REGENERATE_CREATE_FAILED: 'Failed to create new session ID: %s (path: %s)',
  REGENERATE_COLLISION: 'Failed to create session ID by collision: %s (path: %s)',
  REGENERATE_READ_FAILED: 'Failed to create(read) session ID: %s (path: %s)',
  PREFIX_INVALID:
    'Prefix cannot contain special characters. Only the A-Z, a-z, 0-9, "-", and "," characters are allowed',
  CREATE_NEW_ID_FAILED: 'Failed to create new ID',
  CACHE_LIMITER_ACTIVE: 'Session cache limiter cannot be changed when a session is active',
  CACHE_LIMITER_HEADERS: 'Session cache limiter cannot be changed after headers have already been sent',
  CACHE_EXPIRE_ACTIVE: 'Session cache expiration cannot be changed when a session is active',
  CACHE_EXPIRE_HEADERS: 'Session cache expiration cannot be changed after headers have already been sent',
  DECODE_INACTIVE: 'Session data cannot be decoded when there is no active session',
  START_ACTIVE: 'Ignoring session_start() because a session is already active',
  START_HEADERS: 'Session cannot be started after headers have already been sent',
  START_OPTION_FAILED: 'Setting option "%s" failed',
  START_OPTION_TYPE: '%s(): Option "%s" must be of type string|int|bool, %s given',
  GC_INACTIVE: 'Session cannot be garbage collected when there is no active session',
  SHUTDOWN_CANNOT_REGISTER: 'Session shutdown function cannot be registered',
  WRONG_PARAM_COUNT: 'Wrong parameter count for %s()',
} as const;
