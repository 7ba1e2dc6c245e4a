/**
 * The Node half of the shared-session example: a plain node:http server using SessionEngine with
 * the files handler, on the same session directory as the PHP server. Same routes and JSON as
 * php/index.php: GET / (count a visit), /add?item=X (put X in the cart), /slow?ms=N (hold the
 * session N ms), /logout (session_destroy()).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PhpArray, SessionEngine } from 'php-session-engine';

/** Cookie header → { name: value } (values URL-decoded, as PHP fills $_COOKIE). */
function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name !== '' && !(name in out)) {
      try {
        out[name] = decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        out[name] = part.slice(eq + 1).trim();
      }
    }
  }
  return out;
}

export function createSessionServer(savePath: string): Server {
  const engine = new SessionEngine({ ini: { 'session.save_path': savePath } });

  const handle = async (httpReq: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(httpReq.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const req = engine.request({ cookies: parseCookies(httpReq.headers.cookie), query });
    try {
      if (!(await req.start())) throw new Error(`session_start() failed: ${req.diagnostics.map((d) => d.message).join('; ')}`);
      const s = req.session;
      const visits = s.get('visits');
      s.set('visits', (typeof visits === 'number' ? visits : 0) + 1);
      let cart = s.get('cart');
      if (!(cart instanceof PhpArray)) {
        cart = new PhpArray();
        s.set('cart', cart);
      }
      if (url.pathname === '/add' && typeof query['item'] === 'string') cart.push(query['item']);
      if (url.pathname === '/slow') await new Promise((r) => setTimeout(r, Number(query['ms'] ?? 1000)));
      if (url.pathname === '/logout') {
        await req.destroy();
        s.clear();
      }
      const body = JSON.stringify({
        server: 'node',
        session: req.id(),
        visits: s.get('visits') ?? 0,
        cart: s.get('cart') instanceof PhpArray ? Object.values((s.get('cart') as PhpArray).toJS() as object) : [],
      });
      await req.end();
      for (const [name, value] of req.headers) res.appendHeader(name, value);
      res.setHeader('Content-Type', 'application/json');
      res.end(`${body}\n`);
    } catch (err) {
      await req.end().catch(() => undefined);
      res.statusCode = 500;
      res.end(`${String(err)}\n`);
    }
  };
  return createServer((rq, rs) => void handle(rq, rs));
}
