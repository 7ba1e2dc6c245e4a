/**
 * @module php-session-engine/adapters/upload
 * Feeds PHP's rfc1867 parser events (`req.uploadProgress(event)`) from busboy while a
 * multipart/form-data body is read, before the app's handler runs, when
 * session.upload_progress.enabled is on. Fields land in `req.body` (unless a body was parsed
 * already), files in temp files listed in `req.files` (removed when the response closes, as PHP
 * removes its upload temp files at the end of the request).
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** True when the request's body is multipart/form-data (with its boundary parameter). */
export function isMultipart(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return type !== undefined && /^multipart\/form-data\s*;/i.test(type);
}

/** True when this request's upload should be fed to the session (progress on, a multipart body). */
export function wantsUploadProgress(ctx: PhpSessionContext, req: IncomingMessage): boolean {
  if (!isMultipart(req)) return false;
  const on = ctx.request.functions.ini_get('session.upload_progress.enabled');
  return on === '1' || on === 'On' || on === 'on' || on === 'true';
}

/**
 * Reads the multipart body with busboy and feeds the events in PHP's order: start (Content-Length),
 * formdata per field, file_start / file_data / file_end per file, end. `postBytesProcessed` counts
 * the body bytes read from the socket so far.
 */
export async function feedUpload(ctx: PhpSessionContext, req: IncomingMessage & { body?: unknown; files?: UploadedFile[] }, res: ServerResponse): Promise<void> {
  const { default: busboy } = await import('busboy');
  const request = ctx.request;
  const contentLength = Number(req.headers['content-length'] ?? 0);
  let read = 0;
  req.on('data', (d: Buffer) => {
    read += d.length;
  });
  const dir = mkdtempSync(join(tmpdir(), 'php-upload-'));
  res.once('close', () => rmSync(dir, { recursive: true, force: true }));
  const fields: Record<string, string> = {};
  const files: UploadedFile[] = [];
  // The events go out one after the other, in the parser's order.
  let chain: Promise<unknown> = request.uploadProgress({ type: 'start', contentLength });
  const then = (fn: () => Promise<unknown>): void => {
    chain = chain.then(fn);
    chain.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
  };
  let n = 0;
  const bb = busboy({ headers: req.headers, preservePath: true });
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
  await new Promise<void>((resolve, reject) => {
    bb.once('close', resolve);
    bb.once('error', reject);
    req.pipe(bb);
  });
  then(() => request.uploadProgress({ type: 'end', postBytesProcessed: read }));
  await chain;
  if (req.body === undefined) req.body = fields;
  req.files = files;
}
