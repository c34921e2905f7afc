import http from 'node:http';
import https from 'node:https';

/**
 * The open loop's HTTP client: node:http over keep-alive agents (one pool per scheme), lighter on
 * the client's CPU than fetch, which matters when the client shares two cores with the stack.
 * A request that gets no answer rejects with an Error whose `code` names why (ECONNREFUSED,
 * ECONNRESET, …, or TIMEOUT after `timeoutMs`, queueing for a socket included).
 */

/** Idle keep-alive sockets are closed after this long (or the server's hint minus 1 s, if shorter). */
const IDLE_SOCKET_MS = 4_000;

export interface Answer {
  status: number;
  text: string;
}

export class KeepAliveClient {
  private readonly agents: { 'http:': http.Agent; 'https:': https.Agent };

  constructor(maxSockets: number) {
    // `timeout` makes the agent close an idle socket before the server does (it takes the server's
    // `Keep-Alive: timeout=5` hint minus 1 s, but only when a timeout is set at all): reusing a
    // socket the server is closing at that moment fails with ECONNRESET, the client's fault.
    const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: IDLE_SOCKET_MS };
    this.agents = { 'http:': new http.Agent(options), 'https:': new https.Agent(options) };
  }

  request(
    method: string,
    url: string,
    opts: { token?: string; body?: string; timeoutMs?: number } = {},
  ): Promise<Answer> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(opts.body));
    }
    return new Promise<Answer>((resolve, reject) => {
      const req = (secure ? https : http).request(
        target,
        { method, headers, agent: secure ? this.agents['https:'] : this.agents['http:'] },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', fail);
        },
      );
      const timer = setTimeout(() => {
        const err = Object.assign(new Error(`${method} ${url}: no answer within ${opts.timeoutMs} ms`), {
          code: 'TIMEOUT',
        });
        req.destroy(err);
      }, opts.timeoutMs ?? 30_000);
      function fail(err: Error) {
        clearTimeout(timer);
        reject(err);
      }
      req.on('error', fail);
      req.end(opts.body);
    });
  }

  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}

/** What a failed request is counted as: its errno code (ECONNREFUSED, …), TIMEOUT, or its name. */
export function networkErrorCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  return (err as { name?: string }).name ?? 'Error';
}
