/**
 * @module session/trans-sid
 * The request's URL rewriter (PHP's BG(url_adapt_session_ex) and BG(url_adapt_output_ex) with
 * their "URL-Rewriter" output handlers): php_session_reset_id adds the session variable when
 * trans-sid applies, output_add_rewrite_var() adds others, and the embedder passes its response
 * body through {@link rewriteOutput}. The settings are read on every call, so ini_set() takes
 * effect at once, as in PHP.
 */
import { iniStr, type RequestContext } from './context.ts';
import { OutputRewriter } from './url-rewriter.ts';

const rewriters = new WeakMap<RequestContext, OutputRewriter>();

/** The request's rewriter (made on first use). */
export function urlRewriter(r: RequestContext): OutputRewriter {
  let rw = rewriters.get(r);
  if (rw === undefined) {
    rw = new OutputRewriter(() => {
      const host = r.sapi.server['HTTP_HOST'];
      return {
        sessionTags: iniStr(r, 'session.trans_sid_tags'),
        sessionHosts: iniStr(r, 'session.trans_sid_hosts'),
        outputTags: iniStr(r, 'url_rewriter.tags'),
        outputHosts: iniStr(r, 'url_rewriter.hosts'),
        httpHost: typeof host === 'string' ? host : undefined,
        argSeparator: iniStr(r, 'arg_separator.output') || '&',
      };
    });
    rewriters.set(r, rw);
  }
  return rw;
}

/**
 * php_session_reset_id's trans-sid part: php_url_scanner_reset_session_var(name) then
 * php_url_scanner_add_session_var(name, id).
 */
export function setSessionVar(r: RequestContext, name: string, id: string): void {
  const rw = urlRewriter(r);
  rw.resetVar('session', name);
  rw.addVar('session', name, id);
}

/** True once a rewriting handler was started in this request (output passes through it). */
export function rewriterStarted(r: RequestContext): boolean {
  return rewriters.get(r)?.started === true;
}

/** The response body through the request's rewriting handlers (unchanged when none was started). */
export function rewriteOutput(r: RequestContext, chunk: string | Uint8Array, final: boolean): string | Buffer {
  const rw = rewriters.get(r);
  if (rw === undefined || !rw.started) {
    return typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  return rw.write(chunk, final);
}
