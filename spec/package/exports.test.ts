/**
 * The public surface is a list (issue #11, STYLE 21): the root exports exactly these names, and
 * package.json's exports map reaches the root, the handler modules and the serializers by their
 * registered names, never internals. Resolution is checked in a plain Node child process (Node's
 * own exports-map rules, not vite's), with the source condition so no build is needed.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Runs ESM `code` in Node with the package's source condition; returns its stdout. */
function node(code: string): string {
  return execFileSync(
    process.execPath,
    ['--conditions=php-session-engine-source', '--import', 'tsx', '--input-type=module', '-e', code],
    { cwd: ROOT, encoding: 'utf8' },
  );
}

/** Every runtime name of the root, in order; README's API tour documents the user-facing ones. */
const ROOT_EXPORTS = [
  'HOLD_LIMIT_WARNING',
  'LockTimeoutError',
  'MAX_REGISTRY_ENTRIES',
  'PHP_INT_MAX',
  'PHP_INT_MIN',
  'PHP_SESSION_ACTIVE',
  'PHP_SESSION_DISABLED',
  'PHP_SESSION_NONE',
  'PhpArgumentCountError',
  'PhpArray',
  'PhpBytes',
  'PhpEnum',
  'PhpError',
  'PhpException',
  'PhpFloat',
  'PhpObject',
  'PhpReference',
  'PhpSerializable',
  'Msession',
  'MsessionError',
  'PhpTypeError',
  'PhpValueError',
  'Registry',
  'SerializeError',
  'SessionEngine',
  'SessionError',
  'SessionHandler',
  'SessionRequest',
  'SessionStatusNames',
  'UnserializeError',
  'builtinSerializers',
  'closeMemcacheConnections',
  'formatFloat',
  'normalizeInt',
  'normalizeKey',
  'php',
  'phpTypeName',
  'php_binary',
  'php_serialize',
  'serialize',
  'toJs',
  'toPhp',
  'unserialize',
  'unserializePhp',
];

describe('package surface', () => {
  it('the root exports exactly the listed names', () => {
    const names = JSON.parse(node(`const m = await import('php-session-engine'); console.log(JSON.stringify(Object.keys(m).sort()));`));
    expect(names).toEqual([...ROOT_EXPORTS].sort());
  });

  it('handler modules and serializers are importable by their registered names', () => {
    const out = node(`
      const names = [];
      for (const p of ['handlers/files', 'handlers/user', 'handlers/memcache', 'handlers/memcached',
                       'serializers/php', 'serializers/php_binary', 'serializers/php_serialize']) {
        const m = await import('php-session-engine/' + p);
        names.push(p + ':' + (Object.keys(m).length > 0));
      }
      console.log(names.join(' '));`);
    expect(out.trim().split(' ').every((s) => s.endsWith(':true'))).toBe(true);
  });

  it.each(['serializers/internal', 'serializers/var', 'serializers/session-common', 'lib/request', 'lib/session/state', 'handlers/shared/memcache/client', 'handlers/shared/lock-queue'])(
    '%s is not reachable through the exports map',
    (path) => {
      const out = node(`
        try { await import('php-session-engine/${path}'); console.log('imported'); }
        catch (e) { console.log(e.code); }`);
      expect(out.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    },
  );
});
