/**
 * @module lib/session/url-rewriter
 * PHP's URL rewriter (ext/standard/url_scanner_ex.re, the "URL-Rewriter" output handler) as a
 * streaming, byte-exact rewriter: trans-sid (`session.use_trans_sid`) and `output_add_rewrite_var()`.
 *
 * What it does, as PHP 8.2 does it:
 * - In the tags and attributes listed in `session.trans_sid_tags` (`url_rewriter.tags` for
 *   output_add_rewrite_var), a URL gets `name=value` appended to its query (before the fragment,
 *   after an existing query with `arg_separator.output`); `"#frag"` only URLs, other schemes than
 *   http/https and malformed URLs (parse_url() false) are left alone; a URL naming a host is only
 *   rewritten when the host is in `session.trans_sid_hosts` (PHP checks the session's list for both
 *   kinds of variables); a URL with neither path, query nor fragment gets `/?name=value`.
 * - After a `<form ...>` tag (when `form` is in the tag list), the hidden input
 *   `<input type="hidden" name="NAME" value="VALUE" />`, unless the form's action names a host that
 *   is not allowed: not in `url_rewriter.hosts` (PHP checks that list for both kinds, case-sensitively),
 *   or, when that list is empty, not the request's own host (HTTP_HOST without its port). As in PHP the last action seen is remembered until the output
 *   is flushed, so a `<form>` without action after one with a foreign action gets no input.
 * - PHP's scanner quirks are kept: tag names `[a-zA-Z:]+` and attribute names are
 *   case-insensitive, values quoted with `"` or `'` or unquoted; an attribute named by a prefix of
 *   "action" (`a=`, `act=`) counts as the form's action; a token that runs to the end of the data
 *   is held back until more data comes, and on a flush it is passed through unmodified (so a `<form>`
 *   whose `>` is the very last byte of the output gets no input, as in PHP).
 * - Location headers are not rewritten (PHP 8.2 does not).
 *
 * Everything here works on binary strings (one char per byte, latin1), so multi-byte text and
 * invalid UTF-8 pass through byte for byte. {@link OutputRewriter} takes and returns strings or
 * bytes and keeps its state across chunks: a tag split over two chunks is rewritten as if whole.
 */
import { htmlSpecialCharsNoDouble } from './html-escape.ts';
import { phpUrlParse } from '../zend/url.ts';

/** The ini values the rewriter reads (raw strings, read again on every call). */
export interface RewriterSettings {
  /** `session.trans_sid_tags`: `tag=attribute` pairs, comma-separated. */
  sessionTags: string;
  /** `session.trans_sid_hosts`: comma-separated hosts. */
  sessionHosts: string;
  /** `url_rewriter.tags` (default `form=`). */
  outputTags: string;
  /** `url_rewriter.hosts`. */
  outputHosts: string;
  /** `$_SERVER['HTTP_HOST']`, if any. */
  httpHost: string | undefined;
  /** `arg_separator.output` (default `&`). */
  argSeparator: string;
}

export type RewriterKind = 'session' | 'output';

const enum State {
  Plain,
  Tag,
  NextArg,
  Arg,
  BeforeVal,
  Val,
}

const lower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
const isAlpha = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isTagChar = (c: string): boolean => isAlpha(c) || c === ':';
const isArgChar = (c: string): boolean => isAlpha(c) || c === '-';
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v';
/** A byte of an unquoted attribute value. */
const isUnquoted = (c: string): boolean => !(c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '"' || c === "'" || c === '>');

