/**
 * @module spec/php/normalize
 * The one transcript normaliser of the differential suites: it makes PHP's transcript and the
 * engine's comparable by rewriting only what is random or time-dependent, the same way for every
 * suite:
 * - temp paths → `{dir}`; the line in "(output started at file:line)" → `<line>` (free-form logs,
 *   whose PHP side runs a temp script, drop the whole parenthetical);
 * - every session id a side generated itself (not given by the scenario) → `<ID1 len=32 hex>`,
 *   numbered in order of first appearance, with its length and alphabet; the same id inside file
 *   names, messages, headers, values and (URL-encoded) cookies gets the same placeholder;
 * - dates (Expires / Last-Modified headers, cookie `expires=`) → `<date now+N>` (N seconds from
 *   PHP's request time, rounded to 5 s) when both sides share a clock, else `<date>`; PHP's fixed
 *   1981 date is kept verbatim.
 *
 * Structured transcripts (spec/conformance) find generated ids where they appear (session_id(),
 * Set-Cookie, file names, messages): {@link normalizeTranscript}. Free-form logs (spec/user,
 * spec/engine) find them by shape (22 to 256 id characters with a digit and a letter, not given by
 * the scenario): {@link normalizeLog}.
 */
import type { Enc, Scenario, Transcript } from '../conformance/scenario.ts';

const ID_RE = /^[0-9a-zA-Z,-]{22,300}$/;
const DATE_RE = /(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT/g;
const FIXED_PAST = 'Thu, 19 Nov 1981 08:52:00 GMT';

/** Every string literal a scenario supplies (ids given by the scenario are never placeholders). */
function scenarioStrings(s: Scenario): Set<string> {
  const out = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      out.add(v);
      const m = /sess_([0-9a-zA-Z,-]+)$/.exec(v);
      if (m?.[1] !== undefined) out.add(m[1]);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        visit(k);
        visit(x);
      }
    }
  };
  visit(s.request);
  visit(s.steps);
  visit(s.preexisting);
  return out;
}

function alphabet(id: string): string {
  if (/^[0-9a-f]+$/.test(id)) return 'hex';
  if (/^[0-9a-v]+$/.test(id)) return 'b32';
  return 'b64';
}

function mapStrings(v: Enc, f: (s: string) => string): Enc {
  if (typeof v === 'string') return f(v);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if ('map' in v) return { map: v.map.map(([k, x]) => [mapStrings(k, f), mapStrings(x, f)] as [Enc, Enc]) };
  if ('object' in v) return { object: v.object, props: v.props.map(([k, x]) => [mapStrings(k, f), mapStrings(x, f)] as [Enc, Enc]) };
  return v;
}

function collectStrings(v: Enc, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => collectStrings(x, out));
  else if (v !== null && typeof v === 'object') {
    if ('map' in v) v.map.forEach(([k, x]) => (collectStrings(k, out), collectStrings(x, out)));
    if ('object' in v) v.props.forEach(([k, x]) => (collectStrings(k, out), collectStrings(x, out)));
  }
}

