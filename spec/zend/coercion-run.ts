/**
 * Running the coercion property test's cases (spec/zend/coercion.test.ts) on both sides: one
 * batched `php -n` process (the driver below reads one case per stdin line and answers one line
 * per case) and the engine's `req.functions`, each case from the same clean state; and comparing
 * the two outcomes.
 */
import {
  PhpArray,
  PhpBytes,
  SessionEngine,
  SessionError,
  SessionHandler,
  serialize,
  unserializePhp,
  type PhpValue,
} from '../../lib/index.ts';
import { runPhp } from '../support/tools.ts';
import type { Case } from './coercion-cases.ts';

// ------------------------------------------------------------------------------------------------
// Running both sides

export interface Outcome {
  ret: string;
  error: string;
  diags: string;
  ini: string;
  status: string;
  sid: string;
}

export const UNSER_DATA: Record<string, string> = {
  'unserialize#max_depth': 'a:1:{i:0;a:1:{i:0;i:1;}}',
  'unserialize#allowed_classes': 'O:3:"Foo":0:{}',
};

export const PHP_DRIVER = String.raw`
class Foo {}
$levels = [E_WARNING => 'E_WARNING', E_NOTICE => 'E_NOTICE', E_DEPRECATED => 'E_DEPRECATED', E_ERROR => 'E_ERROR'];
$errs = [];
set_error_handler(function ($no, $str) use (&$errs, $levels) { $errs[] = ($levels[$no] ?? (string)$no) . ': ' . $str; return true; });
ob_start();
$restore = array_keys(ini_get_all('session', false));
$restore[] = 'unserialize_max_depth';
$data = json_decode(base64_decode(getenv('UNSER_DATA')), true);
function norm($fn, $r) {
  if ($fn === 'session_create_id' && is_string($r)) {
    $n = (int)ini_get('session.sid_length');
    return 'prefix=' . substr($r, 0, strlen($r) - $n) . ' len=' . strlen($r);
  }
  return $r;
}
while (($line = fgets(STDIN)) !== false) {
  [$fn, $argsB64, $capture] = explode("\t", rtrim($line, "\n"));
  $args = unserialize(base64_decode($argsB64));
  $errs = [];
  $ret = ''; $err = '';
  try {
    switch ($fn) {
      case 'unserialize#max_depth': $r = unserialize($data[$fn], ['max_depth' => $args[0]]); break;
      case 'unserialize#allowed_classes': $r = unserialize($data[$fn], ['allowed_classes' => $args[0]]); break;
      case 'session_set_save_handler#close': $r = session_set_save_handler(new SessionHandler(), ...$args); break;
      default: $r = $fn(...$args);
    }
    $ret = serialize(norm($fn, $r));
  } catch (Throwable $e) {
    $err = get_class($e) . ': ' . $e->getMessage();
  }
  $diags = implode("\x02", $errs);
  $ini = [];
  foreach ($capture === '' ? [] : explode(',', $capture) as $n) { $v = ini_get($n); $ini[] = $v === false ? 'false' : 's:' . $v; }
  $status = (string)session_status();
  $sid = str_starts_with($fn, 'session_start') ? '' : session_id();
  if (session_status() === PHP_SESSION_ACTIVE) session_abort();
  foreach ($restore as $n) ini_restore($n);
  if (session_id() !== '') session_id('');
  fwrite(STDOUT, implode("\t", array_map('base64_encode', [$ret, $err, $diags, implode("\x01", $ini), $status, $sid])) . "\n");
}
`;

export const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

function iniExport(v: string | false): string {
  return v === false ? 'false' : `s:${latin1(v)}`;
}

function retString(fn: string, r: unknown, sidLength: number): string {
  const v = r === undefined ? null : r;
  if (fn === 'session_create_id' && (typeof v === 'string' || v instanceof PhpBytes)) {
    const b = typeof v === 'string' ? latin1(v) : v.toBinaryString();
    const norm = `prefix=${b.slice(0, b.length - sidLength)} len=${b.length}`;
    return `s:${norm.length}:"${norm}";`;
  }
  return Buffer.from(serialize(v as PhpValue)).toString('latin1');
}

