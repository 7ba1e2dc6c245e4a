/**
 * @module session/upload-progress
 * php_session_rfc1867_callback (session.c, "Upload hook handling"): the multipart parser's events,
 * fed by the embedder, keep `$_SESSION[prefix . name]` up to date while an upload runs. The
 * record is written to the store (initialize, set, flush) at most every `freq` bytes (or percent
 * of the content length) and `min_freq` seconds; `cancel_upload` set to true in the stored record
 * (by another request) cancels the upload; at the end the record is removed (cleanup) or marked
 * done.
 *
 * Only the events after a form field named `session.upload_progress.name` (with a non-empty
 * value) and with a session id (cookie, query, or a form field named like the session) count, as
 * in PHP: the progress field must come before the files in the form.
 */
import { SessionError } from '../errors.ts';
import { PhpArray } from '../value.ts';
import { iniBool, iniStr, type RequestContext } from './context.ts';
import type { Routine } from './drive.ts';
import { boundArray } from './codec.ts';
import { flush, initialize } from './lifecycle.ts';
import { releaseGlobals } from './module.ts';
import { sapiNow } from './sapi.ts';
import { PHP_SESSION_ACTIVE, type UploadProgress } from './state.ts';

/** The multipart parser's events (main/rfc1867.h, MULTIPART_EVENT_*), with PHP's event data. */
export type MultipartEvent =
  /** MULTIPART_EVENT_START: the body's Content-Length. */
  | { type: 'start'; contentLength: number }
  /** MULTIPART_EVENT_FORMDATA: a form field and its value. */
  | { type: 'formdata'; name: string; value: string }
  /** MULTIPART_EVENT_FILE_START: a file field, the client's file name, and the body bytes read so far. */
  | { type: 'file_start'; name: string; filename: string; postBytesProcessed: number }
  /** MULTIPART_EVENT_FILE_DATA: `length` bytes at `offset` of the current file were received. */
  | { type: 'file_data'; offset: number; length: number; postBytesProcessed: number }
  /** MULTIPART_EVENT_FILE_END: the file's temp name (null when none was made) and its UPLOAD_ERR_* code. */
  | { type: 'file_end'; tempFilename: string | null; cancelUpload: number; postBytesProcessed: number }
  /** MULTIPART_EVENT_END: the whole body was read. */
  | { type: 'end'; postBytesProcessed: number };

/** Deep copy of the record's arrays (PHP shares them by refcount, then separates on write). */
function copy(a: PhpArray): PhpArray {
  const out = new PhpArray();
  for (const [k, v] of a) out.set(k, v instanceof PhpArray ? copy(v) : v);
  return out;
}

/** php_session_rfc1867_early_find_sid: the id from the cookie, else (unless cookies only) the query. */
function earlyFindSid(r: RequestContext, p: UploadProgress): void {
  const name = iniStr(r, 'session.name');
  if (iniBool(r, 'session.use_cookies')) {
    const v = r.sapi.cookies[name];
    if (typeof v === 'string') {
      p.sid = v;
      p.applyTransSid = false;
      return;
    }
  }
  if (iniBool(r, 'session.use_only_cookies')) return;
  const v = r.sapi.query[name];
  if (typeof v === 'string') p.sid = v;
}

/** php_check_cancel_upload: the stored record says `cancel_upload => true`. */
function cancelRequested(r: RequestContext, key: string): boolean {
  const rec = boundArray(r)?.get(key);
  return rec instanceof PhpArray && rec.get('cancel_upload') === true;
}

/**
 * After php_session_initialize() the session is marked active whatever the outcome. When it
 * failed (an id with illegal characters, say), the PHP 8.2 we check against (Debian 8.2.36)
 * writes nothing and gives no write warning (php-src 8.2.32's rfc1867_sid_invalid.phpt still
 * expected "Failed to write session data"): there is no $_SESSION to write.
 */
function startForProgress(r: RequestContext, initialized: boolean): void {
  if (!initialized) {
    r.ps.bound = false;
    r.ps.sessionVar = undefined;
  }
  r.ps.status = PHP_SESSION_ACTIVE;
}

