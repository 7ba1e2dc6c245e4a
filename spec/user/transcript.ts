/**
 * @module spec/user/transcript
 * The transcript both sides of the user-handler differential produce (spec/php/normalize.ts's
 * normalizeLog makes them comparable).
 */

/**
 * One logged event, as JSON arrays:
 * `['call', cb, args]`, `['ret', cb, value | 'nothing']`, `['throws', cb, message]`,
 * `['inner', fn, result]`, `['diag', level, message]`, `['step', what, result | { threw }]`,
 * `['end', $_SESSION, status]`.
 */
export type Event = unknown[];

export interface RequestTranscript {
  events: Event[];
  headers: [string, string][];
  /** Response body (the driver prints nothing; PHP's fatal errors would appear here). */
  output: string;
}

export interface Transcript {
  requests: RequestTranscript[];
  /** The memory store at the end ({ data: { id: data }, n }), or null when never written. */
  store: unknown;
  savePath: string;
}

/** The session id of a Set-Cookie header among `headers`, if any. */
export function nextCookie(headers: [string, string][]): string | undefined {
  for (const [n, v] of headers) {
    if (n.toLowerCase() !== 'set-cookie') continue;
    const m = /^PHPSESSID=([^;]*)/.exec(v);
    if (m !== null) return m[1] === 'deleted' ? undefined : m[1];
  }
  return undefined;
}
