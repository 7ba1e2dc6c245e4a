/**
 * @module session/functions
 * The session functions under their PHP names, as a PHP runtime binds them: one object per
 * request whose entries take PHP's positional arguments. Each entry is a PHP_FUNCTION from this
 * folder.
 */
import type { JsInput, PhpArray, PhpBytes } from '../../value.ts';
import type { RequestContext } from '../context.ts';
import type { SessionStatus } from '../state.ts';
import { session_decode, session_encode } from './codec.ts';
import { session_get_cookie_params, session_set_cookie_params } from './cookie-params.ts';
import { session_create_id, session_id, session_regenerate_id } from './id.ts';
import { ini_get, ini_get_all, ini_restore, ini_set } from './ini.ts';
import { output_add_rewrite_var, output_reset_rewrite_vars } from './output.ts';
import { session_set_save_handler } from './save-handler.ts';
import {
  session_cache_expire,
  session_cache_limiter,
  session_module_name,
  session_name,
  session_save_path,
} from './settings.ts';
import { session_start } from './start.ts';
import {
  session_abort,
  session_destroy,
  session_gc,
  session_register_shutdown,
  session_reset,
  session_status,
  session_unset,
  session_write_close,
} from './state.ts';

/** The session functions under their PHP names (what a PHP runtime binds). */
export interface SessionFunctions {
  session_start(options?: PhpArray | Record<string, JsInput>): Promise<boolean>;
  session_start(...args: unknown[]): Promise<boolean>;
  session_id(id?: string | null): string | false;
  session_id(...args: unknown[]): string | false;
  session_name(name?: string | null): string | false;
  session_name(...args: unknown[]): string | false;
  session_module_name(module?: string | null): string | false;
  session_module_name(...args: unknown[]): string | false;
  session_save_path(path?: string | null): string | false;
  session_save_path(...args: unknown[]): string | false;
  session_regenerate_id(delete_old_session?: boolean): Promise<boolean>;
  session_regenerate_id(...args: unknown[]): Promise<boolean>;
  session_create_id(prefix?: string): Promise<string | false>;
  session_create_id(...args: unknown[]): Promise<string | false>;
  session_destroy(...args: unknown[]): Promise<boolean>;
  session_unset(...args: unknown[]): boolean;
  session_write_close(...args: unknown[]): Promise<boolean>;
  session_commit(...args: unknown[]): Promise<boolean>;
  session_abort(...args: unknown[]): Promise<boolean>;
  session_reset(...args: unknown[]): Promise<boolean>;
  session_status(...args: unknown[]): SessionStatus;
  session_encode(...args: unknown[]): string | PhpBytes | false;
  session_decode(data: string | PhpBytes | Uint8Array): Promise<boolean>;
  session_decode(...args: unknown[]): Promise<boolean>;
  session_gc(...args: unknown[]): Promise<number | false>;
  session_set_save_handler(...args: unknown[]): boolean;
  session_set_cookie_params(...args: unknown[]): Promise<boolean>;
  session_get_cookie_params(...args: unknown[]): PhpArray;
  session_cache_limiter(value?: string | null): string | false;
  session_cache_limiter(...args: unknown[]): string | false;
  session_cache_expire(value?: number | null): number | bigint | false;
  session_cache_expire(...args: unknown[]): number | bigint | false;
  session_register_shutdown(...args: unknown[]): void;
  ini_get(option: string): string | false;
  ini_get(...args: unknown[]): string | false;
  ini_set(option: string, value: string | number | boolean | null): string | false;
  ini_set(...args: unknown[]): string | false;
  ini_restore(option: string): void;
  ini_restore(...args: unknown[]): void;
  ini_get_all(extension?: string | null, details?: boolean): PhpArray | false;
  ini_get_all(...args: unknown[]): PhpArray | false;
  output_add_rewrite_var(name: string, value: string): boolean;
  output_add_rewrite_var(...args: unknown[]): boolean;
  output_reset_rewrite_vars(...args: unknown[]): boolean;
}

/** Binds every session function to one request. */
export function bindFunctions(r: RequestContext): SessionFunctions {
  const f: SessionFunctions = {
    session_start: (...args: unknown[]) => session_start(r, args),
    session_id: (...args: unknown[]) => session_id(r, args),
    session_name: (...args: unknown[]) => session_name(r, args),
    session_module_name: (...args: unknown[]) => session_module_name(r, args),
    session_save_path: (...args: unknown[]) => session_save_path(r, args),
    session_regenerate_id: (...args: unknown[]) => session_regenerate_id(r, args),
    session_create_id: (...args: unknown[]) => session_create_id(r, args),
    session_destroy: (...args: unknown[]) => session_destroy(r, args),
    session_unset: (...args: unknown[]) => session_unset(r, args),
    session_write_close: (...args: unknown[]) => session_write_close(r, args),
    session_commit: (...args: unknown[]) => session_write_close(r, args, 'session_commit'),
    session_abort: (...args: unknown[]) => session_abort(r, args),
    session_reset: (...args: unknown[]) => session_reset(r, args),
    session_status: (...args: unknown[]) => session_status(r, args),
    session_encode: (...args: unknown[]) => session_encode(r, args),
    session_decode: (...args: unknown[]) => session_decode(r, args),
    session_gc: (...args: unknown[]) => session_gc(r, args),
    session_set_save_handler: (...args: unknown[]) =>
      session_set_save_handler(r, args, () => f.session_register_shutdown()),
    session_set_cookie_params: (...args: unknown[]) => session_set_cookie_params(r, args),
    session_get_cookie_params: (...args: unknown[]) => session_get_cookie_params(r, args),
    session_cache_limiter: (...args: unknown[]) => session_cache_limiter(r, args),
    session_cache_expire: (...args: unknown[]) => session_cache_expire(r, args),
    session_register_shutdown: (...args: unknown[]) =>
      session_register_shutdown(r, args, () => f.session_write_close()),
    ini_get: (...args: unknown[]) => ini_get(r, args),
    ini_set: (...args: unknown[]) => ini_set(r, args),
    ini_get_all: (...args: unknown[]) => ini_get_all(r, args),
    ini_restore: (...args: unknown[]) => ini_restore(r, args),
    output_add_rewrite_var: (...args: unknown[]) => output_add_rewrite_var(r, args),
    output_reset_rewrite_vars: (...args: unknown[]) => output_reset_rewrite_vars(r, args),
  };
  return f;
}
