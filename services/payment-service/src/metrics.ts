import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * payment-service's own metrics. The first seven keep the seed's names. Labels are low-cardinality
 * (never an orderId).
 */
export interface PaymentMetrics {
  /** Payments authorized. */
  processed: Counter;
  /** Payments that ended FAILED, by reason code. */
  failed: Counter<'reason'>;
  /** Duplicate charge requests skipped, by the layer that caught them. */
  duplicates: Counter<'layer'>;
  dedupRedisHits: Counter;
  dedupDbHits: Counter;
  /** The per-order Redis lock was held by someone else; the message is retried later. */
  lockTimeouts: Counter;
  /** Handling of one charge request, from the handler's start to the payment's final commit. */
  processingDuration: Histogram<'outcome'>;
  /** One gateway attempt. */
  gatewayRequestDuration: Histogram<'operation' | 'outcome'>;
  /** 0 closed, 1 half-open, 2 open. */
  circuitBreakerState: Gauge;
  refunds: Counter<'reason'>;
  /** Redis commands that failed (Redis down): the layer was skipped, correctness kept by Postgres. */
  redisErrors: Counter<'operation'>;
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createPaymentMetrics(registry: Registry): PaymentMetrics {
  const registers = [registry];
  return {
    processed: new Counter({
      name: 'payment_processed_total',
      help: 'Payments authorized by the gateway.',
      registers,
    }),
    failed: new Counter({
      name: 'payment_failed_total',
      help: 'Payments that ended FAILED (declined, gateway unavailable, cancelled before the charge), by reason.',
      labelNames: ['reason'],
      registers,
    }),
    duplicates: new Counter({
      name: 'payment_duplicate_total',
      help: 'Duplicate charge requests skipped, by the dedup layer that caught them (inbox, redis, db).',
      labelNames: ['layer'],
      registers,
    }),
    dedupRedisHits: new Counter({
      name: 'payment_dedup_redis_hit_total',
      help: 'Charge requests answered by the Redis fast-path key payment:dedup:{orderId} (gateway skipped).',
      registers,
    }),
    dedupDbHits: new Counter({
      name: 'payment_dedup_db_hit_total',
      help: 'Charge requests that found the order already in the payments table (unique orderId).',
      registers,
    }),
    lockTimeouts: new Counter({
      name: 'payment_lock_timeout_total',
      help: 'Messages that found the per-order Redis lock held by another worker and were retried later.',
      registers,
    }),
    processingDuration: new Histogram({
      name: 'payment_processing_duration_seconds',
      help: 'Time to handle one charge request, by outcome (authorized, failed, duplicate, waiting, in_flight).',
      labelNames: ['outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    gatewayRequestDuration: new Histogram({
      name: 'payment_gateway_request_duration_seconds',
      help: 'One gateway attempt, by operation (charge, refund) and outcome (approved, declined, refunded, error, timeout, rejected).',
      labelNames: ['operation', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    circuitBreakerState: new Gauge({
      name: 'payment_circuit_breaker_state',
      help: 'Gateway circuit breaker: 0 closed, 1 half-open, 2 open.',
      registers,
    }),
    refunds: new Counter({
      name: 'payment_refunds_total',
      help: 'Refunds completed, by reason (DELIVERY_FAILED, ORDER_CANCELLED).',
      labelNames: ['reason'],
      registers,
    }),
    redisErrors: new Counter({
      name: 'payment_redis_errors_total',
      help: 'Redis commands that failed (lock, dedup key); processing went on without that layer.',
      labelNames: ['operation'],
      registers,
    }),
  };
}
