/**
 * @module msession/cli
 * `php-session`: msession from the shell, configured as PHP is (`-c php.ini`, `-d name=value`),
 * on the live store. Every command takes `--json`; scans show a progress bar on stderr when
 * stderr is a terminal. Exit codes: see {@link EXIT} (and README, "The php-session CLI").
 */
import { Command, CommanderError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { SessionEngine } from '../lib/engine.ts';
import { PhpArray, type PhpValue } from '../lib/value.ts';
import { serialize, unserialize } from '../serializers/var.ts';
import { MsessionError } from './errors.ts';
import { Msession, type ScanOptions, type ScanProgress } from './msession.ts';
import { fromJson, parseCliValue, toJson, varDump } from './cli-format.ts';
import './index.ts';

/** Exit codes scripts can rely on. */
export const EXIT = {
  OK: 0,
  /** An unexpected failure (a bug): the message is on stderr. */
  INTERNAL: 1,
  /** Bad usage: unknown command or option, bad -d, bad id, bad VALUE. */
  USAGE: 2,
  /** No such session, or (get) no such variable. */
  NOT_FOUND: 3,
  /** The session data (or decode's input) does not decode. */
  CORRUPT: 4,
  /** The store failed: cannot open, read, write, or a scan broke off. */
  STORE: 5,
  /** The module cannot do this (no enumeration, no lock information). */
  UNSUPPORTED: 6,
  /** Interrupted (SIGINT). */
  ABORTED: 130,
} as const;

const CODE_EXIT: Record<string, number> = {
  ERR_MSESSION_BAD_ID: EXIT.USAGE,
  ERR_MSESSION_VALUE: EXIT.USAGE,
  ERR_MSESSION_PLUGIN: EXIT.USAGE,
  ERR_MSESSION_NO_SESSION: EXIT.NOT_FOUND,
  ERR_MSESSION_CORRUPT: EXIT.CORRUPT,
  ERR_MSESSION_OPEN: EXIT.STORE,
  ERR_MSESSION_READ: EXIT.STORE,
  ERR_MSESSION_WRITE: EXIT.STORE,
  ERR_MSESSION_SCAN: EXIT.STORE,
  ERR_MSESSION_LOCK_KEY: EXIT.STORE,
  ERR_MSESSION_DISCONNECTED: EXIT.INTERNAL,
  ERR_MSESSION_CANNOT_ENUMERATE: EXIT.UNSUPPORTED,
  ERR_MSESSION_ABORTED: EXIT.ABORTED,
};

class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

interface GlobalOptions {
  phpIni?: string;
  define: string[];
  handler?: string;
  savePath?: string;
  serializer?: string;
  json?: boolean;
  progress: boolean;
}

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
}

