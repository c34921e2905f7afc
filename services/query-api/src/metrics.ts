import { isTerminal, ORDER_STATUSES } from '@dispatch/contracts';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface QueryMetrics {
  /** now − occurredAt when the live consumer has applied an event. */
  applyLag: Histogram<'event_type'>;
  eventsApplied: Counter<'event_type'>;
  sseStreamsOpen: Gauge;
  /**
   * now − order.created occurredAt when the live consumer applied the event that decided the order,
   * once per order, by terminal status (docs/metrics.md).
   */
  endToEndLatency: Histogram<'status'>;
}

/** Seconds; decisions take milliseconds to seconds, DELIVERED includes the driver's time. */
export const END_TO_END_LATENCY_BUCKETS = [
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21600,
];

export function createQueryMetrics(registry: Registry): QueryMetrics {
  const endToEndLatency = new Histogram({
    name: 'order_end_to_end_latency_seconds',
    help: "Time from an order's order.created occurredAt until query-api applied the event that made its status terminal, by terminal status.",
    labelNames: ['status'],
    buckets: END_TO_END_LATENCY_BUCKETS,
    registers: [registry],
  });
  // Every terminal status is exposed from the start (at 0), so rate() and the dashboards see
  // a series before the first order of that outcome.
  for (const status of ORDER_STATUSES.filter(isTerminal)) endToEndLatency.zero({ status });
  return {
    applyLag: new Histogram({
      name: 'read_model_apply_lag_seconds',
      help: "Time from an event's occurredAt until the read model has applied it, by event type.",
      labelNames: ['event_type'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    eventsApplied: new Counter({
      name: 'read_model_events_applied_total',
      help: 'Events applied to the read model by the live consumer, by event type.',
      labelNames: ['event_type'],
      registers: [registry],
    }),
    sseStreamsOpen: new Gauge({
      name: 'sse_streams_open',
      help: 'Open order status streams (GET /api/orders/{id}/events).',
      registers: [registry],
    }),
    endToEndLatency,
  };
}
