/**
 * @module session/functions/output
 * output_add_rewrite_var() and output_reset_rewrite_vars() (main/output.c): the URL rewriter's
 * own variables, next to the session's (see session/trans-sid).
 */
import { PhpBytes } from '../../value.ts';
import type { RequestContext } from '../context.ts';
import { urlRewriter } from '../trans-sid.ts';
import { argc, strArg } from './args.ts';

export function output_add_rewrite_var(r: RequestContext, args: readonly unknown[]): boolean {
  argc('output_add_rewrite_var', args, 2, 2);
  const name = strArg(r, 'output_add_rewrite_var', 1, 'name', args[0], false)!;
  const value = strArg(r, 'output_add_rewrite_var', 2, 'value', args[1], false)!;
  // strArg gives PhpBytes as a binary string; a JS string stands for its UTF-8 bytes.
  const binary = args[0] instanceof PhpBytes || args[1] instanceof PhpBytes;
  const bin = (v: unknown, s: string): string => (v instanceof PhpBytes ? s : Buffer.from(s, 'utf8').toString('latin1'));
  if (binary) urlRewriter(r).addVar('output', bin(args[0], name), bin(args[1], value), true);
  else urlRewriter(r).addVar('output', name, value);
  return true;
}

export function output_reset_rewrite_vars(r: RequestContext, args: readonly unknown[]): boolean {
  argc('output_reset_rewrite_vars', args, 0, 0);
  urlRewriter(r).resetVars('output');
  return true;
}
