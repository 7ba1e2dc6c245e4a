/**
 * bench/cycles: the engine's session cycles that several benches time, so each bench measures the
 * same work. Any diagnostic, or a failed start or write_close, throws: a bench never times a cycle
 * that went wrong.
 */
import type { SessionEngine } from 'php-session-engine';

function check(ok: boolean, what: string, diagnostics: unknown): void {
  if (!ok) throw new Error(`${what} failed: ${JSON.stringify(diagnostics)}`);
}

/** bench/redis' cycle: start, `n` + 1, write_close, end. */
export async function counterCycle(engine: SessionEngine, id: string): Promise<void> {
  const req = engine.request({ cookies: { PHPSESSID: id } });
  check(await req.start(), 'session_start', req.diagnostics);
  const v = req.session.get('n');
  req.session.set('n', (typeof v === 'number' ? v : 0) + 1);
  await req.writeClose();
  await req.end();
  check(req.diagnostics.length === 0, 'the cycle', req.diagnostics);
}

/** The 140 KB cycle of issue #16 (bench/session-cycle): start, read `user_id`, set `n`, write_close, end. */
export async function readOneSetOneCycle(engine: SessionEngine, id: string): Promise<void> {
  const req = engine.request({ cookies: { PHPSESSID: id } });
  check(await req.start(), 'session_start', req.diagnostics);
  if (typeof req.session.get('user_id') !== 'number') throw new Error('user_id missing');
  const n = req.session.get('n');
  req.session.set('n', (typeof n === 'number' ? n : 0) + 1);
  check(await req.writeClose(), 'write_close', req.diagnostics);
  await req.end();
  check(req.diagnostics.length === 0, 'the cycle', req.diagnostics);
}

/**
 * Runs `cycle` for `seconds` in `loops` concurrent loops, the loops taking the ids in turn; returns
 * the cycles per CPU-second of this process (`cpu`) and per second (`wall`). The paired benches'
 * measurement of one build in one round.
 */
export async function countCycles(
  cycle: (id: string) => Promise<void>,
  ids: readonly string[],
  loops: number,
  seconds: number,
): Promise<{ cpu: number; wall: number }> {
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: loops }, async (_, l) => {
    for (let k = l; performance.now() < end; k += loops) {
      await cycle(ids[k % ids.length]!);
      n++;
    }
  }));
  const c = process.cpuUsage(c0);
  return { cpu: n / ((c.user + c.system) / 1e6), wall: n / ((performance.now() - t0) / 1000) };
}
