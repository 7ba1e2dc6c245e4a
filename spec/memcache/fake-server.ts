/**
 * @module spec/memcache/fake-server
 * A small memcached speaking the binary protocol (get, set, add, delete, incr without create,
 * touch) on 127.0.0.1, whose replies a test can cut, delay, reset or replace with garbage: each
 * reply goes through `deliver`, which lets it out whole, writes it itself, or takes over the socket.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface Reply {
  /** The request's opcode and how many requests this server has answered before it (all connections). */
  opcode: number;
  index: number;
  /** The reply memcached would send, complete. */
  bytes: Buffer;
  socket: Socket;
}

/**
 * false: the reply goes out whole. true: the fault owns the connection from here on (it wrote part
 * of the reply, garbage, or nothing; later requests on it get no answer). A promise: the fault
 * writes this reply itself (late, or byte by byte) and later replies follow once it settles.
 */
export type Deliver = (r: Reply) => boolean | Promise<void>;

export interface FakeMemcached {
  port: number;
  /** Set per test; null lets every reply out whole. */
  deliver: Deliver | null;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

function reply(opcode: number, opaque: number, status: number, extras: Buffer = Buffer.alloc(0), value: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(24);
  h[0] = 0x81;
  h[1] = opcode;
  h[4] = extras.length;
  h.writeUInt16BE(status, 6);
  h.writeUInt32BE(extras.length + value.length, 8);
  h.writeUInt32BE(opaque, 12);
  h.writeUInt32BE(7, 20); // a CAS value
  return Buffer.concat([h, extras, value]);
}

export async function startFakeMemcached(): Promise<FakeMemcached> {
  const store = new Map<string, { flags: number; value: Buffer }>();
  let answered = 0;
  let connections = 0;
  const sockets = new Set<Socket>();
  const state: { deliver: Deliver | null } = { deliver: null };

  function answer(req: Buffer): Buffer {
    const opcode = req[1]!;
    const keyLen = req.readUInt16BE(2);
    const extrasLen = req[4]!;
    const total = req.readUInt32BE(8);
    const opaque = req.readUInt32BE(12);
    const extras = req.subarray(24, 24 + extrasLen);
    const key = req.subarray(24 + extrasLen, 24 + extrasLen + keyLen).toString('latin1');
    const value = Buffer.from(req.subarray(24 + extrasLen + keyLen, 24 + total));
    const item = store.get(key);
    switch (opcode) {
      case 0x00: {
        if (!item) return reply(opcode, opaque, 1, Buffer.alloc(0), Buffer.from('Not found'));
        const f = Buffer.alloc(4);
        f.writeUInt32BE(item.flags);
        return reply(opcode, opaque, 0, f, item.value);
      }
      case 0x01:
      case 0x02:
        if (opcode === 0x02 && item) return reply(opcode, opaque, 2, Buffer.alloc(0), Buffer.from('Data exists for key.'));
        store.set(key, { flags: extras.readUInt32BE(0), value });
        return reply(opcode, opaque, 0);
      case 0x04:
        return reply(opcode, opaque, store.delete(key) ? 0 : 1);
      case 0x05: {
        if (!item) return reply(opcode, opaque, 1, Buffer.alloc(0), Buffer.from('Not found'));
        const n = BigInt(item.value.toString('latin1')) + extras.readBigUInt64BE(0);
        item.value = Buffer.from(String(n));
        const v = Buffer.alloc(8);
        v.writeBigUInt64BE(n);
        return reply(opcode, opaque, 0, Buffer.alloc(0), v);
      }
      case 0x1c:
        return reply(opcode, opaque, item ? 0 : 1);
      default:
        return reply(opcode, opaque, 0x81, Buffer.alloc(0), Buffer.from('Unknown command'));
    }
  }

  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    /** Once a reply was taken over, this connection answers nothing more (the fault owns it). */
    let taken = false;
    /** A reply the fault is writing itself; later replies wait for it. */
    let writing: Promise<void> | null = null;
    const drain = (): void => {
      while (!taken && !writing && buf.length >= 24 && buf.length >= 24 + buf.readUInt32BE(8)) {
        const len = 24 + buf.readUInt32BE(8);
        const req = buf.subarray(0, len);
        buf = buf.subarray(len);
        const bytes = answer(req);
        const r: Reply = { opcode: req[1]!, index: answered++, bytes, socket };
        const how = state.deliver?.(r) ?? false;
        if (how === true) taken = true;
        else if (how === false) socket.write(bytes);
        else
          writing = how.then(() => {
            writing = null;
            drain();
          });
      }
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      drain();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    get deliver() {
      return state.deliver;
    },
    set deliver(d: Deliver | null) {
      state.deliver = d;
    },
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
