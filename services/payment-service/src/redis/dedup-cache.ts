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

  /** True on a hit; false on a miss or when Redis does not answer. */
  async isDecided(orderId: string): Promise<boolean> {
    try {
      return (await this.redis.exists(dedupKey(orderId))) === 1;
    } catch (err) {
      this.metrics.redisErrors.inc({ operation: 'dedup_read' });
      this.logger.debug({ err: errorText(err), orderId }, 'redis dedup read failed; asking postgres');
      return false;
    }
  }

  /** Call only after the decision committed. Best effort: a lost write costs a database round trip later. */
  async markDecided(orderId: string, status: string): Promise<void> {
    try {
      await this.redis.set(dedupKey(orderId), status, 'EX', this.ttlSeconds);
    } catch (err) {
      this.metrics.redisErrors.inc({ operation: 'dedup_write' });
      this.logger.debug({ err: errorText(err), orderId }, 'redis dedup write failed');
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
