<?php
/*
 * The one PHP driver of the differential suites (spec/php/driver.ts starts it; spec/php/runner.ts
 * runs PHP). DRIVER_MODE chooses what it does with DRIVER_SCENARIO (a JSON file):
 *
 * - steps (spec/conformance, php-cgi): runs a list of steps (session_* calls, $_SESSION writes,
 *   output) and prints a transcript between two marker lines: per step the return value or the
 *   throwable, the diagnostics, session_id(), session_status() and $_SESSION. Everything else (ini,
 *   cookies, query, body) is given to php-cgi on its command line and in the CGI environment.
 *   After the closing marker the session module still runs its request shutdown (write and
 *   close); warnings raised then are printed by display_errors and parsed by the runner.
 * - user-handler (spec/user, php-cgi, one process per request): builds a recording save handler
 *   from the scenario (object, SessionHandler subclass or callables; how each callback behaves),
 *   registers it, runs request DRIVER_REQUEST's steps and appends every event (callback calls and
 *   results, diagnostics, step results) as JSON lines to DRIVER_LOG; the handler's memory store
 *   lives in DRIVER_STORE between requests. Request shutdown logs to the same file.
 * - code (spec/engine, php-cgi): includes the PHP file DRIVER_CODE at global scope, with $DIR
 *   (DRIVER_DIR, also the save path) and $R (values the code records), output buffered so headers
 *   stay unsent unless the code sends output; prints {r, e, h, t} (results, diagnostics, header
 *   lines, uncaught throwable) between @@JSON@@ and @@END@@, right after the code or, with
 *   DRIVER_SHUTDOWN=N, from a shutdown function that goes to the back of the list N times.
 * - oracle (spec/oracle, php -n CLI): batched codec operations (unserialize, serialize,
 *   session_encode, session_decode) read as JSON from stdin, answered as JSON on stdout.
 * - rewrite (spec/transsid, php-cgi): runs DRIVER_SCENARIO's output steps (echo, session_start,
 *   session_regenerate_id, output_add_rewrite_var, output_reset_rewrite_vars, header, ob_flush, SID
 *   (recorded by `sid`, printed after the last step, so it sends no headers; `echo_sid` prints it
 *   where it is) ...) with nothing buffered by the driver, so the response body is exactly what PHP's URL
 *   rewriter made of the output. The code mentions $_SERVER, so HTTP_HOST is there for the rewriter
 *   (auto_globals_jit would leave it out otherwise).
 *
 * Value encoding of the steps mode (shared with spec/conformance/values.ts):
 *   null, true/false, "utf-8 string", 123 (int)       as themselves
 *   {"int": "9223372036854775807"}                    an int outside JSON's safe range
 *   {"float": 1.5} / {"float": "INF"|"-INF"|"NAN"}    a float
 *   {"bytes": "<base64>"}                             a string that is not valid UTF-8
 *   [v, ...]                                          an array with keys 0..n-1
 *   {"map": [[key, v], ...]}                          any other array (int or string keys, in order)
 *   {"object": "Class", "props": [[name, v], ...]}    an object (mangled property names)
 *   {"undef": true}                                   $_SESSION does not exist (transcripts only)
 * The user-handler mode tags floats and objects only ({"$float": 1.0}, {"$obj": "Class"}), as
 * spec/user/scenarios.ts writes them.
 */

/** The name of an error level, as transcripts write it. */
function driver_level(int $no): string
{
    switch ($no) {
        case E_WARNING: return 'E_WARNING';
        case E_NOTICE: return 'E_NOTICE';
        case E_DEPRECATED: return 'E_DEPRECATED';
        case E_USER_WARNING: return 'E_USER_WARNING';
        case E_USER_NOTICE: return 'E_USER_NOTICE';
        case E_USER_DEPRECATED: return 'E_USER_DEPRECATED';
        case E_STRICT: return 'E_STRICT';
        case E_RECOVERABLE_ERROR: return 'E_RECOVERABLE_ERROR';
        case E_ERROR: return 'E_ERROR';
        default: return 'E_' . $no;
    }
}