/** Generated ids → `<IDn len=L alphabet>`, numbered in the order given. */
export class IdTable {
  readonly #placeholders = new Map<string, string>();
  readonly #byLength: string[];
  constructor(ids: readonly string[]) {
    ids.forEach((id, i) => this.#placeholders.set(id, `<ID${i + 1} len=${id.length} ${alphabet(id)}>`));
    this.#byLength = [...this.#placeholders.keys()].sort((a, b) => b.length - a.length);
  }
  /** Replaces every known id in `x`, URL-encoded forms included (Set-Cookie carries `,` as %2C). */
  fix(x: string): string {
    let out = x;
    for (const id of this.#byLength) {
      const ph = this.#placeholders.get(id) as string;
      out = out.split(id).join(ph);
      const enc = encodeURIComponent(id);
      if (enc !== id) out = out.split(enc).join(ph);
    }
    return out;
  }
}

/**
 * HTTP dates → `<date now+N>` relative to `requestTimeMs` (rounded to 5 s to absorb a clock tick),
 * or `<date>` without a shared clock; PHP's fixed past date stays as it is.
 */
export function fixDates(x: string, requestTimeMs: number | undefined): string {
  return x.replace(DATE_RE, (d) => {
    if (d === FIXED_PAST) return d;
    if (requestTimeMs === undefined) return '<date>';
    const delta = Math.round((Date.parse(d) - requestTimeMs) / 1000 / 5) * 5;
    return `<date now${delta >= 0 ? '+' : ''}${delta}>`;
  });
}

/** An id-shaped token: 22..256 id characters (`%` for URL-encoded commas) between non-id characters. */
const ID_TOKEN = /(?<![0-9a-zA-Z,%-])[0-9a-zA-Z,%-]{22,256}(?![0-9a-zA-Z,%-])/g;

function decodeToken(t: string): string {
  try {
    return decodeURIComponent(t);
  } catch {
    return t;
  }
}

/** Id-shaped tokens of a text that could be generated ids: they have a digit and a letter (words do not). */
export function idTokens(text: string): string[] {
  return [...text.matchAll(ID_TOKEN)].map((m) => decodeToken(m[0])).filter((t) => /\d/.test(t) && /[a-z]/.test(t));
}

/**
 * Normalises a free-form transcript (any JSON value: event logs, recorded results, headers).
 * `dirs`: temp paths each side ran in; `literals`: what the scenario supplied (code, cookies,
 * arguments): an id-shaped token found in them is data, never a placeholder.
 */
export function normalizeLog(value: unknown, opts: { dirs: readonly string[]; literals: readonly string[] }): unknown {
  const given = new Set(opts.literals.flatMap(idTokens));
  let json = JSON.stringify(value);
  for (const dir of opts.dirs) json = json.split(JSON.stringify(dir).slice(1, -1)).join('{dir}');
  json = json.replace(/ \(output started at [^)]*\)/g, '');
  const found: string[] = [];
  for (const m of json.matchAll(/"(?:[^"\\]|\\.)*"/g)) {
    for (const t of idTokens(JSON.parse(m[0]) as string)) if (!given.has(t) && !found.includes(t)) found.push(t);
  }
  const ids = new IdTable(found);
  const fixString = (x: string): string => fixDates(ids.fix(x), undefined);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fixString(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[fixString(k)] = walk(x);
      return out;
    }
    return v;
  };
  return walk(JSON.parse(json) as unknown);
}

/** Where two normalised free-form transcripts first differ (`.path: php=... engine=...`), or ''. */
export function firstDifference(php: unknown, engine: unknown, path = ''): string {
  if (JSON.stringify(php) === JSON.stringify(engine)) return '';
  if (typeof php === 'object' && php !== null && typeof engine === 'object' && engine !== null) {
    const keys = new Set([...Object.keys(php), ...Object.keys(engine)]);
    for (const k of keys) {
      const d = firstDifference((php as Record<string, unknown>)[k], (engine as Record<string, unknown>)[k], `${path}.${k}`);
      if (d !== '') return d;
    }
  }
  return `${path}: php=${JSON.stringify(php)} engine=${JSON.stringify(engine)}`;
}

