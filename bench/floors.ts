/**
 * bench/floors: how fast could any faithful port on Node be? Issues #13 (redis, sequential, ≥ 1×
 * PHP) and #16 (140 KB cycle, ≥ 3× PHP). Each target is set against PHP's whole session cycle; this
 * bench measures, in the same interleaved rounds, the cycle of PHP and of the engine next to the
 * bare I/O of that cycle with nothing else (the floor): what a port on Node pays before it decodes,
 * encodes or runs any session logic at all.
 *
 * Part `redis` (bench/redis' payload, 100 ids, one request at a time, one connection), without and
 * with redis.session.locking_enabled:
 * - `PHP cycle`: session_start + modify + session_write_close through phpredis' handler;
 * - `phpredis by hand`: the commands PHP's handler sends (seen with a TcpProxy tap), issued with
 *   phpredis' methods: GET, SETEX; locking SET NX PX, GET, SETEX, EVALSHA (release);
 * - `engine`: this library's cycle (lazy decoding, the default); without locking also the engine on
 *   the simplest module over the same ioredis client (GET in read, SETEX in write: what the redis
 *   module costs beyond it) and on an in-memory module whose read waits one event-loop turn (the
 *   engine's own code with no I/O);
 * - `ioredis by hand`: the engine's commands and round trips on an ioredis client of its own:
 *   GET, SETEX; locking SET NX PX and GET in one write, then EVALSHA of the write-and-unlock script;
 * - `floor`: a bare net.Socket (setNoDelay) writing those RESP bytes and awaiting each reply, no
 *   client library (a probe only: the product keeps ioredis); with locking also `floor, PHP's
 *   commands` (the four round trips phpredis makes).
 *
 * Part `big` (bench/payloads' ~140 KB session, one id: start, read one key, set one key,
 * write_close), per store:
 * - files: `bare syscalls, PHP` (fopen, flock, fstat, fread, ftruncate(0), fwrite, fclose, with no
 *   session code) and `floor` (open, fstat, flock, fstat, pread, ftruncate(0), pwrite, close
 *   through sync node:fs and the flock binding: PHP 8.2.36's own calls, per strace); `floor, in
 *   place`: the same calls with the ftruncate left out and the pwrite only of the last 8 bytes, as
 *   the files module writes `n` in place (handlers/files/in-place.ts), plus the fstat it makes
 *   before that write;
 * - memcached: `client by hand` = the engine's memcache client issuing the engine's commands, and
 *   `floor` = the same round trips on a bare socket, binary protocol: add of the lock key + get of
 *   the session, then set of the session + delete of the lock key;
 * - redis (no locking, phpredis' default): `phpredis by hand` and `floor`: GET, then SETEX of the
 *   140 KB just read; `ioredis by hand` the same through ioredis, once as its `setex()` sends it
 *   (ioredis copies the whole command into a new Buffer) and once the way the module sends it
 *   (handlers/redis/commands.ts' BufferCommand: the value handed to the socket as it is); `module
 *   client by hand` the same through the redis module's own client (commands written by it and
 *   queued on ioredis' connection, the value not copied, the GET reply read into one buffer where
 *   it lands, handlers/redis/reply-reader.ts); `engine, thin module on the module client`:
 *   the engine's cycle on a module that only sends that GET and SETEX through that client (giving
 *   the read buffer back as the redis module does): what the redis module costs beyond its client.
 * The floor writes back the bytes it read: no decode, no encode.
 *
 * Every side runs SECONDS per round, sides rotating their order from round to round; PHP runs in
 * long-lived `php -n` workers (bench/php-worker.ts) that Node waits on, so the two never compete.
 * Printed: medians of the rounds for cycles per second, wall µs and CPU µs (getrusage in PHP,
 * process.cpuUsage in Node, all threads) per cycle, the rounds' spread of wall µs, and the median of
 * the per-round ratios to PHP's cycle. `port ceiling` = PHP's cycle time ÷ the floor's time: the
 * largest ratio to PHP a port could reach on this machine if its own code cost nothing.
 *
 *   npm run bench:floors [seconds-per-round=1] [rounds=7]
 *   BENCH_PARTS=redis,big (default both); BENCH_STORES=files,memcached,redis (part big)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { availableParallelism, hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SessionEngine, php_serialize, type SerializerContext } from 'php-session-engine';
import { closeRedisConnections } from 'php-session-engine/handlers/redis';
import { RedisConnection } from '../handlers/redis/client.ts';
import { BufferCommand } from '../handlers/redis/commands.ts';
import { releaseReply } from '../handlers/redis/reply-reader.ts';
import { closeAllConnections, MemcacheConnection } from '../handlers/shared/memcache/client.ts';
import { startMemcached, type MemcachedProcess } from '../spec/support/memcached-server.ts';
import { startRedis, type RedisProcess } from '../spec/support/redis-server.ts';
import { counterCycle, readOneSetOneCycle } from './cycles.ts';
import { positiveInt } from './env.ts';
import { bigSession } from './payloads.ts';
import { startPhpWorker, type PhpWorker } from './php-worker.ts';

const SECONDS = Number(process.argv[2] ?? 1);
const ROUNDS = Number(process.argv[3] ?? 7);
const PARTS = (process.env['BENCH_PARTS'] || 'redis,big').split(',');
const STORES = (process.env['BENCH_STORES'] || 'files,memcached,redis').split(',');
const BATCH = positiveInt('BENCH_BATCH', 20);

interface Sample {
  rate: number;
  wall: number;
  cpu: number;
}

/** One measured side: runs its cycle for `seconds` and reports the rate and per-cycle costs. */
interface Side {
  label: string;
  /** PHP's whole cycle: the row the ratios are taken against. */
  reference?: boolean;
  /** A floor row: the port ceiling is computed from it. */
  floor?: boolean;
  run(seconds: number): Promise<Sample>;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** A Node side: `one(k)` is cycle number k (sync or async), run back to back in batches. */
function nodeSide(label: string, one: (k: number) => Promise<void> | void, extra: Partial<Side> = {}): Side {
  return {
    label,
    ...extra,
    async run(seconds) {
      let n = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const end = t0 + seconds * 1000;
      do {
        for (let k = 0; k < BATCH; k++) {
          const p = one(n);
          if (p !== undefined) await p;
          n++;
        }
      } while (performance.now() < end);
      const c = process.cpuUsage(c0);
      const secs = (performance.now() - t0) / 1000;
      return { rate: n / secs, wall: (secs * 1e6) / n, cpu: (c.user + c.system) / n };
    },
  };
}

/**
 * A long-lived PHP worker running named cases: each case is the body of one cycle, a PHP closure
 * body with `$n` (the cycle number) in scope. One line `<case> <seconds>` in, `<rate> <cpu µs>` out.
 */
async function phpWorker(args: string[], setup: string, cases: Record<string, string>): Promise<PhpWorker> {
  const defs = Object.entries(cases)
    .map(([name, body]) => `'${name}' => function (int $n) { ${body} },`)
    .join('\n');
  const code = `${setup}
    $cases = [${defs}];
    $us = fn($r) => $r['ru_utime.tv_sec'] * 1e6 + $r['ru_utime.tv_usec'] + $r['ru_stime.tv_sec'] * 1e6 + $r['ru_stime.tv_usec'];
    echo "ready\\n";
    while (($line = fgets(STDIN)) !== false) {
      [$name, $secs] = explode(' ', trim($line));
      $f = $cases[$name];
      $n = 0; $r0 = getrusage(); $t0 = hrtime(true); $end = $t0 + (float) $secs * 1e9;
      do { for ($k = 0; $k < ${BATCH}; $k++) { $f($n); $n++; } } while (hrtime(true) < $end);
      $r1 = getrusage();
      echo $n / ((hrtime(true) - $t0) / 1e9), ' ', ($us($r1) - $us($r0)) / $n, "\\n";
    }`;
  return startPhpWorker([...args, '-r', code]);
}

function phpSide(worker: PhpWorker, name: string, label: string, extra: Partial<Side> = {}): Side {
  return {
    label,
    ...extra,
    async run(seconds) {
      const [rate, cpu] = (await worker.ask(`${name} ${seconds}`)).split(' ').map(Number);
      return { rate: rate!, wall: 1e6 / rate!, cpu: cpu! };
    },
  };
}

/** Runs the sides in rounds (the order rotating each round) and prints the table. */
async function measure(title: string, target: string, sides: Side[]): Promise<void> {
  for (const s of sides) await s.run(Math.min(SECONDS, 0.5)); // warm-up (JIT, connections, caches)
  const samples: Sample[][] = sides.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let j = 0; j < sides.length; j++) {
      const i = (j + r) % sides.length;
      samples[i]!.push(await sides[i]!.run(SECONDS));
    }
  }
  const ref = sides.findIndex((s) => s.reference === true);
  const ratio = (i: number): number => median(samples[i]!.map((x, r) => x.rate / samples[ref]![r]!.rate));
  const cpuRatio = (i: number): number => median(samples[i]!.map((x, r) => x.cpu / samples[ref]![r]!.cpu));
  console.log(`\n${title}`);
  console.log(`  ${'side'.padEnd(44)} ${'cycles/s'.padStart(8)} ${'wall µs'.padStart(8)} ${'(rounds)'.padStart(13)} ${'CPU µs'.padStart(7)}  rate ÷ PHP cycle  CPU ÷ PHP cycle`);
  sides.forEach((s, i) => {
    const xs = samples[i]!;
    const walls = xs.map((x) => x.wall);
    console.log(
      `  ${s.label.padEnd(44)} ${median(xs.map((x) => x.rate)).toFixed(0).padStart(8)} ${median(walls).toFixed(0).padStart(8)} ${`${Math.min(...walls).toFixed(0)}–${Math.max(...walls).toFixed(0)}`.padStart(13)} ${median(xs.map((x) => x.cpu)).toFixed(0).padStart(7)}  ${`${ratio(i).toFixed(2)}×`.padStart(15)}  ${`${cpuRatio(i).toFixed(2)}×`.padStart(15)}`,
    );
  });
  for (const [i, s] of sides.entries()) {
    if (s.floor !== true) continue;
    console.log(`  port ceiling from "${s.label}": ${ratio(i).toFixed(2)}× PHP's cycles/s (PHP's CPU ÷ floor's CPU ${(1 / cpuRatio(i)).toFixed(2)}×); target ${target}`);
  }
}

