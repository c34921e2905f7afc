import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A TCP proxy in front of a server that tests and the chaos runner can break on purpose: refuse new
 * connections (the server looks down), reset the open ones (it crashed or the network dropped), or
 * delay every chunk (it is slow). The machine's PostgreSQL and Redis are shared, so their outages
 * are simulated here instead of stopping them.
 */
export class FaultProxy {
  private server: net.Server | undefined;
  private readonly connections = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private delayMs = 0;
  private listenPort = 0;
  /** Connections accepted so far (each forwarded to the target). */
  accepted = 0;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly host = '127.0.0.1',
  ) {}

  /** Starts listening (on `port`, or a free one) and returns the port. */
  async start(port = 0): Promise<number> {
    if (this.server) throw new Error('FaultProxy already listening');
    const server = net.createServer((client) => this.forward(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port || this.listenPort, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.listenPort = (server.address() as net.AddressInfo).port;
    return this.listenPort;
  }

  get port(): number {
    return this.listenPort;
  }

  /** The server looks down: new connections are refused (ECONNREFUSED) and open ones reset. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.reset();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    this.delayMs = 0;
    if (!this.server) await this.start(this.listenPort);
  }

  /** Resets (TCP RST) every open connection, both ways; new ones are still accepted. */
  reset(): void {
    for (const { client, upstream } of this.connections) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.connections.clear();
  }

  /** Holds every chunk, both ways, for `ms` before passing it on (0: no delay). */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    await this.refuse();
  }

  private forward(client: net.Socket): void {
    this.accepted += 1;
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = { client, upstream };
    this.connections.add(pair);
    const drop = () => {
      this.connections.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  /** Copies `from` to `to` in order, each chunk held for the current delay. */
  private pipe(from: net.Socket, to: net.Socket): void {
    let queue = Promise.resolve();
    let waiting = 0;
    from.on('data', (chunk: Buffer) => {
      const delayMs = this.delayMs;
      if (delayMs === 0 && waiting === 0) {
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
        return;
      }
      waiting += 1;
      queue = queue.then(async () => {
        await sleep(delayMs);
        waiting -= 1;
        if (!to.destroyed) to.write(chunk);
      });
    });
    from.on('end', () => {
      void queue.then(() => to.end());
    });
  }
}
