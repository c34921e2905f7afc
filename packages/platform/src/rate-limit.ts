import type { Express, Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { RateLimitedError } from './errors';

/**
 * Fixed-window rate limits counted in Redis, so every instance of a service shares them.
 *
 * A policy allows `limit` requests per key (usually the token's subject) per window of `windowMs`.
 * The first request of a window creates the counter with the window as its expiry; later ones only
 * increment it. Every answer carries the IETF `RateLimit-Policy` and `RateLimit` headers
 * (draft-ietf-httpapi-ratelimit-headers): `"read";q=1200;w=60` and `"read";r=1187;t=42` (r: requests
 * left in this window, t: seconds until it resets). Over the limit: 429 `rate-limited`
 * problem+json with `Retry-After: t`.
 *
 * While Redis is unavailable a request is let through (and counted as `unavailable`): losing rate
 * limiting for a moment is better than refusing every request.
 */

export interface RateLimitPolicy {
  /** Names the policy in the headers and the counters in Redis, e.g. `read` or `orders-post`. */
  name: string;
  /** Requests allowed per key per window. */
  limit: number;
  windowMs: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Requests left in the current window (0 once over). */
  remaining: number;
  /** Seconds until the window resets, at least 1. */
  resetSeconds: number;
}

/** `"read";q=1200;w=60` */
export function rateLimitPolicyHeader(policy: RateLimitPolicy): string {
  return `"${policy.name}";q=${policy.limit};w=${Math.ceil(policy.windowMs / 1000)}`;
}

/** `"read";r=1187;t=42` */
export function rateLimitHeader(policy: RateLimitPolicy, decision: RateLimitDecision): string {
  return `"${policy.name}";r=${decision.remaining};t=${decision.resetSeconds}`;
}

/** What the window's count and its remaining time (ms) mean for the request that made the count. */
export function decide(policy: RateLimitPolicy, count: number, ttlMs: number): RateLimitDecision {
  const ttl = ttlMs > 0 ? ttlMs : policy.windowMs;
  return {
    allowed: count <= policy.limit,
    remaining: Math.max(0, policy.limit - count),
    resetSeconds: Math.max(1, Math.ceil(ttl / 1000)),
  };
}

/**
 * Counts one request and returns the count and the window's remaining milliseconds. A counter that
 * somehow lost its expiry gets one again, so no key outlives its window.
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

export type RateLimitOutcome = 'allowed' | 'limited' | 'unavailable';

/** One policy counted in Redis under `<keyPrefix><policy name>:<key>`. */
export class RedisRateLimiter {
  constructor(
    private readonly redis: Redis,
    readonly policy: RateLimitPolicy,
    private readonly keyPrefix = 'ratelimit:',
  ) {}

  /** Counts a request of `key`; undefined when Redis could not be asked. */
  async hit(key: string): Promise<RateLimitDecision | undefined> {
    let reply: unknown;
    try {
      reply = await this.redis.eval(
        HIT_SCRIPT,
        1,
        `${this.keyPrefix}${this.policy.name}:${key}`,
        String(this.policy.windowMs),
      );
    } catch {
      return undefined;
    }
    const [count, ttl] = reply as [number, number];
    return decide(this.policy, count, ttl);
  }

  /**
   * Counts the request, sets the headers, and throws RateLimitedError when it is over the limit.
   * Returns the outcome (for metrics and logs).
   */
  async check(res: Response, key: string): Promise<RateLimitOutcome> {
    const decision = await this.hit(key);
    if (!decision) return 'unavailable';
    if (!res.headersSent) {
      res.append('RateLimit-Policy', rateLimitPolicyHeader(this.policy));
      res.append('RateLimit', rateLimitHeader(this.policy, decision));
    }
    if (!decision.allowed) throw new RateLimitedError(decision.resetSeconds);
    return 'allowed';
  }
}

/**
 * rate_limit_checks_total{policy,outcome}: every request a policy counted (allowed, limited, or let
 * through while Redis was unavailable). Shared by every limiter on the same registry.
 */
function checksCounter(registry: Registry): Counter<'policy' | 'outcome'> {
  const existing = registry.getSingleMetric('rate_limit_checks_total') as
    | Counter<'policy' | 'outcome'>
    | undefined;
  return (
    existing ??
    new Counter({
      name: 'rate_limit_checks_total',
      help: 'Requests counted by a rate-limit policy, by policy and outcome (allowed, limited, unavailable: Redis could not be asked and the request was let through).',
      labelNames: ['policy', 'outcome'],
      registers: [registry],
    })
  );
}

async function checkCounted(
  limiter: RedisRateLimiter,
  res: Response,
  key: string,
  counter: Counter<'policy' | 'outcome'> | undefined,
): Promise<void> {
  const policy = limiter.policy.name;
  let outcome: RateLimitOutcome;
  try {
    outcome = await limiter.check(res, key);
  } catch (err) {
    counter?.inc({ policy, outcome: 'limited' });
    throw err;
  }
  counter?.inc({ policy, outcome });
}

export interface RateLimitOptions {
  redis: Redis;
  /** Names the policy in the headers and the counter family in Redis, e.g. `orders-post`. */
  name: string;
  windowMs: number;
  /** Requests allowed per key per window. */
  limit: number;
  /** Default: the authenticated subject when there is one, else the client address. */
  key?: (req: Request, res: Response) => string;
  /** Where rate_limit_checks_total is counted. */
  registry?: Registry;
}

/** A route-level limit, for a route that needs a stricter one than the subject's read/write limit. */
export function rateLimit(opts: RateLimitOptions): RequestHandler {
  const limiter = new RedisRateLimiter(opts.redis, {
    name: opts.name,
    limit: opts.limit,
    windowMs: opts.windowMs,
  });
  const counter = opts.registry ? checksCounter(opts.registry) : undefined;
  const keyOf =
    opts.key ??
    ((req: Request, res: Response) =>
      (res.locals.principal?.subject as string | undefined) ?? `ip:${req.ip ?? 'unknown'}`);
  return async (req, res, next) => {
    await checkCounted(limiter, res, keyOf(req, res), counter);
    next();
  };
}

/** The read and write limit every authenticated request of a service counts against (per subject). */
export interface SubjectRateLimitSettings {
  windowMs: number;
  /** GET, HEAD and OPTIONS requests per subject per window. */
  read: number;
  /** Every other method, per subject per window. */
  write: number;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Which of the two policies a request counts against. */
export function limitKind(method: string): 'read' | 'write' {
  return READ_METHODS.has(method.toUpperCase()) ? 'read' : 'write';
}

/**
 * The per-subject read and write limits of one service. `authenticate` applies them to every request
 * it lets in (see subjectRateLimitsOf), so every authenticated route of every service is limited
 * without the route asking for it. Counters are per service: `ratelimit:<service>:read:<subject>`.
 */
export class SubjectRateLimits {
  private readonly read: RedisRateLimiter;
  private readonly write: RedisRateLimiter;
  private readonly counter: Counter<'policy' | 'outcome'>;

  constructor(opts: {
    redis: Redis;
    service: string;
    settings: SubjectRateLimitSettings;
    registry: Registry;
    /** Default `ratelimit:<service>:` (tests give their own). */
    keyPrefix?: string;
  }) {
    const prefix = opts.keyPrefix ?? `ratelimit:${opts.service}:`;
    const { windowMs, read, write } = opts.settings;
    this.read = new RedisRateLimiter(opts.redis, { name: 'read', limit: read, windowMs }, prefix);
    this.write = new RedisRateLimiter(opts.redis, { name: 'write', limit: write, windowMs }, prefix);
    this.counter = checksCounter(opts.registry);
    for (const policy of ['read', 'write']) {
      for (const outcome of ['allowed', 'limited', 'unavailable']) this.counter.inc({ policy, outcome }, 0);
    }
  }

  /** Counts the request against the subject's read or write limit; throws RateLimitedError beyond it. */
  async check(req: Request, res: Response, subject: string): Promise<void> {
    const limiter = limitKind(req.method) === 'read' ? this.read : this.write;
    await checkCounted(limiter, res, subject, this.counter);
  }
}

const SUBJECT_LIMITS = 'dispatch.subjectRateLimits';

/** Makes `authenticate` count every request it lets into this app against `limits`. */
export function installSubjectRateLimits(app: Express, limits: SubjectRateLimits): void {
  app.locals[SUBJECT_LIMITS] = limits;
}

/** The limits installed on the app that handles `req`, if any. */
export function subjectRateLimitsOf(req: Request): SubjectRateLimits | undefined {
  return req.app?.locals?.[SUBJECT_LIMITS] as SubjectRateLimits | undefined;
}
