/**
 * @module msession/prefilter
 * A byte test that lets find() and listvar() skip decoding sessions that cannot match. It is exact
 * in one direction only: a session it rejects can hold neither the variable nor the value (so the
 * decoded comparison would fail); a session it passes is decoded and compared as before
 * (spec/msession/prefilter.test.ts checks this against the unfiltered path with fast-check).
 *
 * Why the bytes must occur, for the built-in serializers (php, php_binary, php_serialize):
 * - a variable name is stored as its raw bytes (php: `name|`, php_binary: length byte + name,
 *   php_serialize: `s:N:"name"`), or, for an integer name, as `i:[+-]0*digits` - which holds the
 *   digits without the sign;
 * - find() compares scalars by their PHP string form (values.ts `comparable`): a value equal to
 *   "X" is a string stored as `s:N:"X"`, an integer stored as `i:[+-]0*digits` (the digits of X
 *   without its sign), `true` stored as `b:1` (X = "1"), or a reference (`R:`/`r:`) to one of
 *   those earlier in the same payload; floats never compare equal to a scalar string form;
 * - two things break this and switch the filter off: `S:` (escaped strings, whose bytes may be
 *   written as `\xx`) anywhere in the payload, and integers past int64 (the decoder clamps them to
 *   9223372036854775807 / -9223372036854775808, digits that need not occur).
 * Any other serializer (registered by the application) is never filtered.
 */
import type { SessionSerializer } from '../lib/serializer.ts';
import type { PhpValue } from '../lib/value.ts';
import { builtinSerializers } from '../serializers/index.ts';
import { comparable } from './values.ts';

const ESCAPED = 'S:';
const CLAMPED = new Set(['9223372036854775807', '9223372036854775808']);
const INT = /^-?(?:0|[1-9]\d*)$/;

/**
 * The bytes a stored form of `text` (name or value string form) must contain, or null when none is
 * certain; as a latin1 string (one char per byte: bytes occur in bytes exactly when their latin1
 * strings occur in theirs, and a string search is cheaper per session than Buffer.indexOf).
 */
function needle(text: string): string | null {
  let t = text;
  if (INT.test(t)) {
    t = t.startsWith('-') ? t.slice(1) : t;
    // The decoder clamps out-of-range integers to int64's ends: those digits need not occur.
    if (CLAMPED.has(t)) return null;
  }
  return t.length === 0 ? null : Buffer.from(t, 'utf8').toString('latin1');
}

/**
 * The byte test as data, so a reader thread can run it where the bytes are read
 * (stores/files-reader.ts) without a second copy of the rule above: stored bytes pass when they
 * hold any of `unless` (the `S:` escape), else only when they hold every one of `needles` (both
 * as latin1 strings of the bytes). Calling the filter runs that same rule on the calling thread.
 */
export type CandidateFilter = ((data: Uint8Array) => boolean) & {
  readonly unless: readonly string[];
  readonly needles: readonly string[];
};

/** The rule of a {@link CandidateFilter} on `s`, the bytes as latin1 (the reader thread runs the same lines). */
function passes(s: string, unless: readonly string[], needles: readonly string[]): boolean {
  for (const x of unless) if (s.includes(x)) return true;
  for (const x of needles) if (!s.includes(x)) return false;
  return true;
}

/** The filter's test on bytes already read as a latin1 string (a read buffer's slice: no view objects per session). */
export function passesLatin1(filter: CandidateFilter, latin1: string): boolean {
  return passes(latin1, filter.unless, filter.needles);
}

/**
 * A test for stored bytes: false only when the session cannot hold variable `name` (equal to
 * `value`, when given). null when nothing can be skipped (an application serializer, or needles
 * that could be written otherwise).
 */
export function candidateFilter(serializer: SessionSerializer, name: string, value?: PhpValue): CandidateFilter | null {
  if (!builtinSerializers.includes(serializer)) return null;
  const needles: string[] = [];
  const n = needle(name);
  if (n !== null) needles.push(n);
  if (value !== undefined) {
    const want = comparable(value);
    // 's:' + PHP string form for scalars; arrays, objects and floats compare by serialize() bytes: name only.
    if (want.startsWith('s:')) {
      const v = needle(want.slice(2));
      if (v !== null) needles.push(v);
    }
  }
  if (needles.length === 0) return null;
  const unless = [ESCAPED];
  const test = (data: Uint8Array): boolean => passes(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1'), unless, needles);
  return Object.assign(test, { unless, needles });
}
