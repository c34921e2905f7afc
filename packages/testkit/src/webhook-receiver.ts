import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got, as it came over the wire. */
export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  at: number;
}

/** How a path answers: a status (and headers) per request, decided when the request arrives. */
export type Responder = (
  req: ReceivedRequest,
  nth: number,
) => { status: number; headers?: Record<string, string> };

/**
 * A real HTTP receiver on loopback (webhook tests): every request is recorded with its raw body (what a signature is
 * computed over), and each path answers as its responder says (200 by default).
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly responders = new Map<string, Responder>();
  private constructor(
    private readonly server: http.Server,
    readonly base: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received: ReceivedRequest = {
          path: req.url ?? '',
          headers: req.headers,
          rawBody: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        receiver!.requests.push(received);
        const nth = receiver!.requests.filter((r) => r.path === received.path).length;
        const answer = receiver!.responders.get(received.path)?.(received, nth) ?? { status: 200 };
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.status >= 400 ? 'nope' : 'ok');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}`);
    return receiver;
  }

  url(path: string): string {
    return `${this.base}${path}`;
  }

  on(path: string, responder: Responder): void {
    this.responders.set(path, responder);
  }

  at(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
