/**
 * @module handlers/redis/connector
 * The ioredis `Connector` of the redis client's plain TCP and Unix-socket connections: the socket
 * ioredis' own StandaloneConnector opens, with `onread`, so replies are read into the buffers the
 * {@link ReplyReader} chooses (a large bulk reply into one buffer of its own, passed on as a view:
 * see reply-reader.ts) instead of a fresh 64 KB buffer per read that ioredis' decoder then joins.
 * The reader's chunks reach ioredis as the socket's `data` events, the only way ioredis reads a
 * socket (its DataHandler listens to them). TLS connections keep ioredis' connector.
 */
import { createConnection, type Socket } from 'node:net';
import { AbstractConnector } from 'ioredis';
import { ReplyReader } from './reply-reader.ts';

/** The options ioredis passes to its connector (its RedisOptions), as far as a plain socket needs them. */
interface SocketOptions {
  host?: string;
  port?: number;
  family?: number;
  path?: string;
  disconnectTimeout: number;
}

export class ReadInPlaceConnector extends AbstractConnector {
  readonly #options: SocketOptions;

  constructor(options: unknown) {
    const o = options as SocketOptions;
    super(o.disconnectTimeout);
    this.#options = o;
  }

  /** As StandaloneConnector#connect: the socket is created on the next tick, unless disconnected first. */
  connect(): Promise<Socket> {
    this.connecting = true;
    const o = this.#options;
    return new Promise((resolve, reject) => {
      process.nextTick(() => {
        if (!this.connecting) {
          reject(new Error('Connection is closed.'));
          return;
        }
        let socket: Socket | undefined;
        const reader = new ReplyReader((chunk) => socket!.emit('data', chunk));
        const onread = {
          buffer: (): Uint8Array => reader.nextRead(),
          callback: (n: number): boolean => {
            try {
              reader.onRead(n);
            } catch (e) {
              socket!.destroy(e as Error);
            }
            return true;
          },
        };
        try {
          socket =
            o.path !== undefined && o.path !== ''
              ? createConnection({ path: o.path, onread })
              : createConnection({ host: o.host, port: o.port ?? 6379, ...(o.family !== undefined ? { family: o.family } : {}), onread });
        } catch (e) {
          reject(e);
          return;
        }
        this.stream = socket;
        socket.once('error', (err) => {
          this.firstError = err;
        });
        resolve(socket);
      });
    });
  }
}
