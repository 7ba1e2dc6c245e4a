/**
 * bench/bare-codec: a floor reference for bench/serializers, not a product and not a competitor.
 *
 * The least work a JS implementation of PHP's serialize format can do on the bench payloads: a
 * parser and a writer for the token kinds they contain (a, O, s, i, d, b, N) that trust their
 * input completely. No bounds or syntax checks, no error offsets, no depth limit, no references,
 * no key normalisation, no binary (non-UTF-8) strings, no lossless floats, no value model: a PHP
 * array becomes `{ k: keys[], v: values[] }`, an object `{ c: className, k, v }`. Written for speed
 * the same way the library is (byte loops over a Buffer, ASCII text cut from 64 KB Latin-1 windows
 * of the input, native UTF-8 only where a string has non-ASCII bytes).
 *
 * Whatever ratio to PHP this reaches bounds what any complete implementation can reach with the same
 * approach: the library has to do all of this plus everything listed above.
 */

export interface BareArray {
  c?: string;
  k: (string | number)[];
  v: BareValue[];
}
export type BareValue = null | boolean | number | string | BareArray;

const WINDOW = 64 * 1024;

/** Buffer's native slice and write methods (present in Node, missing from @types/node). */
type NativeBuffer = Buffer & {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  utf8Write(s: string, offset: number): number;
};

let b = Buffer.alloc(0) as NativeBuffer;
let p = 0;
let win = '';
let winStart = 0;

function text(s: number, e: number): string {
  const off = s - winStart;
  if (off < 0 || e - winStart > win.length) {
    win = b.latin1Slice(s, Math.min(b.length, s + WINDOW));
    winStart = s;
    return win.substring(0, e - s);
  }
  return win.substring(off, off + (e - s));
}

function int(): number {
  let c = b[p]!;
  let neg = false;
  if (c === 0x2d) {
    neg = true;
    c = b[++p]!;
  }
  let n = 0;
  while (c >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30);
    c = b[++p]!;
  }
  return neg ? -n : n;
}

/** `s:<len>:"...";` with p on the `s`. */
function str(): string {
  p += 2;
  const len = int();
  const s = p + 2;
  const e = s + len;
  p = e + 2;
  let i = s;
  while (i < e && b[i]! < 0x80) i++;
  return i === e ? text(s, e) : b.utf8Slice(s, e);
}

function value(): BareValue {
  switch (b[p]) {
    case 0x73:
      return str();
    case 0x69: {
      p += 2;
      const n = int();
      p++;
      return n;
    }
    case 0x64: {
      const s = p + 2;
      let e = s;
      while (b[e] !== 0x3b) e++;
      p = e + 1;
      return Number(text(s, e));
    }
    case 0x62: {
      const v = b[p + 2] === 0x31;
      p += 4;
      return v;
    }
    case 0x4e:
      p += 2;
      return null;
    case 0x61:
      p += 2;
      return members(undefined);
    case 0x4f: {
      p += 2;
      const len = int();
      const c = text(p + 2, p + 2 + len);
      p += len + 4;
      return members(c);
    }
    default:
      throw new Error(`bare codec: unsupported token at ${p}`);
  }
}

/** `<n>:{ key value ... }` with p on the count. */
function members(c: string | undefined): BareArray {
  const n = int();
  p += 2;
  const k: (string | number)[] = [];
  const v: BareValue[] = [];
  for (let i = 0; i < n; i++) {
    if (b[p] === 0x73) {
      k.push(str());
    } else {
      p += 2;
      k.push(int());
      p++;
    }
    v.push(value());
  }
  p++;
  return c === undefined ? { k, v } : { c, k, v };
}

export function bareUnserialize(input: Buffer): BareValue {
  b = input as NativeBuffer;
  p = 0;
  win = '';
  winStart = 0;
  return value();
}

let out = Buffer.allocUnsafe(256 * 1024) as NativeBuffer;
let o = 0;

function room(n: number): void {
  if (o + n <= out.length) return;
  const next = Buffer.allocUnsafe(Math.max(out.length * 2, o + n)) as NativeBuffer;
  out.copy(next, 0, 0, o);
  out = next;
}

function ascii(s: string): void {
  room(s.length);
  for (let i = 0; i < s.length; i++) out[o++] = s.charCodeAt(i);
}

function digits(n: number): void {
  if (n < 0) {
    out[o++] = 0x2d;
    n = -n;
  }
  if (n < 10) {
    out[o++] = 0x30 + n;
    return;
  }
  let d = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) d++;
  let i = o + d;
  o = i;
  while (n >= 10) {
    const q = Math.floor(n / 10);
    out[--i] = 0x30 + (n - q * 10);
    n = q;
  }
  out[--i] = 0x30 + n;
}

function writeStr(s: string): void {
  const len = s.length;
  room(len * 3 + 32);
  out[o++] = 0x73;
  out[o++] = 0x3a;
  const head = o;
  digits(len);
  out[o++] = 0x3a;
  out[o++] = 0x22;
  let i = 0;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) break;
    out[o++] = c;
  }
  if (i < len) {
    // Not ASCII: redo the header with the UTF-8 byte length.
    const bytes = Buffer.byteLength(s, 'utf8');
    o = head;
    digits(bytes);
    out[o++] = 0x3a;
    out[o++] = 0x22;
    o += out.utf8Write(s, o);
  }
  out[o++] = 0x22;
  out[o++] = 0x3b;
}

function write(v: BareValue): void {
  if (typeof v === 'string') return writeStr(v);
  room(40);
  if (typeof v === 'number') {
    if (Number.isInteger(v)) {
      out[o++] = 0x69;
      out[o++] = 0x3a;
      digits(v);
      out[o++] = 0x3b;
    } else {
      ascii(`d:${v};`);
    }
    return;
  }
  if (typeof v === 'boolean') {
    out[o++] = 0x62;
    out[o++] = 0x3a;
    out[o++] = v ? 0x31 : 0x30;
    out[o++] = 0x3b;
    return;
  }
  if (v === null) {
    out[o++] = 0x4e;
    out[o++] = 0x3b;
    return;
  }
  if (v.c !== undefined) {
    out[o++] = 0x4f;
    out[o++] = 0x3a;
    digits(v.c.length);
    out[o++] = 0x3a;
    ascii(`"${v.c}":`);
    room(24);
  } else {
    out[o++] = 0x61;
    out[o++] = 0x3a;
  }
  const { k, v: vals } = v;
  digits(k.length);
  out[o++] = 0x3a;
  out[o++] = 0x7b;
  for (let i = 0; i < k.length; i++) {
    const key = k[i]!;
    if (typeof key === 'number') {
      room(24);
      out[o++] = 0x69;
      out[o++] = 0x3a;
      digits(key);
      out[o++] = 0x3b;
    } else {
      writeStr(key);
    }
    write(vals[i]!);
  }
  room(1);
  out[o++] = 0x7d;
}

export function bareSerialize(v: BareValue): Buffer {
  o = 0;
  write(v);
  return Buffer.from(out.subarray(0, o));
}
