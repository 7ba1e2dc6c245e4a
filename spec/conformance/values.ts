/**
 * @module spec/conformance/values
 * The typed JSON encoding of PHP values used by scenarios and transcripts (the same encoding as
 * spec/php/driver.php's conformance_encode/conformance_decode), to and from the library's value model.
 *
 *   null, true/false, "utf-8 string", 123 (int)       as themselves
 *   {"int": "9223372036854775807"}                    an int outside JSON's safe range
 *   {"float": 1.5} / {"float": "INF"|"-INF"|"NAN"}    a float (integral floats too: {"float": 1})
 *   {"bytes": "<base64>"}                             a string that is not valid UTF-8
 *   [v, ...]                                          an array whose keys are 0..n-1 in order
 *   {"map": [[key, v], ...]}                          any other array
 *   {"object": "Class", "props": [[name, v], ...]}    an object (mangled property names)
 *   {"undef": true}                                   $_SESSION does not exist
 */
import {
  PhpArray,
  PhpBytes,
  PhpEnum,
  PhpFloat,
  PhpObject,
  PhpReference,
  PhpSerializable,
  normalizeInt,
  type PhpKey,
  type PhpValue,
} from 'php-session-engine';
import type { Enc } from './scenario.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Typed JSON → a PHP value of the library's model. */
export function decodeValue(e: Enc): PhpValue {
  if (e === null || typeof e === 'boolean' || typeof e === 'string') return e;
  if (typeof e === 'number') return e;
  if (Array.isArray(e)) {
    const a = new PhpArray();
    for (const v of e) a.push(decodeValue(v));
    return a;
  }
  if ('int' in e) return normalizeInt(BigInt(e.int));
  if ('float' in e) {
    const f = e.float;
    const n = f === 'INF' ? Infinity : f === '-INF' ? -Infinity : f === 'NAN' ? NaN : f;
    return Number.isInteger(n) ? new PhpFloat(n) : n;
  }
  if ('bytes' in e) return new PhpBytes(new Uint8Array(Buffer.from(e.bytes, 'base64')));
  if ('map' in e) {
    const a = new PhpArray();
    for (const [k, v] of e.map) a.set(decodeKey(k), decodeValue(v));
    return a;
  }
  if ('object' in e) {
    const o = new PhpObject(e.object);
    for (const [k, v] of e.props) o.properties.setExact(decodeKey(k), decodeValue(v));
    return o;
  }
  throw new Error(`cannot decode ${JSON.stringify(e)} as a PHP value`);
}

function decodeKey(k: Enc): PhpKey {
  const v = decodeValue(k);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || v instanceof PhpBytes) return v;
  throw new Error(`bad array key ${JSON.stringify(k)}`);
}

function encodeString(s: string): Enc {
  return s;
}

function encodeBytes(b: PhpBytes): Enc {
  const buf = Buffer.from(b.bytes);
  const text = buf.toString('utf8');
  return Buffer.from(text, 'utf8').equals(buf) ? text : { bytes: buf.toString('base64') };
}

/** A value of the library's model (or anything the engine hands back) → typed JSON. */
export function encodeValue(v: unknown): Enc {
  if (v === undefined) return { undef: true };
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'string') return encodeString(v);
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) return v;
    return { float: Number.isNaN(v) ? 'NAN' : v === Infinity ? 'INF' : v === -Infinity ? '-INF' : v };
  }
  if (typeof v === 'bigint') {
    return v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER) ? { int: v.toString() } : Number(v);
  }
  if (v instanceof PhpReference) return encodeValue(v.value);
  if (v instanceof PhpFloat) {
    const n = v.value;
    return { float: Number.isNaN(n) ? 'NAN' : n === Infinity ? 'INF' : n === -Infinity ? '-INF' : n };
  }
  if (v instanceof PhpBytes) return encodeBytes(v);
  if (v instanceof PhpArray) {
    const pairs: [Enc, Enc][] = [];
    let list = true;
    let i = 0;
    for (const [k, item] of v.entries()) {
      if (k !== i) list = false;
      i++;
      pairs.push([encodeValue(k), encodeValue(item)]);
    }
    return list ? pairs.map((p) => p[1]) : { map: pairs };
  }
  if (v instanceof PhpObject) {
    const props: [Enc, Enc][] = [];
    for (const [k, item] of v.properties.entries()) props.push([encodeValue(k), encodeValue(item)]);
    return { object: v.className, props };
  }
  if (v instanceof PhpEnum) return { object: v.className, props: [['case', v.caseName]] };
  if (v instanceof PhpSerializable) return { object: v.className, props: [] };
  if (isObj(v) && Object.getPrototypeOf(v) === Object.prototype) {
    return encodeValue(PhpArray.from(v as never));
  }
  return { map: [['unsupported JS value', String(v)]] };
}
