/**
 * The README's "Writing a save handler" examples, run against the engine (no PHP needed): what
 * the documentation promises must work as written.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PhpArray,
  SessionEngine,
  SessionHandler,
  type SessionData,
  type SessionHandlerInterface,
  type SessionIdInterface,
  type SessionUpdateTimestampHandlerInterface,
} from 'php-session-engine';

// --- README example 1 (begin) ---
class MapSessionHandler implements SessionHandlerInterface, SessionIdInterface, SessionUpdateTimestampHandlerInterface {
  readonly #store = new Map<string, { data: SessionData; touched: number }>();
  open(_path: string, _name: string): boolean { return true; }
  close(): boolean { return true; }
  read(id: string): SessionData { return this.#store.get(id)?.data ?? ''; }
  write(id: string, data: SessionData): boolean {
    this.#store.set(id, { data, touched: Date.now() });
    return true;
  }
  destroy(id: string): boolean { this.#store.delete(id); return true; }
  gc(maxLifetime: number): number {
    let n = 0;
    for (const [id, s] of this.#store) {
      if (Date.now() - s.touched > maxLifetime * 1000) { this.#store.delete(id); n++; }
    }
    return n;
  }
  create_sid(): string { return crypto.randomUUID().replaceAll('-', ''); }
  validateId(id: string): boolean { return this.#store.has(id); }
  updateTimestamp(id: string, data: SessionData): boolean { return this.write(id, data); }
}
// --- README example 1 (end) ---

// --- README example 2 (begin) ---
class AuditedFiles extends SessionHandler {
  readonly log: string[] = [];
  override async write(id: string, data: SessionData): Promise<boolean> {
    this.log.push(`write ${id}`);
    return super.write(id, data);
  }
}
// --- README example 2 (end) ---

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('README: writing a save handler', () => {
  it('a Map-backed handler keeps a session across requests, strict mode refuses unknown ids', async () => {
    const handler = new MapSessionHandler();
    const engine = new SessionEngine({ ini: { 'session.use_strict_mode': 1 } });
    const r1 = engine.request({ cookies: { PHPSESSID: 'forged' } });
    await r1.functions.session_set_save_handler(handler, true);
    await r1.functions.session_start();
    const id = String(await r1.functions.session_id());
    expect(id).not.toBe('forged');
    (r1.session as PhpArray).set('user', 'ada');
    await r1.end();
    const r2 = engine.request({ cookies: { PHPSESSID: id } });
    await r2.functions.session_set_save_handler(handler, true);
    await r2.functions.session_start();
    expect((r2.session as PhpArray).get('user')).toBe('ada');
    await r2.end();
    expect(r2.diagnostics).toEqual([]);
  });

  it('a SessionHandler subclass overrides one method and files does the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pse-readme-'));
    dirs.push(dir);
    const handler = new AuditedFiles();
    const engine = new SessionEngine({ ini: { 'session.save_path': dir } });
    const req = engine.request({});
    await req.functions.session_set_save_handler(handler);
    await req.functions.session_start();
    (req.session as PhpArray).set('n', 1);
    await req.functions.session_write_close();
    const id = String(await req.functions.session_id());
    expect(handler.log).toEqual([`write ${id}`]);
    expect(readFileSync(join(dir, `sess_${id}`), 'utf8')).toBe('n|i:1;');
    expect(req.diagnostics).toEqual([]);
    await req.end();
  });
});
