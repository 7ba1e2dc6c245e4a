/**
 * bench/msession-files: what the msession file benches share — an engine on a files save path
 * whose msession store has a chosen number of reader threads (undefined: the default,
 * engine.msession() as users get it), and the CPU time of the calling thread.
 */
import { readFileSync } from 'node:fs';
import { filesModule } from '../handlers/files.ts';
import type { SaveHandlerModule } from '../lib/handler.ts';
import { SessionEngine } from '../lib/index.ts';
import type { EnumerableModule } from '../msession/index.ts';
import { filesStore } from '../msession/stores/files.ts';

/** An engine on `dir` (files); with readThreads, its msession store reads on that many threads. */
export function filesEngine(dir: string, readThreads?: number): SessionEngine {
  if (readThreads === undefined) return new SessionEngine({ ini: { 'session.save_path': dir } });
  const name = `files_threads${readThreads}`;
  const module: SaveHandlerModule & EnumerableModule = { ...filesModule, name, msessionStore: (savePath, ctx) => filesStore(savePath, ctx, { readThreads }) };
  return new SessionEngine({ modules: [module], ini: { 'session.save_path': dir, 'session.save_handler': name } });
}

/** CPU milliseconds of the calling thread so far (Linux: utime + stime of /proc/thread-self/stat, 100 Hz ticks); NaN elsewhere. */
export function threadCpu(): number {
  try {
    const f = readFileSync('/proc/thread-self/stat', 'latin1').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return Number.NaN;
  }
}
