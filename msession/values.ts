/**
 * @module msession/values
 * Value rules of msession's calls: how find() compares a stored variable with the value asked
 * for, and inc()'s arithmetic with PHP's int64 rules.
 */
import { PhpBytes, PhpFloat, type PhpValue } from '../lib/value.ts';
import { serialize } from '../serializers/var.ts';
import { MsessionError } from './errors.ts';

/** PHP's string form of a scalar, else serialize() bytes, as one comparable string. */
export function comparable(v: PhpValue): string {
  if (v === null) return 's:';
  if (typeof v === 'boolean') return v ? 's:1' : 's:';
  if (typeof v === 'number' && Number.isInteger(v)) return `s:${v}`;
  if (typeof v === 'bigint') return `s:${v}`;
  if (typeof v === 'string') return `s:${v}`;
  if (v instanceof PhpBytes) return `b:${v.toBinaryString()}`;
  return `z:${Buffer.from(serialize(v)).toString('latin1')}`;
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** msession_inc's arithmetic with PHP's int rules (int64, overflowing to float). */
export function incValue(id: string, name: string, cur: PhpValue | undefined, by: number | bigint): number | bigint | PhpFloat {
  let base: number | bigint | PhpFloat;
  if (cur === undefined || cur === null) base = 0;
  else if (typeof cur === 'number' || typeof cur === 'bigint' || cur instanceof PhpFloat) base = cur;
  else if (typeof cur === 'string' && /^\s*-?\d+\s*$/.test(cur)) base = BigInt(cur.trim());
  else throw new MsessionError('ERR_MSESSION_VALUE', `msession: ${name} of session ${id} is not a number`, { id });
  const isFloat = base instanceof PhpFloat || (typeof base === 'number' && !Number.isInteger(base)) || (typeof by === 'number' && !Number.isInteger(by));
  if (isFloat) {
    const f = Number(base instanceof PhpFloat ? base.valueOf() : base) + Number(by);
    return Number.isInteger(f) ? new PhpFloat(f) : f;
  }
  const r = BigInt(base as number | bigint) + BigInt(by);
  if (r > INT64_MAX || r < INT64_MIN) return new PhpFloat(Number(r));
  return Number.isSafeInteger(Number(r)) ? Number(r) : r;
}

