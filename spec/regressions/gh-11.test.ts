/**
 * Issue #11 (coercion bugs of the session functions, fixed by parsing arguments through lib/zend):
 * - null given to a non-string parameter raises PHP's "Passing null to parameter" deprecation
 *   (session_set_cookie_params(null), session_regenerate_id(null));
 * - "Implicit conversion from float ... to int loses precision" carries no function prefix;
 * - a float given to ini_set() is stored as PHP prints it at precision 14 ("0.3", "1.0E+25").
 * Each call runs in `php -n` (output buffered, so headers stay unsent) and in the engine; the
 * return values, ini values and diagnostics must be the same.
 */
import { expect, it } from 'vitest';
import { SessionEngine, type SessionRequest } from 'php-session-engine';
import { describeWith, runPhp } from '../support/tools.ts';

interface Case {
  name: string;
  php: string;
  engine: (req: SessionRequest) => Promise<unknown> | unknown;
}

const CASES: Case[] = [
  {
    name: 'session_set_cookie_params(null)',
    php: 'session_set_cookie_params(null)',
    engine: (req) => req.functions.session_set_cookie_params(null),
  },
  {
    name: 'session_regenerate_id(null)',
    php: 'session_regenerate_id(null)',
    engine: (req) => req.functions.session_regenerate_id(null),
  },
  {
    name: 'session_cache_expire(1.5)',
    php: 'session_cache_expire(1.5)',
    engine: (req) => req.functions.session_cache_expire(1.5),
  },
  {
    name: "ini_set('session.gc_maxlifetime', 0.1 + 0.2)",
    php: "[ini_set('session.gc_maxlifetime', 0.1 + 0.2), ini_get('session.gc_maxlifetime')]",
    engine: (req) => [req.functions.ini_set('session.gc_maxlifetime', 0.1 + 0.2), req.functions.ini_get('session.gc_maxlifetime')],
  },
  {
    name: "ini_set('session.cookie_lifetime', 1e25)",
    php: "[ini_set('session.cookie_lifetime', 1e25), ini_get('session.cookie_lifetime')]",
    engine: (req) => [req.functions.ini_set('session.cookie_lifetime', 1e25), req.functions.ini_get('session.cookie_lifetime')],
  },
];

const LEVEL: Record<string, string> = { E_WARNING: 'Warning', E_NOTICE: 'Notice', E_DEPRECATED: 'Deprecated' };

describeWith(['php'], 'gh-11: argument coercion of the session functions matches PHP', () => {
  it.each(CASES)('$name', async (c) => {
    const r = await runPhp(`ob_start(); $r = ${c.php}; ob_end_clean(); echo json_encode($r);`, {
      ini: { display_errors: 'stderr', error_reporting: '-1', log_errors: '0' },
    });
    const phpDiagnostics = r.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .map((l) => l.replace(/ in Command line code on line \d+$/, ''));
    const req = new SessionEngine().request();
    const result = await c.engine(req);
    expect(JSON.stringify(result)).toBe(r.stdout.toString());
    expect(req.diagnostics.map((d) => `${LEVEL[d.level]}: ${d.message}`)).toEqual(phpDiagnostics);
  });
});
