/**
 * @module spec/conformance/report
 * Readable diffs for conformance scenarios, for whoever fixes the engine:
 *
 *   node --conditions=php-session-engine-source --import tsx spec/conformance/report.ts [options] [name-or-prefix...]
 *
 * With no names it runs every scenario expected to fail (spec/php/expectations.json) and prints each
 * normalised diff (`-` PHP, `+` engine). Options:
 *   --all        every scenario, printing only the failing ones
 *   --php        print PHP's normalised transcript only (no engine run): for writing scenarios
 *   --summary    one line per failing scenario (its first difference), grouped by that line
 */
import { runStepsInPhp } from '../php/driver.ts';
import { loadExpectations } from '../php/expectations.ts';
import { normalizeTranscript, transcriptLines } from '../php/normalize.ts';
import { limiter } from '../php/runner.ts';
import { compareWithEngine } from './run.ts';
import { loadScenarios } from './scenario.ts';

const argv = process.argv.slice(2);
const flags = new Set(argv.filter((a) => a.startsWith('--')));
const names = argv.filter((a) => !a.startsWith('--'));
const all = loadScenarios();
const expectations = loadExpectations();

let chosen = all;
if (names.length > 0) chosen = all.filter((s) => names.some((n) => s.name === n || s.name.startsWith(n)));
else if (!flags.has('--all') && !flags.has('--php')) chosen = all.filter((s) => expectations[s.name]?.status === 'fail');

const limit = limiter(3);
const groups = new Map<string, string[]>();
let failing = 0;
await Promise.all(
  chosen.map((s) =>
    limit(async () => {
      const php = await runStepsInPhp(s);
      if (flags.has('--php')) {
        const lines = transcriptLines(normalizeTranscript(php.transcript, s, php.dir, php.requestTimeMs));
        console.log(`=== ${s.name}\n${lines.join('\n')}\n`);
        return;
      }
      const o = await compareWithEngine(s, php);
      if (o.status === 'pass') return;
      failing++;
      if (flags.has('--summary')) {
        const key = o.reason ?? '';
        groups.set(key, [...(groups.get(key) ?? []), s.name]);
        return;
      }
      console.log(`=== ${s.name}: ${o.reason ?? ''}\n${o.diff ?? o.phpLines.map((l) => `- ${l}`).join('\n')}\n`);
    }),
  ),
);
if (flags.has('--summary')) {
  for (const [reason, list] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    console.log(`${list.length}\t${reason}\n\t${list.sort().join(' ')}`);
  }
}
if (!flags.has('--php')) console.log(`${failing} of ${chosen.length} scenario(s) differ from PHP`);
// A timed-out engine run may leave a blocked lock behind; do not wait for it.
process.exit(0);
