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
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import type { SessionRequest } from '../../lib/request.ts';
import { runPhpCgi } from '../php/runner.ts';
import { describeWith } from '../support/tools.ts';

type Part = { name: string; value: string } | { name: string; filename: string; content: string };

interface UploadCase {
  name: string;
  /** The phpts (ext/session/tests) whose subject this case covers. */
  covers: string[];
  ini?: Record<string, string>;
  cookie?: Record<string, string>;
  query?: Record<string, string>;
  parts: Part[];
  /** Session files present before the upload: id → serialized data. */
  stored?: Record<string, string>;
  /** Ids whose stored session is compared afterwards. */
  read: string[];
}

const SID = 'uploadsid0123456789abcdef';
const OTHER = 'postsid0123456789abcdefgh';
const PROGRESS = { name: 'PHP_SESSION_UPLOAD_PROGRESS', value: 'upload_test' };
const FILE1 = { name: 'file1', filename: 'file1.txt', content: 'hello world\n'.repeat(20) };
const FILE2 = { name: 'file2', filename: 'file2.txt', content: 'x'.repeat(700) };
const BASE_INI = { 'session.upload_progress.enabled': '1', 'session.upload_progress.cleanup': '0', 'session.upload_progress.min_freq': '0' };

const CASES: UploadCase[] = [
  { name: 'cookie id, two files, cleanup off', covers: ['rfc1867.phpt', 'rfc1867_sid_cookie.phpt'], cookie: { PHPSESSID: SID }, parts: [PROGRESS, FILE1, FILE2], read: [SID] },
  {
    name: 'cleanup on: the record is removed, the rest of the session stays',
    covers: ['rfc1867_cleanup.phpt'],
    ini: { 'session.upload_progress.cleanup': '1' },
    cookie: { PHPSESSID: SID },
    parts: [PROGRESS, FILE1],
    stored: { [SID]: 'a|i:1;' },
    read: [SID],
  },
  { name: 'disabled', covers: ['rfc1867_disabled.phpt', 'rfc1867_disabled_2.phpt'], ini: { 'session.upload_progress.enabled': '0' }, cookie: { PHPSESSID: SID }, parts: [PROGRESS, FILE1], stored: { [SID]: 'a|i:1;' }, read: [SID] },
  { name: 'no progress field', covers: ['rfc1867_no_name.phpt'], cookie: { PHPSESSID: SID }, parts: [FILE1], stored: { [SID]: 'a|i:1;' }, read: [SID] },
  { name: 'progress field after the file', covers: ['rfc1867_no_name.phpt'], cookie: { PHPSESSID: SID }, parts: [FILE1, PROGRESS], stored: { [SID]: 'a|i:1;' }, read: [SID] },
  { name: 'an empty progress name', covers: ['rfc1867_no_name.phpt'], cookie: { PHPSESSID: SID }, parts: [{ name: 'PHP_SESSION_UPLOAD_PROGRESS', value: '' }, FILE1], stored: { [SID]: 'a|i:1;' }, read: [SID] },
  { name: 'id in the query (use_only_cookies=0)', covers: ['rfc1867_sid_get.phpt'], ini: { 'session.use_only_cookies': '0' }, query: { PHPSESSID: SID }, parts: [PROGRESS, FILE1], read: [SID] },
  { name: 'cookie wins over the query', covers: ['rfc1867_sid_get_2.phpt'], ini: { 'session.use_only_cookies': '0' }, cookie: { PHPSESSID: SID }, query: { PHPSESSID: OTHER }, parts: [PROGRESS, FILE1], read: [SID, OTHER] },
  { name: 'id in the query ignored (use_only_cookies=1)', covers: ['rfc1867_sid_only_cookie.phpt', 'rfc1867_sid_only_cookie_2.phpt'], query: { PHPSESSID: SID }, parts: [PROGRESS, FILE1], stored: { [SID]: 'a|i:1;' }, read: [SID] },
  { name: 'id in a form field before the progress field', covers: ['rfc1867_sid_post.phpt'], parts: [{ name: 'PHPSESSID', value: OTHER }, PROGRESS, FILE1], read: [OTHER] },
  { name: 'cookie replaces a form-field id', covers: ['rfc1867_sid_post.phpt'], cookie: { PHPSESSID: SID }, parts: [{ name: 'PHPSESSID', value: OTHER }, PROGRESS, FILE1], read: [SID, OTHER] },
  { name: 'an unknown id under strict mode (a new one is made)', covers: ['rfc1867.phpt'], ini: { 'session.use_strict_mode': '1' }, cookie: { PHPSESSID: SID }, parts: [PROGRESS, FILE1], read: [SID] },
  { name: 'an id with illegal characters (startup warnings)', covers: ['rfc1867_sid_invalid.phpt'], ini: { 'session.use_only_cookies': '0' }, cookie: { PHPSESSID: '_' }, parts: [PROGRESS, FILE1, FILE2], read: [] },
  { name: 'a second progress field is ignored', covers: ['rfc1867_inter.phpt'], ini: { 'session.use_only_cookies': '0' }, cookie: { PHPSESSID: SID }, query: { PHPSESSID: OTHER }, parts: [{ name: 'PHPSESSID', value: 'post' }, { ...PROGRESS, value: 'one' }, FILE1, { ...PROGRESS, value: 'two' }, FILE2], read: [SID, OTHER] },
  { name: 'only cookies: a form-field id still counts', covers: ['rfc1867_sid_only_cookie_2.phpt', 'rfc1867_disabled_2.phpt'], query: { PHPSESSID: SID }, parts: [{ name: 'PHPSESSID', value: OTHER }, PROGRESS, FILE1], read: [SID, OTHER] },
  {
    name: 'no file chosen and an empty file',
    covers: ['rfc1867.phpt'],
    cookie: { PHPSESSID: SID },
    parts: [PROGRESS, { name: 'f1', filename: '', content: '' }, { name: 'f2', filename: 'empty.txt', content: '' }, { name: 'note', value: 'after' }],
    read: [SID],
  },
  {
    name: 'cancel_upload set in the stored record cancels the files',
    covers: ['rfc1867_inter.phpt'],
    cookie: { PHPSESSID: SID },
    parts: [PROGRESS, FILE1, FILE2],
    stored: { [SID]: 'upload_progress_upload_test|a:1:{s:13:"cancel_upload";b:1;}' },
    read: [SID],
  },
  { name: 'freq as a percentage, custom prefix and name', covers: ['rfc1867.phpt'], ini: { 'session.upload_progress.freq': '50%', 'session.upload_progress.prefix': 'p_', 'session.upload_progress.name': 'up' }, cookie: { PHPSESSID: SID }, parts: [{ name: 'up', value: 'k' }, FILE1, FILE2], read: [SID] },
];

