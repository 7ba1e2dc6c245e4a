/**
 * @module spec/memcache/shutdown
 * `engine.shutdown()` is MSHUTDOWN: it releases the process-wide resources the memcache modules
 * hold (pooled connections), and a process that used them then exits by itself (issue #11).
 * Seen from the server: memcached's curr_connections drops by the child's connection once the child
 * called shutdown() while it is still alive; then the child ends its event loop with nothing left.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMemcached, textCommand, type MemcachedProcess } from '../support/memcached-server.ts';
import { describeWith } from '../support/tools.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** The child: one session through `module`, then shutdown() when told; each step answered on stdout. */
const CHILD = `
import { createInterface } from 'node:readline';
import { SessionEngine } from 'php-session-engine';
const [module, path] = process.argv.slice(-2);
const lines = createInterface({ input: process.stdin });
const next = () => new Promise((resolve) => lines.once('line', resolve));
const engine = new SessionEngine({ ini: { 'session.save_handler': module, 'session.save_path': path } });
const req = engine.request({ cookies: { PHPSESSID: 'shutdownprobe' + module } });
if (!(await req.start())) throw new Error(JSON.stringify(req.diagnostics));
req.session.set('n', 1);
if (!(await req.writeClose())) throw new Error(JSON.stringify(req.diagnostics));
await req.end();
console.log('used');
await next();
await engine.shutdown();
console.log('shut');
await next();
lines.close();
`;

let server: MemcachedProcess;

async function connections(): Promise<number> {
  const m = /STAT curr_connections (\d+)/.exec((await textCommand(server.port, 'stats')).toString('latin1'));
  if (m === null) throw new Error('memcached stats: no curr_connections');
  // The stats connection itself counts; leave it out.
  return Number(m[1]) - 1;
}

/** Polls until the server's count differs from `from` (the server sees a close a moment after it). */
async function connectionsChangedFrom(from: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const n = await connections();
    if (n !== from) return n;
    await new Promise((r) => setTimeout(r, 10));
  }
  return from;
}

describeWith(['memcached'], 'engine.shutdown() releases memcache connections', () => {
  beforeAll(async () => {
    server = await startMemcached();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each([
    ['memcached', () => server.address],
    ['memcache', () => `tcp://${server.address}`],
  ])('%s: the connection closes at shutdown() and the child exits by itself', async (module, path) => {
    const idle = await connections();
    const child = spawn(
      process.execPath,
      ['--conditions=php-session-engine-source', '--import', 'tsx', '--input-type=module', '-e', CHILD, module, path()],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const out = createInterface({ input: child.stdout! });
    const said = (word: string) =>
      new Promise<void>((resolve, reject) => {
        out.once('line', (l) => (l === word ? resolve() : reject(new Error(`child said ${l}`))));
        void exited.then(() => reject(new Error(`child exited before "${word}"`)));
      });

    await said('used');
    const inUse = await connections();
    expect(inUse).toBe(idle + 1);
    child.stdin!.write('go\n');
    await said('shut');
    expect(await connectionsChangedFrom(inUse)).toBe(idle);
    // Nothing else may keep the child alive: it ends on its own (stdin stays open).
    child.stdin!.write('go\n');
    expect(await exited).toBe(0);
    child.stdin!.end();
  });
});
