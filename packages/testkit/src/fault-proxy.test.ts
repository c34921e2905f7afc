import net from 'node:net';
import { FaultProxy } from './fault-proxy';

/** A real TCP echo server on a free port. */
async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Connects, sends `text`, and resolves with the echo (or rejects with the socket error). */
function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (chunk) => {
      got += chunk.toString();
      if (got.length >= text.length) {
        socket.end();
        resolve(got);
      }
    });
    socket.on('error', reject);
  });
}

describe('FaultProxy', () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: FaultProxy;
  beforeEach(async () => {
    echo = await echoServer();
    proxy = new FaultProxy({ host: '127.0.0.1', port: echo.port });
    await proxy.start();
  });
  afterEach(async () => {
    await proxy.close();
    await echo.close();
  });

  it('forwards both ways', async () => {
    expect(await roundTrip(proxy.port, 'hello')).toBe('hello');
    expect(proxy.accepted).toBe(1);
  });

  it('refuses connections while refusing, and accepts them again on the same port after restore', async () => {
    const port = proxy.port;
    await proxy.refuse();
    await expect(roundTrip(port, 'x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.restore();
    expect(proxy.port).toBe(port);
    expect(await roundTrip(port, 'back')).toBe('back');
  });

  it('resets open connections', async () => {
    const socket = net.connect(proxy.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const failed = new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
    // Wait until the proxy holds the connection, then reset it.
    while (proxy.accepted === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    proxy.reset();
    expect((await failed).code).toBe('ECONNRESET');
    expect(await roundTrip(proxy.port, 'new')).toBe('new');
  });

  it('delays every chunk while delaying', async () => {
    proxy.delay(150);
    const started = performance.now();
    expect(await roundTrip(proxy.port, 'slow')).toBe('slow');
    // Held once on the way in and once on the way out.
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });
});
