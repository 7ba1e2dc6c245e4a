/**
 * @module value-internals
 * Not part of the public API: direct access to a PhpArray's slot storage for the codec (filled in
 * by lib/value.ts). Slot i of an array is `vals[i]` (skipped when it is {@link ArrayInternals.HOLE})
 * with key `keyAt(a, i)`; `keys(a)` is null while the array is a packed list (key of slot i is i).
 *
 * It lives at level 0 beside the value model so that lib/value.ts imports nothing above its level;
 * serializers/internal.ts re-exports it for the codec.
 */
import type { PhpArray, PhpKey, PhpReference, PhpValue } from './value.ts';

export interface ArrayInternals {
  /** Marks a deleted slot in `vals`. */
  readonly HOLE: unknown;
  vals(a: PhpArray): readonly (PhpValue | PhpReference)[];
  /** The map keys (binary string keys in their internal form), or null for a packed list. */
  keys(a: PhpArray): readonly (number | bigint | string)[] | null;
  /** The PhpKey of slot i. */
  keyAt(a: PhpArray, i: number): PhpKey;
  /** True when the array has binary (PhpBytes) keys, whose internal form keyAt() converts. */
  hasBytesKeys(a: PhpArray): boolean;
}

export const arrayInternals = {} as ArrayInternals;
