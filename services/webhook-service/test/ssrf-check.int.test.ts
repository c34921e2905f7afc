import { WebhookReceiver } from '@dispatch/testkit';
import { pinnedLookup, sendWebhook } from '../src/dispatch/send';

jest.setTimeout(120_000);

describe('the connection-time SSRF check (real sockets)', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  afterAll(() => receiver.close());

  const request = (url: string, allowPrivate: boolean) =>
    sendWebhook({
      url,
      headers: {},
      body: '{}',
      timeoutMs: 2_000,
      policy: { allowPrivate, allowHttp: true },
    });

  it('refuses loopback by address and by name without the local-development setting; allows it with', async () => {
    const port = new URL(receiver.base).port;
    expect(await request(`http://127.0.0.1:${port}/a`, false)).toMatchObject({ kind: 'error' });
    const byName = await request(`http://localhost.:${port}/b`, false);
    expect(byName).toMatchObject({ kind: 'error' });
    expect(receiver.requests).toHaveLength(0);
    expect(await request(`http://localhost:${port}/c`, true)).toMatchObject({
      kind: 'answered',
      status: 200,
    });
    expect(receiver.requests.map((r) => r.path)).toEqual(['/c']);
  });

  it('the pinned lookup refuses a name that resolves to a private address', async () => {
    const lookup = pinnedLookup({ allowPrivate: false });
    const error = await new Promise<Error | null>((resolve) =>
      lookup('localhost', {}, (err) => resolve(err)),
    );
    expect(error?.message).toMatch(/localhost resolves to .*not a public address/);
  });

  it('times out a receiver that never answers', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const result = await sendWebhook({
      url: `http://127.0.0.1:${port}/`,
      headers: {},
      body: '{}',
      timeoutMs: 300,
      policy: { allowPrivate: true, allowHttp: true },
    });
    expect(result).toEqual({ kind: 'error', error: 'timeout after 300 ms' });
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});
