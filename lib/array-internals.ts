/**
 * @module array-internals
 * Not part of the public API: the seam through which PhpArray (lib/value.ts) lends its slot
 * storage to the codec. PhpArray's static initialiser fills it in; serializers/internal.ts
 * re-exports it with PhpArray's types. It imports nothing, so that lib/value.ts (the value model,
 * at the bottom of the module graph) depends on no codec module.
 */

/** The accessors, generic over the array, slot and key types (serializers/internal.ts names them). */
export interface ArrayInternalsOf<A, S, K> {
  /** Marks a deleted slot in `vals`. */
  readonly HOLE: unknown;
  vals(a: A): readonly S[];
  /** The map keys (binary string keys in their internal form), or null for a packed list. */
  keys(a: A): readonly (number | bigint | string)[] | null;
  /** The key of slot i. */
  keyAt(a: A, i: number): K;
  /** True when the array has binary (PhpBytes) keys, whose internal form keyAt() converts. */
  hasBytesKeys(a: A): boolean;
}

/** Untyped here (this module cannot name PhpArray without importing lib/value.ts). */
export const arrayInternals = {} as ArrayInternalsOf<any, any, any>;
