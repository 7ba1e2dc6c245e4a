/**
 * @module msession/cli-format
 * How the `php-session` CLI prints PHP values: var_dump()'s layout (PHP 8.2, serialize_precision
 * -1) for people, JSON for scripts. JSON: ints outside ±(2^53-1) as strings of digits, binary
 * (non-UTF-8) strings as `{"$bytes": "<base64>"}`, objects as `{"__class": name, ...props}`.
 */
import { PhpArray, PhpBytes, PhpEnum, PhpFloat, PhpObject, PhpSerializable, type PhpKey, type PhpValue } from '../lib/value.ts';
import { formatFloat } from '../serializers/var.ts';

function byteLength(s: string | PhpBytes): number {
  return s instanceof PhpBytes ? s.bytes.length : Buffer.byteLength(s);
}

function keyText(k: PhpKey): string {
  if (typeof k === 'number' || typeof k === 'bigint') return `[${k}]`;
  return `["${k instanceof PhpBytes ? k.toBinaryString() : k}"]`;
}

function floatText(f: number): string {
  // var_dump uses the same repr as serialize() with serialize_precision -1.
  return `float(${formatFloat(f)})`;
}

/** var_dump() of a value, as PHP 8.2 prints it (object handles counted from 1 in print order). */
export function varDump(v: PhpValue): string {
  let handle = 0;
  const lines: string[] = [];
  const walk = (x: PhpValue, ind: string, seen: Set<object>): void => {
    if (x === null) lines.push(`${ind}NULL`);
    else if (typeof x === 'boolean') lines.push(`${ind}bool(${x})`);
    else if (typeof x === 'number') lines.push(Number.isInteger(x) ? `${ind}int(${x})` : `${ind}${floatText(x)}`);
    else if (typeof x === 'bigint') lines.push(`${ind}int(${x})`);
    else if (x instanceof PhpFloat) lines.push(`${ind}${floatText(x.valueOf())}`);
    else if (typeof x === 'string' || x instanceof PhpBytes) lines.push(`${ind}string(${byteLength(x)}) "${x instanceof PhpBytes ? x.toBinaryString() : x}"`);
    else if (x instanceof PhpEnum) lines.push(`${ind}enum(${x.className}::${x.caseName})`);
    else if (x instanceof PhpSerializable) lines.push(`${ind}object(${x.className})#${++handle} (0) {`, `${ind}}`);
    else if (seen.has(x)) lines.push(`${ind}*RECURSION*`);
    else if (x instanceof PhpArray) {
      lines.push(`${ind}array(${x.size}) {`);
      seen.add(x);
      for (const [k, val] of x) {
        lines.push(`${ind}  ${keyText(k)}=>`);
        walk(val, `${ind}  `, seen);
      }
      seen.delete(x);
      lines.push(`${ind}}`);
    } else if (x instanceof PhpObject) {
      lines.push(`${ind}object(${x.className})#${++handle} (${x.properties.size}) {`);
      seen.add(x);
      for (const [k, val] of x.properties) {
        if (typeof k === 'string') {
          const u = PhpObject.unmangle(k);
          const vis = u.visibility === 'public' ? '' : u.visibility === 'protected' ? ':protected' : `:"${u.declaringClass ?? ''}":private`;
          lines.push(`${ind}  ["${u.name}"${vis}]=>`);
        } else lines.push(`${ind}  ${keyText(k)}=>`);
        walk(val, `${ind}  `, seen);
      }
      seen.delete(x);
      lines.push(`${ind}}`);
    }
  };
  walk(v, '', new Set());
  return `${lines.join('\n')}\n`;
}

/** A PHP value as JSON-ready data (see the module comment for the lossy cases). */
export function toJson(v: PhpValue): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof PhpFloat) return toJson(v.valueOf());
  if (v instanceof PhpBytes) return { $bytes: Buffer.from(v.bytes).toString('base64') };
  if (v instanceof PhpEnum) return `${v.className}::${v.caseName}`;
  if (v instanceof PhpSerializable) return { __class: v.className, __data: typeof v.data === 'string' ? v.data : toJson(v.data) };
  if (v instanceof PhpArray) {
    let i = 0;
    let list = true;
    for (const k of v.keys()) if (k !== i++) list = false;
    if (list) return [...v.values()].map(toJson);
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, val] of v) out[k instanceof PhpBytes ? k.toBinaryString() : String(k)] = toJson(val);
    return out;
  }
  const out = Object.create(null) as Record<string, unknown>;
  out['__class'] = v.className;
  for (const [k, val] of v.properties) out[typeof k === 'string' ? PhpObject.unmangle(k).name : String(k)] = toJson(val);
  return out;
}

/** JSON data back to a PHP value: `{"$bytes": b64}` is a binary string, other objects arrays. */
export function fromJson(v: unknown): PhpValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'number') return v;
  if (Array.isArray(v)) return PhpArray.from(v.map(fromJson));
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$bytes' && typeof o['$bytes'] === 'string') return new PhpBytes(Buffer.from(o['$bytes'], 'base64'));
    const arr = new PhpArray();
    for (const k of keys) arr.set(k, fromJson(o[k]));
    return arr;
  }
  return null;
}

/** VALUE on the command line: JSON when it parses as JSON, else the string itself. */
export function parseCliValue(text: string): PhpValue {
  try {
    return fromJson(JSON.parse(text));
  } catch {
    return text;
  }
}