// ---------------------------------------------------------------------------------------------
// A bare RESP / memcached-binary socket: write bytes, await a given number of replies.

/**
 * The length of the complete reply at `pos` of `buf` (> 0), or, when it is not all there yet,
 * minus the number of bytes from `pos` it needs at least (0 when that is not known yet).
 */
type ReplyLength = (buf: Buffer, pos: number) => number;

/** One RESP2 reply (+, -, :, $ only: all these commands answer). */
const respLength: ReplyLength = (buf, pos) => {
  const eol = buf.indexOf(13, pos);
  if (eol === -1 || eol + 1 >= buf.length) return 0;
  const type = buf[pos];
  if (type === 0x2d) throw new Error(`redis: ${buf.toString('latin1', pos + 1, eol)}`);
  if (type !== 0x24) return eol + 2 - pos;
  const n = Number(buf.toString('latin1', pos + 1, eol));
  const len = n < 0 ? eol + 2 - pos : eol + 2 + n + 2 - pos;
  return pos + len <= buf.length ? len : -len;
};

/** One memcached binary-protocol response: a 24-byte header and its body. */
const binaryLength: ReplyLength = (buf, pos) => {
  if (buf.length - pos < 24) return 0;
  const len = 24 + buf.readUInt32BE(pos + 8);
  return buf.length - pos >= len ? len : -len;
};

