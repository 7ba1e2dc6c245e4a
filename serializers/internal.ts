/**
 * @module serializers/internal
 * Not part of the public API: the codec's access to PhpArray storage. The definition lives in
 * lib/value-internals.ts (level 0, beside the value model); this re-export keeps the codec's import.
 */
export { arrayInternals, type ArrayInternals } from '../lib/value-internals.ts';
