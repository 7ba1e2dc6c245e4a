/**
 * Engine vs php-cgi: each scenario of php-diff-scenarios.ts runs as PHP code and as engine calls;
 * return values, diagnostics (level + text) and header lines must match (expectations:
 * spec/php/expectations.json, `engine/<name>`).
 */
import { engineDifferential } from './diff-helper.ts';
import { scenarios } from './php-diff-scenarios.ts';

engineDifferential('engine vs php-cgi', scenarios);
