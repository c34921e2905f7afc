import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** webhook-service's own metrics. Labels are enums only: never an endpoint id, URL or order id. */
export interface WebhookMetrics {
  /** outcome: delivered | failed (retry scheduled) | gone (410) | given_up (retry window over). */
  attempts: Counter<'outcome'>;
  attemptDuration: Histogram<'outcome'>;
  /** reason: gone (the receiver answered 410) | failing (the failure threshold). */
  endpointsDisabled: Counter<'reason'>;
  /** Events fanned out to endpoints, by how: in causal order, or after waiting WEBHOOK_HOLD_MAX_MS for a cause. */
  eventsReleased: Counter<'how'>;
}

export const ATTEMPT_OUTCOMES = ['delivered', 'failed', 'gone', 'given_up'] as const;
export const DISABLE_REASONS = ['gone', 'failing'] as const;

export interface WebhookMetricsOptions {
  /** Reads the queue at scrape time; without it the queue gauges are not registered. */
  queueStats?: () => Promise<{ pending: number; oldestPendingAgeSeconds: number; disabledEndpoints: number }>;
  onQueueStatsError?: (err: unknown) => void;
}

export function createWebhookMetrics(registry: Registry, opts: WebhookMetricsOptions = {}): WebhookMetrics {
  const registers = [registry];
  if (opts.queueStats) {
    const read = opts.queueStats;
    let last: Promise<Awaited<ReturnType<typeof read>> | undefined> | undefined;
    // One read per scrape for the three gauges.
    const stats = () => {
      last ??= read()
        .catch((err: unknown) => {
          opts.onQueueStatsError?.(err);
          return undefined;
        })
        .finally(() => setTimeout(() => (last = undefined), 100).unref());
      return last;
    };
    new Gauge({
      name: 'webhook_deliveries_pending',
      help: 'Deliveries waiting to be sent (or retried) to enabled endpoints.',
      registers,
      async collect() {
        const s = await stats();
        if (s) this.set(s.pending);
      },
    });
    new Gauge({
      name: 'webhook_oldest_pending_delivery_age_seconds',
      help: 'Age of the oldest pending delivery to an enabled endpoint (0 when none is pending).',
      registers,
      async collect() {
        const s = await stats();
        if (s) this.set(s.oldestPendingAgeSeconds);
      },
    });
    new Gauge({
      name: 'webhook_endpoints_disabled',
      help: 'Registered endpoints that are disabled (by a 410, the failure threshold or an admin).',
      registers,
      async collect() {
        const s = await stats();
        if (s) this.set(s.disabledEndpoints);
      },
    });
  }
  const metrics: WebhookMetrics = {
    attempts: new Counter({
      name: 'webhook_delivery_attempts_total',
      help: 'Delivery attempts by outcome: delivered (2xx), failed (retry scheduled), gone (410: endpoint disabled), given_up (retry window over).',
      labelNames: ['outcome'],
      registers,
    }),
    attemptDuration: new Histogram({
      name: 'webhook_delivery_attempt_duration_seconds',
      help: 'One attempt, from connecting to the answer, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    endpointsDisabled: new Counter({
      name: 'webhook_endpoints_disabled_total',
      help: 'Endpoints disabled by the service: gone (the receiver answered 410) or failing (too many failed attempts in a row).',
      labelNames: ['reason'],
      registers,
    }),
    eventsReleased: new Counter({
      name: 'webhook_events_released_total',
      help: 'Order events fanned out to the endpoints that select them: causal (after their cause) or timeout (their cause never arrived).',
      labelNames: ['how'],
      registers,
    }),
  };
  // Every series exists from the start at 0, so increase() sees the first one.
  for (const outcome of ATTEMPT_OUTCOMES) metrics.attempts.inc({ outcome }, 0);
  for (const reason of DISABLE_REASONS) metrics.endpointsDisabled.inc({ reason }, 0);
  for (const how of ['causal', 'timeout']) metrics.eventsReleased.inc({ how }, 0);
  return metrics;
}