export async function runEngine(cases: Case[], savePath: string): Promise<Outcome[]> {
  const engine = new SessionEngine({ ini: { 'session.save_path': savePath } });
  const out: Outcome[] = [];
  for (const c of cases) {
    const req = engine.request();
    const f = req.functions as unknown as Record<string, (...a: unknown[]) => unknown>;
    let ret = '';
    let error = '';
    const diags: string[] = [];
    try {
      let r: unknown;
      if (c.fn.startsWith('unserialize#')) {
        const key = c.fn.slice('unserialize#'.length);
        const res = unserializePhp(UNSER_DATA[c.fn]!, {
          [key]: c.args[0],
          onDiagnostic: (level: string, message: string) => diags.push(`${level}: ${message}`),
        } as never);
        r = res.ok ? res.value : false;
      } else if (c.fn === 'session_set_save_handler#close') {
        r = f['session_set_save_handler']!(new SessionHandler(), ...c.args);
      } else {
        r = f[c.fn]!(...c.args);
      }
      if (r instanceof Promise) r = await r;
      ret = retString(c.fn, r, Number(req.functions.ini_get('session.sid_length')));
    } catch (e) {
      error = e instanceof SessionError ? `${e.name}: ${e.message}` : `JS ${(e as Error).name}: ${(e as Error).message}`;
      error = latin1(error);
    }
    for (const d of req.diagnostics) diags.push(`${d.level}: ${d.message}`);
    const ini = c.capture.map((n) => iniExport(req.functions.ini_get(n)));
    const status = req.functions.session_status();
    const sid = c.fn.startsWith('session_start') ? '' : latin1(String(req.functions.session_id()));
    if (status === 2) await req.functions.session_abort();
    await req.end();
    out.push({ ret, error, diags: latin1(diags.join('\x02')), ini: ini.join('\x01'), status: String(status), sid });
  }
  return out;
}

export async function runPhpSide(cases: Case[], savePath: string): Promise<Outcome[]> {
  const input = cases
    .map((c) => `${c.fn}\t${Buffer.from(serialize(PhpArray.from(c.args as never))).toString('base64')}\t${c.capture.join(',')}`)
    .join('\n');
  const r = await runPhp(PHP_DRIVER, {
    stdin: `${input}\n`,
    ini: { 'session.save_path': savePath },
    env: { UNSER_DATA: Buffer.from(JSON.stringify(UNSER_DATA)).toString('base64') },
    timeoutMs: 300_000,
  });
  if (r.code !== 0) throw new Error(`php exited with ${r.code}: ${r.stderr.slice(0, 2000)}`);
  const lines = r.stdout.toString('latin1').split('\n').filter((l) => l !== '');
  if (lines.length !== cases.length) throw new Error(`php answered ${lines.length} of ${cases.length} cases: ${r.stderr.slice(0, 2000)}`);
  return lines.map((l) => {
    const [ret, error, diags, ini, status, sid] = l.split('\t').map((x) => Buffer.from(x, 'base64').toString('latin1'));
    return { ret: ret!, error: error!, diags: diags!, ini: ini!, status: status!, sid: sid! };
  });
}

export function describeValue(v: unknown): string {
  try {
    return Buffer.from(serialize(v as PhpValue)).toString('latin1');
  } catch {
    return String(v);
  }
}

export interface Mismatch {
  param: string;
  input: string;
  value: unknown;
  c: Case;
  php: Partial<Outcome>;
  engine: Partial<Outcome>;
}

/** Session ids are random: diagnostics that quote a session file path compare with the id masked. */
function maskIds(o: Outcome): Outcome {
  return { ...o, diags: o.diags.replace(/sess_[0-9A-Za-z,-]{22,}/g, 'sess_<id>') };
}

export function diff(c: Case, phpRaw: Outcome, engRaw: Outcome): Mismatch | undefined {
  const php = maskIds(phpRaw);
  const eng = maskIds(engRaw);
  const keys = (Object.keys(php) as (keyof Outcome)[]).filter((k) => php[k] !== eng[k]);
  if (keys.length === 0) return undefined;
  const pick = (o: Outcome): Partial<Outcome> => Object.fromEntries(keys.map((k) => [k, o[k]]));
  return { param: c.param, input: describeValue(c.value), value: c.value, c, php: pick(php), engine: pick(eng) };
}

