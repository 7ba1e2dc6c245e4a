<?php
/*
 * Conformance driver: runs one scenario (spec/conformance/scenarios/*.json) inside real php-cgi and
 * prints a transcript between two marker lines. The runner (spec/conformance/php.ts) starts it with
 * CONFORMANCE_SCENARIO naming a JSON file that holds {steps: [...]}; everything else (ini, cookies,
 * query, body) is given to php-cgi on its command line and in the CGI environment.
 *
 * Value encoding (shared with spec/conformance/values.ts):
 *   null, true/false, "utf-8 string", 123 (int)       as themselves
 *   {"int": "9223372036854775807"}                    an int outside JSON's safe range
 *   {"float": 1.5} / {"float": "INF"|"-INF"|"NAN"}    a float
 *   {"bytes": "<base64>"}                             a string that is not valid UTF-8
 *   [v, ...]                                          an array with keys 0..n-1
 *   {"map": [[key, v], ...]}                          any other array (int or string keys, in order)
 *   {"object": "Class", "props": [[name, v], ...]}    an object (mangled property names)
 *   {"undef": true}                                   $_SESSION does not exist (transcripts only)
 *
 * After the transcript's closing marker the session module still runs its request shutdown (write
 * and close); warnings raised then are printed by display_errors and parsed by the runner.
 */

$conformanceState = [
    'steps' => [],
    'errors' => [],
    'late' => false,
];

function conformance_level(int $no): string
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
        default: return 'E_' . $no;
    }
}

set_error_handler(function (int $no, string $str) {
    global $conformanceState;
    if ($conformanceState['late']) {
        return false;
    }
    $conformanceState['errors'][] = ['level' => conformance_level($no), 'message' => $str];
    return true;
});

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

$conformanceScenario = json_decode(file_get_contents(getenv('CONFORMANCE_SCENARIO')), true, 512, JSON_THROW_ON_ERROR);

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
