/**
 * The engine driving the user module (session_set_save_handler) compared with php-cgi: call order,
 * lazy_write's update_timestamp, strict mode with validateId, the write-failure texts, and
 * SessionHandler wrapping files.
 */
import { it } from 'vitest';
import { describeWith } from '../support/tools.ts';
import { expectSameAsPhp, type Scenario } from './diff-helper.ts';
import { SessionHandler } from '../../handlers/user.ts';

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

const scenarios: Record<string, Scenario> = {
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
};

describeWith(['php-cgi'], 'engine + user module vs php-cgi', () => {
  for (const [name, s] of Object.entries(scenarios)) {
    it(name, async () => {
      await expectSameAsPhp(s);
    });
  }
});
