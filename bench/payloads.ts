/**
 * bench/payloads: the deterministic session payloads the benches share: bigSession(), a ~140 KB
 * realistic session (auth, profile object, a 360-item cart, history, form state), and
 * smallSession(i). A fixed-seed PRNG makes every run build the same bytes (when called in the
 * same order).
 */
import { PhpArray, PhpFloat, PhpObject } from 'php-session-engine';

// A deterministic PRNG so every run benches the same payloads.
let state = 0x2545f491;
function rand(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'Zürich', 'São Paulo', 'naïve', 'product', 'checkout', 'token', 'widget'];
const word = (): string => `${pick(WORDS)}-${Math.floor(rand() * 100000)}`;

function product(i: number): PhpArray {
  return PhpArray.from({
    id: 1000 + i,
    sku: `SKU-${(i * 7919) % 100000}`,
    name: `${word()} ${word()}`,
    price: Math.round(rand() * 100000) / 100 + 0.01,
    qty: 1 + Math.floor(rand() * 5),
    tags: [word(), word(), word()],
    attributes: { color: pick(['red', 'green', 'blue']), size: pick(['S', 'M', 'L', 'XL']), weight: new PhpFloat(Math.floor(rand() * 10)) },
    in_stock: rand() > 0.2,
    discount: rand() > 0.7 ? 0.15 : null,
  });
}

/** A ~150 KB session: auth, user profile, cart, recently viewed, flash messages, form state, an object. */
export function bigSession(): PhpArray {
  const s = new PhpArray();
  s.set('_token', 'f'.repeat(40));
  s.set('user_id', 982341);
  s.set('auth', PhpArray.from({ logged_in: true, roles: ['customer', 'newsletter'], login_at: 1732190000, ip: '203.0.113.7' }));
  const profile = new PhpObject('stdClass');
  profile.set('first_name', 'Zoë');
  profile.set('last_name', 'Müller');
  profile.set('email', 'zoe@example.com');
  profile.set('preferences', PhpArray.from({ lang: 'de_CH', currency: 'CHF', theme: 'dark', notifications: { email: true, sms: false } }));
  s.set('profile', profile);
  s.set('cart', PhpArray.from(Array.from({ length: 360 }, (_, i) => product(i))));
  s.set('recently_viewed', PhpArray.from(Array.from({ length: 300 }, (_, i) => 5000 + i * 3)));
  s.set('flash', PhpArray.from({ success: ['Saved.', 'Item added to cart.'], errors: [] }));
  s.set('form_state', PhpArray.from(Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`field_${i}`, word().repeat(3)]))));
  s.set('search_history', PhpArray.from(Array.from({ length: 150 }, () => `${word()} ${word()}`)));
  return s;
}

export function smallSession(i: number): PhpArray {
  return PhpArray.from({
    user_id: i,
    csrf: `${i.toString(16).padStart(8, '0')}deadbeefcafe`,
    last_seen: 1732190000 + i,
    flash: i % 3 === 0 ? ['Welcome back!'] : [],
    cart_count: i % 7,
    ratio: (i % 10) / 8 + 0.1,
    locale: pick(['en_US', 'fr_FR', 'ja_JP']),
  });
}
