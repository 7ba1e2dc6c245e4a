/**
 * @module serializer
 * The session serializer contract: PHP's `ps_serializer` ({ name, encode, decode }).
 * One file per serializer in serializers/, named as registered (php, php_binary, php_serialize).
 */
import type { DiagnosticLevel } from './errors.ts';
import type { PhpArray, PhpValue } from './value.ts';

/** What the engine lends a serializer. */
export interface SerializerContext {
  /**
   * Reports a diagnostic (e.g. `Skipping numeric key 5`); the engine adds the function prefix
   * unless `raw` is set (PHP raised it with zend_error, e.g. `Insufficient data for unserializing - ...`).
   */
  diagnostic(level: DiagnosticLevel, message: string, raw?: boolean): void;
  /** unserialize_max_depth (PHP default 4096; 0 = unlimited). */
  maxDepth: number;
  /**
   * Decode lazily where the serializer can (the built-in `php`, `php_binary` and `php_serialize`: serializers/lazy.ts):
   * entries are validated at once and built on first access. Default false.
   */
  lazy?: boolean;
  /**
   * The engine's record of the last clean validation of this session's bytes (lazy decoding
   * only; see lib/session/validated.ts). Set by the engine around the decode of stored data and
   * the encode of data about to be stored; a serializer may ignore it.
   */
  validated?: ValidatedSlot | undefined;
  /**
   * The data passed to decode() is an immutable copy the engine owns: the serializer may keep
   * it (lazy entries point into it) without a copy of its own.
   */
  owned?: boolean;
  /**
   * A buffer of at least `size` bytes the serializer may write its output into (the engine's
   * pooled buffers for a write to the store; lib/session/bytes-pool.ts): set only around the encode
   * of bytes about to be stored by a module that keeps nothing of them, for the built-in
   * serializers. The engine takes the buffer back when nothing references the output any more.
   */
  output?: ((size: number) => Buffer) | undefined;
}

/**
 * What one clean validation of session bytes found (no diagnostics, the lazy path taken):
 * enough to rebuild the decode's result without parsing the bytes again. `bytes` is never
 * written to; `entries` is the serializer's own (serializers/lazy.ts ValidatedEntries).
 */
export interface ValidatedSession {
  readonly bytes: Uint8Array;
  readonly entries: unknown;
  /** Some entries are spans of `bytes` (handed to sessions on a hit): `bytes` must live as long as they. */
  readonly spans?: boolean;
}

/** One session's place in the engine's validated-bytes cache. */
export interface ValidatedSlot {
  get(): ValidatedSession | undefined;
  set(v: ValidatedSession): void;
}

/** The outcome of decoding session data. */
export type DecodeResult =
  | { ok: true; session: PhpValue }
  | { ok: false };

export interface SessionSerializer {
  /** The name `session.serialize_handler` selects. */
  readonly name: string;
  /**
   * Encodes `$_SESSION`. Returns null where PHP's encoder returns no data (an empty `php` session,
   * a `php` key containing `|`): session_encode() then returns false and the engine writes "".
   */
  encode(session: PhpArray, ctx: SerializerContext): Uint8Array | null;
  /**
   * Decodes stored data. `php` and `php_binary` merge into `current` (and return it);
   * `php_serialize` returns the decoded value, which replaces `$_SESSION`.
   */
  decode(data: Uint8Array, current: PhpArray, ctx: SerializerContext): DecodeResult;
}
