import { Redis } from 'ioredis';
import type { Logger } from './logger';

export type { Redis } from 'ioredis';

/**
 * An ioredis client that fails fast while Redis is down instead of queueing commands
 * without bound: callers decide what a Redis outage costs them (speed, never correctness).
 */
export function createRedis(url: string, logger: Logger, name = 'redis'): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let down = false;
  redis.on('error', (err) => {
    if (!down) logger.warn({ err: err.message }, 'redis unavailable');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('redis back');
    down = false;
  });
  return redis;
}

/**
 * Resolves once the client is connected, or after `timeoutMs` (false) when Redis does not answer:
 * a service waits this long at start so its first requests are already rate-limited, never longer.
 */
export function redisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.once('ready', onReady);
  });
}
