import { randomUUID } from 'node:crypto';
import type { Logger, Redis } from '@dispatch/platform';
import type { PaymentMetrics } from '../metrics';

/** Deletes the key only if it still holds our token, so a lock that expired and was taken by another worker is never released by us. */
const COMPARE_AND_DELETE = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0`;

export type LockAttempt =
  | { kind: 'acquired'; release(): Promise<void> }
  /** Another worker holds the lock: retry the message later. */
  | { kind: 'busy' }
  /** Redis did not answer: go on without the lock (Postgres keeps correctness). */
  | { kind: 'unavailable' };

export function lockKey(orderId: string): string {
  return `payment:lock:${orderId}`;
}

/**
 * Layer 1 of the dedup: a Redis lock per orderId (SET NX PX with a random owner token, released by a
 * compare-and-delete script). It serialises one order's processing across instances so duplicates
 * queue up instead of racing, which saves gateway calls and database round trips. It is an
 * optimisation, not the guarantee: a lock can expire under a long GC pause or be lost in a Redis
 * failover, and with Redis down there is no lock at all. The guarantee is the payments row (unique
 * orderId, PENDING before the gateway call) plus the gateway's idempotency key.
 *
 * Written here rather than taken from a library because it is twenty lines and the semantics we need
 * (one attempt, no waiting, no auto-extension, "unavailable" distinct from "busy") are exactly these.
 */
export class OrderLock {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly metrics: PaymentMetrics,
    private readonly logger: Logger,
  ) {}

  async acquire(orderId: string): Promise<LockAttempt> {
    const key = lockKey(orderId);
    const token = randomUUID();
    try {
      const answer = await this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
      if (answer !== 'OK') return { kind: 'busy' };
    } catch (err) {
      this.metrics.redisErrors.inc({ operation: 'lock' });
      this.logger.debug({ err: errorText(err), orderId }, 'redis lock unavailable; going on without it');
      return { kind: 'unavailable' };
    }
    return { kind: 'acquired', release: () => this.release(key, token) };
  }

  private async release(key: string, token: string): Promise<void> {
    try {
      await this.redis.eval(COMPARE_AND_DELETE, 1, key, token);
    } catch (err) {
      // The lock then simply expires after its TTL.
      this.metrics.redisErrors.inc({ operation: 'unlock' });
      this.logger.debug({ err: errorText(err), key }, 'redis lock release failed; it will expire');
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
