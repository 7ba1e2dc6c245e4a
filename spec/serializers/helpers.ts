/**
 * Test helpers: run this library the way the PHP oracle runs PHP, so results compare 1:1.
 */
import { builtinSerializers, serialize, unserializePhp } from 'php-session-engine';
import { PhpArray, type PhpValue } from 'php-session-engine';
import type { SerializerContext, SessionSerializer } from 'php-session-engine';
import type { OracleDiagnostic } from '../oracle/php-oracle.ts';

export interface LocalResult {
  ok: boolean;
  reserialized?: Buffer;
  offset?: number;
  diagnostics: OracleDiagnostic[];
}

export function latin1(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/**
 * A payload written in the `php` format (`name|value…`) in another session format with the same
 * entries: php_binary (length-byte names) or php_serialize (one root array,
 * `a:N:{s:<len>:"<name>";<value>…}`). A payload with no `name|` entry stays as it is.
 */
export function sessionPayloadAs(handler: string, p: string): Buffer {
  if (handler === 'php' || [...p.matchAll(/([^|;}]*)\|/g)].length === 0) return latin1(p);
  const entries = p.split(/(?<=[;}])(?=[^;}|]*\|)/);
  if (handler === 'php_serialize') {
    const named = entries.map((e) => {
      const bar = e.indexOf('|');
      return bar < 0 ? e : `s:${bar}:"${e.slice(0, bar)}";${e.slice(bar + 1)}`;
    });
    return latin1(`a:${named.length}:{${named.join('')}}`);
  }
  return Buffer.concat(
    entries.map((e) => {
      const bar = e.indexOf('|');
      return bar < 0 ? latin1(e) : Buffer.concat([Buffer.from([bar]), latin1(e.slice(0, bar)), latin1(e.slice(bar + 1))]);
    }),
  );
}

/** unserialize() + serialize(), as the oracle's `unserialize` op does in PHP. */
export function localUnserialize(data: Uint8Array, options?: { allowed_classes?: boolean | string[]; max_depth?: number }): LocalResult {
  const diagnostics: OracleDiagnostic[] = [];
  const r = unserializePhp(data, { ...(options ?? {}), onDiagnostic: (level, message) => diagnostics.push({ level, message }) });
  if (!r.ok) return { ok: false, offset: r.offset, diagnostics };
  // PHP's unserialize() returns false for b:0; (and false-y failure); the oracle reports ok for it.
  return { ok: true, reserialized: serialize(r.value), diagnostics };
}

export function serializerNamed(name: string): SessionSerializer {
  const s = builtinSerializers.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no serializer ${name}`);
  return s;
}

/** A SerializerContext that records diagnostics with the prefix PHP would show for `fn`. */
export function recordingContext(fn: string, diagnostics: OracleDiagnostic[], maxDepth = 4096): SerializerContext {
  return {
    maxDepth,
    diagnostic: (level, message, raw) => diagnostics.push({ level, message: raw === true ? message : `${fn}(): ${message}` }),
  };
}

export interface LocalSessionResult {
  ok: boolean;
  session?: Buffer;
  encoded?: Buffer;
  diagnostics: OracleDiagnostic[];
}

/** session_decode() into an empty session, then serialize($_SESSION) and session_encode(). */
export function localSessionDecode(handler: string, data: Uint8Array): LocalSessionResult {
  const diagnostics: OracleDiagnostic[] = [];
  const s = serializerNamed(handler);
  const r = s.decode(data, new PhpArray(), recordingContext('session_decode', diagnostics));
  if (!r.ok) return { ok: false, diagnostics };
  const out: LocalSessionResult = { ok: true, session: serialize(r.session), diagnostics };
  if (r.session instanceof PhpArray) {
    const enc = s.encode(r.session, recordingContext('session_encode', diagnostics));
    if (enc !== null) out.encoded = Buffer.from(enc);
  }
  return out;
}

/** session_encode() of a session given as a php_serialize'd array. */
export function localSessionEncode(handler: string, value: PhpValue): { ok: boolean; encoded?: Buffer; diagnostics: OracleDiagnostic[] } {
  const diagnostics: OracleDiagnostic[] = [];
  if (!(value instanceof PhpArray)) throw new Error('session must be an array');
  const enc = serializerNamed(handler).encode(value, recordingContext('session_encode', diagnostics));
  return enc === null ? { ok: false, diagnostics } : { ok: true, encoded: Buffer.from(enc), diagnostics };
}

/**
 * PHP's session_decode()/session_encode() diagnostics without the two the engine adds on top of the
 * serializer ("Failed to decode session object...", "Cannot encode non-existent session"): what a
 * serializer alone must match.
 */
export function serializerDiagnostics(diags: readonly OracleDiagnostic[]): OracleDiagnostic[] {
  return diags.filter((d) => !d.message.includes('Failed to decode session object') && !d.message.includes('Cannot encode non-existent session'));
}

/** PHP's "Error at offset P of L bytes" notice → P. */
export function offsetFromDiagnostics(diags: readonly OracleDiagnostic[]): number | undefined {
  for (const d of diags) {
    const m = /Error at offset (\d+) of \d+ bytes/.exec(d.message);
    if (m) return Number(m[1]);
  }
  return undefined;
}

export function show(b: Uint8Array | undefined): string {
  return b === undefined ? '<none>' : JSON.stringify(Buffer.from(b).toString('latin1'));
}
