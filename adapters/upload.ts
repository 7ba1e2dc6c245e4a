/**
 * @module php-session-engine/adapters/upload
 * Feeds PHP's rfc1867 parser events (`req.uploadProgress(event)`) from busboy while a
 * multipart/form-data body is read, before the app's handler runs, when
 * session.upload_progress.enabled is on: the shared part of every adapter's upload feed. Each
 * adapter puts the fields and files where its framework keeps them and removes the temp files at
 * the end of the request, as PHP removes its upload temp files.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { PhpSessionContext } from './session.ts';

/** One uploaded file, as PHP's $_FILES entry. */
export interface UploadedFile {
  fieldname: string;
  filename: string;
  tmpName: string | null;
  size: number;
  /** UPLOAD_ERR_*: 0 ok, 4 no file, 8 stopped through the session (cancel_upload). */
  error: number;
}

/** Request headers as node:http gives them (lower-case names). */
export type HeaderRecord = Record<string, string | string[] | undefined>;

/** True when the body is multipart/form-data (with its boundary parameter). */
export function isMultipart(headers: HeaderRecord): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && /^multipart\/form-data\s*;/i.test(type);
}

/** True when session.upload_progress.enabled is on for this request's engine. */
export function uploadProgressEnabled(ctx: PhpSessionContext): boolean {
  return uploadProgressOn(ctx.request.functions.ini_get('session.upload_progress.enabled'));
}

/** An ini value of session.upload_progress.enabled read as PHP reads a boolean ini ("on", "yes", "true", or a nonzero number). */
export function uploadProgressOn(value: string | false | undefined): boolean {
  if (typeof value !== 'string') return false;
  const v = value.toLowerCase();
  return v === 'on' || v === 'yes' || v === 'true' || (Number.parseInt(value, 10) || 0) !== 0;
}

/** True when this request's upload should be fed to the session (progress on, a multipart body). */
export function wantsUploadProgress(ctx: PhpSessionContext, headers: HeaderRecord): boolean {
  return isMultipart(headers) && uploadProgressEnabled(ctx);
}

/** What {@link feedUpload} read: the form fields, the files (in temp files), and the raw body if asked. */
export interface UploadResult {
  fields: Record<string, string>;
  files: UploadedFile[];
  /** The body's bytes (only with `keepRaw`), for a framework that parses the body again later. */
  raw: Buffer | undefined;
  /** Removes the temp files: call it when the request is over, as PHP removes its upload files. */
  cleanup: () => void;
}

/**
 * Reads a multipart body with busboy (an optional peer dependency) and feeds PHP's parser events
 * to `req.uploadProgress()` in PHP's order: start (Content-Length), formdata per field,
 * file_start / file_data / file_end per file, end. `postBytesProcessed` counts the body bytes read
 * so far. The files land in temp files of one temp directory, which `cleanup()` removes.
 */
export async function feedUpload(ctx: PhpSessionContext, headers: HeaderRecord, body: Readable, opts: { keepRaw?: boolean } = {}): Promise<UploadResult> {
  const { default: busboy } = await import('busboy');
  const request = ctx.request;
  const contentLength = Number(headers['content-length'] ?? 0);
  let read = 0;
  const rawParts: Buffer[] | undefined = opts.keepRaw === true ? [] : undefined;
  body.on('data', (d: Buffer) => {
    read += d.length;
    rawParts?.push(d);
  });
  const dir = mkdtempSync(join(tmpdir(), 'php-upload-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  const fields: Record<string, string> = {};
  const files: UploadedFile[] = [];
  // The events go out one after the other, in the parser's order.
  let chain: Promise<unknown> = request.uploadProgress({ type: 'start', contentLength });
  const then = (fn: () => Promise<unknown>): void => {
    chain = chain.then(fn);
    chain.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
  };
  let n = 0;
  const bb = busboy({ headers: headers as Record<string, string>, preservePath: true });
  bb.on('field', (name, value) => {
    if (typeof name !== 'string') return; // a part without a name: PHP's parser skips it too
    fields[name] = value;
    then(() => request.uploadProgress({ type: 'formdata', name, value }));
  });
  bb.on('file', (name, stream, info) => {
    if (typeof name !== 'string') {
      stream.resume();
      return;
    }
    const filename = info.filename ?? '';
    const file: UploadedFile = { fieldname: name, filename, tmpName: null, size: 0, error: filename === '' ? 4 : 0 };
    files.push(file);
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    // The file's events once its data is read (PHP reads a part whole when it fits its buffer).
    const done = new Promise<void>((resolve, reject) => {
      stream.once('end', resolve);
      stream.once('error', reject);
    });
    then(async () => {
      await done;
      const ok = await request.uploadProgress({ type: 'file_start', name, filename, postBytesProcessed: read });
      if (!ok) {
        files.splice(files.indexOf(file), 1);
        return;
      }
      let offset = 0;
      if (file.error === 0) {
        for (const c of chunks) {
          if (!(await request.uploadProgress({ type: 'file_data', offset, length: c.length, postBytesProcessed: read }))) {
            file.error = 8;
            break;
          }
          offset += c.length;
        }
      }
      if (file.error === 0) {
        file.tmpName = join(dir, `php${++n}`);
        file.size = offset;
        await new Promise<void>((resolve, reject) => {
          const out = createWriteStream(file.tmpName!);
          out.once('error', reject);
          out.end(Buffer.concat(chunks), resolve);
        });
      }
      await request.uploadProgress({ type: 'file_end', tempFilename: file.tmpName, cancelUpload: file.error, postBytesProcessed: read });
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      bb.once('close', resolve);
      bb.once('error', reject);
      body.once('error', reject);
      body.pipe(bb);
    });
    then(() => request.uploadProgress({ type: 'end', postBytesProcessed: read }));
    await chain;
  } catch (err) {
    cleanup();
    throw err;
  }
  return { fields, files, raw: rawParts === undefined ? undefined : Buffer.concat(rawParts), cleanup };
}

/**
 * The node:http / Express feed: fields in `req.body` (unless a body was parsed already), files in
 * `req.files`, temp files removed when the response closes.
 */
export async function feedNodeUpload(ctx: PhpSessionContext, req: IncomingMessage & { body?: unknown; files?: UploadedFile[] }, res: ServerResponse): Promise<void> {
  const { fields, files, cleanup } = await feedUpload(ctx, req.headers, req);
  if (res.closed) cleanup();
  else res.on('close', cleanup);
  if (req.body === undefined) req.body = fields;
  req.files = files;
  postFields(ctx, fields);
}

/** The body's form fields become $_POST (PHP fills it from the same multipart body). */
export function postFields(ctx: PhpSessionContext, fields: Record<string, string>): void {
  ctx.request.body = { ...ctx.request.body, ...fields };
}
