/**
 * bench/http: reads sessions back with the engine (read_and_close), configured from the same
 * php.ini as php-fpm, and prints "<id> <n> <sum of cart quantities>" per id, as check.php does
 * with PHP. bench/http/run.ts compares both listings with what the load generator saw.
 *
 * Run: node --import tsx bench/http/read-store.ts <php.ini> <id prefix> <pool size>
 */
import { PhpArray, SessionEngine } from 'php-session-engine';

const [iniFile, prefix, poolArg] = process.argv.slice(2);
if (iniFile === undefined || prefix === undefined || poolArg === undefined) {
  console.error('usage: read-store.ts <php.ini> <id prefix> <pool size>');
  process.exit(2);
}
const engine = new SessionEngine({ iniFile, ini: { 'session.cache_limiter': '' } });
const lines: string[] = [];
for (let i = 0; i < Number(poolArg); i++) {
  const id = `${prefix}${String(i).padStart(26, '0')}`;
  const r = engine.request({ cookies: { PHPSESSID: id } });
  if (!(await r.start({ read_and_close: true }))) throw new Error(`${id}: session_start failed: ${JSON.stringify(r.diagnostics)}`);
  const n = r.session.get('n');
  const cart = r.session.get('cart');
  let sum = 0;
  if (cart instanceof PhpArray) for (const [, q] of cart) sum += typeof q === 'number' ? q : NaN;
  lines.push(`${id} ${typeof n === 'number' ? n : 0} ${sum}`);
  await r.end();
  if (r.diagnostics.length > 0) throw new Error(`${id}: ${JSON.stringify(r.diagnostics)}`);
}
process.stdout.write(lines.join('\n') + '\n', () => process.exit(0));
