/**
 * @module handlers/files/ini
 * The files module's library directives (`session_engine.files_*`, see php.ini.sample): their
 * defaults, checks and the parse of `session_engine.files_lock`.
 */
import type { ModuleIniEntry } from '../../lib/handler.ts';
import { FILES_LOCK_MODES, type FilesLockMode } from './locks.ts';

/** session_engine.files_lock as a mode (flock when unknown: its check refused the value). */
export function lockModeOf(v: string | undefined): FilesLockMode {
  const s = (v ?? 'flock').trim().toLowerCase();
  return (FILES_LOCK_MODES as readonly string[]).includes(s) ? (s as FilesLockMode) : 'flock';
}

function validateLockMode(v: string): string | undefined {
  return (FILES_LOCK_MODES as readonly string[]).includes(v.trim().toLowerCase())
    ? undefined
    : `session_engine.files_lock must be one of ${FILES_LOCK_MODES.join(', ')}; "${v}" given`;
}

function validateLockTimeout(v: string): string | undefined {
  return /^\s*\d+\s*$/.test(v) ? undefined : `session_engine.files_lock_timeout must be a number of milliseconds (0 = wait forever); "${v}" given`;
}

/** This module's ini directives (see php.ini.sample). */
export const FILES_INI: readonly ModuleIniEntry[] = [
  { name: 'session_engine.files_lock', default: 'flock', changeable: 'PHP_INI_ALL', validate: validateLockMode },
  { name: 'session_engine.files_lock_timeout', default: '0', changeable: 'PHP_INI_ALL', validate: validateLockTimeout },
  { name: 'session_engine.files_gc_hashed', default: '0', changeable: 'PHP_INI_ALL' },
  { name: 'session_engine.files_journal', default: '0', changeable: 'PHP_INI_ALL' },
];
