/**
 * bench/msession-files: what the msession file benches share — an engine on a files save path
 * whose msession store has a chosen number of reader threads (undefined: the default,
 * engine.msession() as users get it), and the CPU time of each of the process's threads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { filesModule } from '../handlers/files.ts';
import type { SaveHandlerModule } from '../lib/handler.ts';
import { SessionEngine } from '../lib/index.ts';
import type { EnumerableModule } from '../msession/index.ts';
import { filesStore } from '../msession/stores/files.ts';

/**
 * An engine on `dir` (files); with readThreads, its msession store reads on that many threads
 * (kept, when its Msession disconnects, for threadIdleMs: default 2 s).
 */
export function filesEngine(dir: string, readThreads?: number, threadIdleMs?: number): SessionEngine {
  if (readThreads === undefined) return new SessionEngine({ ini: { 'session.save_path': dir } });
  const name = `files_threads${readThreads}`;
  const options = threadIdleMs === undefined ? { readThreads } : { readThreads, threadIdleMs };
  const module: SaveHandlerModule & EnumerableModule = { ...filesModule, name, msessionStore: (savePath, ctx) => filesStore(savePath, ctx, options) };
  return new SessionEngine({ modules: [module], ini: { 'session.save_path': dir, 'session.save_handler': name } });
}

/** CPU milliseconds so far of each of this process's threads by thread id (Linux /proc/self/task/*\/schedstat); empty elsewhere. */
export function threadsCpu(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        out.set(Number(tid), Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ')[0]) / 1e6);
      } catch {
        // ended since the listing
      }
    }
  } catch {
    // not Linux
  }
  return out;
}
