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
   * Decode lazily where the serializer can (built-in `php` and `php_binary`: serializers/lazy.ts):
   * entries are validated at once and built on first access. Default false.
   */
  lazy?: boolean;
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
