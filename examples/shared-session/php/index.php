<?php
// The PHP half of the shared-session example, served by `php -S`. Same routes and the same
// JSON answer as server.ts: a visit counter and a cart, kept in the one session both servers share.
session_start();
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
$_SESSION['cart'] = $_SESSION['cart'] ?? [];
if ($path === '/add' && isset($_GET['item'])) {
    $_SESSION['cart'][] = (string) $_GET['item'];
}
if ($path === '/slow') {
    usleep(((int) ($_GET['ms'] ?? 1000)) * 1000); // holds the session (and its lock) meanwhile
}
if ($path === '/logout') {
    session_destroy();
    $_SESSION = [];
}
header('Content-Type: application/json');
echo json_encode([
    'server' => 'php',
    'session' => session_id(),
    'visits' => $_SESSION['visits'] ?? 0,
    'cart' => $_SESSION['cart'] ?? [],
]), "\n";
