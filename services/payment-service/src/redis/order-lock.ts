import { randomUUID } from 'node:crypto';
import type { Logger, Redis } from '@dispatch/platform';
import type { PaymentMetrics } from '../metrics';

/**
 * Deletes each key only if it still holds our token (KEYS[i] ↔ ARGV[i]), so a lock that expired and was
 * taken by another worker is never released by us.
 */
const COMPARE_AND_DELETE = `
local released = 0
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[i] then
    released = released + redis.call('del', key)
  end
end
return released`;

export type LockAttempt =
  | { kind: 'acquired'; release(): Promise<void> }
  /** Another worker holds the lock of `orderId`: retry the messages later. */
  | { kind: 'busy'; orderId: string }
  /** Redis did not answer: go on without the lock (Postgres keeps correctness). */
  | { kind: 'unavailable' };

export function lockKey(orderId: string): string {
  return `payment:lock:${orderId}`;
}

/**
 * Layer 1 of the dedup: a Redis lock per orderId (SET NX PX with a random owner token, released by a
 * compare-and-delete script), taken for all of a batch's orders in one pipeline. It serialises one order's processing across instances so duplicates
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

  /**
   * The locks of all `orderIds` (a batch's orders), in one round trip. All or none: when another worker
   * holds any of them, the ones just taken are given back and the answer is busy.
   */
  async acquire(orderIds: readonly string[]): Promise<LockAttempt> {
    const locks = orderIds.map((orderId) => ({ key: lockKey(orderId), token: randomUUID() }));
    let answers: ([Error | null, unknown] | undefined)[];
    try {
      const pipeline = this.redis.pipeline();
      for (const { key, token } of locks) pipeline.set(key, token, 'PX', this.ttlMs, 'NX');
      answers = (await pipeline.exec()) ?? [];
    } catch (err) {
      return this.unavailable(err, orderIds);
    }
    const taken = locks.filter((_, i) => answers[i]?.[1] === 'OK');
    const release = () => this.release(taken);
    const failed = answers.find((answer) => answer?.[0]);
    if (failed?.[0]) {
      await release();
      return this.unavailable(failed[0], orderIds);
    }
    const busy = orderIds.find((_, i) => answers[i]?.[1] !== 'OK');
    if (busy !== undefined) {
      await release();
      return { kind: 'busy', orderId: busy };
    }
    return { kind: 'acquired', release };
  }

  private unavailable(err: unknown, orderIds: readonly string[]): LockAttempt {
    this.metrics.redisErrors.inc({ operation: 'lock' });
    this.logger.debug({ err: errorText(err), orderIds }, 'redis lock unavailable; going on without it');
    return { kind: 'unavailable' };
  }

  private async release(locks: readonly { key: string; token: string }[]): Promise<void> {
    if (locks.length === 0) return;
    try {
      await this.redis.eval(
        COMPARE_AND_DELETE,
        locks.length,
        ...locks.map((l) => l.key),
        ...locks.map((l) => l.token),
      );
    } catch (err) {
      // The locks then simply expire after their TTL.
      this.metrics.redisErrors.inc({ operation: 'unlock' });
      this.logger.debug(
        { err: errorText(err), keys: locks.map((l) => l.key) },
        'redis lock release failed; they will expire',
      );
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
