/**
 * @module php-session-engine
 * A faithful TypeScript port of PHP 8.2's session engine (ext/session). The public surface is this
 * list; everything else is internal (package.json's exports map reaches only this file, the
 * handler modules and the serializers by their registered names).
 */

// The engine and one request.
export { SessionEngine, type SessionEngineOptions } from './engine.ts';
export {
  SessionRequest,
  PHP_SESSION_ACTIVE,
  PHP_SESSION_DISABLED,
  PHP_SESSION_NONE,
  SessionStatusNames,
  type OutputStart,
  type RequestOptions,
  type RequestVar,
  type MultipartEvent,
  type SessionFunctions,
  type SessionStatus,
  HOLD_LIMIT_WARNING,
} from './request.ts';
export { Registry, MAX_REGISTRY_ENTRIES } from './registry.ts';

// PHP values.
export {
  PHP_INT_MAX,
  PHP_INT_MIN,
  PhpArray,
  PhpBytes,
  PhpEnum,
  PhpFloat,
  PhpObject,
  PhpReference,
  PhpSerializable,
  normalizeInt,
  normalizeKey,
  toJs,
  toPhp,
  type JsInput,
  type PhpKey,
  type PhpValue,
  type Visibility,
} from './value.ts';
export { zendZvalTypeName as phpTypeName } from './zend/types.ts';

// Errors and diagnostics.
export {
  LockTimeoutError,
  PhpArgumentCountError,
  PhpError,
  PhpException,
  PhpTypeError,
  PhpValueError,
  SerializeError,
  SessionError,
  UnserializeError,
  type Diagnostic,
  type DiagnosticLevel,
  type DiagnosticSink,
  type SessionErrorCode,
} from './errors.ts';

// serialize() / unserialize() and the session serializers.
export {
  builtinSerializers,
  formatFloat,
  php,
  php_binary,
  php_serialize,
  serialize,
  unserialize,
  unserializePhp,
  type CodecDiagnosticSink,
  type PhpUnserializeResult,
  type UnserializeOptions,
  type UnserializerSettings,
} from '../serializers/index.ts';
export type { DecodeResult, SerializerContext, SessionSerializer } from './serializer.ts';

// Save handlers: the module contract and the user module's PHP classes and interfaces.
export type {
  MaybePromise,
  ModuleIniEntry,
  SaveHandler,
  SaveHandlerContext,
  SaveHandlerModule,
} from './handler.ts';
export {
  SessionHandler,
  type SessionData,
  type SessionHandlerInterface,
  type SessionIdInterface,
  type SessionReadResult,
  type SessionUpdateTimestampHandlerInterface,
} from '../handlers/user.ts';
export { closeAllConnections as closeMemcacheConnections } from '../handlers/shared/memcache/client.ts';

// msession: operations across live sessions (importing the root adds engine.msession()).
export {
  Msession,
  MsessionError,
  type EnumerableModule,
  type LockInfo,
  type MsessionErrorCode,
  type MsessionFunctions,
  type MsessionOptions,
  type MsessionPlugin,
  type ScanEntry,
  type ScanOptions,
  type ScanProgress,
  type SessionStore,
  type StoreFactory,
} from '../msession/index.ts';