/** php_session_rfc1867_update: writes the record when due (or when forced). */
function* update(r: RequestContext, p: UploadProgress, force: boolean): Routine<void> {
  const data = p.data!;
  if (!force) {
    const processed = data.get('bytes_processed') as number;
    if (processed < p.nextUpdate) return;
    const minFreq = r.ini.parsed<number>('session.upload_progress.min_freq') ?? 1;
    if (minFreq > 0) {
      const now = Date.now() / 1000;
      if (now < p.nextUpdateTime) return;
      p.nextUpdateTime = now + minFreq;
    }
    p.nextUpdate = processed + p.updateStep;
  }
  startForProgress(r, yield* initialize(r));
  const sess = boundArray(r);
  if (sess !== undefined) {
    if (cancelRequested(r, p.key!)) p.cancelUpload = true;
    sess.set(p.key!, copy(data));
  }
  yield* flush(r, true);
}

/** php_session_rfc1867_cleanup: removes the record from the stored session. */
function* cleanup(r: RequestContext, p: UploadProgress): Routine<void> {
  startForProgress(r, yield* initialize(r));
  boundArray(r)?.delete(p.key!);
  yield* flush(r, true);
}

/**
 * php_session_rfc1867_callback for one event. Answers false when the upload is to be cancelled
 * (PHP's FAILURE: the parser drops the current file and reports UPLOAD_ERR_EXTENSION for it).
 */
export function* rfc1867Callback(r: RequestContext, event: MultipartEvent): Routine<boolean> {
  checkEvent(event);
  if (!iniBool(r, 'session.upload_progress.enabled')) return true;
  let p = r.ps.uploadProgress;
  // PHP's parser cannot send these out of order; an embedder can: refused rather than guessed
  if (p === undefined && event.type !== 'start') throw badEvent(`"${event.type}" before "start"`);
  if ((event.type === 'file_data' || event.type === 'file_end') && p!.sid !== undefined && p!.key !== undefined && p!.current === undefined) {
    throw badEvent(`"${event.type}" before "file_start"`);
  }
  switch (event.type) {
    case 'start':
      p = {
        sid: undefined,
        key: undefined,
        updateStep: 0,
        nextUpdate: 0,
        nextUpdateTime: 0,
        cancelUpload: false,
        applyTransSid: false,
        contentLength: event.contentLength,
        data: undefined,
        files: new PhpArray(),
        current: undefined,
      };
      r.ps.uploadProgress = p;
      break;
    case 'formdata': {
      if (p === undefined || (p.sid !== undefined && p.key !== undefined)) break;
      if (event.value === '') break;
      const name = cut(event.name);
      if (name === iniStr(r, 'session.name')) {
        p.sid = event.value;
      } else if (name === iniStr(r, 'session.upload_progress.name')) {
        p.key = iniStr(r, 'session.upload_progress.prefix') + event.value;
        // APPLY_TRANS_SID
        p.applyTransSid = iniBool(r, 'session.use_trans_sid') && !iniBool(r, 'session.use_only_cookies');
        earlyFindSid(r, p);
      }
      break;
    }
    case 'file_start': {
      if (p === undefined || p.sid === undefined || p.key === undefined) break;
      if (p.data === undefined) {
        const freq = r.ini.parsed<number>('session.upload_progress.freq') ?? -1;
        // % of the total size, in C's integer arithmetic
        p.updateStep = freq >= 0 ? freq : Math.trunc((p.contentLength * -freq) / 100);
        p.nextUpdate = 0;
        p.nextUpdateTime = 0;
        const data = new PhpArray();
        data.set('start_time', Math.trunc(nowMs(r) / 1000));
        data.set('content_length', p.contentLength);
        data.set('bytes_processed', event.postBytesProcessed);
        data.set('done', false);
        data.set('files', p.files);
        p.data = data;
        // php_rinit_session(0): fresh session globals for the progress writes
        yield* releaseGlobals(r);
        r.ps.sessionVar = undefined;
        r.ps.defineSid = true;
        r.ps.id = p.sid;
        if (p.applyTransSid) {
          // PS(use_trans_sid) = 1, PS(use_only_cookies) = 0: the storage changes, ini_get() does not
          r.ini.setValue('session.use_trans_sid', { raw: r.ini.get('session.use_trans_sid') ?? '', parsed: true });
          r.ini.setValue('session.use_only_cookies', { raw: r.ini.get('session.use_only_cookies') ?? '', parsed: false });
        }
        r.ps.sendCookie = false;
      }
      const file = new PhpArray();
      file.set('field_name', cut(event.name));
      file.set('name', cut(event.filename));
      file.set('tmp_name', null);
      file.set('error', 0);
      file.set('done', false);
      file.set('start_time', Math.trunc(Date.now() / 1000));
      file.set('bytes_processed', event.postBytesProcessed);
      p.files.push(file);
      p.current = file;
      yield* update(r, p, false);
      break;
    }
    case 'file_data':
      if (p === undefined || p.sid === undefined || p.key === undefined) break;
      p.current!.set('bytes_processed', event.offset + event.length);
      p.data!.set('bytes_processed', event.postBytesProcessed);
      yield* update(r, p, false);
      break;
    case 'file_end':
      if (p === undefined || p.sid === undefined || p.key === undefined) break;
      if (event.tempFilename !== null) p.current!.set('tmp_name', event.tempFilename);
      p.current!.set('error', event.cancelUpload);
      p.current!.set('done', true);
      p.data!.set('bytes_processed', event.postBytesProcessed);
      yield* update(r, p, false);
      break;
    case 'end':
      if (p === undefined) break;
      if (p.sid !== undefined && p.key !== undefined) {
        if (iniBool(r, 'session.upload_progress.cleanup')) {
          yield* cleanup(r, p);
        } else if (p.data !== undefined) {
          p.data.set('done', true);
          p.data.set('bytes_processed', event.postBytesProcessed);
          yield* update(r, p, true);
        }
        yield* releaseGlobals(r);
        r.ps.sessionVar = undefined;
      }
      r.ps.uploadProgress = undefined;
      return true;
  }
  return !(p?.cancelUpload ?? false);
}

