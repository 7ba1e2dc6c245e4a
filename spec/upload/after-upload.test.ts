/**
 * What an upload leaves for the script that runs after it, against php-cgi. When the progress
 * field's id did not come from the cookie and session.use_trans_sid is on, PHP's hook turns on
 * PS(use_trans_sid) and turns off PS(use_only_cookies) for the rest of the request (ini_get() still
 * shows the configured values): the script's session_start() then takes the id from the query.
 * The same body runs in php-cgi and, as parser events, in the engine; then both run the script's
 * steps: session_start(), session_id(), the two ini_get() values, SID. The script reads SID with
 * constant('SID'): a bare `SID` in a script compiled after the upload is substituted at compile
 * time with the value the upload's progress writes defined (PHP-language behaviour; req.SID is the
 * run-time value).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import { runPhpCgi } from '../php/runner.ts';
import { describeWith } from '../support/tools.ts';

const root = mkdtempSync(join(tmpdir(), 'pse-upload-after-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const script = join(root, 'after.php');
writeFileSync(
  script,
  "<?php $r = [session_start(), session_id(), ini_get('session.use_only_cookies'), ini_get('session.use_trans_sid'), constant('SID')]; echo '@@', json_encode($r);\n",
);

const B = '----pseAfterBoundary';
const GET_ID = 'getid0123456789abcdefghijk';
const POST_ID = 'postid0123456789abcdefghij';
const body =
  `--${B}\r\nContent-Disposition: form-data; name="PHPSESSID"\r\n\r\n${POST_ID}\r\n` +
  `--${B}\r\nContent-Disposition: form-data; name="PHP_SESSION_UPLOAD_PROGRESS"\r\n\r\nk\r\n` +
  `--${B}\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nabc\r\n` +
  `--${B}--\r\n`;

const VARIANTS: Record<string, Record<string, string>> = {
  'use_trans_sid on, use_only_cookies off: trans-sid applies, the query id is taken': { 'session.use_trans_sid': '1', 'session.use_only_cookies': '0' },
  'use_trans_sid on, use_only_cookies on: the query id is ignored (a new id)': { 'session.use_trans_sid': '1' },
  'use_trans_sid off: the query id is ignored (a new id)': { 'session.use_trans_sid': '0' },
};

function mask(v: unknown[]): unknown[] {
  // a generated id is random on both sides
  return v.map((x) => (typeof x === 'string' && /^[0-9a-v]{32}$/.test(x) ? '<new id>' : typeof x === 'string' ? x.replace(/=[0-9a-v]{32}$/, '=<new id>') : x));
}

describeWith(['php-cgi'], 'the request after an upload: engine vs php-cgi', () => {
  for (const [name, extra] of Object.entries(VARIANTS)) {
    it(name, async () => {
      const ini = {
        'session.gc_probability': '0',
        'session.use_only_cookies': '1',
        'session.upload_progress.enabled': '1',
        'session.upload_progress.cleanup': '0',
        'session.upload_progress.min_freq': '0',
        ...extra,
      };
      const phpDir = mkdtempSync(join(root, 'php-'));
      const res = await runPhpCgi({
        script,
        ini: { ...ini, 'session.save_path': phpDir, display_errors: '1', html_errors: '0' },
        body,
        contentType: `multipart/form-data; boundary=${B}`,
        query: `PHPSESSID=${GET_ID}`,
        timeoutMs: 30_000,
      });
      const php = mask(JSON.parse(res.body.slice(res.body.indexOf('@@') + 2)) as unknown[]);

      const engDir = mkdtempSync(join(root, 'eng-'));
      const engine = new SessionEngine({ ini: { ...ini, 'session.save_path': engDir } });
      const req = engine.request({ query: { PHPSESSID: GET_ID } });
      const len = Buffer.byteLength(body);
      await req.uploadProgress({ type: 'start', contentLength: len });
      await req.uploadProgress({ type: 'formdata', name: 'PHPSESSID', value: POST_ID });
      await req.uploadProgress({ type: 'formdata', name: 'PHP_SESSION_UPLOAD_PROGRESS', value: 'k' });
      await req.uploadProgress({ type: 'file_start', name: 'f', filename: 'a.txt', postBytesProcessed: len });
      await req.uploadProgress({ type: 'file_data', offset: 0, length: 3, postBytesProcessed: len });
      await req.uploadProgress({ type: 'file_end', tempFilename: '/tmp/phpX', cancelUpload: 0, postBytesProcessed: len });
      await req.uploadProgress({ type: 'end', postBytesProcessed: len });
      const eng = mask([await req.start(), req.id(), req.iniGet('session.use_only_cookies'), req.iniGet('session.use_trans_sid'), req.SID]);
      await req.end();
      expect(eng).toEqual(php);
    });
  }
});
