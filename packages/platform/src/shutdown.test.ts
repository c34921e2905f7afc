import pino from 'pino';
import { createShutdown } from './shutdown';

const logger = pino({ level: 'silent' });

describe('createShutdown', () => {
  it('runs steps in registration order, once, even when asked twice', async () => {
    const order: string[] = [];
    const shutdown = createShutdown(logger, 1_000);
    shutdown.register('stop consumers', async () => void order.push('consumers'));
    shutdown.register('flush relay', async () => void order.push('relay'));
    shutdown.register('close pools', async () => void order.push('pools'));
    const [a, b] = await Promise.all([shutdown.run('SIGTERM'), shutdown.run('SIGINT')]);
    expect(a && b).toBe(true);
    expect(order).toEqual(['consumers', 'relay', 'pools']);
  });

  it('keeps going after a failing step and reports failure', async () => {
    const order: string[] = [];
    const shutdown = createShutdown(logger, 1_000);
    shutdown.register('broken', async () => {
      throw new Error('boom');
    });
    shutdown.register('close pools', async () => void order.push('pools'));
    expect(await shutdown.run('test')).toBe(false);
    expect(order).toEqual(['pools']);
  });

  it('gives up at the deadline when a step hangs', async () => {
    const shutdown = createShutdown(logger, 50);
    shutdown.register('hangs', () => new Promise<void>(() => {}));
    expect(await shutdown.run('test')).toBe(false);
  });
});
