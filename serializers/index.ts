/**
 * @module serializers
 * The built-in session serializers, in PHP's registration order, and the wire codec.
 */
import type { SessionSerializer } from '../lib/serializer.ts';
import { php } from './php.ts';
import { php_binary } from './php_binary.ts';
import { php_serialize } from './php_serialize.ts';

export { php, php_binary, php_serialize };
export { PS_BIN_MAX } from './php_binary.ts';
export { SKIPPING_NUMERIC_KEY } from './session-common.ts';
export { serialize, formatFloat, Serializer } from './serialize.ts';
export { unserialize, unserializePhp, Unserializer, MESSAGES as CODEC_MESSAGES } from './unserialize.ts';
export type { UnserializeOptions, UnserializerSettings, PhpUnserializeResult, CodecDiagnosticSink } from './unserialize.ts';

/** `php_serialize`, `php`, `php_binary`: the order PHP registers them in. */
export const builtinSerializers: readonly SessionSerializer[] = Object.freeze([php_serialize, php, php_binary]);
