/**
 * @module spec/engine/user-handler-scenarios
 * Free-form differential scenarios for the user module (session_set_save_handler): each is PHP code
 * run by php-cgi plus the same steps against the engine (see diff-helper.ts). Call order, lazy_write's
 * update_timestamp, strict mode with validateId, the write-failure texts, SessionHandler wrapping
 * files, handlers calling session functions and the shutdown-function phase. `covers` names the phpt
 * files of PHP 8.2's ext/session/tests a scenario exercises (PHPT.md shows them as `engine/<name>`).
 * Imported by user-handler.test.ts and by spec/conformance/phpt.ts (so only types from vitest-bound
 * modules here).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from './diff-helper.ts';
import type { SessionRequest } from '../../lib/request.ts';
import type { PhpBytes } from '../../lib/value.ts';
import { SessionHandler, type SessionData } from '../../handlers/user.ts';

const PHP_CLASS = `
class H implements SessionHandlerInterface, SessionUpdateTimestampHandlerInterface {
  public $store = [];
  public function __construct(public bool $failWrite = false) {}
  function open($p, $n): bool { global $R; $R[] = "open"; return true; }
  function close(): bool { global $R; $R[] = "close"; return true; }
  function read($id): string|false { global $R; $R[] = "read"; return $this->store[$id] ?? ""; }
  function write($id, $d): bool { global $R; $R[] = "write $d"; if ($this->failWrite) return false; $this->store[$id] = $d; return true; }
  function destroy($id): bool { global $R; $R[] = "destroy"; unset($this->store[$id]); return true; }
  function gc($m): int|false { global $R; $R[] = "gc $m"; return 0; }
  function validateId($id): bool { global $R; $R[] = "validate"; return isset($this->store[$id]); }
  function updateTimestamp($id, $d): bool { global $R; $R[] = "update $d"; if ($this->failWrite) return false; return true; }
}
`;

class H {
  store = new Map<string, string>();
  constructor(
    private R: unknown[],
    private failWrite = false,
  ) {}
  open(): boolean {
    this.R.push('open');
    return true;
  }
  close(): boolean {
    this.R.push('close');
    return true;
  }
  read(id: string): string {
    this.R.push('read');
    return this.store.get(id) ?? '';
  }
  write(id: string, d: string): boolean {
    this.R.push(`write ${d}`);
    if (this.failWrite) return false;
    this.store.set(id, d);
    return true;
  }
  destroy(id: string): boolean {
    this.R.push('destroy');
    this.store.delete(id);
    return true;
  }
  gc(m: number): number {
    this.R.push(`gc ${m}`);
    return 0;
  }
  validateId(id: string): boolean {
    this.R.push('validate');
    return this.store.has(id);
  }
  updateTimestamp(_id: string, d: string): boolean {
    this.R.push(`update ${d}`);
    return !this.failWrite;
  }
}

/** PHP: the session files in $DIR as [name, contents], sorted by name. */
const PHP_SESSION_FILES = `$f = glob("$DIR/sess_*"); sort($f); foreach ($f as $p) $R[] = [basename($p), file_get_contents($p)];`;

/** The engine side of {@link PHP_SESSION_FILES}. */
function sessionFiles(req: SessionRequest, R: unknown[]): void {
  const dir = req.iniGet('session.save_path') as string;
  for (const n of readdirSync(dir).filter((f) => f.startsWith('sess_')).sort()) R.push([n, readFileSync(join(dir, n), 'latin1')]);
}

/** An error as the scenarios record it on both sides: [class, message]. */
function caught(e: unknown): [string, string] {
  return [(e as Error).name, (e as Error).message];
}

/**
 * After session_set_save_handler_class_007/010: a SessionHandler subclass whose finish() closes the
 * session from application code, and whose write/close record themselves (close asks session_id()).
 * PHP's __destruct lines are left out: destructor order is PHP-language behaviour.
 */
const PHP_NUMBERED = `
class MySession extends SessionHandler {
  public $num;
  public function __construct($num) { global $R; $this->num = $num; $R[] = "(#$num) constructor called"; }
  public function finish() { global $R; $id = session_id(); $R[] = "(#$this->num) finish called $id"; session_write_close(); }
  public function write($id, $data): bool { global $R; $R[] = "(#$this->num) writing $id = $data"; return parent::write($id, $data); }
  public function close(): bool { global $R; $id = session_id(); $R[] = "(#$this->num) closing $id"; return parent::close(); }
}
`;