export function normalizeTranscript(t: Transcript, s: Scenario, dir: string, requestTimeMs: number): Transcript {
  const literal = scenarioStrings(s);
  // "(output started at /path/driver.php:175)": the line is the driver's, not the scenario's.
  const pathFix = (x: string): string =>
    x.split(dir).join('{dir}').replace(/\(output started at ([^:()]*):\d+\)/g, '(output started at $1:<line>)');

  // 1. Find the ids this side generated, in order of first appearance.
  const found: string[] = [];
  const consider = (id: string | undefined): void => {
    if (id === undefined || id === '' || literal.has(id) || found.includes(id)) return;
    if (ID_RE.test(id)) found.push(id);
  };
  const fromText = (text: string): void => {
    // "sess_<id>, O_RDWR": the comma after the id is text, not part of the id.
    for (const m of text.matchAll(/sess_([0-9a-zA-Z,-]+?)(?=, |[^0-9a-zA-Z,-]|$)/g)) consider(m[1]);
  };
  for (const [i, st] of t.steps.entries()) {
    if (typeof st.sid === 'string') consider(st.sid);
    const step = s.steps[i];
    if (step !== undefined && 'call' in step && /^session_(create_id|id)$/.test(step.call) && typeof st.ret === 'string') {
      consider(st.ret);
      // session_create_id(prefix): the random part is the tail.
      if (!ID_RE.test(st.ret)) consider(/[0-9a-zA-Z,-]{22,}$/.exec(st.ret)?.[0]);
    }
    for (const d of st.diag) fromText(d.message);
  }
  for (const d of [...t.startup, ...t.late]) fromText(d.message);
  for (const [name, value] of t.headers) {
    if (name.toLowerCase() === 'set-cookie') {
      const m = /^[^=]*=([^;]*)/.exec(value);
      if (m?.[1] !== undefined) consider(decodeURIComponent(m[1]));
    }
  }
  for (const f of Object.keys(t.files)) fromText(f);
  for (const st of t.steps) {
    const strs: string[] = [];
    collectStrings(st.session, strs);
    if (st.ret !== undefined) collectStrings(st.ret, strs);
    strs.forEach(fromText);
  }
  const ids = new IdTable(found);
  const idFix = (x: string): string => ids.fix(x);
  const fix = (x: string): string => idFix(pathFix(x));

  // 2. Dates in headers.
  const dateFix = (x: string, exact: boolean): string => fixDates(x, exact ? requestTimeMs : undefined);

  const files: Record<string, string> = {};
  const modes: Record<string, string> = {};
  for (const [k, v] of Object.entries(t.files)) files[fix(k)] = fix(v);
  for (const [k, v] of Object.entries(t.modes)) modes[fix(k)] = v;

  return {
    startup: t.startup.map((d) => ({ level: d.level, message: fix(d.message) })),
    steps: t.steps.map((st) => {
      const out = { ...st };
      if (st.ret !== undefined) out.ret = mapStrings(st.ret, fix);
      if (st.throw !== undefined) out.throw = { class: st.throw.class, message: fix(st.throw.message) };
      out.diag = st.diag.map((d) => ({ level: d.level, message: fix(d.message) }));
      out.sid = mapStrings(st.sid, fix);
      out.session = mapStrings(st.session, fix);
      return out;
    }),
    late: t.late.map((d) => ({ level: d.level, message: fix(d.message) })),
    headers: t.headers.map(([n, v]): [string, string] => [n, dateFix(fix(v), n.toLowerCase() !== 'last-modified')]),
    files,
    modes,
  };
}

/** Canonical text of a transcript, one fact per line, for comparison and diffs. */
export function transcriptLines(t: Transcript): string[] {
  const lines: string[] = [];
  for (const d of t.startup) lines.push(`startup ${d.level}: ${d.message}`);
  t.steps.forEach((st, i) => {
    if (st.ret !== undefined) lines.push(`step ${i} return ${JSON.stringify(st.ret)}`);
    if (st.throw !== undefined) lines.push(`step ${i} throws ${st.throw.class}: ${st.throw.message}`);
    for (const d of st.diag) lines.push(`step ${i} ${d.level}: ${d.message}`);
    lines.push(`step ${i} session_id() = ${JSON.stringify(st.sid)}; session_status() = ${JSON.stringify(st.status)}`);
    lines.push(`step ${i} $_SESSION = ${JSON.stringify(st.session)}`);
  });
  for (const d of t.late) lines.push(`shutdown ${d.level}: ${d.message}`);
  for (const [n, v] of t.headers) lines.push(`header ${n}: ${v}`);
  for (const [k, v] of Object.entries(t.files).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`file ${k} (${t.modes[k] ?? '?'}): ${JSON.stringify(v)}`);
  }
  return lines;
}

/** A unified-style diff of two line lists (PHP `-`, engine `+`), via the longest common subsequence. */
export function diffLines(php: string[], engine: string[]): string {
  const n = php.length;
  const m = engine.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] = php[i] === engine[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && php[i] === engine[j]) {
      out.push(`  ${php[i]}`);
      i++;
      j++;
    } else if (j < m && (i >= n || (lcs[i]?.[j + 1] ?? 0) >= (lcs[i + 1]?.[j] ?? 0))) {
      out.push(`+ ${engine[j]}`);
      j++;
    } else {
      out.push(`- ${php[i]}`);
      i++;
    }
  }
  return out.join('\n');
}