const BOUNDARY = '----pseBoundary7MA4YWxkTrZu0gW';

function multipart(parts: Part[]): string {
  let body = '';
  for (const p of parts) {
    body += `--${BOUNDARY}\r\n`;
    if ('filename' in p) {
      body += `Content-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: text/plain\r\n\r\n${p.content}\r\n`;
    } else {
      body += `Content-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`;
    }
  }
  return `${body}--${BOUNDARY}--\r\n`;
}

/** The events PHP's rfc1867 parser raises for a body it holds whole (smaller than its buffer). */
async function feedEvents(req: SessionRequest, parts: Part[], contentLength: number): Promise<void> {
  const post = contentLength;
  await req.uploadProgress({ type: 'start', contentLength });
  for (const p of parts) {
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

/** Reads what the store holds for each id (through the engine), times and temp names masked. */
async function readBack(dir: string, ids: string[]): Promise<unknown> {
  const engine = new SessionEngine({ ini: { 'session.save_path': dir, 'session.gc_probability': '0', 'session.use_strict_mode': '0' } });
  const out: Record<string, unknown> = {};
  for (const id of ids) {
    const req = engine.request({ cookies: { PHPSESSID: id } });
    await req.start();
    out[id] = JSON.parse(
      JSON.stringify(req.session.toJS(), (k, v: unknown) => {
        if (k === 'start_time') return typeof v === 'number' && Number.isInteger(v) && v > 1_600_000_000 ? '<time>' : v;
        if (k === 'tmp_name') return typeof v === 'string' && v.length > 0 ? '<tmp>' : v;
        return v;
      }),
    );
    await req.abort();
  }
  // other files (a new id made under strict mode) are listed by name length only
  out['files'] = readdirSync(dir).map((f) => (ids.some((id) => f === `sess_${id}`) ? f : `sess_<${f.length - 5}>`)).sort();
  return out;
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
        const diags = [...res.body.matchAll(/(?:Warning|Notice|Deprecated|Fatal error): (.*) in Unknown on line 0/g)].map((m) => m[1]!.split(dir).join('{dir}'));
        php.set(c.name, { diags, store: await readBack(dir, c.read) });
        if (process.env["SHOW_UPLOAD"]) console.log(c.name, JSON.stringify(php.get(c.name)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }, 120_000);

  for (const c of CASES) {
    it(`${c.name} (${c.covers.join(', ')})`, async () => {
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
