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
  /** The slots with {@link DeferredSlot}s left unresolved (`vals` resolves them first). */
  rawVals(a: A): readonly (S | DeferredSlot)[];
  /** Stores a deferred slot for a string key exactly as replaceExact() stores a value. */
  putDeferred(a: A, key: K, d: DeferredSlot): void;
  /** Resolves slot i (a DeferredSlot) in place and returns its value. */
  resolveAt(a: A, i: number): S;
  /**
   * A hint that the array will hold about n keys in all: its key index is sized for them at once
   * rather than regrown on the way. Changes no content; a wrong hint only costs time or memory.
   */
  reserve(a: A, n: number): void;
}

/**
 * A slot whose value is built on first access (lazy session decoding, serializers/lazy.ts). A
 * PhpArray holding one resolves it before any read of the slot, so no caller ever sees it; only
 * the session encoders look at it, through {@link ArrayInternalsOf.rawVals}. `resolve()` builds a
 * new value on every call.
 */
export abstract class DeferredSlot {
  abstract resolve(): unknown;
  /** The memory the slot's value will be built from, when it is a span of a buffer. */
  source(): Uint8Array | undefined {
    return undefined;
  }
}

/** Untyped here (this module cannot name PhpArray without importing lib/value.ts). */
export const arrayInternals = {} as ArrayInternalsOf<any, any, any>;
