<?php
// The PHP half of examples/adapters, served by `php -S`: a login, a cart, a counter and a logout on
// the session the Node apps share (same routes and JSON as routes.ts).
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
header('Content-Type: application/json');
session_start();
switch ($path) {
    case '/login':
        session_regenerate_id(true);
        $_SESSION['user_id'] = (int) ($_GET['user'] ?? 0);
        break;
    case '/cart/add':
        $_SESSION['cart'][(string) $_GET['item']] = (int) ($_GET['qty'] ?? 1);
        break;
    case '/incr':
        $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
        break;
    case '/logout':
        session_destroy();
        $_SESSION = [];
        $p = session_get_cookie_params();
        setcookie(session_name(), '', ['expires' => 1, 'path' => $p['path'], 'domain' => $p['domain'],
            'secure' => $p['secure'], 'httponly' => $p['httponly'], 'samesite' => $p['samesite']]);
        break;
}
$cart = $_SESSION['cart'] ?? [];
echo json_encode([
    'server' => 'php',
    'id' => session_id(),
    'user_id' => $_SESSION['user_id'] ?? null,
    'cart' => (object) $cart,
    // PHP's own types of the cart quantities: "integer" when Node stored ints.
    'cart_types' => (object) array_map('gettype', $cart),
    'n' => $_SESSION['n'] ?? 0,
]), "\n";