$driverMode = getenv('DRIVER_MODE');

// ---- steps -------------------------------------------------------------------------------------

function conformance_encode($v)
{
    if ($v === null || is_bool($v)) {
        return $v;
    }
    if (is_int($v)) {
        if ($v > 9007199254740991 || $v < -9007199254740991) {
            return ['int' => (string) $v];
        }
        return $v;
    }
    if (is_float($v)) {
        if (is_nan($v)) return ['float' => 'NAN'];
        if (is_infinite($v)) return ['float' => $v > 0 ? 'INF' : '-INF'];
        return ['float' => $v];
    }
    if (is_string($v)) {
        return preg_match('//u', $v) ? $v : ['bytes' => base64_encode($v)];
    }
    if (is_array($v)) {
        if (array_is_list($v)) {
            return array_map('conformance_encode', $v);
        }
        $pairs = [];
        foreach ($v as $k => $item) {
            $pairs[] = [conformance_encode($k), conformance_encode($item)];
        }
        return ['map' => $pairs];
    }
    if (is_object($v)) {
        // An object of an undefined class (__PHP_Incomplete_Class) is shown under its real class
        // name: the engine has no class table, every class is "unknown" to it, and both sides
        // serialize such an object back to the same bytes.
        $class = get_class($v);
        $pairs = [];
        foreach ((array) $v as $k => $item) {
            if ($class === '__PHP_Incomplete_Class' && $k === '__PHP_Incomplete_Class_Name') {
                $class = $item;
                continue;
            }
            $pairs[] = [conformance_encode((string) $k), conformance_encode($item)];
        }
        return ['object' => $class, 'props' => $pairs];
    }
    return ['unsupported' => gettype($v)];
}

function conformance_decode($v)
{
    if (!is_array($v)) {
        return $v;
    }
    if (array_is_list($v)) {
        return array_map('conformance_decode', $v);
    }
    if (array_key_exists('int', $v)) return (int) $v['int'];
    if (array_key_exists('float', $v)) {
        $f = $v['float'];
        if ($f === 'INF') return INF;
        if ($f === '-INF') return -INF;
        if ($f === 'NAN') return NAN;
        return (float) $f;
    }
    if (array_key_exists('bytes', $v)) return base64_decode($v['bytes'], true);
    if (array_key_exists('map', $v)) {
        $out = [];
        foreach ($v['map'] as [$k, $item]) {
            $out[conformance_decode($k)] = conformance_decode($item);
        }
        return $out;
    }
    if (array_key_exists('object', $v)) {
        $class = $v['object'];
        $o = $class === 'stdClass' ? new stdClass() : (new ReflectionClass($class))->newInstanceWithoutConstructor();
        foreach ($v['props'] ?? [] as [$k, $item]) {
            $o->{$k} = conformance_decode($item);
        }
        return $o;
    }
    throw new RuntimeException('conformance driver: cannot decode ' . json_encode($v));
}

function conformance_session_snapshot()
{
    if (!array_key_exists('_SESSION', $GLOBALS)) {
        return ['undef' => true];
    }
    return conformance_encode($GLOBALS['_SESSION']);
}

/** Returns a reference to $_SESSION[p0][p1]... creating arrays on the way, as PHP's `[]=` does. */
function &conformance_slot(array $path)
{
    $ref = &$GLOBALS['_SESSION'];
    foreach ($path as $p) {
        $ref = &$ref[$p];
    }
    return $ref;
}

