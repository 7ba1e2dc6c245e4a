/**
 * @module serializers/var
 * PHP 8.2's `serialize()` / `unserialize()` wire format, split as PHP splits it: serialize.ts
 * (ext/standard/var.c), unserialize.ts (var_unserializer.re) and var-common.ts (what both use).
 * This module keeps the names it always exported (`php-session-engine/serializers/var`).
 */
export { formatFloat, Serializer, serialize } from './serialize.ts';
export { MESSAGES, Unserializer, unserializerSettings, unserializePhp, unserialize } from './unserialize.ts';
export type { CodecDiagnosticSink, UnserializeOptions, UnserializerSettings, PhpUnserializeResult } from './unserialize.ts';
export { BINARY_NAME_PREFIX, nameBytes, isWellFormed } from './var-common.ts';
