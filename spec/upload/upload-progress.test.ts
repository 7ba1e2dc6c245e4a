/**
 * Upload progress (session.upload_progress.*) against php-cgi: each case posts one real
 * multipart/form-data body to php-cgi (a script that does nothing: the rfc1867 hook runs while PHP
 * reads the body, before the script) and feeds the same body, as parser events, to an engine
 * request (`req.uploadProgress(event)`). What each side leaves in its session store is then read
 * back the same way (an engine request with the session id as cookie) and compared, with the
 * record's times and temp file names masked. Bodies are smaller than PHP's 5 KiB read buffer, so
 * PHP has read the whole body at every event (post_bytes_processed = Content-Length) and hands
 * each file's data in one piece; feedEvents() emits the events PHP's parser does for such a body.
 * min_freq is 0 so no case depends on the clock.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import type { SessionRequest } from '../../lib/request.ts';
import { runPhpCgi } from '../php/runner.ts';
import { describeWith } from '../support/tools.ts';

import { BASE_INI, BOUNDARY, CASES, type Part, multipart, readBack } from './cases.ts';

/** The events PHP's rfc1867 parser raises for a body it holds whole (smaller than its buffer). */
async function feedEvents(req: SessionRequest, parts: Part[], contentLength: number): Promise<void> {
  const post = contentLength;
  await req.uploadProgress({ type: 'start', contentLength });
  for (const p of parts) {
    if ('raw' in p) continue; // a part PHP's parser skips (no name): no event
    if (!('filename' in p)) {
      await req.uploadProgress({ type: 'formdata', name: p.name, value: p.value });
      continue;
    }
    if (!(await req.uploadProgress({ type: 'file_start', name: p.name, filename: p.filename, postBytesProcessed: post }))) continue;
    let cancel = p.filename === '' ? 4 : 0; // UPLOAD_ERR_NO_FILE
    const tmp = cancel === 0 ? '/tmp/phpEngineTmp' : null;
    if (cancel === 0 && p.content.length > 0) {
      const ok = await req.uploadProgress({ type: 'file_data', offset: 0, length: p.content.length, postBytesProcessed: post });
      if (!ok) cancel = 8; // UPLOAD_ERR_EXTENSION
    }
    await req.uploadProgress({ type: 'file_end', tempFilename: tmp, cancelUpload: cancel, postBytesProcessed: post });
  }
  await req.uploadProgress({ type: 'end', postBytesProcessed: post });
}

function fresh(): string {
  return mkdtempSync(join(tmpdir(), 'pse-upload-'));
}

function writeStored(dir: string, stored: Record<string, string> | undefined): void {
  for (const [id, data] of Object.entries(stored ?? {})) writeFileSync(join(dir, `sess_${id}`), data);
}

const SCRIPT_DIR = fresh();
const SCRIPT = join(SCRIPT_DIR, 'upload.php');
writeFileSync(SCRIPT, "<?php echo 'ok';\n");
afterAll(() => rmSync(SCRIPT_DIR, { recursive: true, force: true }));

describeWith(['php-cgi'], 'upload progress: engine vs php-cgi', () => {
  const php = new Map<string, unknown>();

  beforeAll(async () => {
    for (const c of CASES) {
      const dir = fresh();
      try {
        writeStored(dir, c.stored);
        const body = multipart(c.parts);
        const res = await runPhpCgi({
          script: SCRIPT,
          ini: { display_errors: '1', html_errors: '0', error_reporting: '-1', ...BASE_INI, 'session.save_path': dir, 'session.gc_probability': '0', 'session.use_strict_mode': '0', ...(c.ini ?? {}) },
          body,
          contentType: `multipart/form-data; boundary=${BOUNDARY}`,
          ...(c.cookie !== undefined ? { cookie: Object.entries(c.cookie).map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
          ...(c.query !== undefined ? { query: new URLSearchParams(c.query).toString() } : {}),
          timeoutMs: 30_000,
        });
        if (!res.body.endsWith('ok')) throw new Error(`php-cgi: ${res.stdout}\n${res.stderr}`);
        const diags = [...res.body.matchAll(/(?:Warning|Notice|Deprecated|Fatal error): (.*) in Unknown on line 0/g)]
          .map((m) => m[1]!.split(dir).join('{dir}'))
          // main/rfc1867.c's own warnings belong to the multipart parser, which is the embedder's
          .filter((m) => !m.startsWith('File Upload '));
        php.set(c.name, { diags, store: await readBack(dir, c.read) });
        if (process.env["SHOW_UPLOAD"]) console.log(c.name, JSON.stringify(php.get(c.name)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }, 120_000);

  for (const c of CASES) {
    it(`${c.name}: ${c.description} (${c.covers.join(', ')})`, async () => {
      const dir = fresh();
      try {
        writeStored(dir, c.stored);
        const engine = new SessionEngine({ ini: { ...BASE_INI, 'session.save_path': dir, 'session.gc_probability': '0', 'session.use_strict_mode': '0', ...(c.ini ?? {}) } });
        const diags: string[] = [];
        const req = engine.request({ cookies: c.cookie ?? {}, query: c.query ?? {}, onDiagnostic: (d) => diags.push(d.message.split(dir).join('{dir}')) });
        const body = multipart(c.parts);
        await feedEvents(req, c.parts, Buffer.byteLength(body));
        await req.end();
        expect({ diags, store: await readBack(dir, c.read) }).toEqual(php.get(c.name));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
