<?php
// bench/http: reads sessions back with PHP (read_and_close) and prints
// "<id> <n> <sum of cart quantities>" per id; read-store.ts does the same with the engine.
// Run: php -c <php.ini> check.php <id prefix> <pool size>   (session.use_cookies=0 given by -d)
[, $prefix, $pool] = $argv;
for ($i = 0; $i < (int)$pool; $i++) {
    $id = $prefix . str_pad((string)$i, 26, '0', STR_PAD_LEFT);
    session_id($id);
    if (!session_start(['read_and_close' => true])) {
        fwrite(STDERR, "$id: session_start failed\n");
        exit(1);
    }
    echo $id, ' ', $_SESSION['n'] ?? 0, ' ', array_sum($_SESSION['cart'] ?? []), "\n";
}