function engineOf(o: GlobalOptions): SessionEngine {
  const ini: Record<string, string> = {};
  for (const d of o.define) {
    const eq = d.indexOf('=');
    if (eq <= 0) throw new CliExit(EXIT.USAGE, `-d expects name=value, got "${d}"`);
    ini[d.slice(0, eq).trim()] = d.slice(eq + 1);
  }
  if (o.handler !== undefined) ini['session.save_handler'] = o.handler;
  if (o.savePath !== undefined) ini['session.save_path'] = o.savePath;
  if (o.serializer !== undefined) ini['session.serialize_handler'] = o.serializer;
  return new SessionEngine({ ini, ...(o.phpIni !== undefined ? { iniFile: o.phpIni } : {}) });
}

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** Runs the CLI on `argv` (without node and script); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }, signal?: AbortSignal): Promise<number> {
  const out = (s: string): void => void io.stdout.write(s);
  const err = (s: string): void => void io.stderr.write(s);
  let ms: Msession | null = null;
  let engine: SessionEngine | null = null;
  let o!: GlobalOptions;
  const msOf = (): Msession => {
    if (ms !== null) return ms;
    engine = engineOf(o);
    for (const d of engine.startupDiagnostics) err(`${d.message}\n`);
    ms = engine.msession();
    return ms;
  };
  const json = (v: unknown): void => out(`${JSON.stringify(v)}\n`);
  const show = (v: PhpValue): void => (o.json === true ? json(toJson(v)) : out(varDump(v)));

  /** Scan options: the progress bar (TTY only), abort on SIGINT, errors to stderr. */
  const scanOpts = (errors: MsessionError[] | null): ScanOptions => {
    let bar: cliProgress.SingleBar | null = null;
    if (o.progress && io.stderr.isTTY === true) {
      bar = new cliProgress.SingleBar({ stream: io.stderr as NodeJS.WriteStream, format: 'scanned {value} sessions | {matched} matched | {errors} unreadable', fps: 5, clearOnComplete: true }, cliProgress.Presets.shades_classic);
      bar.start(0, 0, { matched: 0, errors: 0 });
    }
    return {
      ...(signal !== undefined ? { signal } : {}),
      onProgress: (p: ScanProgress) => {
        bar?.setTotal(p.scanned);
        bar?.update(p.scanned, { matched: p.matched, errors: p.errors });
        if (p.done) bar?.stop();
      },
      onError: (e) => {
        if (errors !== null) errors.push(e);
        if (o.json !== true) err(`warning: ${e.message}\n`);
      },
    };
  };

  /** Streams items as a JSON array (constant memory), or one line each. */
  const streamList = async (items: AsyncIterable<string>, line: (x: string) => string = (x) => x): Promise<void> => {
    let first = true;
    if (o.json === true) out('[');
    for await (const x of items) {
      if (o.json === true) out(`${first ? '' : ','}${JSON.stringify(x)}`);
      else out(`${line(x)}\n`);
      first = false;
    }
    if (o.json === true) out(']\n');
  };

  const program = new Command('php-session')
    .description("PHP's msession functions on live PHP session stores (files, memcached, memcache)")
    .option('-c, --php-ini <file>', 'read this php.ini (as php -c)')
    .option('-d, --define <name=value>', 'set an ini directive (as php -d); repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--handler <name>', 'shortcut for -d session.save_handler=NAME')
    .option('--save-path <path>', 'shortcut for -d session.save_path=PATH')
    .option('--serializer <name>', 'shortcut for -d session.serialize_handler=NAME')
    .option('--json', 'machine-readable output (JSON) on stdout')
    .option('--no-progress', 'no progress bar on stderr during scans')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .hook('preAction', (cmd) => {
      o = cmd.opts<GlobalOptions>();
    });

  program.command('ls').description('list every session id').action(async () => {
    await streamList(msOf().list(scanOpts(null)));
  });
  program.command('count').description('count the sessions').action(async () => {
    const n = await msOf().count(scanOpts(null));
    if (o.json === true) json({ count: n });
    else out(`${n}\n`);
  });
  program.command('show <id>').description('the decoded session (var_dump, or --json)').action(async (id: string) => {
    show(await msOf().getArray(id));
  });
  program.command('find <name> <value>').description('ids of sessions whose NAME equals VALUE (JSON or string)').action(async (name: string, value: string) => {
    await streamList(msOf().find(name, parseCliValue(value), scanOpts(null)));
  });
  program.command('listvar <name>').description('id and value of every session that has NAME').action(async (name: string) => {
    let first = true;
    if (o.json === true) out('{');
    for await (const [id, v] of msOf().listvar(name, scanOpts(null))) {
      if (o.json === true) out(`${first ? '' : ','}${JSON.stringify(id)}:${JSON.stringify(toJson(v))}`);
      else out(`${id}\t${JSON.stringify(toJson(v))}\n`);
      first = false;
    }
    if (o.json === true) out('}\n');
  });
  program.command('get <id> <name>').description('one variable (exit 3 when unset)').action(async (id: string, name: string) => {
    const s = await msOf().getArray(id);
    if (!s.has(name)) throw new CliExit(EXIT.NOT_FOUND, `session ${id} has no variable ${JSON.stringify(name)}`);
    show(s.get(name)!);
  });
  program.command('set <id> <name> <value>').description('set one variable under the session lock').action(async (id: string, name: string, value: string) => {
    await msOf().set(id, name, parseCliValue(value));
    if (o.json === true) json({ ok: true });
  });
  program.command('inc <id> <name> [by]').description('add BY (default 1) atomically; prints the new value').action(async (id: string, name: string, by?: string) => {
    const n = by === undefined ? 1 : /^-?\d+$/.test(by) ? Number(by) : NaN;
    if (!Number.isSafeInteger(n)) throw new CliExit(EXIT.USAGE, `BY must be an integer, got "${by}"`);
    const v = await msOf().inc(id, name, n);
    if (o.json === true) json({ value: toJson(v) });
    else out(`${String(toJson(v))}\n`);
  });
  program.command('rm <id>').description('destroy the session under its lock').action(async (id: string) => {
    const m = msOf();
    if (!(await m.exists(id))) throw new CliExit(EXIT.NOT_FOUND, `no session ${id}`);
    await m.destroy(id);
    if (o.json === true) json({ destroyed: id });
  });
  program.command('timeout <id> [seconds]').description('seconds left before the store drops the session; sets it with SECONDS').action(async (id: string, seconds?: string) => {
    const n = seconds === undefined ? undefined : /^\d+$/.test(seconds) ? Number(seconds) : NaN;
    if (n !== undefined && !Number.isSafeInteger(n)) throw new CliExit(EXIT.USAGE, `SECONDS must be a non-negative integer, got "${seconds}"`);
    const t = await msOf().timeout(id, n);
    if (t === null) throw new CliExit(EXIT.NOT_FOUND, `no session ${id}`);
    if (o.json === true) json({ timeout: Number.isFinite(t) ? t : null, expires: Number.isFinite(t) });
    else out(`${Number.isFinite(t) ? t : 'never'}\n`);
  });
  program.command('lock <id>').description("who holds PHP's lock on the session, and how long").action(async (id: string) => {
    const m = msOf();
    if (!(await m.exists(id))) throw new CliExit(EXIT.NOT_FOUND, `no session ${id}`);
    const info = await m.lockInfo(id);
    if (o.json === true) json(info);
    else if (!info.locked) out('unlocked\n');
    else {
      const parts = ['locked'];
      if (info.pids !== undefined) parts.push(`by pid ${info.pids.join(', ')}`);
      if (info.waiting) parts.push(`${info.waiting} waiting`);
      if (info.heldFor !== undefined) parts.push(`for ${info.heldFor}s`);
      if (info.expiresIn !== undefined) parts.push(`expires in ${info.expiresIn}s`);
      out(`${parts.join(', ')}\n`);
    }
  });
  program.command('gc').description("the module's garbage collection (session_gc()); prints the count removed").action(async () => {
    const n = await msOf().gc();
    if (o.json === true) json({ removed: n < 0 ? null : n });
    else out(n < 0 ? `the ${msOf().moduleName} module reports no count (its store expires sessions itself)\n` : `${n}\n`);
  });
  program.command('stats').description('count, sizes, idle-time histogram, unreadable sessions').action(async () => {
    const m = msOf();
    const maxLifetime = Number(engine!.iniGet('session.gc_maxlifetime')) || 1440;
    const buckets: [string, number][] = [['1m', 60], ['5m', 300], ['15m', 900], ['1h', 3600], ['1d', 86400], ['older', Infinity]];
    const hist: Record<string, number> = Object.fromEntries(buckets.map(([k]) => [k, 0]));
    const stats = { count: 0, totalBytes: 0, largest: null as null | { id: string; bytes: number }, corrupt: 0, corruptIds: [] as string[], idle: hist };
    const opts = scanOpts(null);
    let scanned = 0;
    for await (const e of m.scan({ ...opts, withTtl: true })) {
      scanned++;
      if (scanned % 1000 === 0) opts.onProgress?.({ scanned, matched: stats.count, errors: stats.corrupt, done: false });
      if (!e.ok) {
        stats.corrupt++;
        if (stats.corruptIds.length < 100) stats.corruptIds.push(e.id);
        opts.onError?.(e.error);
        continue;
      }
      stats.count++;
      stats.totalBytes += e.size;
      if (stats.largest === null || e.size > stats.largest.bytes) stats.largest = { id: e.id, bytes: e.size };
      // Idle time: the lifetime a write gives minus what is left of it.
      const idle = e.ttl !== undefined && Number.isFinite(e.ttl) ? Math.max(0, maxLifetime - e.ttl) : 0;
      const b = buckets.find(([, lim]) => idle < lim)!;
      hist[b[0]]!++;
    }
    opts.onProgress?.({ scanned, matched: stats.count, errors: stats.corrupt, done: true });
    if (o.json === true) json(stats);
    else {
      out(`sessions: ${stats.count}\ntotal bytes: ${stats.totalBytes}\nlargest: ${stats.largest === null ? '-' : `${stats.largest.id} (${stats.largest.bytes} bytes)`}\nunreadable: ${stats.corrupt}${stats.corrupt ? ` (${stats.corruptIds.join(' ')})` : ''}\n`);
      out(`idle: ${buckets.map(([k]) => `${k === 'older' ? '' : '<'}${k}: ${hist[k]}`).join(', ')}\n`);
    }
  });
  const formatOption = () => new Option('-f, --format <name>', 'php, php_binary, php_serialize, or serialize (serialize()); default: session.serialize_handler');
  program.command('decode').description('stdin (encoded session or serialize() bytes) → var_dump or --json on stdout').addOption(formatOption()).action(async (cmdOpts: { format?: string }) => {
    const data = await readAll(io.stdin);
    const engine = engineOf(o);
    const format = cmdOpts.format ?? engine.iniGet('session.serialize_handler') ?? 'php';
    let value: PhpValue;
    if (format === 'serialize') {
      try {
        value = unserialize(data);
      } catch (e) {
        throw new CliExit(EXIT.CORRUPT, `decode: ${(e as Error).message}`);
      }
    } else {
      const s = engine.serializers.get(format);
      if (s === undefined) throw new CliExit(EXIT.USAGE, `unknown format "${format}"`);
      const warnings: string[] = [];
      const r = s.decode(data, new PhpArray(), { maxDepth: 4096, diagnostic: (_l, m) => void warnings.push(m) });
      for (const w of warnings) err(`warning: ${w}\n`);
      if (!r.ok) throw new CliExit(EXIT.CORRUPT, `decode: the input is not valid ${format} session data`);
      value = r.session;
    }
    show(value);
  });
  program.command('encode').description('stdin JSON → encoded session (or serialize() bytes) on stdout').addOption(formatOption()).action(async (cmdOpts: { format?: string }) => {
    const text = (await readAll(io.stdin)).toString('utf8');
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (e) {
      throw new CliExit(EXIT.USAGE, `encode: stdin is not JSON: ${(e as Error).message}`);
    }
    const engine = engineOf(o);
    const format = cmdOpts.format ?? engine.iniGet('session.serialize_handler') ?? 'php';
    const value = fromJson(input);
    if (format === 'serialize') {
      io.stdout.write(serialize(value));
      return;
    }
    const s = engine.serializers.get(format);
    if (s === undefined) throw new CliExit(EXIT.USAGE, `unknown format "${format}"`);
    if (!(value instanceof PhpArray)) throw new CliExit(EXIT.USAGE, 'encode: a session is a JSON object or array');
    const warnings: string[] = [];
    const bytes = s.encode(value, { maxDepth: 4096, diagnostic: (_l, m) => void warnings.push(m) });
    for (const w of warnings) err(`warning: ${w}\n`);
    if (bytes === null && value.size > 0) throw new CliExit(EXIT.USAGE, `encode: ${format} cannot encode this session${warnings.length ? ` (${warnings.join('; ')})` : ''}`);
    io.stdout.write(bytes ?? new Uint8Array(0));
  });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too (exit code 0).
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (e instanceof CliExit) {
      err(`php-session: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof MsessionError) {
      err(`php-session: ${e.message}\n`);
      return CODE_EXIT[e.code] ?? EXIT.INTERNAL;
    }
    err(`php-session: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.INTERNAL;
  } finally {
    await (ms as Msession | null)?.disconnect().catch(() => undefined);
  }
}

/** The process entry point (the package's `bin`). */
export async function main(): Promise<void> {
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort('SIGINT'));
  const code = await runCli(process.argv.slice(2), undefined, ac.signal);
  // Let stdout drain before exiting (a pipe may still hold output).
  process.exitCode = code;
}
