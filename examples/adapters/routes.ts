/**
 * The Node routes of examples/adapters, written once against the adapters' `req.session` view and
 * mounted by each framework app (http.ts, express.ts, fastify.ts, hono.ts). Same routes and JSON
 * as php/index.php, plus routes that misbehave on purpose (throw, hang, slow) to show that the
 * session lock is always released.
 */
import { PhpArray, type PhpValue } from 'php-session-engine';
import type { SessionView } from 'php-session-engine/http';

export interface Answer {
  server: string;
  id: string;
  user_id: PhpValue | null;
  cart: Record<string, unknown>;
  n: PhpValue;
}

/** What a route does with the session; undefined = the route answers itself (hang). */
export async function route(path: string, query: URLSearchParams, session: SessionView, server: string): Promise<Answer | string | undefined> {
  switch (path) {
    case '/anon':
      return 'hello'; // never touches the session: no file, no cookie
    case '/login':
      await session.regenerate();
      session.user_id = Number(query.get('user') ?? 0);
      break;
    case '/cart/add': {
      // A plain JS object of integral numbers: PHP reads the quantities back as ints.
      const cart = session.get('cart');
      const plain = cart instanceof PhpArray ? (cart.toJSON() as Record<string, number>) : {};
      session.cart = { ...plain, [query.get('item') ?? 'x']: Number(query.get('qty') ?? 1) };
      break;
    }
    case '/incr': {
      const n = session.n;
      session.n = (typeof n === 'number' ? n : 0) + 1;
      break;
    }
    case '/logout':
      await session.destroy();
      break;
    case '/throw':
      session.thrown = true;
      throw new Error('route failed on purpose');
    case '/slow':
      session.slow = true;
      await new Promise((r) => setTimeout(r, Number(query.get('ms') ?? 1000)));
      break;
    case '/hang':
      session.hung = true;
      return undefined;
    case '/bad':
      // Not plain data (plain JS callers get no type error): refused here with a TypeError, not at the write.
      session.set('when', new Date() as unknown as string);
      break;
    default:
      break;
  }
  const cart = session.get('cart');
  return {
    server,
    id: session.id,
    user_id: session.get('user_id') ?? null,
    cart: cart instanceof PhpArray ? (cart.toJSON() as Record<string, unknown>) : {},
    n: session.get('n') ?? 0,
  };
}
