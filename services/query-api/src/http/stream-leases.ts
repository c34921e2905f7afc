import { randomUUID } from 'node:crypto';
import type { Logger, Redis } from '@dispatch/platform';

/**
 * How many order streams one customer (token subject) holds open, across every query-api instance.
 *
 * Each open stream holds a lease: a member of the Redis sorted set `<prefix><subject>` whose score is
 * the time (Redis server time, ms) the lease runs out. Taking a lease first drops the subject's leases
 * that ran out, then adds one only while fewer than `max` remain, in one script, so concurrent connects
 * on any instances cannot overshoot. A stream refreshes its lease every `ttlMs / 3` and gives it back
 * when it ends; the lease of a stream whose instance died runs out after `ttlMs`, and its slot is free
 * again.
 *
 * While Redis is unavailable a stream is let through without a lease (the per-instance cap still
 * holds); its refresh takes the lease once Redis answers again.
 */

const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[2]) then
  return {0, held}
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return {1, held + 1}
`;

/** Extends the lease (or takes it again, should it have run out meanwhile). */
const REFRESH_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`;

export type LeaseOutcome =
  | { kind: 'granted'; lease: StreamLease }
  | { kind: 'refused'; held: number }
  /** Redis could not be asked: let through without a lease. */
  | { kind: 'unavailable'; lease: StreamLease };

export interface StreamLease {
  /** Stops refreshing and gives the slot back (idempotent). */
  release(): void;
}

export interface StreamLeasesOptions {
  redis: Redis;
  /** Streams one subject may hold at once. */
  max: number;
  /** How long a lease lasts without a refresh (and so how long a dead instance's slot stays taken). */
  ttlMs?: number;
  /** Default `sse-streams:` (tests give their own). */
  keyPrefix?: string;
  logger: Logger;
}

export const DEFAULT_LEASE_TTL_MS = 30_000;

export class StreamLeases {
  readonly max: number;
  readonly ttlMs: number;
  private readonly keyPrefix: string;

  constructor(private readonly opts: StreamLeasesOptions) {
    this.max = opts.max;
    this.ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.keyPrefix = opts.keyPrefix ?? 'sse-streams:';
  }

  /** Seconds after which a refused client may try again: by then a dead instance's lease ran out. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.ttlMs / 1000));
  }

  async acquire(subject: string): Promise<LeaseOutcome> {
    const key = `${this.keyPrefix}${subject}`;
    const member = randomUUID();
    let reply: [number, number];
    try {
      reply = (await this.opts.redis.eval(
        ACQUIRE_SCRIPT,
        1,
        key,
        member,
        String(this.max),
        String(this.ttlMs),
      )) as [number, number];
    } catch (err) {
      this.opts.logger.warn(
        { err: (err as Error).message, subject },
        'stream lease not taken (Redis unavailable): stream let through',
      );
      return { kind: 'unavailable', lease: this.startLease(key, member) };
    }
    const [granted, held] = reply;
    if (granted !== 1) return { kind: 'refused', held };
    return { kind: 'granted', lease: this.startLease(key, member) };
  }

  private startLease(key: string, member: string): StreamLease {
    const refresh = setInterval(
      () => {
        this.opts.redis
          .eval(REFRESH_SCRIPT, 1, key, member, String(this.ttlMs))
          .catch((err: Error) => this.opts.logger.debug({ err: err.message }, 'stream lease not refreshed'));
      },
      Math.max(1, Math.floor(this.ttlMs / 3)),
    );
    refresh.unref();
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        clearInterval(refresh);
        this.opts.redis.zrem(key, member).catch((err: Error) => {
          // The lease runs out by itself after ttlMs.
          this.opts.logger.debug({ err: err.message }, 'stream lease not given back');
        });
      },
    };
  }
}
