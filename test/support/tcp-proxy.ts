/**
 * A TCP hop in front of a server (redis-server in the tests) that hands each reply chunk to the client as
 * `deliver` says: whole, in pieces, late, garbled or not at all. What a network that splits or breaks replies
 * anywhere looks like to a RESP client.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly server: Server;
  /** The port it listens on (after {@link listen}). */
  port = 0;
  /** How a chunk from the server reaches the client. @default written as it came */
  deliver: (chunk: Buffer, client: Socket) => void = (chunk, client) => client.write(chunk);
  readonly #sockets = new Set<Socket>();

  /** Forwards to `127.0.0.1:target`. */
  constructor(target: number) {
    this.server = createServer((client) => {
      const upstream = connect({ port: target, host: '127.0.0.1' });
      for (const s of [client, upstream]) {
        s.setNoDelay(true);
        this.#sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          this.#sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (d) => upstream.write(d));
      upstream.on('data', (d: Buffer) => this.deliver(d, client));
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Drop every connection through the proxy (the client sees its connection reset). */
  dropAll(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
