import type { Logger, Redis } from '@dispatch/platform';
import type { PaymentMetrics } from '../metrics';

export function dedupKey(orderId: string): string {
  return `payment:dedup:${orderId}`;
}

/**
 * Layer 2 of the dedup: `payment:dedup:{orderId}`, written only after the payment's final state
 * committed in Postgres, so a hit always means "this order's charge is decided" and the request can be
 * skipped without touching the database or the gateway. A miss proves nothing (not yet written, evicted,
 * Redis down): the request then goes on to Postgres, which decides.
 */
export class DedupCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly metrics: PaymentMetrics,
    private readonly logger: Logger,
  ) {}

  /** The orders among `orderIds` with a hit, in one round trip; none when Redis does not answer. */
  async decidedAmong(orderIds: readonly string[]): Promise<Set<string>> {
    if (orderIds.length === 0) return new Set();
    try {
      const pipeline = this.redis.pipeline();
      for (const orderId of orderIds) pipeline.exists(dedupKey(orderId));
      const answers = (await pipeline.exec()) ?? [];
      const failed = answers.find(([err]) => err);
      if (failed?.[0]) throw failed[0];
      return new Set(orderIds.filter((_, i) => answers[i]?.[1] === 1));
    } catch (err) {
      this.metrics.redisErrors.inc({ operation: 'dedup_read' });
      this.logger.debug({ err: errorText(err), orderIds }, 'redis dedup read failed; asking postgres');
      return new Set();
    }
  }

  /** Call only after the decisions committed. Best effort: a lost write costs a database round trip later. */
  async markDecided(decided: readonly { orderId: string; status: string }[]): Promise<void> {
    if (decided.length === 0) return;
    try {
      const pipeline = this.redis.pipeline();
      for (const { orderId, status } of decided)
        pipeline.set(dedupKey(orderId), status, 'EX', this.ttlSeconds);
      const answers = (await pipeline.exec()) ?? [];
      const failed = answers.find(([err]) => err);
      if (failed?.[0]) throw failed[0];
    } catch (err) {
      this.metrics.redisErrors.inc({ operation: 'dedup_write' });
      this.logger.debug({ err: errorText(err), count: decided.length }, 'redis dedup write failed');
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
