import type { Request, RequestHandler, Response } from 'express';
import { rateLimit as expressRateLimit, ipKeyGenerator } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore } from 'rate-limit-redis';
import { RateLimitedError } from './errors';

export interface RateLimitOptions {
  redis: Redis;
  /** Names the counter family in Redis, e.g. `orders-post`. */
  name: string;
  windowMs: number;
  /** Requests allowed per key per window. */
  limit: number;
  /** Default: the authenticated subject when there is one, else the client address. */
  key?: (req: Request, res: Response) => string;
}

/**
 * A fixed-window limit shared by every instance through Redis. While Redis is down the
 * limiter lets requests through (and logs): losing rate limiting for a moment is better
 * than refusing every order.
 */
export function rateLimit(opts: RateLimitOptions): RequestHandler {
  return expressRateLimit({
    windowMs: opts.windowMs,
    limit: opts.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    passOnStoreError: true,
    keyGenerator:
      opts.key ??
      ((req, res) =>
        (res.locals.principal?.subject as string | undefined) ?? ipKeyGenerator(req.ip ?? 'unknown')),
    store: new RedisStore({
      prefix: `ratelimit:${opts.name}:`,
      sendCommand: (command: string, ...args: string[]) =>
        opts.redis.call(command, ...args) as Promise<number | string>,
    }),
    handler: (_req, _res, next, options) => {
      next(new RateLimitedError(Math.ceil(options.windowMs / 1000)));
    },
  });
}
