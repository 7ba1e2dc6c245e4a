/**
 * @module spec/upload/cases
 * The upload-progress cases run against php-cgi by upload-progress.test.ts (each names the phpts of
 * ext/session/tests whose subject it covers; spec/conformance/phpt.ts counts them in PHPT.md).
 */
import { readdirSync } from 'node:fs';
import { SessionEngine } from '../../lib/engine.ts';

/** A form field, a file, or a part given as its raw header and body (malformed parts). */
export type Part = { name: string; value: string } | { name: string; filename: string; content: string } | { raw: string };

export interface UploadCase {
  name: string;
  /** What the case checks, in one line. */
  description: string;
  /** The phpts (ext/session/tests) whose subject this case covers ([] for the cases beyond them). */
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
export const BASE_INI = { 'session.upload_progress.enabled': '1', 'session.upload_progress.cleanup': '0', 'session.upload_progress.min_freq': '0' };

export const CASES: UploadCase[] = [
  { name: 'cookie_two_files', description: 'cookie id, two files, cleanup off', covers: [], cookie: { PHPSESSID: SID }, parts: [PROGRESS, FILE1, FILE2], read: [SID] },
  {
    name: 'cleanup',
    description: 'cleanup on: the record is removed, the rest of the session stays',
    covers: [],
    ini: { 'session.upload_progress.cleanup': '1' },
    cookie: { PHPSESSID: SID },
    parts: [PROGRESS, FILE1],
    stored: { [SID]: 'a|i:1;' },
    read: [SID],
  },
  { name: 'disabled', description: 'disabled', covers: [], ini: { 'session.upload_progress.enabled': '0' }, cookie: { PHPSESSID: SID }, parts: [PROGRESS, FILE1], stored: { [SID]: 'a|i:1;' }, read: [SID] },
  { name: 'no_progress_field', description: 'no progress field', covers: [], cookie: { PHPSESSID: SID }, parts: [FILE1], stored: { [SID]: 'a|i:1;' }, read: [SID] },
  { name: 'progress_field_after_file', description: 'progress field after the file', covers: [], cookie: { PHPSESSID: SID }, parts: [FILE1, PROGRESS], stored: { [SID]: 'a|i:1;' }, read: [SID] },
  { name: 'empty_progress_name', description: 'an empty progress name', covers: [], cookie: { PHPSESSID: SID }, parts: [{ name: 'PHP_SESSION_UPLOAD_PROGRESS', value: '' }, FILE1], stored: { [SID]: 'a|i:1;' }, read: [SID] },
  { name: 'sid_get', description: 'id in the query (use_only_cookies=0)', covers: [], ini: { 'session.use_only_cookies': '0' }, query: { PHPSESSID: SID }, parts: [PROGRESS, FILE1], read: [SID] },
  { name: 'sid_cookie_over_get', description: 'cookie wins over the query', covers: [], ini: { 'session.use_only_cookies': '0' }, cookie: { PHPSESSID: SID }, query: { PHPSESSID: OTHER }, parts: [PROGRESS, FILE1], read: [SID, OTHER] },
  { name: 'sid_get_only_cookies', description: 'id in the query ignored (use_only_cookies=1)', covers: [], query: { PHPSESSID: SID }, parts: [PROGRESS, FILE1], stored: { [SID]: 'a|i:1;' }, read: [SID] },
  { name: 'sid_post', description: 'id in a form field before the progress field', covers: [], parts: [{ name: 'PHPSESSID', value: OTHER }, PROGRESS, FILE1], read: [OTHER] },
  { name: 'sid_cookie_over_post', description: 'cookie replaces a form-field id', covers: [], cookie: { PHPSESSID: SID }, parts: [{ name: 'PHPSESSID', value: OTHER }, PROGRESS, FILE1], read: [SID, OTHER] },
  { name: 'strict_unknown_id', description: 'an unknown id under strict mode (a new one is made)', covers: [], ini: { 'session.use_strict_mode': '1' }, cookie: { PHPSESSID: SID }, parts: [PROGRESS, FILE1], read: [SID] },
  { name: 'sid_illegal_chars', description: 'an id with illegal characters (startup warnings)', covers: [], ini: { 'session.use_only_cookies': '0' }, cookie: { PHPSESSID: '_' }, parts: [PROGRESS, FILE1, FILE2], read: [] },
  { name: 'second_progress_field', description: 'a second progress field is ignored', covers: [], ini: { 'session.use_only_cookies': '0' }, cookie: { PHPSESSID: SID }, query: { PHPSESSID: OTHER }, parts: [{ name: 'PHPSESSID', value: 'post' }, { ...PROGRESS, value: 'one' }, FILE1, { ...PROGRESS, value: 'two' }, FILE2], read: [SID, OTHER] },
  { name: 'sid_post_only_cookies', description: 'only cookies: a form-field id still counts', covers: [], query: { PHPSESSID: SID }, parts: [{ name: 'PHPSESSID', value: OTHER }, PROGRESS, FILE1], read: [SID, OTHER] },
  {
    name: 'no_file_and_empty_file',
    description: 'no file chosen and an empty file',
    covers: [],
    cookie: { PHPSESSID: SID },
    parts: [PROGRESS, { name: 'f1', filename: '', content: '' }, { name: 'f2', filename: 'empty.txt', content: '' }, { name: 'note', value: 'after' }],
    read: [SID],
  },
  {
    name: 'cancel_upload',
    description: 'cancel_upload set in the stored record cancels the files',
    covers: [],
    cookie: { PHPSESSID: SID },
    parts: [PROGRESS, FILE1, FILE2],
    stored: { [SID]: 'upload_progress_upload_test|a:1:{s:13:"cancel_upload";b:1;}' },
    read: [SID],
  },
  { name: 'freq_percent_prefix_name', description: 'freq as a percentage, custom prefix and name', covers: [], ini: { 'session.upload_progress.freq': '50%', 'session.upload_progress.prefix': 'p_', 'session.upload_progress.name': 'up' }, cookie: { PHPSESSID: SID }, parts: [{ name: 'up', value: 'k' }, FILE1, FILE2], read: [SID] },
];


/**
 * The rfc1867 phpts' own shape: a session id in the cookie, the query and a form field (each
 * named after the phpt, as the phpts do), the progress field, and two one-byte files; every id is
 * read back.
 */
function phptCase(
  phpt: string,
  description: string,
  opts: { ini?: Record<string, string>; cookie?: boolean; get?: boolean; post?: boolean; progress?: boolean },
): UploadCase {
  const ids: string[] = [];
  const c: UploadCase = { name: phpt, description, covers: [`${phpt}.phpt`], ini: { 'session.use_only_cookies': '0', ...(opts.ini ?? {}) }, parts: [], read: ids };
  const id = phpt.replace(/_/g, '-');
  if (opts.cookie !== false) {
    c.cookie = { PHPSESSID: id };
    ids.push(id);
  }
  if (opts.get !== false) {
    c.query = { PHPSESSID: `${id}-get` };
    ids.push(`${id}-get`);
  }
  if (opts.post !== false) {
    c.parts.push({ name: 'PHPSESSID', value: `${id}-post` });
    ids.push(`${id}-post`);
  }
  if (opts.progress !== false) c.parts.push({ name: 'PHP_SESSION_UPLOAD_PROGRESS', value: `${phpt}.php` });
  c.parts.push({ name: 'file1', filename: 'file1.txt', content: '1' }, { name: 'file2', filename: 'file2.txt', content: '2' });
  return c;
}

CASES.push(
  phptCase('rfc1867', 'the record for two files, id from the cookie', {}),
  phptCase('rfc1867_cleanup', 'cleanup=1 removes the record at the end', { ini: { 'session.upload_progress.cleanup': '1' } }),
  phptCase('rfc1867_disabled', 'enabled=0: no record', { ini: { 'session.upload_progress.enabled': '0' }, progress: false }),
  phptCase('rfc1867_disabled_2', 'no progress field: no record', { progress: false }),
  phptCase('rfc1867_no_name', 'no progress field: no record', { progress: false }),
  phptCase('rfc1867_sid_cookie', 'the cookie id wins over query and form field', {}),
  phptCase('rfc1867_sid_get', 'no cookie: the query id replaces the form field id', { cookie: false }),
  phptCase('rfc1867_sid_get_2', 'the cookie id wins over the query id', {}),
  phptCase('rfc1867_sid_only_cookie', 'use_only_cookies=1: the cookie id', { ini: { 'session.use_only_cookies': '1' } }),
  phptCase('rfc1867_sid_only_cookie_2', 'use_only_cookies=1, no cookie: the form field id (the query is not read)', { ini: { 'session.use_only_cookies': '1' }, cookie: false }),
  phptCase('rfc1867_sid_post', 'only a form field id', { cookie: false, get: false }),
  {
    name: 'bug79221',
    description: 'a file part without a name is skipped (no file events): no record, nothing written',
    covers: ['bug79221.phpt'],
    ini: { 'session.use_only_cookies': '0' },
    cookie: { PHPSESSID: 'session-upload' },
    parts: [
      { name: 'PHPSESSID', value: 'session-upload' },
      { name: 'PHP_SESSION_UPLOAD_PROGRESS', value: 'ryat' },
      { raw: 'Content-Disposition: form-data; file="file"; ryat="filename"\r\n\r\n1' },
    ],
    read: ['session-upload'],
  },
);
for (const c of CASES) {
  if (c.name === 'sid_illegal_chars') c.covers.push('rfc1867_sid_invalid.phpt');
  if (c.name === 'second_progress_field') c.covers.push('rfc1867_inter.phpt');
  if (c.name === 'cancel_upload') c.covers.push('rfc1867_inter.phpt');
}

export const BOUNDARY = '----pseBoundary7MA4YWxkTrZu0gW';

/** The multipart/form-data body of the parts (boundary BOUNDARY). */
export function multipart(parts: Part[]): string {
  let body = '';
  for (const p of parts) {
    body += `--${BOUNDARY}\r\n`;
    if ('raw' in p) {
      body += `${p.raw}\r\n`;
    } else if ('filename' in p) {
      body += `Content-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: text/plain\r\n\r\n${p.content}\r\n`;
    } else {
      body += `Content-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`;
    }
  }
  return `${body}--${BOUNDARY}--\r\n`;
}

/** Reads what the store holds for each id (through the engine), times and temp names masked. */
export async function readBack(dir: string, ids: string[]): Promise<unknown> {
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
    await req.end();
  }
  // other files (a new id made under strict mode) are listed by name length only
  out['files'] = readdirSync(dir).map((f) => (ids.some((id) => f === `sess_${id}`) ? f : `sess_<${f.length - 5}>`)).sort();
  return out;
}
