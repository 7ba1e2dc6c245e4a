/**
 * @module spec/user/transcript
 * The transcript both sides of the user-handler differential produce, and its normalisation
 * (random session ids and the temp save path replaced by stable placeholders).
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

/**
 * Replaces built-in generated ids (32 chars of [0-9a-v]) by `<ID1>`, `<ID2>`, ... in order of
 * first appearance, the save path by `<SAVE_PATH>`, and the Expires date of deleted cookies.
 */
export function normalize(t: Transcript): unknown {
  const ids = new Map<string, string>();
  const text = JSON.stringify({ requests: t.requests, store: t.store })
    .split(JSON.stringify(t.savePath).slice(1, -1))
    .join('<SAVE_PATH>')
    .replace(/\b[0-9a-v]{32}\b/g, (id) => {
      if (!ids.has(id)) ids.set(id, `<ID${ids.size + 1}>`);
      return ids.get(id)!;
    })
    .replace(/expires=[^;"]*GMT/g, 'expires=<DATE>');
  return JSON.parse(text) as unknown;
}
