/**
 * @module errors
 * PHP's two error channels, ported: thrown errors (PHP throwables and this library's own typed
 * errors, each with a stable `code`) and non-fatal diagnostics (warnings, notices, deprecations)
 * that PHP reports and carries on.
 */

/** Severity of a non-fatal diagnostic, named as PHP names it. */
export type DiagnosticLevel = 'E_WARNING' | 'E_NOTICE' | 'E_DEPRECATED' | 'E_ERROR';

/** A warning, notice or deprecation as PHP would emit it, with PHP's exact text (function prefix included). */
export interface Diagnostic {
  level: DiagnosticLevel;
  message: string;
}

/** Receives diagnostics; the engine collects them on the request, a runtime may print them. */
export type DiagnosticSink = (level: DiagnosticLevel, message: string) => void;

/** Stable codes of this library's own errors. */
export type SessionErrorCode =
  | 'ERR_PHP_ERROR'
  | 'ERR_PHP_TYPE_ERROR'
  | 'ERR_PHP_VALUE_ERROR'
  | 'ERR_PHP_ARGUMENT_COUNT_ERROR'
  | 'ERR_PHP_EXCEPTION'
  | 'ERR_UNSERIALIZE'
  | 'ERR_SERIALIZE'
  | 'ERR_LOCK_TIMEOUT'
  | 'ERR_INVALID_SESSION_ID'
  | 'ERR_UPLOAD_EVENT'
  | 'ERR_HANDLER';

/** Base of every error this library throws. */
export class SessionError extends Error {
  readonly code: SessionErrorCode;
  constructor(message: string, code: SessionErrorCode = 'ERR_HANDLER', options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
  override get name(): string {
    return 'SessionError';
  }
}

/** PHP's `Error`: thrown where PHP throws Error (e.g. "Failed to create session ID: ..."). */
export class PhpError extends SessionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_PHP_ERROR', options);
  }
  override get name(): string {
    return 'Error';
  }
}

/** PHP's `TypeError`. */
export class PhpTypeError extends SessionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_PHP_TYPE_ERROR', options);
  }
  override get name(): string {
    return 'TypeError';
  }
}

/** PHP's `ValueError`. */
export class PhpValueError extends SessionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_PHP_VALUE_ERROR', options);
  }
  override get name(): string {
    return 'ValueError';
  }
}

/** PHP's `ArgumentCountError`. */
export class PhpArgumentCountError extends SessionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_PHP_ARGUMENT_COUNT_ERROR', options);
  }
  override get name(): string {
    return 'ArgumentCountError';
  }
}

/** PHP's `Exception` (e.g. "Serialization of 'Closure' is not allowed"). */
export class PhpException extends SessionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_PHP_EXCEPTION', options);
  }
  override get name(): string {
    return 'Exception';
  }
}

/** Malformed serialized input; `offset` is the byte offset where PHP's parser stopped. */
export class UnserializeError extends SessionError {
  readonly offset: number;
  readonly length: number;
  constructor(message: string, offset: number, length: number, options?: { cause?: unknown }) {
    super(message, 'ERR_UNSERIALIZE', options);
    this.offset = offset;
    this.length = length;
  }
  override get name(): string {
    return 'UnserializeError';
  }
}

/** A value that cannot be written in PHP's format (e.g. a bigint outside int64, a lone surrogate). */
export class SerializeError extends SessionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_SERIALIZE', options);
  }
  override get name(): string {
    return 'SerializeError';
  }
}

/** A session lock was not obtained within the configured wait limit. */
export class LockTimeoutError extends SessionError {
  readonly id: string;
  readonly waitedMs: number;
  constructor(message: string, id: string, waitedMs: number, options?: { cause?: unknown }) {
    super(message, 'ERR_LOCK_TIMEOUT', options);
    this.id = id;
    this.waitedMs = waitedMs;
  }
  override get name(): string {
    return 'LockTimeoutError';
  }
}
