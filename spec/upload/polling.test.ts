/**
 * A PHP script polls the progress of an upload that Node receives: the engine (files module) and
 * php-cgi share one save directory; after each parser event fed to the engine, a php-cgi request
 * with the same session cookie reads `$_SESSION['upload_progress_poll']` and prints it. PHP must see
 * the record the engine wrote for that event (freq 0 and min_freq 0: every event writes), then no
 * record once the upload ends with cleanup on. This is the upload-progress page of a PHP app
 * working while a Node service takes the upload.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import type { MultipartEvent } from '../../lib/request.ts';
import { runPhpCgi } from '../php/runner.ts';
import { describeWith } from '../support/tools.ts';

const root = mkdtempSync(join(tmpdir(), 'pse-upload-poll-'));
const dir = join(root, 'save');
const script = join(root, 'poll.php');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SID = 'pollsid0123456789abcdefghij';
const INI = {
  'session.save_path': dir,
  'session.gc_probability': '0',
  'session.upload_progress.enabled': '1',
  'session.upload_progress.cleanup': '1',
  'session.upload_progress.freq': '0',
  'session.upload_progress.min_freq': '0',
};

async function poll(): Promise<unknown> {
  const res = await runPhpCgi({
    script,
    ini: { ...INI, 'session.upload_progress.freq': '0', display_errors: '1', html_errors: '0', error_reporting: '-1' },
    cookie: `PHPSESSID=${SID}`,
    timeoutMs: 30_000,
  });
  return JSON.parse(res.body);
}

/** The record PHP should see after an event: [bytes_processed, the file's bytes_processed, file done, tmp_name]. */
type Seen = [number, number, boolean, string | null] | null;

function shape(rec: unknown): Seen {
  if (rec === null) return null;
  const r = rec as { content_length: number; bytes_processed: number; done: boolean; files: Array<{ field_name: string; name: string; bytes_processed: number; done: boolean; tmp_name: string | null; error: number }> };
  expect(r.content_length).toBe(1000);
  expect(r.done).toBe(false);
  expect(r.files).toHaveLength(1);
  const f = r.files[0]!;
  expect([f.field_name, f.name, f.error]).toEqual(['upfile', 'big.bin', 0]);
  return [r.bytes_processed, f.bytes_processed, f.done, f.tmp_name];
}

describeWith(['php-cgi'], 'upload progress polled by PHP while Node receives', () => {
  it('PHP reads each record the engine writes, and none after the cleanup', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(script, "<?php session_start(); echo json_encode($_SESSION['upload_progress_poll'] ?? null); session_write_close();\n");
    // the app's own data in the session, which the upload must keep
    writeFileSync(join(dir, `sess_${SID}`), 'user|s:5:"alice";');
    const engine = new SessionEngine({ ini: INI });
    const req = engine.request({ cookies: { PHPSESSID: SID } });
    const steps: Array<[MultipartEvent, Seen]> = [
      [{ type: 'start', contentLength: 1000 }, null],
      [{ type: 'formdata', name: 'PHP_SESSION_UPLOAD_PROGRESS', value: 'poll' }, null],
      [{ type: 'file_start', name: 'upfile', filename: 'big.bin', postBytesProcessed: 300 }, [300, 300, false, null]],
      [{ type: 'file_data', offset: 0, length: 200, postBytesProcessed: 600 }, [600, 200, false, null]],
      [{ type: 'file_data', offset: 200, length: 400, postBytesProcessed: 900 }, [900, 600, false, null]],
      [{ type: 'file_end', tempFilename: '/tmp/phpUpload1', cancelUpload: 0, postBytesProcessed: 950 }, [950, 600, true, '/tmp/phpUpload1']],
      [{ type: 'end', postBytesProcessed: 1000 }, null],
    ];
    const seen: Seen[] = [];
    for (const [event] of steps) {
      expect(await req.uploadProgress(event)).toBe(true);
      seen.push(shape(await poll()));
    }
    expect(seen).toEqual(steps.map(([, s]) => s));
    expect(req.diagnostics).toEqual([]);
    await req.end();
    // the session's other data survived every progress write
    const after = engine.request({ cookies: { PHPSESSID: SID } });
    await after.start();
    expect(after.session.toJS()).toEqual({ user: 'alice' });
    await after.abort();
  });

  it('freq in bytes: a write only once bytes_processed reaches the last write plus freq', async () => {
    // freq 500: file_start (300 >= 0) writes and sets the next point to 800; 600 is skipped (PHP
    // still sees 300); 900 writes (next 1400); file_end at 950 is skipped; cleanup=0 here, so the
    // end writes done = true whatever the step.
    const SID2 = 'pollsid20123456789abcdefghij';
    writeFileSync(script, `<?php session_id('${SID2}'); session_start(); echo json_encode($_SESSION['upload_progress_poll'] ?? null); session_write_close();\n`);
    const engine = new SessionEngine({ ini: { ...INI, 'session.upload_progress.freq': '500', 'session.upload_progress.cleanup': '0' } });
    const req = engine.request({ cookies: { PHPSESSID: SID2 } });
    const seen: unknown[] = [];
    const events: MultipartEvent[] = [
      { type: 'start', contentLength: 1000 },
      { type: 'formdata', name: 'PHP_SESSION_UPLOAD_PROGRESS', value: 'poll' },
      { type: 'file_start', name: 'upfile', filename: 'big.bin', postBytesProcessed: 300 },
      { type: 'file_data', offset: 0, length: 200, postBytesProcessed: 600 },
      { type: 'file_data', offset: 200, length: 400, postBytesProcessed: 900 },
      { type: 'file_end', tempFilename: '/tmp/phpUpload2', cancelUpload: 0, postBytesProcessed: 950 },
      { type: 'end', postBytesProcessed: 1000 },
    ];
    for (const e of events) {
      await req.uploadProgress(e);
      const rec = (await poll()) as { bytes_processed: number; done: boolean } | null;
      seen.push(rec === null ? null : [rec.bytes_processed, rec.done]);
    }
    await req.end();
    expect(seen).toEqual([null, null, [300, false], [300, false], [900, false], [900, false], [1000, true]]);
  });
});
