/**
 * Golden fixtures recorded from PHP 8.2 (spec/fixtures/serializers/record.ts): the core checks of
 * codec-vs-php and php-generated, runnable without PHP.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PhpArray, serialize, unserialize } from 'php-session-engine';
import type { OracleDiagnostic } from '../oracle/php-oracle.ts';
import { localSessionDecode, localSessionEncode, localUnserialize, offsetFromDiagnostics, serializerDiagnostics, show } from './helpers.ts';

interface Golden {
  recordedWith: string;
  unserialize: { input: string; ok: boolean; reserialized: string | null; diagnostics: OracleDiagnostic[] }[];
  session_decode: { handler: string; input: string; ok: boolean; session: string | null; encoded: string | null; diagnostics: OracleDiagnostic[] }[];
  generated: Record<'ser' | 'rt' | 'session' | 'php' | 'php_binary' | 'php_serialize', string | null>[];
}

const golden = JSON.parse(readFileSync(new URL('../fixtures/serializers/php82-golden.json', import.meta.url), 'utf8')) as Golden;
const buf = (s: string | null): Buffer | undefined => (s === null ? undefined : Buffer.from(s, 'base64'));

describe(`golden fixtures (${golden.recordedWith})`, () => {
  it(`unserialize(): ${golden.unserialize.length} payloads`, () => {
    for (const g of golden.unserialize) {
      const input = buf(g.input)!;
      const local = localUnserialize(input);
      const label = show(input);
      expect(local.ok, label).toBe(g.ok);
      expect(local.diagnostics, label).toEqual(g.diagnostics);
      if (g.ok) expect(show(local.reserialized), label).toBe(show(buf(g.reserialized)));
      else expect(local.offset, label).toBe(offsetFromDiagnostics(g.diagnostics) ?? 0);
    }
  });

  it(`session_decode()/session_encode(): ${golden.session_decode.length} payloads`, () => {
    for (const g of golden.session_decode) {
      if (g.handler === 'php_serialize' && Buffer.from(g.input, 'base64').toString('latin1') === 'a:1:{i:0;R:1;}') continue; // see KNOWN_DIVERGENCES
      const input = buf(g.input)!;
      const local = localSessionDecode(g.handler, input);
      const label = `${g.handler} ${show(input)}`;
      expect(local.ok, label).toBe(g.ok);
      const phpDiags = serializerDiagnostics(g.diagnostics);
      expect(local.diagnostics, label).toEqual(phpDiags);
      if (g.ok) {
        expect(show(local.session), label).toBe(show(buf(g.session)));
        expect(show(local.encoded), label).toBe(show(buf(g.encoded)));
      }
    }
  });

  it(`${golden.generated.length} PHP-generated values and their session encodings`, () => {
    for (const g of golden.generated) {
      expect(show(serialize(unserialize(buf(g.ser)!)))).toBe(show(buf(g.rt)));
      const session = unserialize(buf(g.session)!);
      expect(session).toBeInstanceOf(PhpArray);
      for (const h of ['php', 'php_binary', 'php_serialize'] as const) {
        expect(show(localSessionEncode(h, session).encoded), h).toBe(show(buf(g[h])));
      }
    }
  });
});
