/**
 * @module session/functions/codec
 * PHP_FUNCTION(session_encode) and PHP_FUNCTION(session_decode).
 */
import { MSG } from '../../messages.ts';
import { PhpBytes } from '../../value.ts';
import { throwPending, type RequestContext } from '../context.ts';
import type { Routine } from '../drive.ts';
import { invoke, invokeSync } from '../frame.ts';
import { decode, encode } from '../codec.ts';
import { argc, strArg } from './args.ts';
import { requireActive } from './guard.ts';

const te = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as a PHP string value: a JS string when valid UTF-8, else PhpBytes. */
export function bytesToPhpString(b: Uint8Array): string | PhpBytes {
  try {
    return utf8.decode(b);
  } catch {
    return new PhpBytes(b);
  }
}

export function session_encode(r: RequestContext, args: readonly unknown[]): string | PhpBytes | false {
  argc('session_encode', args, 0, 0);
  return invokeSync(r, 'session_encode', () => {
    const data = encode(r);
    throwPending(r);
    return data === null ? false : bytesToPhpString(data);
  });
}

export function session_decode(r: RequestContext, args: readonly unknown[]): Promise<boolean> {
  argc('session_decode', args, 1, 1);
  const raw = args[0];
  let data: Uint8Array;
  if (raw instanceof Uint8Array) data = raw;
  else if (raw instanceof PhpBytes) data = raw.bytes;
  else data = te.encode(strArg(r, 'session_decode', 1, 'data', raw, false)!);
  return invoke(r, 'session_decode', () => sessionDecode(r, data));
}

/** A module-level generator (a generator closure per call would keep the request alive until a full GC). */
function* sessionDecode(r: RequestContext, data: Uint8Array): Routine<boolean> {
  if (!requireActive(r, MSG.DECODE_INACTIVE)) return false;
  return yield* decode(r, data);
}
