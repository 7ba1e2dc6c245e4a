<?php
// Differential driver for the user save handler (spec/user). Runs one request of a scenario in
// php-cgi: builds a recording handler from the scenario's description, registers it, runs the
// request's steps, and appends every event (callback calls and results, diagnostics, step results)
// as JSON lines to the log file. Request shutdown (the implicit write and close) logs to the same
// file, so the transcript is complete once php-cgi has exited.
//
// Environment: USER_SCENARIO (JSON file), USER_REQUEST (index), USER_LOG, USER_STORE.

$scenario = json_decode(file_get_contents(getenv('USER_SCENARIO')), true);
$request = $scenario['requests'][(int) getenv('USER_REQUEST')];
$setup = $scenario['handler'];
$GLOBALS['__log'] = getenv('USER_LOG');
$GLOBALS['__storeFile'] = getenv('USER_STORE');
$GLOBALS['__counts'] = [];

function ev(array $e): void
{
    file_put_contents($GLOBALS['__log'], json_encode($e, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n", FILE_APPEND);
}

const LEVELS = [E_WARNING => 'E_WARNING', E_NOTICE => 'E_NOTICE', E_DEPRECATED => 'E_DEPRECATED', E_USER_WARNING => 'E_USER_WARNING'];
set_error_handler(function (int $no, string $msg): bool {
    ev(['diag', LEVELS[$no] ?? "E_$no", $msg]);
    return true;
});

/** Typed JSON: floats and objects are tagged so both sides compare exactly. */
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
