/**
 * @module serializers/internal
 * Not part of the public API: direct access to a PhpArray's slot storage for the codec (filled in
 * by lib/value.ts through lib/array-internals.ts). Slot i of an array is `vals[i]` (skipped when it
 * is {@link ArrayInternals.HOLE}) with key `keyAt(a, i)`; `keys(a)` is null while the array is a
 * packed list (key of slot i is i).
 */
import { arrayInternals as seam, type ArrayInternalsOf } from '../lib/array-internals.ts';
import type { PhpArray, PhpKey, PhpReference, PhpValue } from '../lib/value.ts';

export type ArrayInternals = ArrayInternalsOf<PhpArray, PhpValue | PhpReference, PhpKey>;

export const arrayInternals: ArrayInternals = seam;