class NumberedSession extends SessionHandler {
  constructor(
    readonly num: number,
    private readonly req: SessionRequest,
    private readonly R: unknown[],
  ) {
    super();
    R.push(`(#${num}) constructor called`);
  }
  async finish(): Promise<void> {
    const id = this.req.id() as string;
    this.R.push(`(#${this.num}) finish called ${id}`);
    await this.req.writeClose();
  }
  override async write(id: string, data: SessionData): Promise<boolean> {
    this.R.push(`(#${this.num}) writing ${id} = ${String(data)}`);
    return super.write(id, data);
  }
  override async close(): Promise<boolean> {
    const id = this.req.id() as string;
    this.R.push(`(#${this.num}) closing ${id}`);
    return super.close();
  }
}

export const scenarios: Record<string, Scenario> = {
  'object handler: call order, lazy write updates unchanged data': {
    ini: { 'session.gc_probability': '1', 'session.gc_divisor': '1', 'session.use_strict_mode': '1' },
    php: `${PHP_CLASS} $h = new H; $R[] = session_set_save_handler($h); $R[] = ini_get("session.save_handler"); $R[] = session_module_name();
      session_id("fixed0123456789abcdef0123456789ab"); session_start(); $_SESSION["a"] = 1; session_write_close();
      session_start(); session_write_close(); $R[] = session_id();`,
    js: async (req, R) => {
      const h = new H(R);
      R.push(req.setSaveHandler(h), req.iniGet('session.save_handler'), req.moduleName());
      req.id('fixed0123456789abcdef0123456789ab');
      await req.start();
      req.session.set('a', 1);
      await req.writeClose();
      await req.start();
      await req.writeClose();
      R.push(req.id());
    },
  },
  'object handler: write failure texts': {
    php: `${PHP_CLASS} $h = new H(true); session_set_save_handler($h); session_start(); $_SESSION["a"] = 1; session_write_close(); session_start(); session_write_close();`,
    js: async (req, R) => {
      req.setSaveHandler(new H(R, true));
      await req.start();
      req.session.set('a', 1);
      await req.writeClose();
      await req.start();
      await req.writeClose();
    },
  },
  'callable handler: write failure text names the callback': {
    php: `$h = new ${'H'}(true); session_set_save_handler([$h,"open"],[$h,"close"],[$h,"read"],[$h,"write"],[$h,"destroy"],[$h,"gc"]); session_start(); $_SESSION["a"] = 1; session_write_close(); $R[] = session_set_save_handler([$h,"open"],[$h,"close"],[$h,"read"],[$h,"write"],[$h,"destroy"]);`.replace(
      '$h = new H(true);',
      `${PHP_CLASS} $h = new H(true);`,
    ),
    js: async (req, R) => {
      const h = new H(R, true);
      req.setSaveHandler([h, 'open'], [h, 'close'], [h, 'read'], [h, 'write'], [h, 'destroy'], [h, 'gc']);
      await req.start();
      req.session.set('a', 1);
      await req.writeClose();
      R.push(req.setSaveHandler([h, 'open'], [h, 'close'], [h, 'read'], [h, 'write'], [h, 'destroy']));
    },
  },
  'object handler: a failed write is named Class::write, and plain write after session_destroy until the handler is set again': {
    php: `${PHP_CLASS} $h = new H(true); session_set_save_handler($h); session_start(); $_SESSION["a"] = 1; session_write_close();
      session_start(); session_write_close();
      session_start(); $R[] = session_destroy(); session_start(); $_SESSION["b"] = 2; session_write_close();
      session_start(); session_write_close();
      $R[] = session_set_save_handler($h); session_start(); $_SESSION["c"] = 3; session_write_close();`,
    js: async (req, R) => {
      const h = new H(R, true);
      req.setSaveHandler(h);
      await req.start();
      req.session.set('a', 1);
      await req.writeClose();
      await req.start();
      await req.writeClose();
      await req.start();
      R.push(await req.destroy());
      await req.start();
      req.session.set('b', 2);
      await req.writeClose();
      await req.start();
      await req.writeClose();
      R.push(req.setSaveHandler(h));
      await req.start();
      req.session.set('c', 3);
      await req.writeClose();
    },
  },
  'set_save_handler while active, regenerate with a user handler': {
    php: `${PHP_CLASS} $h = new H; session_set_save_handler($h); session_start(); $R[] = session_set_save_handler($h); $R[] = session_regenerate_id(true); $R[] = session_create_id() !== session_id(); session_write_close();`,
    js: async (req, R) => {
      const h = new H(R);
      req.setSaveHandler(h);
      await req.start();
      R.push(req.setSaveHandler(h));
      R.push(await req.regenerateId(true));
      R.push((await req.createId()) !== req.id());
      await req.writeClose();
    },
  },
  'SessionHandler wrapping files': {
    php: `class W extends SessionHandler { function write($id, $d): bool { global $R; $R[] = "W::write $d"; return parent::write($id, $d); } }
      session_set_save_handler(new W); session_start(); $_SESSION["x"] = "y"; session_write_close(); $_SESSION = []; session_start(); $R[] = $_SESSION; session_write_close();`,
    js: async (req, R) => {
      class W extends SessionHandler {
        override async write(id: string, d: string): Promise<boolean> {
          R.push(`W::write ${d}`);
          return super.write(id, d);
        }
      }
      req.setSaveHandler(new W());
      await req.start();
      req.session.set('x', 'y');
      await req.writeClose();
      req.session = {};
      await req.start();
      R.push(req.session.clone());
      await req.writeClose();
    },
  },
  'user callback throws: exception leaves session_start': {
    php: `${PHP_CLASS} class T extends H { function read($id): string|false { throw new RuntimeException("boom"); } } session_set_save_handler(new T); try { session_start(); } catch (Exception $e) { $R[] = $e->getMessage(); } $R[] = session_status();`,
    js: async (req, R) => {
      class T extends H {
        override read(): string {
          throw Object.assign(new Error('boom'), { name: 'RuntimeException' });
        }
      }
      req.setSaveHandler(new T(R));
      try {
        await req.start();
      } catch (e) {
        R.push((e as Error).message);
      }
      R.push(req.status());
    },
  },
  'SessionHandler subclass: read() passes another id to parent::read': {
    covers: ['bug70133.phpt'],
    php: `class CustomReadHandler extends SessionHandler {
        public function read($id): string|false { global $R; $R[] = "read $id"; return parent::read('mycustomsession'); }
      }
      $R[] = session_set_save_handler(new CustomReadHandler(), true);
      session_id('mycustomsession'); session_start(); $_SESSION['foo'] = 'hoge'; $R[] = session_id(); session_commit();
      session_id('otherid'); session_start(); $R[] = $_SESSION; $R[] = session_id(); session_commit();
      ${PHP_SESSION_FILES}`,
    js: async (req, R) => {
      class CustomReadHandler extends SessionHandler {
        override async read(id: string): Promise<string | PhpBytes | false> {
          R.push(`read ${id}`);
          return super.read('mycustomsession');
        }
      }
      R.push(req.setSaveHandler(new CustomReadHandler(), true));
      req.id('mycustomsession');
      await req.start();
      req.session.set('foo', 'hoge');
      R.push(req.id());
      await req.commit();
      req.id('otherid');
      await req.start();
      R.push(req.session.clone(), req.id());
      await req.commit();
      sessionFiles(req, R);
    },
  },
  'class handler then callables in one request: the failure label loses the class name': {
    covers: ['gh9584.phpt'],
    php: `class MySessionHandler extends SessionHandler implements SessionUpdateTimestampHandlerInterface {
        public function open($path, $sessname): bool { global $R; $R[] = "open"; return true; }
        public function close(): bool { global $R; $R[] = "close"; return true; }
        public function read($sessid): string|false { global $R; $R[] = "read"; return 'foo|s:3:"foo";'; }
        public function write($sessid, $sessdata): bool { global $R; $R[] = "write $sessdata"; return false; }
        public function destroy($sessid): bool { return true; }
        public function gc($maxlifetime): int|false { return 0; }
        public function create_sid(): string { return sha1(random_bytes(32)); }
        public function validateId($sid): bool { return true; }
        public function updateTimestamp($sessid, $sessdata): bool { global $R; $R[] = "update $sessdata"; return false; }
      }
      $h = new MySessionHandler(); $R[] = session_set_save_handler($h);
      session_start(); $_SESSION['x'] = 1; session_write_close();
      session_start(); session_write_close();
      $R[] = session_set_save_handler([$h, 'open'], [$h, 'close'], [$h, 'read'], [$h, 'write'], [$h, 'destroy'], [$h, 'gc']);
      session_start(); $_SESSION['y'] = 2; session_write_close();
      session_start(); session_write_close();`,
    js: async (req, R) => {
      class MySessionHandler extends SessionHandler {
        override async open(): Promise<boolean> {
          R.push('open');
          return true;
        }
        override async close(): Promise<boolean> {
          R.push('close');
          return true;
        }
        override async read(): Promise<string> {
          R.push('read');
          return 'foo|s:3:"foo";';
        }
        override async write(_id: string, data: SessionData): Promise<boolean> {
          R.push(`write ${String(data)}`);
          return false;
        }
        override async destroy(): Promise<boolean> {
          return true;
        }
        override async gc(): Promise<number> {
          return 0;
        }
        override async create_sid(): Promise<string> {
          return createHash('sha1').update(randomBytes(32)).digest('hex');
        }
        validateId(): boolean {
          return true;
        }
        updateTimestamp(_id: string, data: SessionData): boolean {
          R.push(`update ${String(data)}`);
          return false;
        }
      }
      const h = new MySessionHandler();
      R.push(req.setSaveHandler(h));
      await req.start();
      req.session.set('x', 1);
      await req.writeClose();
      await req.start();
      await req.writeClose();
      R.push(req.setSaveHandler([h, 'open'], [h, 'close'], [h, 'read'], [h, 'write'], [h, 'destroy'], [h, 'gc']));
      await req.start();
      req.session.set('y', 2);
      await req.writeClose();
      await req.start();
      await req.writeClose();
    },
  },
  'subclass of a SessionHandler subclass: inherited and overridden methods': {
    covers: ['session_set_save_handler_class_003.phpt'],
    php: `class MySession3 extends SessionHandler {
        public $i = 0;
        public function open($path, $name): bool { ++$this->i; return parent::open($path, $name); }
        public function read($key): string|false { ++$this->i; return parent::read($key); }
      }
      class MySession4 extends MySession3 {
        public function write($id, $data): bool { $this->i = "hai"; return parent::write($id, $data); }
      }
      $handler = new MySession3; session_set_save_handler($handler); session_start();
      $_SESSION['foo'] = "hello"; session_write_close(); $R[] = session_unset();
      session_start(); $R[] = $_SESSION; $R[] = $handler->i; session_write_close(); session_unset();
      $handler = new MySession4; session_set_save_handler($handler); session_start();
      $_SESSION['bar'] = 'hello'; session_write_close(); session_unset();
      $R[] = session_id(); $R[] = $_SESSION; $R[] = $handler->i;`,
    js: async (req, R) => {
      class MySession3 extends SessionHandler {
        i: number | string = 0;
        override async open(path: string, name: string): Promise<boolean> {
          this.i = (this.i as number) + 1;
          return super.open(path, name);
        }
        override async read(key: string): Promise<string | PhpBytes | false> {
          this.i = (this.i as number) + 1;
          return super.read(key);
        }
      }
      class MySession4 extends MySession3 {
        override async write(id: string, data: SessionData): Promise<boolean> {
          this.i = 'hai';
          return super.write(id, data);
        }
      }
      let handler: MySession3 = new MySession3();
      req.setSaveHandler(handler);
      await req.start();
      req.session.set('foo', 'hello');
      await req.writeClose();
      R.push(req.unset());
      await req.start();
      R.push(req.session.clone(), handler.i);
      await req.writeClose();
      req.unset();
      handler = new MySession4();
      req.setSaveHandler(handler);
      await req.start();
      req.session.set('bar', 'hello');
      await req.writeClose();
      req.unset();
      R.push(req.id(), req.session.clone(), handler.i);
    },
  },
  'two SessionHandler objects in one request: explicit close then the shutdown write': {
    covers: ['session_set_save_handler_class_007.phpt'],
    shutdown: true,
    php: `${PHP_NUMBERED}
      $handler = new MySession(1); session_set_save_handler($handler); session_start();
      $_SESSION['foo'] = 'bar';
      $handler->finish();
      $handler = new MySession(2); session_set_save_handler($handler); session_start();
      $_SESSION['abc'] = 'xyz';
      $R[] = 'done';`,
    js: async (req, R) => {
      let handler = new NumberedSession(1, req, R);
      req.setSaveHandler(handler);
      await req.start();
      req.session.set('foo', 'bar');
      await handler.finish();
      handler = new NumberedSession(2, req, R);
      req.setSaveHandler(handler);
      await req.start();
      req.session.set('abc', 'xyz');
      R.push('done');
    },
  },
  'register_shutdown_function closes the session through the handler (no session shutdown function)': {
    covers: ['session_set_save_handler_class_010.phpt'],
    shutdown: true,
    php: `${PHP_NUMBERED}
      $handler = new MySession(1); $R[] = session_set_save_handler($handler, false);
      register_shutdown_function(array($handler, 'finish'));
      session_start();
      $_SESSION['foo'] = 'bar';
      $R[] = 'done';`,
    js: async (req, R) => {
      const handler = new NumberedSession(1, req, R);
      R.push(req.setSaveHandler(handler, false));
      req.registerShutdownFunction(() => handler.finish());
      await req.start();
      req.session.set('foo', 'bar');
      R.push('done');
    },
  },
  'registering the handler again keeps the session shutdown function in its place': {
    shutdown: true,
    php: `${PHP_CLASS} $h = new H;
      session_set_save_handler($h);
      register_shutdown_function(function () {
        global $R; $R[] = 'user shutdown function';
        register_shutdown_function(function () { global $R; $R[] = 'registered during shutdown: status ' . session_status(); });
      });
      $R[] = session_set_save_handler($h);
      session_start(); $_SESSION['a'] = 1; $R[] = 'done';`,
    js: async (req, R) => {
      const h = new H(R);
      req.setSaveHandler(h);
      req.registerShutdownFunction(() => {
        R.push('user shutdown function');
        req.registerShutdownFunction(() => {
          R.push(`registered during shutdown: status ${req.status()}`);
        });
      });
      R.push(req.setSaveHandler(h));
      await req.start();
      req.session.set('a', 1);
      R.push('done');
    },
  },
  'a shutdown function registering callables removes the session shutdown function: the next one still runs': {
    shutdown: true,
    php: `${PHP_CLASS} $h = new H;
      session_set_save_handler($h);
      register_shutdown_function(function () use ($h) {
        global $R; $R[] = session_set_save_handler([$h, 'open'], [$h, 'close'], [$h, 'read'], [$h, 'write'], [$h, 'destroy'], [$h, 'gc']);
      });
      register_shutdown_function(function () { global $R; $R[] = 'next shutdown function'; });
      session_start(); $_SESSION['a'] = 1; session_write_close(); $R[] = 'done';`,
    js: async (req, R) => {
      const h = new H(R);
      req.setSaveHandler(h);
      req.registerShutdownFunction(() => {
        R.push(req.setSaveHandler([h, 'open'], [h, 'close'], [h, 'read'], [h, 'write'], [h, 'destroy'], [h, 'gc']));
      });
      req.registerShutdownFunction(() => {
        R.push('next shutdown function');
      });
      await req.start();
      req.session.set('a', 1);
      await req.writeClose();
      R.push('done');
    },
  },
  'SessionHandler::open() called without arguments': {
    covers: ['session_set_save_handler_class_012.phpt'],
    php: `class MySession extends SessionHandler {
        public $i = 0;
        public function open($path, $name): bool { global $R; ++$this->i; $R[] = 'Open ' . session_id(); return (null === parent::open()); }
        public function read($key): string|false { global $R; ++$this->i; $R[] = 'Read ' . session_id(); return parent::read($key); }
      }
      $oldHandler = ini_get('session.save_handler');
      $handler = new MySession; session_set_save_handler($handler);
      try { $R[] = session_start(); } catch (TypeError $e) { $R[] = [get_class($e), $e->getMessage()]; }
      $R[] = session_id(); $R[] = $oldHandler; $R[] = ini_get('session.save_handler'); $R[] = $handler->i; $R[] = session_status();`,
    js: async (req, R) => {
      class MySession extends SessionHandler {
        i = 0;
        override async open(): Promise<boolean> {
          this.i++;
          R.push(`Open ${req.id() as string}`);
          // What a JavaScript caller can do that TypeScript's types refuse: call it with no arguments.
          const open = super.open as (...args: unknown[]) => Promise<boolean>;
          return (await open.call(this)) === null;
        }
        override async read(key: string): Promise<string | PhpBytes | false> {
          this.i++;
          R.push(`Read ${req.id() as string}`);
          return super.read(key);
        }
      }
      const oldHandler = req.iniGet('session.save_handler');
      const handler = new MySession();
      req.setSaveHandler(handler);
      try {
        R.push(await req.start());
      } catch (e) {
        R.push(caught(e));
      }
      R.push(req.id(), oldHandler, req.iniGet('session.save_handler'), handler.i, req.status());
    },
  },
  'SessionHandler::close() called with an argument': {
    covers: ['session_set_save_handler_class_013.phpt'],
    php: `class MySession extends SessionHandler {
        public $i = 0;
        public function open($path, $name): bool { global $R; ++$this->i; $R[] = 'Open ' . session_id(); return parent::open($path, $name); }
        public function read($key): string|false { global $R; ++$this->i; $R[] = 'Read ' . session_id(); return parent::read($key); }
        public function close(): bool { return parent::close(false); }
      }
      $oldHandler = ini_get('session.save_handler');
      $handler = new MySession; session_set_save_handler($handler); $R[] = session_start();
      $R[] = session_id() !== ''; $R[] = $oldHandler; $R[] = ini_get('session.save_handler'); $R[] = $handler->i; $R[] = $_SESSION;
      $_SESSION['k'] = 'v';
      try { $R[] = session_write_close(); } catch (ArgumentCountError $e) { $R[] = [get_class($e), $e->getMessage()]; }
      $R[] = session_status();
      $R[] = session_start(); $R[] = $_SESSION; $R[] = $handler->i;
      try { $R[] = session_write_close(); } catch (ArgumentCountError $e) { $R[] = [get_class($e), $e->getMessage()]; }
      ${PHP_SESSION_FILES}`,
    js: async (req, R) => {
      class MySession extends SessionHandler {
        i = 0;
        override async open(path: string, name: string): Promise<boolean> {
          this.i++;
          R.push(`Open ${req.id() as string}`);
          return super.open(path, name);
        }
        override async read(key: string): Promise<string | PhpBytes | false> {
          this.i++;
          R.push(`Read ${req.id() as string}`);
          return super.read(key);
        }
        override async close(): Promise<boolean> {
          // What a JavaScript caller can do that TypeScript's types refuse: pass an extra argument.
          const close = super.close as (...args: unknown[]) => Promise<boolean>;
          return close.call(this, false);
        }
      }
      const oldHandler = req.iniGet('session.save_handler');
      const handler = new MySession();
      req.setSaveHandler(handler);
      R.push(await req.start());
      R.push(req.id() !== '', oldHandler, req.iniGet('session.save_handler'), handler.i, req.session.clone());
      req.session.set('k', 'v');
      try {
        R.push(await req.writeClose());
      } catch (e) {
        R.push(caught(e));
      }
      R.push(req.status());
      R.push(await req.start(), req.session.clone(), handler.i);
      try {
        R.push(await req.writeClose());
      } catch (e) {
        R.push(caught(e));
      }
      sessionFiles(req, R);
    },
  },
  'a validate_sid method is not validateId: strict mode never calls it': {
    covers: ['session_set_save_handler_class_018.phpt'],
    ini: { 'session.use_strict_mode': '1' },
    cookies: { PHPSESSID: 'cookie0123456789abcdef0123456789' },
    php: `class MySession2 extends SessionHandler {
        public $store = [];
        public function open($path, $name): bool { return true; }
        public function close(): bool { return true; }
        public function read($id): string|false { global $R; $R[] = "read $id"; return $this->store[$id] ?? ''; }
        public function write($id, $data): bool { global $R; $R[] = "write $id $data"; $this->store[$id] = $data; return true; }
        public function destroy($id): bool { unset($this->store[$id]); return true; }
        public function gc($maxlifetime): int|false { return 0; }
        public function create_sid(): string { global $R; $R[] = 'create_sid'; return 'session_set_save_handler_class_018'; }
        public function validate_sid($id): bool { global $R; $R[] = "validate_sid $id"; return false; }
      }
      $handler = new MySession2; session_set_save_handler($handler);
      $R[] = session_start(); $_SESSION['foo'] = 'hello';
      $R[] = session_id(); $R[] = ini_get('session.save_handler'); $R[] = $_SESSION;
      session_write_close(); session_unset();
      $R[] = session_start(); $R[] = $_SESSION;
      $R[] = session_regenerate_id(); $R[] = session_id();
      session_write_close();`,
    js: async (req, R) => {
      class MySession2 extends SessionHandler {
        store = new Map<string, SessionData>();
        override async open(): Promise<boolean> {
          return true;
        }
        override async close(): Promise<boolean> {
          return true;
        }
        override async read(id: string): Promise<SessionData> {
          R.push(`read ${id}`);
          return this.store.get(id) ?? '';
        }
        override async write(id: string, data: SessionData): Promise<boolean> {
          R.push(`write ${id} ${String(data)}`);
          this.store.set(id, data);
          return true;
        }
        override async destroy(id: string): Promise<boolean> {
          this.store.delete(id);
          return true;
        }
        override async gc(): Promise<number> {
          return 0;
        }
        override async create_sid(): Promise<string> {
          R.push('create_sid');
          return 'session_set_save_handler_class_018';
        }
        validate_sid(id: string): boolean {
          R.push(`validate_sid ${id}`);
          return false;
        }
      }
      req.setSaveHandler(new MySession2());
      R.push(await req.start());
      req.session.set('foo', 'hello');
      R.push(req.id(), req.iniGet('session.save_handler'), req.session.clone());
      await req.writeClose();
      req.unset();
      R.push(await req.start(), req.session.clone());
      R.push(await req.regenerateId(), req.id());
      await req.writeClose();
    },
  },
  'named functions and "echo" as callbacks': {
    covers: ['session_set_save_handler_error4.phpt'],
    php: `function callback() { return true; }
      try { $R[] = session_set_save_handler("callback", "callback", "callback", "callback", "callback", "callback"); } catch (TypeError $e) { $R[] = $e->getMessage(); }
      for ($i = 1; $i < 6; $i++) {
        $a = array_fill(0, 6, "callback"); $a[$i] = "echo";
        try { $R[] = session_set_save_handler(...$a); } catch (TypeError $e) { $R[] = $e->getMessage(); }
      }
      $R[] = session_set_save_handler("callback", "callback", "callback", "callback", "callback", "callback");
      $R[] = session_start(); $R[] = session_status();`,
    js: async (req, R) => {
      // PHP's named function "callback" is a function value here; "echo" is a language construct in
      // PHP, not a function, and a string is never callable in JavaScript.
      function callback(): boolean {
        return true;
      }
      const cb = [callback, callback, callback, callback, callback, callback];
      try {
        R.push(req.setSaveHandler(...cb));
      } catch (e) {
        R.push((e as Error).message);
      }
      for (let i = 1; i < 6; i++) {
        const a: unknown[] = [...cb];
        a[i] = 'echo';
        try {
          R.push(req.setSaveHandler(...a));
        } catch (e) {
          R.push((e as Error).message);
        }
      }
      R.push(req.setSaveHandler(...cb));
      R.push(await req.start(), req.status());
    },
  },
  'open_basedir: SessionHandler::open refuses the temporary directory': {
    // gh13856.phpt's subject. open_basedir is set at run time (php-cgi must still be able to run
    // the driver, which lies outside it) and before save_path is emptied, so the empty path is
    // checked at open, inside the parent handler.
    covers: ['gh13856.phpt'],
    ini: { 'sys_temp_dir': '/var/tmp', 'session.save_handler': 'files' },
    php: `$R[] = ini_set('open_basedir', '/nonexistent-basedir'); $R[] = ini_set('session.save_path', '');
      $R[] = session_set_save_handler(new \\SessionHandler(), true); $R[] = session_start(); $R[] = session_status();`,
    js: async (req, R) => {
      R.push(req.iniSet('open_basedir', '/nonexistent-basedir'), req.iniSet('session.save_path', ''));
      R.push(req.setSaveHandler(new SessionHandler(), true), await req.start(), req.status());
    },
  },
};