function conformance_run_step(array $step): array
{
    $out = [];
    if (isset($step['call'])) {
        $fn = $step['call'];
        if (!preg_match('/^(session_[a-z_]+|ini_get|ini_set|ini_restore|ini_get_all|headers_sent)$/', $fn)) {
            throw new RuntimeException("conformance driver: call of $fn is not allowed");
        }
        $args = array_map('conformance_decode', $step['args'] ?? []);
        try {
            $out['ret'] = conformance_encode($fn(...$args));
        } catch (Throwable $e) {
            $out['throw'] = ['class' => get_class($e), 'message' => $e->getMessage()];
        }
    } elseif (array_key_exists('set', $step)) {
        $slot = &conformance_slot($step['set']);
        $slot = conformance_decode($step['value']);
        unset($slot);
    } elseif (array_key_exists('unset', $step)) {
        $path = $step['unset'];
        if ($path === []) {
            unset($GLOBALS['_SESSION']);
        } else {
            $last = array_pop($path);
            $parent = &conformance_slot($path);
            unset($parent[$last]);
            unset($parent);
        }
    } elseif (array_key_exists('assign', $step)) {
        $GLOBALS['_SESSION'] = conformance_decode($step['assign']);
    } elseif (array_key_exists('output', $step)) {
        echo $step['output'];
        flush();
    } else {
        throw new RuntimeException('conformance driver: unknown step ' . json_encode($step));
    }
    return $out;
}

// ---- user-handler ------------------------------------------------------------------------------

