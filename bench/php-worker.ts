/**
 * bench/php-worker: a long-lived `php` child process that the benches talk to one line at a time
 * (bench/session-scale.ts, bench/serializers.ts). The PHP code prints `ready` once set up, then
 * answers each line it reads on stdin with one line; Node waits for the answer, so the two never
 * compete for CPU. A PHP that dies cannot leave the bench waiting: the line iterator ends when its
 * stdout closes, and the error names its exit and its stderr.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface PhpWorker {
  /** Sends one line and returns PHP's one-line answer. */
  ask(line: string): Promise<string>;
  /** Closes PHP's stdin and waits for a clean exit (throws otherwise). */
  finish(): Promise<void>;
  /** Kills PHP if it is still running (for `finally`). */
  kill(): void;
}

/** Starts `php <args>` and waits for its `ready` line. */
export async function startPhpWorker(args: readonly string[]): Promise<PhpWorker> {
  const proc = spawn('php', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // Settles when php is gone: its exit code, or the error if it could not be started.
  const exited = new Promise<number | null | Error>((resolve) => {
    proc.on('error', resolve);
    proc.on('close', resolve);
  });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const readLine = async (): Promise<string> => {
    const next = await lines.next();
    if (next.done) throw new Error(`php exited early (${String(await exited)}): ${stderr}`);
    return next.value;
  };
  const worker: PhpWorker = {
    async ask(line) {
      proc.stdin.write(`${line}\n`);
      return readLine();
    },
    async finish() {
      proc.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`php failed (${String(code)}): ${stderr}`);
    },
    kill() {
      if (proc.exitCode === null) proc.kill();
    },
  };
  try {
    const ready = await readLine();
    if (ready !== 'ready') throw new Error(`php did not start (first line ${JSON.stringify(ready)}): ${stderr}`);
  } catch (e) {
    worker.kill();
    throw e;
  }
  return worker;
}
