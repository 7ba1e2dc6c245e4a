<?php
// bench/http: the page php-fpm serves. The Node side (node-server.ts) does the same work.
// Start the session (the id comes from the PHPSESSID cookie the load generator sends), count the
// visit, add one item to the cart (10 SKUs, so the session stays small), write and close, then
// answer "<session id> <counter>" so the load generator can check every response.
if (!session_start()) {
    http_response_code(500);
    exit;
}
$n = ($_SESSION['n'] ?? 0) + 1;
$_SESSION['n'] = $n;
$sku = 'sku-' . ($n % 10);
$_SESSION['cart'][$sku] = ($_SESSION['cart'][$sku] ?? 0) + 1;
if (!session_write_close()) {
    http_response_code(500);
    exit;
}
echo session_id(), ' ', $n;
