/**
 * The engine driving the user module (session_set_save_handler) compared with php-cgi; the
 * scenarios are in user-handler-scenarios.ts (expectations: spec/php/expectations.json,
 * `engine/<name>`).
 */
import { engineDifferential } from './diff-helper.ts';
import { scenarios } from './user-handler-scenarios.ts';

engineDifferential('engine + user module vs php-cgi', scenarios);
