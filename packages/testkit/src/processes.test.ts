import { freePort, requireRunningServices } from './processes';

describe('requireRunningServices', () => {
  const saved = process.env.ORDER_SERVICE_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.ORDER_SERVICE_URL;
    else process.env.ORDER_SERVICE_URL = saved;
  });

  it('names the service that is not listening and says how to start the stack', async () => {
    // A port just found free: nothing listens there, so the connection is refused at once.
    const port = await freePort();
    process.env.ORDER_SERVICE_URL = `http://127.0.0.1:${port}`;
    await expect(requireRunningServices(['order-service'])).rejects.toThrow(
      /This needs the running stack[\s\S]*order-service at http:\/\/127\.0\.0\.1:\d+: not listening \(connection refused\)[\s\S]*\.\/dispatch up/,
    );
  });
});