/**
 * A bare client socket: writes the given bytes, resolves with the next N replies. A reply that
 * spans chunks is gathered in one receive buffer, reused from reply to reply (no allocation per
 * reply: the replies handed out are views, valid until the next send, which is all a cycle needs).
 */
class BareSocket {
  readonly #socket: Socket;
  readonly #length: ReplyLength;
  /** Bytes received and not yet parsed: #acc[0, #buffered). */
  #acc = Buffer.allocUnsafe(256 * 1024);
  #buffered = 0;
  /** Bytes needed before parsing is worth trying again. */
  #need = 0;
  #want = 0;
  #got: Buffer[] = [];
  #resolve: ((r: Buffer[]) => void) | null = null;
  #reject: ((e: Error) => void) | null = null;

  private constructor(socket: Socket, length: ReplyLength) {
    this.#socket = socket;
    this.#length = length;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#data(chunk));
    socket.on('error', (e) => this.#reject?.(e));
  }

  static open(port: number, length: ReplyLength): Promise<BareSocket> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new BareSocket(s, length)));
      s.once('error', reject);
    });
  }

  #data(chunk: Buffer): void {
    let buf: Buffer;
    if (this.#buffered === 0 && this.#need === 0) buf = chunk; // parse the chunk in place
    else {
      if (this.#buffered + chunk.length > this.#acc.length) {
        const grown = Buffer.allocUnsafe(2 * (this.#buffered + chunk.length));
        this.#acc.copy(grown, 0, 0, this.#buffered);
        this.#acc = grown;
      }
      chunk.copy(this.#acc, this.#buffered);
      this.#buffered += chunk.length;
      if (this.#buffered < this.#need) return;
      buf = this.#acc.subarray(0, this.#buffered);
    }
    let pos = 0;
    this.#need = 0;
    try {
      while (this.#got.length < this.#want) {
        const len = this.#length(buf, pos);
        if (len <= 0) {
          this.#need = -len;
          break;
        }
        this.#got.push(buf.subarray(pos, pos + len));
        pos += len;
      }
    } catch (e) {
      this.#reject?.(e as Error);
      return;
    }
    const rest = buf.length - pos;
    if (rest === 0) this.#buffered = 0;
    else if (buf === chunk || pos > 0) {
      // Keep the unparsed tail at the start of the receive buffer; replies already cut from
      // that buffer are copied out first, as the tail is moved over them.
      if (buf !== chunk) this.#got = this.#got.map((r) => Buffer.from(r));
      buf.copy(this.#acc, 0, pos);
      this.#buffered = rest;
    }
    if (this.#got.length === this.#want && this.#resolve !== null) {
      const r = this.#got;
      const resolve = this.#resolve;
      this.#got = [];
      this.#resolve = null;
      resolve(r);
    }
  }

  /** Writes `parts` (one writev) and resolves with the next `replies` replies, whole. */
  send(parts: Buffer[], replies: number): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      this.#want = replies;
      this.#resolve = resolve;
      this.#reject = reject;
      if (parts.length === 1) this.#socket.write(parts[0]!);
      else {
        this.#socket.cork();
        for (const p of parts) this.#socket.write(p);
        this.#socket.uncork();
      }
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** A RESP command: the header and arguments as Buffers (a value is passed as is, not copied). */
function resp(out: Buffer[], ...args: (string | Buffer)[]): void {
  let head = `*${args.length}\r\n`;
  for (const a of args) {
    if (typeof a === 'string') head += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    else {
      out.push(Buffer.from(`${head}$${a.length}\r\n`, 'latin1'), a);
      head = '\r\n';
    }
  }
  out.push(Buffer.from(head, 'latin1'));
}

/** The value of a RESP bulk reply (a view). */
function bulkValue(reply: Buffer): Buffer {
  const eol = reply.indexOf(13);
  return reply.subarray(eol + 2, reply.length - 2);
}

/** A memcached binary request. */
function mcRequest(opcode: number, key: string, extras: Buffer, value: Buffer | null, out: Buffer[]): void {
  const k = Buffer.from(key, 'latin1');
  const h = Buffer.alloc(24);
  h[0] = 0x80;
  h[1] = opcode;
  h.writeUInt16BE(k.length, 2);
  h[4] = extras.length;
  h.writeUInt32BE(extras.length + k.length + (value?.length ?? 0), 8);
  out.push(h, extras, k);
  if (value !== null) out.push(value);
}

/** A save handler module with only a read and a write (no locking): for the decomposition rows. */
function plainModule(name: string, read: (id: string) => Promise<Uint8Array>, write: (id: string, d: Uint8Array) => Promise<boolean> | boolean) {
  return { name, create: () => ({ name, open: () => true, close: () => true, read, write, destroy: () => true, gc: () => 0 }) };
}

// ---------------------------------------------------------------------------------------------

const redisExt = ['igbinary', 'redis'].flatMap((e) => ['-d', `extension=${e}`]);
const iniArgs = (ini: Record<string, string>): string[] => Object.entries({ ...ini, 'session.use_cookies': '0', 'session.cache_limiter': '' }).flatMap(([k, v]) => ['-d', `${k}=${v}`]);

/** The module's write-and-unlock script (handlers/redis.ts) and phpredis' release script. */
const SETEX_UNLOCK = 'if redis.call("get",KEYS[2]) == ARGV[3] then redis.call("setex",KEYS[1],ARGV[1],ARGV[2]) redis.call("del",KEYS[2]) return 1 else return false end';
const SETEX_UNLOCK_SHA = createHash('sha1').update(SETEX_UNLOCK).digest('hex');
const RELEASE = 'if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end';
const RELEASE_SHA = createHash('sha1').update(RELEASE).digest('hex');

async function redisPart(server: RedisProcess, workers: PhpWorker[]): Promise<void> {
  const ids = Array.from({ length: 100 }, (_, i) => `rdfloor${i.toString(16).padStart(25, '0')}`);
  const keys = ids.map((id) => `PHPREDIS_SESSION:${id}`);
  const savePath = `tcp://${server.address}`;
  const baseIni = { 'session.save_handler': 'redis', 'session.save_path': savePath };
  execFileSync('php', ['-n', ...redisExt, ...iniArgs(baseIni), '-r',
    `foreach (${JSON.stringify(ids)} as $id) { session_id($id); session_start(); $_SESSION['user'] = ['id' => 42, 'name' => 'alice', 'roles' => ['admin', 'editor']];
     $_SESSION['cart'] = []; for ($j = 0; $j < 10; $j++) $_SESSION['cart'][] = ['sku' => "SKU-$j", 'qty' => $j + 1, 'price' => 9.99 + $j];
     $_SESSION['n'] = 0; session_write_close(); }`]);
  const raw = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
  await raw.connect();
  await raw.script('LOAD', SETEX_UNLOCK);
  await raw.script('LOAD', RELEASE);
  const bare = await BareSocket.open(server.port, respLength);
  try {
    for (const locking of [false, true]) {
      const lockIni: Record<string, string> = locking ? { 'redis.session.locking_enabled': '1', 'redis.session.lock_retries': '-1' } : {};
      const php = await phpWorker(['-n', ...redisExt, ...iniArgs({ ...baseIni, ...lockIni })],
        `$ids = ${JSON.stringify(ids)}; $r = new Redis(); $r->connect('127.0.0.1', ${server.port}); $secret = gethostname() . '|' . getmypid();`,
        {
          cycle: `session_id($GLOBALS['ids'][$n % 100]); session_start(); $_SESSION['n']++; session_write_close();`,
          hand: locking
            ? `$k = 'PHPREDIS_SESSION:' . $GLOBALS['ids'][$n % 100]; $r = $GLOBALS['r']; $s = $GLOBALS['secret'];
               $r->set($k . '_LOCK', $s, ['NX', 'PX' => 30000]); $v = $r->get($k); $r->setex($k, 1440, $v); $r->evalsha('${RELEASE_SHA}', [$k . '_LOCK', $s], 1);`
            : `$k = 'PHPREDIS_SESSION:' . $GLOBALS['ids'][$n % 100]; $r = $GLOBALS['r']; $v = $r->get($k); $r->setex($k, 1440, $v);`,
        });
      workers.push(php);
      const engine = new SessionEngine({ ini: { ...baseIni, 'session.cache_limiter': '', ...lockIni } });
      const secret = `${hostname()}|${process.pid}|floor`;
      const engineCycle = (e: SessionEngine) => (n: number): Promise<void> => counterCycle(e, ids[n % 100]!);
      // The engine on the simplest module over the same ioredis client (GET in read, SETEX in
      // write, no locking), and on an in-memory module whose read waits one event-loop turn.
      const trivial = new SessionEngine({ ini: { 'session.save_handler': 'floorioredis', 'session.cache_limiter': '' } });
      trivial.registerModule(plainModule('floorioredis', async (id) => (await raw.getBuffer(`PHPREDIS_SESSION:${id}`)) ?? new Uint8Array(0), async (id, d) =>
        (await raw.setex(`PHPREDIS_SESSION:${id}`, 1440, Buffer.from(d.buffer, d.byteOffset, d.byteLength))) === 'OK'));
      const memory = new Map<string, Uint8Array>();
      for (const id of ids) memory.set(id, (await raw.getBuffer(`PHPREDIS_SESSION:${id}`))!);
      const inMemory = new SessionEngine({ ini: { 'session.save_handler': 'floormemory', 'session.cache_limiter': '' } });
      inMemory.registerModule(plainModule('floormemory', async (id) => {
        await new Promise((r) => setImmediate(r));
        return memory.get(id) ?? new Uint8Array(0);
      }, (id, d) => {
        memory.set(id, d.slice());
        return true;
      }));
      const sides: Side[] = [
        phpSide(php, 'cycle', 'PHP cycle (phpredis handler)', { reference: true }),
        phpSide(php, 'hand', `phpredis by hand (PHP's commands)`),
        nodeSide('engine', engineCycle(engine)),
        ...(locking ? [] : [nodeSide('engine on a trivial ioredis module', engineCycle(trivial)), nodeSide('engine, no I/O (in-memory module)', engineCycle(inMemory))]),
        nodeSide(`ioredis by hand (engine's commands)`, async (n) => {
          const key = keys[n % 100]!;
          if (!locking) {
            await raw.setex(key, 1440, (await raw.getBuffer(key))!);
            return;
          }
          const [, v] = await Promise.all([raw.set(`${key}_LOCK`, secret, 'PX', 30000, 'NX'), raw.getBuffer(key)]);
          if ((await raw.evalsha(SETEX_UNLOCK_SHA, 2, key, `${key}_LOCK`, 1440, v!, secret)) !== 1) throw new Error('ioredis: lock lost');
        }),
        nodeSide(`floor: bare socket (engine's commands)`, async (n) => {
          const key = keys[n % 100]!;
          let out: Buffer[] = [];
          if (!locking) {
            resp(out, 'GET', key);
            const [got] = await bare.send(out, 1);
            out = [];
            resp(out, 'SETEX', key, '1440', bulkValue(got!));
            await bare.send(out, 1);
            return;
          }
          resp(out, 'SET', `${key}_LOCK`, secret, 'NX', 'PX', '30000');
          resp(out, 'GET', key);
          const [, got] = await bare.send(out, 2);
          out = [];
          resp(out, 'EVALSHA', SETEX_UNLOCK_SHA, '2', key, `${key}_LOCK`, '1440', bulkValue(got!), secret);
          const [ok] = await bare.send(out, 1);
          if (ok![0] !== 0x3a) throw new Error('floor: lock lost');
        }, { floor: true }),
      ];
      if (locking) {
        sides.push(nodeSide(`floor: bare socket (PHP's commands)`, async (n) => {
          const key = keys[n % 100]!;
          let out: Buffer[] = [];
          resp(out, 'SET', `${key}_LOCK`, secret, 'NX', 'PX', '30000');
          await bare.send(out, 1);
          out = [];
          resp(out, 'GET', key);
          const [got] = await bare.send(out, 1);
          out = [];
          resp(out, 'SETEX', key, '1440', bulkValue(got!));
          await bare.send(out, 1);
          out = [];
          resp(out, 'EVALSHA', RELEASE_SHA, '1', `${key}_LOCK`, secret);
          await bare.send(out, 1);
        }, { floor: true }));
      }
      await measure(`redis, sequential, 100 ids, ${locking ? 'locking_enabled=1' : 'no locking (phpredis default)'}`, '≥ 1× (issue #13)', sides);
    }
  } finally {
    bare.close();
    raw.disconnect();
  }
}

/** Part big: the 140 KB cycle per store. */
async function bigPart(workers: PhpWorker[], servers: { memcached?: MemcachedProcess; redis?: RedisProcess }): Promise<void> {
  const ID = 'floorbig00000000000000000001';
  const dir = fs.mkdtempSync(join(tmpdir(), 'pse-bench-floors-'));
  try {
    const ctx: SerializerContext = { diagnostic: (l, m) => { throw new Error(`${l}: ${m}`); }, maxDepth: 4096 };
    const rootFile = join(dir, 'big.ser');
    fs.writeFileSync(rootFile, php_serialize.encode(bigSession(), ctx)!);
    const CYCLE_PHP = `session_id('${ID}'); session_start(); $u = $_SESSION['user_id']; $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1; session_write_close();`;
    const SEED = `session_id('${ID}'); session_start(); $_SESSION = unserialize(file_get_contents('${rootFile}')); session_write_close();`;
    const engineSide = (ini: Record<string, string>): Side => {
      const engine = new SessionEngine({ ini: { ...ini, 'session.cache_limiter': '' } });
      return nodeSide('engine (lazy)', () => readOneSetOneCycle(engine, ID));

    };
    for (const store of STORES) {
      if (store === 'files') {
        const saveDir = join(dir, 'files');
        fs.mkdirSync(saveDir);
        const ini = { 'session.save_path': saveDir };
        execFileSync('php', ['-n', ...iniArgs(ini), '-r', SEED]);
        const floorFile = join(dir, 'floor.sess');
        const phpFile = join(dir, 'php.sess');
        fs.copyFileSync(join(saveDir, `sess_${ID}`), floorFile);
        const floorInPlaceFile = join(dir, 'floor-in-place.sess');
        fs.copyFileSync(join(saveDir, `sess_${ID}`), floorInPlaceFile);
        fs.copyFileSync(join(saveDir, `sess_${ID}`), phpFile);
        const php = await phpWorker(['-n', ...iniArgs(ini)], '', {
          cycle: CYCLE_PHP,
          bare: `$fp = fopen('${phpFile}', 'c+'); stream_set_read_buffer($fp, 0); flock($fp, LOCK_EX); $st = fstat($fp);
                 $d = fread($fp, $st['size']); ftruncate($fp, 0); fseek($fp, 0); fwrite($fp, $d); fclose($fp);`,
        });
        workers.push(php);
        const fsExt = createRequire(import.meta.url)('fs-ext-extra-prebuilt') as { flockSync(fd: number, flags: 'ex'): void };
        const { O_RDWR, O_CREAT, O_NOFOLLOW } = fs.constants;
        let buf = Buffer.alloc(256 * 1024);
        /** The read half of the cycle: open, fstat (owner), flock, fstat (size), pread; the fd and size. */
        const openAndRead = (file: string): [fd: number, size: number] => {
          const fd = fs.openSync(file, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600);
          fs.fstatSync(fd);
          fsExt.flockSync(fd, 'ex');
          const size = fs.fstatSync(fd).size;
          if (size > buf.length) buf = Buffer.alloc(size);
          fs.readSync(fd, buf, 0, size, 0);
          return [fd, size];
        };
        await measure('140 KB cycle, files', '≥ 3× (issue #16)', [
          phpSide(php, 'cycle', 'PHP cycle (mod_files)', { reference: true }),
          phpSide(php, 'bare', 'bare syscalls, PHP (fopen...fclose)'),
          engineSide(ini),
          nodeSide('floor: bare syscalls, sync node:fs', () => {
            const [fd, size] = openAndRead(floorFile);
            fs.ftruncateSync(fd, 0);
            fs.writeSync(fd, buf, 0, size, 0);
            fs.closeSync(fd);
          }, { floor: true }),
          nodeSide('floor, in place: no ftruncate, pwrite of 8 bytes', () => {
            const [fd, size] = openAndRead(floorInPlaceFile);
            fs.fstatSync(fd);
            fs.writeSync(fd, buf, size - 8, 8, size - 8);
            fs.closeSync(fd);
          }, { floor: true }),
        ]);
      } else if (store === 'memcached') {
        const mc = (servers.memcached = await startMemcached());
        const ext = ['igbinary', 'msgpack', 'memcached'].flatMap((e) => ['-d', `extension=${e}`]);
        const ini = { 'session.save_handler': 'memcached', 'session.save_path': mc.address };
        execFileSync('php', ['-n', ...ext, ...iniArgs(ini), '-r', SEED]);
        const php = await phpWorker(['-n', ...ext, ...iniArgs(ini)], '', { cycle: CYCLE_PHP });
        workers.push(php);
        const bare = await BareSocket.open(mc.port, binaryLength);
        const key = `memc.sess.key.${ID}`;
        const lockKey = `memc.sess.key.lock.${ID}`;
        const extras = Buffer.alloc(8);
        extras.writeUInt32BE(30, 4); // flags 0, expiry 30 s
        const lockValue = Buffer.from('1');
        // The engine's memcache client (handlers/shared/memcache/client.ts) with the engine's commands.
        const client = new MemcacheConnection({ host: '127.0.0.1', port: mc.port }, { timeoutMs: 4000 });
        try {
          await measure('140 KB cycle, memcached (locking, php-memcached default)', '≥ 3× (issue #16)', [
            phpSide(php, 'cycle', 'PHP cycle (php-memcached)', { reference: true }),
            engineSide(ini),
            nodeSide('client by hand (add+get, set+delete)', async () => {
              const [added, item] = await Promise.all([client.add(lockKey, lockValue, 0, 30), client.get(key)]);
              if (!added || item === null) throw new Error('client: lock not taken or no session');
              await Promise.all([client.set(key, item.value, 0, 30), client.delete(lockKey)]);
            }),
            nodeSide('floor: bare socket, add+get, set+delete', async () => {
              let out: Buffer[] = [];
              mcRequest(0x02, lockKey, extras, lockValue, out); // add (the lock)
              mcRequest(0x00, key, Buffer.alloc(0), null, out); // get
              const [added, got] = await bare.send(out, 2);
              if (added!.readUInt16BE(6) !== 0) throw new Error('floor: lock not taken');
              const value = got!.subarray(24 + got![4]! + got!.readUInt16BE(2));
              out = [];
              mcRequest(0x01, key, Buffer.alloc(8), value, out); // set
              mcRequest(0x04, lockKey, Buffer.alloc(0), null, out); // delete (the unlock)
              await bare.send(out, 2);
            }, { floor: true }),
          ]);
        } finally {
          bare.close();
          client.close();
        }
      } else if (store === 'redis') {
        const r = (servers.redis ??= await startRedis());
        const ini = { 'session.save_handler': 'redis', 'session.save_path': `tcp://${r.address}` };
        execFileSync('php', ['-n', ...redisExt, ...iniArgs(ini), '-r', SEED]);
        const key = `PHPREDIS_SESSION:${ID}`;
        const php = await phpWorker(['-n', ...redisExt, ...iniArgs(ini)], `$r = new Redis(); $r->connect('127.0.0.1', ${r.port});`, {
          cycle: CYCLE_PHP,
          hand: `$r = $GLOBALS['r']; $v = $r->get('${key}'); $r->setex('${key}', 1440, $v);`,
        });
        workers.push(php);
        const bare = await BareSocket.open(r.port, respLength);
        const raw = new Redis({ host: '127.0.0.1', port: r.port, lazyConnect: true });
        await raw.connect();
        const client = new RedisConnection({ scheme: 'tcp', host: '127.0.0.1', port: r.port, database: -1, connectTimeoutMs: 5000, readTimeoutMs: 60_000 });
        await client.open();
        // The engine's own part of the 140 KB cycle: the same bytes in memory, each read one event-loop turn late.
        let stored = (await raw.getBuffer(key))!;
        const inMemory = new SessionEngine({ ini: { 'session.save_handler': 'floormemory', 'session.cache_limiter': '' } });
        inMemory.registerModule(plainModule('floormemory', async () => {
          await new Promise((r) => setImmediate(r));
          return stored;
        }, (_id, d) => {
          stored = Buffer.from(d);
          return true;
        }));
        // The engine on the simplest module over the module's own client: GET in read, SETEX in
        // write, the read buffer given back and the written bytes forgotten as the redis module
        // does (what the redis module costs beyond its client).
        const thinName = 'floorredisclient';
        const thin = new SessionEngine({ ini: { 'session.save_handler': thinName, 'session.cache_limiter': '' } });
        thin.registerModule({
          name: thinName,
          create: () => ({
            name: thinName,
            forgetsWrittenData: true,
            open: () => true,
            close: () => true,
            read: async (id: string) => {
              const v = await client.call('GET', `PHPREDIS_SESSION:${id}`);
              return Buffer.isBuffer(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(0);
            },
            release: (d: Uint8Array) => void releaseReply(d),
            write: async (id: string, d: Uint8Array) => String(await client.call('SETEX', `PHPREDIS_SESSION:${id}`, 1440, Buffer.from(d.buffer, d.byteOffset, d.byteLength))) === 'OK',
            destroy: () => true,
            gc: () => 0,
          }),
        });
        try {
          await measure('140 KB cycle, redis (no locking, phpredis default)', '≥ 3× (issue #16)', [
            phpSide(php, 'cycle', 'PHP cycle (phpredis handler)', { reference: true }),
            phpSide(php, 'hand', 'phpredis by hand (GET, SETEX)'),
            engineSide(ini),
            nodeSide('engine, no I/O (in-memory module)', () => readOneSetOneCycle(inMemory, ID)),
            nodeSide('engine, thin module on the module client', () => readOneSetOneCycle(thin, ID)),
            nodeSide('ioredis by hand (GET, SETEX)', async () => {
              await raw.setex(key, 1440, (await raw.getBuffer(key))!);
            }),
            // What the client's BufferCommand (handlers/redis/client.ts) removes: ioredis' copy
            // of the whole SETEX into a new Buffer (the engine's module sends this way).
            nodeSide('ioredis by hand, SETEX not copied', async () => {
              const v = (await raw.getBuffer(key))!;
              await raw.sendCommand(new BufferCommand('setex', [key, '1440', v]));
            }),
            // The module's own client (handlers/redis/client.ts): commands written by the client and
            // queued on ioredis' connection (no ioredis Command), the SETEX value not copied, and the
            // GET reply read where it lands (handlers/redis/reply-reader.ts), no join.
            nodeSide('module client by hand (GET, SETEX)', async () => {
              const v = await client.call('GET', key);
              if (!Buffer.isBuffer(v)) throw new Error('module client: no session');
              await client.call('SETEX', key, 1440, v);
            }),
            nodeSide('floor: bare socket, GET, SETEX', async () => {
              let out: Buffer[] = [];
              resp(out, 'GET', key);
              const [got] = await bare.send(out, 1);
              out = [];
              resp(out, 'SETEX', key, '1440', bulkValue(got!));
              await bare.send(out, 1);
            }, { floor: true }),
          ]);
        } finally {
          bare.close();
          raw.disconnect();
          client.close();
        }
      } else {
        throw new Error(`BENCH_STORES: unknown store ${store}`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`node ${process.version}, PHP 8.2 (php -n); ${availableParallelism()} cores, shared with other work; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start`);
console.log(`${ROUNDS} rounds of ${SECONDS} s per side, sides interleaved; medians (wall µs: min–max of the rounds). Node CPU: all threads.`);
const workers: PhpWorker[] = [];
const servers: { memcached?: MemcachedProcess; redis?: RedisProcess } = {};
try {
  if (PARTS.includes('redis')) await redisPart((servers.redis = await startRedis()), workers);
  if (PARTS.includes('big')) await bigPart(workers, servers);
  for (const w of workers) await w.finish();
} finally {
  for (const w of workers) w.kill();
  closeRedisConnections();
  closeAllConnections();
  await servers.memcached?.stop();
  await servers.redis?.stop();
}
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`);
