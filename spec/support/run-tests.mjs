// Runs the vitest suite and ends with one plain summary line ("tests: N passed, N failed, N skipped")
// so that CI logs state what ran. Before it, every skipped group is listed with its reason (the
// reason is part of the suite's or test's name: spec/support/tools.ts describeWith, the handler
// suite's and the differential suites' skip lists), so a skip is never silent.
// Exits with vitest's own exit code.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'pse-vitest-'));
const out = join(dir, 'results.json');
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit' });

/** "file > suite > …" → number of skipped tests under it, for the tests vitest did not run. */
function skippedGroups(r) {
  const groups = new Map();
  for (const file of r.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status !== 'skipped' && t.status !== 'pending' && t.status !== 'todo') continue;
      // A test skipped for its own reason is its own group; otherwise its suite is.
      const own = /\[skipped:|\(skip:/i.test(t.title);
      const path = [relative(process.cwd(), file.name), ...(t.ancestorTitles ?? []), ...(own ? [t.title] : [])].join(' > ');
      groups.set(path, (groups.get(path) ?? 0) + 1);
    }
  }
  return groups;
}

let summary = 'tests: no results file was written';
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  const groups = skippedGroups(r);
  if (groups.size > 0) {
    console.log(`\nSkipped (${skipped}), with the reason in each name:`);
    for (const [path, n] of groups) console.log(`  ${n} × ${path}`);
  }
  summary = `tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`;
} catch {
  // vitest crashed before writing results; its exit code says so
}
rmSync(dir, { recursive: true, force: true });
console.log(summary);
process.exit(run.status ?? 1);
