/**
 * @module spec/conformance/phpt
 * The coverage table of PHP 8.2's ext/session/tests: every phpt file (names in phpt-files.txt,
 * listed from php-src 8.2's ext/session/tests) with its status here, from the `covers` fields of the
 * conformance scenarios, of the user-handler scenarios (spec/user, shown as `user/<name>`) and of the
 * free-form engine scenarios (spec/engine/user-handler-scenarios.ts and php-diff-scenarios.ts, shown
 * as `engine/<name>`) and of the trans-sid cases (spec/transsid/cases.ts, run through the engine by
 * spec/transsid/integration.test.ts, shown as `transsid/<name>`), plus
 * the reasons below. `node --conditions=php-session-engine-source --import tsx
 * spec/conformance/phpt.ts` rewrites PHPT.md; phpt.test.ts fails when PHPT.md is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarios as diffScenarios } from '../engine/php-diff-scenarios.ts';
import { scenarios as engineScenarios } from '../engine/user-handler-scenarios.ts';
import { CASES as transSidCases } from '../transsid/cases.ts';
import { scenarios as userScenarios } from '../user/scenarios.ts';
import { loadScenarios } from './scenario.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const PHPT_MD = join(HERE, 'PHPT.md');

const UPLOAD = 'not yet: upload progress (session.upload_progress records fed by the request body parser, issue #15) is not ported yet';
const DESTRUCT = 'not applicable: the subject is the order of PHP object destructors and shutdown functions around the session\'s shutdown write';
const PHPCODE = 'not applicable: the subject is PHP-language behaviour (autoloaders, compile errors, output-buffer callbacks, die() in callbacks)';

/** phpt name (without .phpt) → why it is not covered. Names covered by a scenario must not be here. */
export const NOT_COVERED: Record<string, string> = {
  bug53141: PHPCODE,
  bug60634: PHPCODE,
  bug60634_error_3: PHPCODE,
  bug60634_error_4: PHPCODE,
  bug61728: PHPCODE,
  bug79221: UPLOAD,
  gh12504: PHPCODE,
  gh13680: PHPCODE,
  gh13856: 'not yet: open_basedir is modelled (the open_basedir_* scenarios: run-time save_path checks, the empty save_path at open), but SessionHandler::open under open_basedir (the subject here) has no user-harness scenario yet',
  session_set_save_handler_class_006: DESTRUCT,
  session_set_save_handler_class_008: DESTRUCT,
  session_set_save_handler_class_011: DESTRUCT,
  session_set_save_handler_iface_002:
    'not applicable: the subject is PHP\'s nominal interface check (an object with all six methods that does not declare ' +
    '`implements SessionHandlerInterface` is refused); TypeScript interfaces are structural, so the engine accepts any ' +
    'object that has the six methods and refuses only one lacking a method (with PHP\'s TypeError text)',
};
for (const n of ['rfc1867', 'rfc1867_cleanup', 'rfc1867_disabled', 'rfc1867_disabled_2', 'rfc1867_inter',
  'rfc1867_no_name', 'rfc1867_sid_cookie',
  'rfc1867_sid_get', 'rfc1867_sid_get_2', 'rfc1867_sid_invalid', 'rfc1867_sid_only_cookie',
  'rfc1867_sid_only_cookie_2', 'rfc1867_sid_post']) {
  NOT_COVERED[n] ??= UPLOAD;
}

/**
 * Every scenario's `covers`: the conformance scenarios, then spec/user's as `user/<name>`, then the
 * free-form engine scenarios as `engine/<name>`.
 */
export function allCovers(): Array<{ name: string; covers: string[] }> {
  return [
    ...loadScenarios().map((s) => ({ name: s.name, covers: s.covers })),
    ...userScenarios.map((s) => ({ name: `user/${s.name}`, covers: s.covers ?? [] })),
    ...Object.entries(engineScenarios).map(([name, s]) => ({ name: `engine/${name}`, covers: s.covers ?? [] })),
    ...Object.entries(diffScenarios).map(([name, s]) => ({ name: `engine/${name}`, covers: s.covers ?? [] })),
    ...transSidCases.map((c) => ({ name: `transsid/${c.name}`, covers: c.phpt ?? [] })),
  ];
}

export function phptFiles(): string[] {
  return readFileSync(join(HERE, 'phpt-files.txt'), 'utf8').split('\n').filter((l) => l.endsWith('.phpt'));
}

export interface PhptRow {
  file: string;
  status: 'covered' | 'not applicable' | 'not yet';
  detail: string;
}

export function phptTable(): PhptRow[] {
  const coveredBy = new Map<string, string[]>();
  for (const { name, covers } of allCovers()) {
    for (const c of covers) coveredBy.set(c, [...(coveredBy.get(c) ?? []), name]);
  }
  return phptFiles().map((file) => {
    const base = file.replace(/\.phpt$/, '');
    const by = coveredBy.get(file);
    if (by !== undefined) return { file, status: 'covered', detail: by.join(', ') };
    const why = NOT_COVERED[base];
    if (why !== undefined) return { file, status: why.startsWith('not yet') ? 'not yet' : 'not applicable', detail: why };
    return { file, status: 'not yet', detail: 'not yet: no scenario written' };
  });
}

export function renderPhptMd(): string {
  const rows = phptTable();
  const count = (st: PhptRow['status']): number => rows.filter((r) => r.status === st).length;
  const lines = [
    '# PHP 8.2 `ext/session/tests` coverage',
    '',
    'Generated by `spec/conformance/phpt.ts` from the scenarios\' `covers` fields; do not edit by hand.',
    'A phpt is "covered" when at least one of our own scenarios exercises its subject in real php-cgi',
    'and in the engine (the scenarios are ours; PHP\'s test files are not copied). `user/...` names are',
    'user-save-handler scenarios in spec/user/scenarios.ts; `engine/...` names are free-form differential',
    'scenarios in spec/engine/user-handler-scenarios.ts and php-diff-scenarios.ts; `transsid/...` names are',
    'output-rewriting cases in spec/transsid/cases.ts (engine vs php-cgi in spec/transsid/integration.test.ts);',
    'the others are in spec/conformance/scenarios.',
    '',
    `${rows.length} phpt files: **${count('covered')} covered**, ${count('not applicable')} not applicable, ${count('not yet')} not yet.`,
    '',
    '| phpt | status | scenarios / reason |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.file} | ${r.status} | ${r.detail.replace(/\|/g, '\\|')} |`),
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(PHPT_MD, renderPhptMd());
  console.log(`wrote ${PHPT_MD}`);
}
