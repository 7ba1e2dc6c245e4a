/**
 * req.uploadProgress() with events PHP's own parser could never send (the embedder's input): a
 * typed SessionError (code ERR_UPLOAD_EVENT), never a crash, and the store is not touched.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionEngine } from '../../lib/engine.ts';
import { SessionError } from '../../lib/errors.ts';
import type { MultipartEvent } from '../../lib/request.ts';

const dir = mkdtempSync(join(tmpdir(), 'pse-upload-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const INI = { 'session.save_path': dir, 'session.upload_progress.enabled': '1', 'session.upload_progress.min_freq': '0' };

async function rejection(events: unknown[]): Promise<unknown> {
  const req = new SessionEngine({ ini: INI }).request({ cookies: { PHPSESSID: 'eventsid0123456789abcdef' } });
  try {
    for (const e of events) await req.uploadProgress(e as MultipartEvent);
  } catch (e) {
    return e;
  } finally {
    await req.end();
  }
  return undefined;
}

const START = { type: 'start', contentLength: 10 };
const TRACK = [START, { type: 'formdata', name: 'PHP_SESSION_UPLOAD_PROGRESS', value: 'k' }];

describe('uploadProgress(): malformed events', () => {
  const cases: Record<string, unknown[]> = {
    'not an object': [null],
    'unknown type': [{ type: 'file' }],
    'a prototype key as type': [{ type: '__proto__' }],
    'negative content length': [{ type: 'start', contentLength: -1 }],
    'fractional offset': [...TRACK, { type: 'file_start', name: 'f', filename: 'a', postBytesProcessed: 1 }, { type: 'file_data', offset: 0.5, length: 1, postBytesProcessed: 2 }],
    'a non-string field value': [START, { type: 'formdata', name: 'x', value: 1 }],
    'a number as temp file name': [START, { type: 'file_end', tempFilename: 1, cancelUpload: 0, postBytesProcessed: 1 }],
    'an event before start': [{ type: 'formdata', name: 'x', value: 'y' }],
    'file data before file start while tracking': [...TRACK, { type: 'file_start', name: 'f', filename: 'a', postBytesProcessed: 1 }, { type: 'end', postBytesProcessed: 10 }, START, ...TRACK.slice(1), { type: 'file_data', offset: 0, length: 1, postBytesProcessed: 2 }],
    'end twice': [START, { type: 'end', postBytesProcessed: 10 }, { type: 'end', postBytesProcessed: 10 }],
  };
  for (const [name, events] of Object.entries(cases)) {
    it(name, async () => {
      const e = await rejection(events);
      expect(e).toBeInstanceOf(SessionError);
      expect((e as SessionError).code).toBe('ERR_UPLOAD_EVENT');
      expect((e as Error).message).toMatch(/^uploadProgress\(\): /);
    });
  }
  it('a well-formed upload without a progress field answers true and writes nothing', async () => {
    const before = readdirSync(dir).length;
    const e = await rejection([START, { type: 'file_start', name: 'f', filename: 'a', postBytesProcessed: 5 }, { type: 'file_data', offset: 0, length: 1, postBytesProcessed: 6 }, { type: 'file_end', tempFilename: null, cancelUpload: 0, postBytesProcessed: 9 }, { type: 'end', postBytesProcessed: 10 }]);
    expect(e).toBeUndefined();
    expect(readdirSync(dir).length).toBe(before);
  });
});
