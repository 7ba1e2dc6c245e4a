/**
 * A separate Node process for spec/faults/lock-recovery.test.ts: starts one session through the
 * engine (which takes its lock), prints `locked <n as JSON>` and holds it until it is killed.
 * Usage: node --conditions=php-session-engine-source --import tsx lock-holder.ts '<ini as JSON>' <id>
 */
import { SessionEngine } from 'php-session-engine';

const [iniJson, id] = process.argv.slice(2) as [string, string];
const engine = new SessionEngine({ ini: JSON.parse(iniJson) as Record<string, string> });
const req = engine.request({ cookies: { PHPSESSID: id } });
if (!(await req.start())) {
  process.stderr.write(`session_start() failed: ${JSON.stringify(req.diagnostics)}\n`);
  process.exit(3);
}
process.stdout.write(`locked ${JSON.stringify(req.session.get('n') ?? null)}\n`);
// Hold the session (and its lock) until SIGKILL.
setInterval(() => {}, 1 << 30);