function ev(array $e): void
{
    file_put_contents($GLOBALS['__log'], json_encode($e, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n", FILE_APPEND);
}

function enc($v)
{
    if (is_float($v)) return ['$float' => $v];
    if (is_object($v)) return ['$obj' => get_class($v)];
    if (is_array($v)) return array_map('enc', $v);
    return $v;
}

function dec($v)
{
    if (is_array($v) && array_key_exists('$float', $v)) return (float) $v['$float'];
    if (is_array($v) && array_key_exists('$obj', $v)) {
        $c = $v['$obj'];
        if (!class_exists($c, false)) eval("class $c {}");
        return new $c();
    }
    if (is_array($v)) return array_map('dec', $v);
    return $v;
}

function describe(Throwable $e): array
{
    $prev = $e->getPrevious();
    return ['class' => get_class($e), 'message' => $e->getMessage(), 'previous' => $prev ? $prev->getMessage() : null];
}

function store_load(): array
{
    $f = $GLOBALS['__storeFile'];
    return is_file($f) ? json_decode(file_get_contents($f), true) : ['data' => [], 'n' => 0];
}

function store_save(array $s): void
{
    if ($s['data'] === []) $s['data'] = new stdClass();
    file_put_contents($GLOBALS['__storeFile'], json_encode($s, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
}

/** The memory-store behaviour every callback has unless the scenario overrides it. */
function memory(string $cb, array $a)
{
    $s = store_load();
    switch ($cb) {
        case 'open':
        case 'close':
        case 'updateTimestamp':
            return true;
        case 'read':
            return $s['data'][$a[0]] ?? '';
        case 'write':
            $s['data'][$a[0]] = $a[1];
            store_save($s);
            return true;
        case 'destroy':
            unset($s['data'][$a[0]]);
            store_save($s);
            return true;
        case 'gc':
            return 0;
        case 'create_sid':
            $s['n']++;
            store_save($s);
            return sprintf('usersid%04d', $s['n']);
        case 'validateId':
            return isset($s['data'][$a[0]]);
    }
    return null;
}

function run_fn(string $fn, array $args)
{
    return match ($fn) {
        'session_start' => session_start(...$args),
        'session_write_close' => session_write_close(),
        'session_commit' => session_commit(),
        'session_regenerate_id' => session_regenerate_id(...$args),
        'session_destroy' => session_destroy(),
        'session_gc' => session_gc(),
        'session_abort' => session_abort(),
        'session_reset' => session_reset(),
        'session_create_id' => session_create_id(...$args),
        'session_status' => session_status(),
        'session_id' => session_id(...$args),
        'session_encode' => session_encode(),
        'session_decode' => session_decode(...$args),
        'session_unset' => session_unset(),
        'session_module_name' => session_module_name(...$args),
        'session_set_save_handler' => session_set_save_handler(...$args),
        'ini_get' => ini_get(...$args),
    };
}

/** One callback call: log it, apply the scenario's behaviour for this call, log the result. */
function dispatch(string $cb, array $args, ?Closure $parent)
{
    global $setup;
    $n = $GLOBALS['__counts'][$cb] = ($GLOBALS['__counts'][$cb] ?? 0) + 1;
    ev(['call', $cb, enc($args)]);
    $action = null;
    foreach ($setup['behave'] ?? [] as $b) {
        if ($b['cb'] === $cb && (!isset($b['nth']) || $b['nth'] === $n)) {
            $action = $b['do'];
            break;
        }
    }
    if ($action !== null && isset($action['throw'])) {
        ev(['throws', $cb, $action['throw']]);
        throw new Exception($action['throw']);
    }
    if ($action !== null && isset($action['call'])) {
        try {
            $r = run_fn($action['call'], array_map('dec', $action['args'] ?? []));
            ev(['inner', $action['call'], enc($r)]);
        } catch (Throwable $e) {
            ev(['inner', $action['call'], describe($e)]);
        }
        $action = null;
    }
    if ($action !== null && array_key_exists('return', $action)) {
        $r = dec($action['return']);
    } elseif ($action !== null && isset($action['nothing'])) {
        ev(['ret', $cb, 'nothing']);
        return;
    } else {
        $r = $parent !== null ? $parent(...$args) : memory($cb, $args);
    }
    ev(['ret', $cb, enc($r)]);
    return $r;
}

// ---- code --------------------------------------------------------------------------------------

/** Prints the code mode's transcript; output before it (the code's own) is dropped. */
function code_emit(): void
{
    global $R, $E, $T;
    $H = headers_list();
    while (ob_get_level() > 0) ob_end_clean();
    echo "\n@@JSON@@", json_encode(['r' => $R, 'e' => $E, 'h' => $H, 't' => $T], JSON_PARTIAL_OUTPUT_ON_ERROR), "@@END@@";
}

function code_shutdown(int $pass): void
{
    if ($pass > 1) {
        register_shutdown_function('code_shutdown', $pass - 1);
        return;
    }
    code_emit();
}

// ---- oracle ------------------------------------------------------------------------------------

function oracle_start(string $handler): void
{
    if (session_status() === PHP_SESSION_ACTIVE) session_abort();
    ini_set('session.serialize_handler', $handler);
    session_id('oracle0123456789abcdef');
    session_start();
}

// ---- main --------------------------------------------------------------------------------------

if ($driverMode === 'steps') {
    $conformanceState = [
        'steps' => [],
        'errors' => [],
        'late' => false,
    ];
    set_error_handler(function (int $no, string $str) {
        global $conformanceState;
        if ($conformanceState['late']) {
            return false;
        }
        $conformanceState['errors'][] = ['level' => driver_level($no), 'message' => $str];
        return true;
    });

    $conformanceScenario = json_decode(file_get_contents(getenv('DRIVER_SCENARIO')), true, 512, JSON_THROW_ON_ERROR);

    register_shutdown_function(function () {
        global $conformanceState;
        $conformanceState['late'] = true;
        echo "\n@@CONFORMANCE-TRANSCRIPT@@\n";
        echo json_encode([
            'requestTime' => $_SERVER['REQUEST_TIME_FLOAT'],
            'steps' => $conformanceState['steps'],
        ], JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION | JSON_PARTIAL_OUTPUT_ON_ERROR);
        echo "\n@@CONFORMANCE-END@@\n";
    });

    if (!empty($conformanceScenario['headersSent'])) {
        echo "output-before-session\n";
        flush();
    }

    foreach ($conformanceScenario['steps'] as $i => $step) {
        $conformanceState['errors'] = [];
        $rec = conformance_run_step($step);
        $rec['diag'] = $conformanceState['errors'];
        $rec['sid'] = session_id();
        $rec['status'] = session_status();
        $rec['session'] = conformance_session_snapshot();
        $conformanceState['steps'][] = $rec;
    }
} elseif ($driverMode === 'user-handler') {
    $scenario = json_decode(file_get_contents(getenv('DRIVER_SCENARIO')), true);
    $request = $scenario['requests'][(int) getenv('DRIVER_REQUEST')];
    $setup = $scenario['handler'];
    $GLOBALS['__log'] = getenv('DRIVER_LOG');
    $GLOBALS['__storeFile'] = getenv('DRIVER_STORE');
    $GLOBALS['__counts'] = [];
    set_error_handler(function (int $no, string $msg): bool {
        ev(['diag', driver_level($no), $msg]);
        return true;
    });

    $form = $setup['form'];
    $class = $setup['className'] ?? 'RecHandler';
    $optional = $setup['optional'] ?? [];
    $handler = null;
    if ($form === 'callables') {
        $names = ['open', 'close', 'read', 'write', 'destroy', 'gc', 'create_sid', 'validateId', 'updateTimestamp'];
        $cbs = [];
        for ($i = 0; $i < ($setup['callables'] ?? 6); $i++) {
            $name = $names[$i];
            $cbs[] = function (...$a) use ($name) { return dispatch($name, $a, null); };
        }
        $reg = fn () => session_set_save_handler(...$cbs);
    } else {
        $params = ['open' => '$path, $name', 'close' => '', 'read' => '$id', 'write' => '$id, $data', 'destroy' => '$id',
            'gc' => '$max', 'create_sid' => '', 'validateId' => '$id', 'updateTimestamp' => '$id, $data'];
        $methods = array_merge(['open', 'close', 'read', 'write', 'destroy', 'gc'], $optional);
        $extends = $form === 'extends';
        $code = "class $class " . ($extends ? 'extends SessionHandler' : 'implements SessionHandlerInterface') . " {\n";
        foreach ($methods as $m) {
            $p = $params[$m];
            $hasParent = $extends && !in_array($m, ['validateId', 'updateTimestamp'], true);
            $parent = $hasParent ? "fn (...\$a) => parent::$m(...\$a)" : 'null';
            $code .= "#[\\ReturnTypeWillChange] public function $m($p) { return dispatch('$m', func_get_args(), $parent); }\n";
        }
        $code .= "}\n";
        eval($code);
        $handler = new $class();
        $reg = array_key_exists('registerShutdown', $setup)
            ? fn () => session_set_save_handler($handler, dec($setup['registerShutdown']))
            : fn () => session_set_save_handler($handler);
    }

    foreach ($request['steps'] as $step) {
        try {
            if (isset($step['register'])) {
                $r = $reg();
                ev(['step', 'register', enc($r)]);
            } elseif (isset($step['fn'])) {
                $r = run_fn($step['fn'], array_map('dec', $step['args'] ?? []));
                ev(['step', $step['fn'], enc($r)]);
            } elseif (isset($step['handler'])) {
                $m = $step['handler'];
                $r = $handler->$m(...array_map('dec', $step['args'] ?? []));
                ev(['step', "handler.$m", enc($r)]);
            } elseif (isset($step['set'])) {
                $_SESSION[$step['set']] = dec($step['value']);
            } elseif (isset($step['unset'])) {
                unset($_SESSION[$step['unset']]);
            }
        } catch (Throwable $e) {
            ev(['step', $step['fn'] ?? (isset($step['handler']) ? 'handler.' . $step['handler'] : 'register'), ['threw' => describe($e)]]);
        }
    }
    ev(['end', isset($_SESSION) ? enc($_SESSION) : null, session_status()]);
} elseif ($driverMode === 'code') {
    $DIR = getenv('DRIVER_DIR');
    $R = [];
    $E = [];
    $T = null;
    set_error_handler(function ($n, $s) use (&$E) { $E[] = [driver_level($n), $s]; return true; });
    ob_start();
    try {
        include getenv('DRIVER_CODE');
    } catch (\Throwable $t) {
        $T = [get_class($t), $t->getMessage()];
    }
    $driverPasses = (int) getenv('DRIVER_SHUTDOWN');
    if ($driverPasses > 0) {
        register_shutdown_function('code_shutdown', $driverPasses);
    } else {
        code_emit();
    }
} elseif ($driverMode === 'oracle') {
    $diags = [];
    set_error_handler(function ($no, $str) use (&$diags) { $diags[] = [driver_level($no), $str]; return true; });
    $req = json_decode(stream_get_contents(STDIN), true);
    // The prelude registers a save handler that stores nothing (so session_encode() and
    // session_decode() touch no disk) and declares the classes the data refers to.
    if (isset($req['prelude'])) eval($req['prelude']);
    $out = [];
    foreach ($req['ops'] as $op) {
        $diags = [];
        $r = ['ok' => false];
        try {
            switch ($op['op']) {
                case 'unserialize':
                    $data = base64_decode($op['data']);
                    $v = isset($op['options']) ? unserialize($data, $op['options']) : unserialize($data);
                    $failed = false;
                    foreach ($diags as $d) if (str_starts_with($d[1], 'unserialize(): Error at offset')) $failed = true;
                    $r['ok'] = !($v === false && ($failed || $data === ''));
                    if ($r['ok']) $r['reserialized'] = base64_encode(serialize($v));
                    break;
                case 'serialize':
                    $v = eval('return ' . $op['expr'] . ';');
                    $r['ok'] = true;
                    $r['reserialized'] = base64_encode(serialize($v));
                    break;
                case 'session_encode':
                    oracle_start($op['handler']);
                    $_SESSION = unserialize(base64_decode($op['value']));
                    $e = session_encode();
                    $r['ok'] = $e !== false;
                    if ($e !== false) $r['encoded'] = base64_encode($e);
                    session_abort();
                    break;
                case 'session_decode':
                    oracle_start($op['handler']);
                    $r['ok'] = session_decode(base64_decode($op['data']));
                    if (session_status() !== PHP_SESSION_ACTIVE) oracle_start($op['handler']);
                    else {
                        $r['session'] = base64_encode(serialize($_SESSION));
                        $e = @session_encode();
                        if ($e !== false) $r['encoded'] = base64_encode($e);
                    }
                    session_abort();
                    break;
            }
        } catch (Throwable $t) {
            $r['exception'] = get_class($t) . ': ' . $t->getMessage();
            if (session_status() === PHP_SESSION_ACTIVE) session_abort();
        }
        $r['diagnostics'] = $diags;
        $out[] = $r;
    }
    fwrite(STDOUT, json_encode($out, JSON_THROW_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE));
} elseif ($driverMode === 'rewrite') {
    $_SERVER; // arm the auto-global: the URL rewriter reads HTTP_HOST from it
    set_error_handler(function ($n, $s) { echo '[', driver_level($n), ": $s]"; return true; });
    $scenario = json_decode(file_get_contents(getenv('DRIVER_SCENARIO')), true);
    $sids = [];
    foreach ($scenario['steps'] as $st) {
        $a = $st['args'] ?? [];
        switch ($st['op']) {
            case 'echo': echo base64_decode($a[0]); break;
            case 'sid': $sids[] = defined('SID') ? '[SID=' . SID . ']' : '[SID undefined]'; break;
            case 'echo_sid': echo SID; break;
            case 'ob_flush': ob_flush(); break;
            case 'header': header($a[0]); break;
            case 'ini_set': ini_set($a[0], $a[1]); break;
            case 'session_id': session_id($a[0]); break;
            case 'session_name': session_name($a[0]); break;
            case 'session_start': session_start(); break;
            case 'session_regenerate_id': session_regenerate_id(); break;
            case 'session_write_close': session_write_close(); break;
            case 'session_destroy': session_destroy(); break;
            case 'session_unset': session_unset(); break;
            case 'output_add_rewrite_var': $r = output_add_rewrite_var($a[0], $a[1]); echo '[', var_export($r, true), ']'; break;
            case 'output_reset_rewrite_vars': $r = output_reset_rewrite_vars(); echo '[', var_export($r, true), ']'; break;
            default: throw new RuntimeException('rewrite: unknown op ' . $st['op']);
        }
    }
    echo implode('', $sids); // SID values are recorded, not printed, so they send no headers
} else {
    throw new RuntimeException('driver.php: unknown DRIVER_MODE ' . var_export($driverMode, true));
}