/** The UTF-8 bytes of a JS string as a binary string. */
export function toBinary(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** rawurlencode() of a binary string. */
export function rawUrlEncode(bin: string): string {
  let out = '';
  for (let i = 0; i < bin.length; i++) {
    const c = bin[i]!;
    if (/[A-Za-z0-9_.~-]/.test(c)) out += c;
    else out += `%${bin.charCodeAt(i).toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const tagCache = new Map<string, Map<string, string>>();
const hostCache = new Map<string, Set<string>>();

/** php_ini_on_update_tags: `tag=attr` pairs (tag lowercased; the first pair for a tag wins). */
export function parseRewriteTags(raw: string): Map<string, string> {
  let tags = tagCache.get(raw);
  if (tags !== undefined) return tags;
  tags = new Map();
  for (const tok of raw.split(',')) {
    const eq = tok.indexOf('=');
    if (tok === '' || eq < 0) continue;
    const key = lower(tok.slice(0, eq));
    if (!tags.has(key)) tags.set(key, tok.slice(eq + 1));
  }
  if (tagCache.size > 64) tagCache.clear();
  tagCache.set(raw, tags);
  return tags;
}

/** php_ini_on_update_hosts: lowercased, non-empty names. */
export function parseRewriteHosts(raw: string): Set<string> {
  let hosts = hostCache.get(raw);
  if (hosts !== undefined) return hosts;
  hosts = new Set(raw.split(',').filter((h) => h !== '').map(lower));
  if (hostCache.size > 64) hostCache.clear();
  hostCache.set(raw, hosts);
  return hosts;
}

const isHttp = (scheme: string | undefined): boolean => scheme === undefined || ['http', 'https'].includes(lower(scheme));

/** One scanner context (url_adapt_state_ex_t): the session's or output_add_rewrite_var's. */
export class UrlScanner {
  readonly kind: RewriterKind;
  readonly #settings: () => RewriterSettings;
  /** True once a variable was added in this request (the handler is on the output stack). */
  active = false;
  urlApp = '';
  formApp = '';
  #state = State.Plain;
  #buf = '';
  #tag = '';
  #arg = '';
  #lookup = '';
  #tagIsForm = false;
  #attrIsAction = false;
  #attrVal = '';
  #out = '';
  #cfg!: RewriterSettings;

  constructor(kind: RewriterKind, settings: () => RewriterSettings) {
    this.kind = kind;
    this.#settings = settings;
  }

  /** php_url_scanner_add_var_impl (encode = 1); name and value are binary strings. */
  addVar(name: string, value: string): void {
    if (!this.active) {
      this.#state = State.Plain;
      this.#buf = this.#tag = this.#arg = this.#lookup = this.#attrVal = this.urlApp = this.formApp = '';
      this.#tagIsForm = this.#attrIsAction = false;
      this.active = true;
    }
    if (this.urlApp !== '') this.urlApp += this.#settings().argSeparator;
    this.urlApp += `${rawUrlEncode(name)}=${rawUrlEncode(value)}`;
    const hname = toBinary(htmlSpecialCharsNoDouble(Buffer.from(name, 'latin1').toString('utf8')));
    const hvalue = toBinary(htmlSpecialCharsNoDouble(Buffer.from(value, 'latin1').toString('utf8')));
    this.formApp += `<input type="hidden" name="${hname}" value="${hvalue}" />`;
  }

  /** php_url_scanner_reset_vars_impl. */
  resetVars(): void {
    this.urlApp = '';
    this.formApp = '';
  }

  /** php_url_scanner_reset_var_impl (encode = 1): false when the name was not there. */
  resetVar(name: string): boolean {
    if (this.urlApp === '') return true;
    const sep = this.#settings().argSeparator;
    const urlKey = `${rawUrlEncode(name)}=`;
    let start = this.urlApp.indexOf(urlKey);
    if (start < 0) return false;
    let end = start + urlKey.length;
    let sepRemoved = false;
    while (end < this.urlApp.length) {
      if (this.urlApp.startsWith(sep, end)) {
        end += sep.length;
        sepRemoved = true;
        break;
      }
      end++;
    }
    if (end - start === this.urlApp.length) {
      this.resetVars();
      return true;
    }
    if (!sepRemoved && start >= sep.length && this.urlApp.startsWith(sep, start - sep.length)) start -= sep.length;
    this.urlApp = this.urlApp.slice(0, start) + this.urlApp.slice(end);
    const formKey = `<input type="hidden" name="${toBinary(htmlSpecialCharsNoDouble(Buffer.from(name, 'latin1').toString('utf8')))}" value="`;
    const fstart = this.formApp.indexOf(formKey);
    if (fstart < 0) {
      this.resetVars();
      return false;
    }
    let fend = fstart + formKey.length;
    while (fend < this.formApp.length) {
      if (this.formApp[fend++] === '>') break;
    }
    this.formApp = this.formApp.slice(0, fstart) + this.formApp.slice(fend);
    return true;
  }

  /**
   * The output handler (php_url_scanner_session_handler_impl) on a binary string: `flush` is
   * PHP's flush/final mode, which passes the held-back tail through.
   */
  handle(output: string, flush: boolean): string {
    if (this.urlApp === '') {
      if (this.#buf === '') return output;
      const r = this.#buf + output;
      this.#buf = '';
      return r;
    }
    this.#cfg = this.#settings();
    this.#buf += output;
    this.#out = '';
    this.#scan();
    let res = this.#out;
    this.#out = '';
    if (flush) {
      res += this.#buf;
      this.#buf = '';
      this.#attrVal = '';
    }
    return res;
  }

  /** xx_mainloop: scans #buf, appends to #out, leaves the unfinished token in #buf. */
  #scan(): void {
    const b = this.#buf;
    const end = b.length;
    let xp = 0;
    let start = 0;
    const stop = (): void => {
      this.#buf = b.slice(start);
    };
    for (;;) {
      start = xp;
      switch (this.#state) {
        case State.Plain: {
          if (xp >= end) return stop();
          if (b[xp] === '<') {
            this.#out += '<';
            xp++;
            this.#state = State.Tag;
            break;
          }
          let i = xp + 1;
          while (i < end && b[i] !== '<') i++;
          if (i >= end) return stop();
          this.#out += b.slice(xp, i);
          xp = i;
          break;
        }
        case State.Tag: {
          if (xp >= end) return stop();
          if (!isTagChar(b[xp]!)) {
            this.#out += b[xp];
            xp++;
            this.#state = State.Plain;
            break;
          }
          let i = xp + 1;
          while (i < end && isTagChar(b[i]!)) i++;
          if (i >= end) return stop();
          this.#handleTag(b.slice(xp, i));
          this.#out += b.slice(xp, i);
          xp = i;
          break;
        }
        case State.NextArg: {
          if (end - xp < 2) return stop();
          const c = b[xp]!;
          if (isSpace(c)) {
            let i = xp + 1;
            while (i < end && isSpace(b[i]!)) i++;
            if (i >= end) return stop();
            this.#out += b.slice(xp, i);
            xp = i;
          } else if (c === '>' || (c === '/' && b[xp + 1] === '>')) {
            const n = c === '>' ? 1 : 2;
            this.#out += b.slice(xp, xp + n);
            xp += n;
            this.#handleForm();
            this.#state = State.Plain;
          } else if (isAlpha(c)) {
            this.#state = State.Arg;
          } else {
            this.#out += c;
            xp++;
            this.#state = State.Plain;
          }
          break;
        }
        case State.Arg: {
          if (xp >= end) return stop();
          if (!isAlpha(b[xp]!)) {
            this.#out += b[xp];
            xp++;
            this.#state = State.NextArg;
            break;
          }
          let i = xp + 1;
          while (i < end && isArgChar(b[i]!)) i++;
          if (i >= end) return stop();
          const arg = b.slice(xp, i);
          this.#out += arg;
          this.#handleArg(arg);
          this.#state = State.BeforeVal;
          xp = i;
          break;
        }
        case State.BeforeVal: {
          if (end - xp < 2) return stop();
          let eq = -1;
          if (b[xp] === '=') eq = xp;
          else if (b[xp] === ' ') {
            let i = xp + 1;
            let more = true;
            while (b[i] === ' ') {
              i++;
              if (i >= end) {
                more = false;
                break;
              }
            }
            if (!more) return stop();
            if (b[i] === '=') eq = i;
          }
          if (eq < 0) {
            this.#state = State.NextArg;
            break;
          }
          let j = eq + 1;
          for (;;) {
            if (j >= end) return stop();
            if (b[j] !== ' ') break;
            j++;
          }
          this.#out += b.slice(xp, j);
          xp = j;
          this.#state = State.Val;
          break;
        }
        case State.Val: {
          if (end - xp < 2) return stop();
          const c = b[xp]!;
          if (c === '"' || c === "'") {
            let i = xp + 1;
            let more = true;
            while (b[i] !== c && b[i] !== '>') {
              i++;
              if (i >= end) {
                more = false;
                break;
              }
            }
            if (!more) return stop();
            if (b[i] === c) {
              this.#handleVal(b.slice(xp + 1, i), c);
              xp = i + 1;
            } else {
              this.#out += c;
              xp++;
            }
          } else if (isUnquoted(c)) {
            let i = xp + 1;
            while (i < end && isUnquoted(b[i]!)) i++;
            if (i >= end) return stop();
            this.#handleVal(b.slice(xp, i), '');
            xp = i;
          } else {
            this.#out += c;
            xp++;
          }
          this.#state = State.NextArg;
          break;
        }
      }
    }
  }

  #tags(): Map<string, string> {
    return parseRewriteTags(this.kind === 'session' ? this.#cfg.sessionTags : this.#cfg.outputTags);
  }

  #handleTag(name: string): void {
    this.#tag = lower(name);
    const look = this.#tags().get(this.#tag);
    if (look !== undefined) {
      this.#lookup = look;
      this.#tagIsForm = this.#tag === 'form';
      this.#state = State.NextArg;
    } else {
      this.#state = State.Plain;
    }
  }

  #handleArg(arg: string): void {
    this.#arg = arg;
    this.#attrIsAction = this.#tagIsForm && arg.length <= 6 && 'action'.startsWith(lower(arg));
  }

  #handleVal(val: string, quote: string): void {
    if (this.#tagIsForm && this.#attrIsAction) this.#attrVal = val;
    const rewrite = lower(this.#arg) === lower(this.#lookup);
    this.#out += quote + (rewrite ? this.#modifiedUrl(val) : val) + quote;
  }

  /** append_modified_url. */
  #modifiedUrl(url: string): string {
    const parts = phpUrlParse(url);
    if (parts === null) return url;
    if (parts.fragment !== undefined && url[0] === '#') return url;
    if (!isHttp(parts.scheme)) return url;
    // PHP checks the session's host list here, whichever kind of variable is added.
    if (parts.host !== undefined && !parseRewriteHosts(this.#cfg.sessionHosts).has(lower(parts.host))) return url;
    if (parts.path === undefined && parts.query === undefined && parts.fragment === undefined) return `${url}/?${this.urlApp}`;
    let out = '';
    if (parts.scheme !== undefined) out += `${parts.scheme}://`;
    else if (url.startsWith('//')) out += '//';
    if (parts.user !== undefined) {
      out += parts.user;
      // sic: PHP writes the password, then the colon.
      if (parts.pass !== undefined) out += `${parts.pass}:`;
      out += '@';
    }
    if (parts.host !== undefined) out += parts.host;
    if ((parts.port ?? 0) !== 0) out += `:${parts.port}`;
    if (parts.path !== undefined) out += parts.path;
    out += '?';
    out += parts.query !== undefined ? parts.query + this.#cfg.argSeparator + this.urlApp : this.urlApp;
    if (parts.fragment !== undefined) out += `#${parts.fragment}`;
    return out;
  }

  /** handle_form: the hidden inputs after a `<form>` whose action is allowed. */
  #handleForm(): void {
    if (this.formApp !== '' && this.#tag === 'form' && this.#formHostAllowed()) this.#out += this.formApp;
  }

  /** check_host_whitelist. */
  #formHostAllowed(): boolean {
    if (this.#attrVal === '') return true;
    const parts = phpUrlParse(this.#attrVal);
    if (parts === null || !isHttp(parts.scheme)) return false;
    if (parts.host === undefined) return true;
    // PHP picks the list by ctx->type, which activation zeroes: forms always check url_rewriter.hosts.
    const allowed = parseRewriteHosts(this.#cfg.outputHosts);
    if (allowed.size === 0 && this.#isOwnHost(parts.host)) return true;
    return allowed.has(parts.host);
  }

  /** check_http_host: HTTP_HOST without its port, compared case-insensitively. */
  #isOwnHost(host: string): boolean {
    const h = this.#cfg.httpHost;
    if (h === undefined) return false;
    const colon = h.indexOf(':');
    return lower(colon < 0 ? h : h.slice(0, colon)) === lower(host);
  }
}

/** The bytes of an incomplete UTF-8 sequence at the end of a binary string (0-3). */
function incompleteUtf8Tail(bin: string): number {
  for (let back = 1; back <= Math.min(3, bin.length); back++) {
    const c = bin.charCodeAt(bin.length - back);
    if (c >= 0x80 && c <= 0xbf) continue;
    if (c < 0xc2 || c > 0xf4) return 0;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    return back < need ? back : 0;
  }
  return 0;
}

/**
 * The rewriting output handlers of one request: the session's (trans-sid) and
 * output_add_rewrite_var's, stacked in the order they were started as PHP stacks them (the later
 * one sees the output first).
 */
export class OutputRewriter {
  readonly session: UrlScanner;
  readonly output: UrlScanner;
  #stack: UrlScanner[] = [];
  #pending = '';

  constructor(settings: () => RewriterSettings) {
    this.session = new UrlScanner('session', settings);
    this.output = new UrlScanner('output', settings);
  }

  /**
   * Adds a variable (JS strings, taken as their UTF-8 bytes; `binary`: one char per byte already);
   * starts that kind's handler the first time.
   */
  addVar(kind: RewriterKind, name: string, value: string, binary = false): void {
    const s = kind === 'session' ? this.session : this.output;
    if (!s.active) this.#stack.push(s);
    s.addVar(binary ? name : toBinary(name), binary ? value : toBinary(value));
  }

  /** Removes one variable (php_url_scanner_reset_var); false when it was not there. */
  resetVar(kind: RewriterKind, name: string): boolean {
    return (kind === 'session' ? this.session : this.output).resetVar(toBinary(name));
  }

  /** Removes every variable of a kind (output_reset_rewrite_vars for 'output'). */
  resetVars(kind: RewriterKind): void {
    (kind === 'session' ? this.session : this.output).resetVars();
  }

  /** True when a handler is started (output passes through the scanner). */
  get started(): boolean {
    return this.#stack.length > 0;
  }

  /**
   * Rewrites one chunk of output. Bytes in, bytes out; a string in, a string out (UTF-8; a
   * multi-byte character the scanner cut is held back until the next call). `final` is PHP's
   * flush: what the scanner held back (an unfinished tag) is passed through as it is.
   */
  write(chunk: string | Uint8Array, final: boolean): string | Buffer {
    let bin = typeof chunk === 'string' ? toBinary(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    for (let i = this.#stack.length - 1; i >= 0; i--) bin = this.#stack[i]!.handle(bin, final);
    bin = this.#pending + bin;
    this.#pending = '';
    if (typeof chunk !== 'string') return Buffer.from(bin, 'latin1');
    if (!final) {
      const cut = incompleteUtf8Tail(bin);
      if (cut > 0) {
        this.#pending = bin.slice(bin.length - cut);
        bin = bin.slice(0, bin.length - cut);
      }
    }
    return Buffer.from(bin, 'latin1').toString('utf8');
  }
}
