/**
 * @module spec/faults/tcp-proxy
 * The fault proxy itself (spec/support/tcp-proxy.ts), in front of a local echo server: each fault
 * does exactly what the fault suites rely on, at the exact byte.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../support/tcp-proxy.ts';

/** What a client got back for `send`: the bytes, and how the connection ended. */
function exchange(port: number, send: string, until: (got: Buffer) => boolean = () => false): Promise<{ got: Buffer; end: string; socket: Socket }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect(port, '127.0.0.1', () => s.write(send));
    const done = (end: string): void => resolve({ got: Buffer.concat(chunks), end, socket: s });
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      if (until(Buffer.concat(chunks))) done('until');
    });
    s.on('end', () => done('end'));
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
  });
}

describe('spec/support/tcp-proxy', () => {
  let echo: Server;
  let echoPort = 0;
  let received = '';
  let proxy: TcpProxy;
  beforeAll(async () => {
    echo = createServer((c) => {
      c.on('data', (d: Buffer) => {
        received += d.toString();
        c.write(d);
      });
      c.on('error', () => undefined);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    echoPort = (echo.address() as { port: number }).port;
    proxy = await TcpProxy.start(echoPort);
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((r) => echo.close(() => r()));
  });

  it('relays both ways and counts the reply bytes', async () => {
    proxy.resetCounters();
    const r = await exchange(proxy.port, 'hello world', (g) => g.length === 11);
    r.socket.destroy();
    expect(r.got.toString()).toBe('hello world');
    expect(proxy.bytesDown).toBe(11);
  });

  it('cut then close: exactly k bytes, then FIN', async () => {
    proxy.arm({ kind: 'cut', at: 5, then: 'close' });
    const r = await exchange(proxy.port, 'hello world');
    expect(r.got.toString()).toBe('hello');
    expect(r.end).toBe('end');
    expect(proxy.armed).toBe(false);
  });

  it('cut then reset: at most k bytes, then the connection is gone (ECONNRESET, or a FIN: see the proxy)', async () => {
    proxy.arm({ kind: 'cut', at: 3, then: 'reset' });
    const r = await exchange(proxy.port, 'hello world');
    expect('hel'.startsWith(r.got.toString())).toBe(true);
    expect(['ECONNRESET', 'end']).toContain(r.end);
  });

  it('cut then hang: k bytes, the rest swallowed, the connection left open', async () => {
    proxy.arm({ kind: 'cut', at: 4, then: 'hang' });
    const before = proxy.swallowed;
    const r = await exchange(proxy.port, 'hello world', (g) => g.length >= 4);
    while (proxy.swallowed - before < 7) await new Promise((res) => setTimeout(res, 10));
    expect(r.got.toString()).toBe('hell');
    expect(r.socket.destroyed).toBe(false);
    r.socket.destroy();
  });

  it('garbage: inserted at byte k, the rest relayed after it', async () => {
    proxy.arm({ kind: 'garbage', at: 5, bytes: Buffer.from('###') });
    const r = await exchange(proxy.port, 'hello world', (g) => g.length === 14);
    r.socket.destroy();
    expect(r.got.toString()).toBe('hello### world');
  });

  it('delay: the reply arrives whole and in order', async () => {
    proxy.arm({ kind: 'delay', ms: 100 });
    const r = await exchange(proxy.port, 'hello world', (g) => g.length === 11);
    r.socket.destroy();
    expect(r.got.toString()).toBe('hello world');
    expect(proxy.armed).toBe(false);
  });

  it('reset-request: the client is reset and the server never sees the request', async () => {
    received = '';
    proxy.arm({ kind: 'reset-request' });
    const r = await exchange(proxy.port, 'never');
    expect(r.end).toBe('ECONNRESET');
    expect(received).toBe('');
  });
});