function badEvent(what: string): SessionError {
  return new SessionError(`uploadProgress(): ${what}`, 'ERR_UPLOAD_EVENT');
}

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks an event's shape (the embedder's input): a typed error for anything PHP's parser could not send. */
function checkEvent(e: MultipartEvent): void {
  if (typeof e !== 'object' || e === null) throw badEvent('an event must be an object');
  const ev = e as unknown as Record<string, unknown>;
  const counts = (...names: string[]): void => {
    for (const n of names) if (!isCount(ev[n])) throw badEvent(`"${String(ev['type'])}" needs ${n} as a non-negative integer`);
  };
  const strings = (...names: string[]): void => {
    for (const n of names) if (typeof ev[n] !== 'string') throw badEvent(`"${String(ev['type'])}" needs ${n} as a string`);
  };
  switch (ev['type']) {
    case 'start':
      return counts('contentLength');
    case 'formdata':
      return strings('name', 'value');
    case 'file_start':
      strings('name', 'filename');
      return counts('postBytesProcessed');
    case 'file_data':
      return counts('offset', 'length', 'postBytesProcessed');
    case 'file_end':
      if (ev['tempFilename'] !== null && typeof ev['tempFilename'] !== 'string') throw badEvent('"file_end" needs tempFilename as a string or null');
      return counts('cancelUpload', 'postBytesProcessed');
    case 'end':
      return counts('postBytesProcessed');
    default:
      throw badEvent(`unknown event type ${JSON.stringify(ev['type'])}`);
  }
}

/** The C string PHP compares (a name is cut at its first NUL). */
function cut(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}

function nowMs(r: RequestContext): number {
  return sapiNow(r.sapi);
}
