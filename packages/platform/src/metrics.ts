import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds, from a fast Redis hit to a slow saga step. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Events per batch: a batch's fixed cost (a fetch, a transaction, a commit) is shared by this many. */
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** Default Node.js metrics that are gauges despite their _total suffix. */
const NON_COUNTER_TOTALS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * Every service's metrics live in one registry of its own (not prom-client's global one), so
 * several services or test apps can run in one process without clashing. Labels stay low-cardinality:
 * never an orderId.
 */
export interface PlatformMetrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** outcome: processed | duplicate | retried | dead_lettered */
  eventsConsumed: Counter<'topic' | 'event_type' | 'outcome'>;
  /** reason: invalid | clock | permanent | exhausted */
  dlqMessages: Counter<'topic' | 'reason'>;
  /** Partitions whose current message has kept failing past the consumer's blockedAfterMs. */
  consumerBlockedPartitions: Gauge<'topic'>;
  /** Messages of each fetched partition batch, whatever their type. */
  consumerFetchedBatchMessages: Histogram;
  /** Events of each batch handler call (one transaction, often several partitions' batches). */
  consumerHandlerCallEvents: Histogram;
  /** From the causing event's occurredAt to this step's commit. */
  stageLatency: Histogram<'stage'>;
  outboxBacklog: Gauge;
  outboxOldestAge: Gauge;
  outboxPublished: Counter;
}

export function createMetrics(service: string): PlatformMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  // prom-client names these three gauges *_total, which `promtool check metrics` rejects (only
  // counters end in _total). Their per-type twins (nodejs_active_handles{type}, ...) stay: sum them.
  for (const name of NON_COUNTER_TOTALS) registry.removeSingleMetric(name);
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    eventsConsumed: new Counter({
      name: 'kafka_events_consumed_total',
      help: 'Kafka events consumed by topic, event type and outcome (processed, duplicate, retried, dead_lettered).',
      labelNames: ['topic', 'event_type', 'outcome'],
      registers: [registry],
    }),
    dlqMessages: new Counter({
      name: 'kafka_dlq_messages_total',
      help: 'Messages sent to this service dead-letter topic, by source topic and reason (invalid, clock, permanent, exhausted).',
      labelNames: ['topic', 'reason'],
      registers: [registry],
    }),
    consumerBlockedPartitions: new Gauge({
      name: 'kafka_consumer_blocked_partitions',
      help: 'Partitions whose current message keeps failing (e.g. a dependency is down): their offset is kept and the message retried.',
      labelNames: ['topic'],
      registers: [registry],
    }),
    consumerFetchedBatchMessages: new Histogram({
      name: 'kafka_consumer_fetched_batch_messages',
      help: 'Messages in each partition batch a consumer fetched (handled, skipped or dead-lettered).',
      buckets: BATCH_SIZE_BUCKETS,
      registers: [registry],
    }),
    consumerHandlerCallEvents: new Histogram({
      name: 'kafka_consumer_handler_call_events',
      help: 'Events handed to each batch handler call (one transaction; the batches of several partitions of one fetch join).',
      buckets: BATCH_SIZE_BUCKETS,
      registers: [registry],
    }),
    stageLatency: new Histogram({
      name: 'saga_stage_latency_seconds',
      help: "Time from the causing event's occurredAt to this saga step's commit.",
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    outboxBacklog: new Gauge({
      name: 'outbox_backlog_rows',
      help: 'Outbox rows committed but not yet published.',
      registers: [registry],
    }),
    outboxOldestAge: new Gauge({
      name: 'outbox_oldest_unsent_age_seconds',
      help: 'Age of the oldest unpublished outbox row (0 when the backlog is empty).',
      registers: [registry],
    }),
    outboxPublished: new Counter({
      name: 'outbox_published_total',
      help: 'Outbox rows published to Kafka.',
      registers: [registry],
    }),
  };
}

/**
 * saga_stage_latency_seconds: from the causing event's occurredAt to this step's commit, labelled
 * with the event type the step produced. Clocks of different hosts can disagree; a negative
 * duration counts as 0. An unparseable time is not observed.
 */
export function observeStageLatency(
  histogram: { observe(labels: { stage: string }, seconds: number): void } | undefined,
  stage: string,
  causeOccurredAt: Date | string,
  now: number = Date.now(),
): void {
  const at = typeof causeOccurredAt === 'string' ? Date.parse(causeOccurredAt) : causeOccurredAt.getTime();
  if (!Number.isFinite(at)) return;
  histogram?.observe({ stage }, Math.max(0, (now - at) / 1000));
}
