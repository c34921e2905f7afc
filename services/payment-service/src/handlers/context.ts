import { TRACEPARENT_HEADER } from '@dispatch/contracts';
import type { Logger } from '@dispatch/platform';
import type { Pool } from 'pg';
import type { Histogram } from 'prom-client';
import type { ResilientGateway } from '../gateway/resilient-gateway';
import type { PaymentMetrics } from '../metrics';
import type { DedupCache } from '../redis/dedup-cache';
import type { OrderLock } from '../redis/order-lock';

/** The inbox records consumed events under the service's name (shared by all its instances). */
export const INBOX_CONSUMER = 'payment-service';

/** The `producer` of the events payment-service publishes. */
export const PRODUCER = 'payment-service';

/** Where one order's work in a batch logs to, and the trace its outgoing events join. */
export interface OrderContext {
  logger: Logger;
  /** The W3C traceparent of the consumer span of the order's event (none for the sweeper). */
  traceparent?: string;
}

/** The outbox headers that put an event into its order's trace. */
export function traceHeaders(context: OrderContext | undefined): Record<string, string> {
  return context?.traceparent ? { [TRACEPARENT_HEADER]: context.traceparent } : {};
}

/** What the handlers, the sweeper and the charge and refund steps need. */
export interface PaymentDeps {
  pool: Pool;
  gateway: ResilientGateway;
  lock: OrderLock;
  dedup: DedupCache;
  metrics: PaymentMetrics;
  logger: Logger;
  /** Lease on a PENDING charge/refund; equals the Redis lock TTL (both outlive the longest gateway call). */
  leaseMs: number;
  /** The platform's saga_stage_latency_seconds (absent in pipelines without a service around them). */
  stageLatency?: Histogram<'stage'>;
}
