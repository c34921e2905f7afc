/**
 * The Dispatch Grafana dashboards, as data. `pnpm exec tsx tools/observability/build-dashboards.ts`
 * renders them to dashboards/grafana/<uid>.json (a unit test fails when the JSON is out of date).
 * docs/operations.md explains what each panel shows. Metric names: docs/metrics.md.
 *
 * Conventions: select by the `service` label every Dispatch metric carries (not job/instance); numbers
 * every instance reports alike (consumer lag, outbox age, database-wide gauges) are aggregated with
 * max; rates use $__rate_interval. A rare-event counter whose series exist only after the first event
 * ends in `or on() vector(0)`, so the panel shows 0 instead of "No data".
 */
import { buildDashboard, type DashboardSpec, type GrafanaDashboard, type PanelSpec } from './grafana';

const RATE = '$__rate_interval';
const SERVICES_UP =
  'up{job=~"query-api|order-service|payment-service|inventory-service|delivery-service|webhook-service"}';

/** `expr`, or a single 0 when it has no series yet. */
function orZero(expr: string): string {
  return `${expr} or on() vector(0)`;
}

function quantiles(metric: string, selector: string, by: string[], legendPrefix = ''): PanelSpec['queries'] {
  const labels = ['le', ...by].join(', ');
  const suffix = by.length > 0 ? ` ${by.map((l) => `{{${l}}}`).join(' ')}` : '';
  return [0.5, 0.95, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (${labels}) (rate(${metric}_bucket${selector}[${RATE}])))`,
    legend: `${legendPrefix}p${Math.round(q * 100)}${suffix}`,
  }));
}

// ---- panels every service dashboard has ---------------------------------------------------

function httpPanels(service: string): PanelSpec[] {
  const s = `service="${service}"`;
  return [
    {
      title: 'HTTP requests/s by route and status',
      description: 'Every request the service answered, health probes and /metrics scrapes included.',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (route, status_code) (rate(http_request_duration_seconds_count{${s}}[${RATE}]))`,
          legend: '{{route}} {{status_code}}',
        },
      ],
    },
    {
      title: 'HTTP p95 latency by route',
      description: '95th percentile of the request duration, by route template.',
      unit: 's',
      queries: [
        {
          expr: `histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{${s}}[${RATE}])))`,
          legend: '{{route}}',
        },
      ],
    },
    {
      title: 'HTTP 5xx ratio',
      description: 'Share of requests answered with a server error (0 when there were none).',
      unit: 'percentunit',
      queries: [
        {
          expr:
            `(sum(rate(http_request_duration_seconds_count{${s}, status_code=~"5.."}[${RATE}])) or on() vector(0))` +
            ` / sum(rate(http_request_duration_seconds_count{${s}}[${RATE}]))`,
          legend: '5xx ratio',
        },
      ],
    },
  ];
}

function kafkaPanels(service: string): PanelSpec[] {
  const s = `service="${service}"`;
  return [
    {
      title: 'Events consumed/s by type and outcome',
      description:
        'processed: handler committed; retried: a failed try that will be retried; dead_lettered: sent to the DLQ.',
      unit: 'ops',
      queries: [
        {
          expr: `sum by (event_type, outcome) (rate(kafka_events_consumed_total{${s}}[${RATE}]))`,
          legend: '{{event_type}} {{outcome}}',
        },
      ],
    },
    {
      title: 'Consumer lag by topic',
      description:
        'Messages the consumer group still has to read (end offset minus committed offset), summed over partitions. Measured from the broker every 15 s.',
      unit: 'short',
      queries: [
        {
          expr: `sum by (group, topic) (max by (group, topic, partition) (kafka_consumer_lag_messages{${s}}))`,
          legend: '{{group}} {{topic}}',
        },
      ],
    },
    {
      title: 'Dead letters by source topic and reason',
      description: `Messages sent to dlq.${service} (invalid envelope, permanent handler error, retries exhausted).`,
      unit: 'short',
      queries: [
        {
          expr: `sum by (topic, reason) (increase(kafka_dlq_messages_total{${s}}[${RATE}]))`,
          legend: '{{topic}} {{reason}}',
        },
      ],
    },
  ];
}

function outboxPanels(service: string): PanelSpec[] {
  const s = `service="${service}"`;
  return [
    {
      title: 'Outbox: oldest unsent row age',
      description: 'How long the oldest committed but unpublished event has waited (0 = nothing waiting).',
      unit: 's',
      width: 8,
      queries: [{ expr: `max(outbox_oldest_unsent_age_seconds{${s}})`, legend: 'oldest unsent' }],
    },
    {
      title: 'Outbox: backlog rows',
      description: 'Committed events not yet published to Kafka.',
      unit: 'short',
      width: 8,
      queries: [{ expr: `max(outbox_backlog_rows{${s}})`, legend: 'backlog' }],
    },
    {
      title: 'Outbox: published/s',
      description: 'Events the relay published to Kafka.',
      unit: 'ops',
      width: 8,
      queries: [{ expr: `sum(rate(outbox_published_total{${s}}[${RATE}]))`, legend: 'published' }],
    },
  ];
}

function stageLatencyPanel(service: string): PanelSpec {
  return {
    title: 'Saga stage latency p95 by stage',
    description:
      "From the causing event's occurredAt to the commit of this service's step, by the event the step produced.",
    unit: 's',
    queries: [
      {
        expr: `histogram_quantile(0.95, sum by (le, stage) (rate(saga_stage_latency_seconds_bucket{service="${service}"}[${RATE}])))`,
        legend: '{{stage}}',
      },
    ],
  };
}

function processPanels(service: string): PanelSpec[] {
  const s = `service="${service}"`;
  return [
    {
      title: 'Up',
      description: 'Whether Prometheus can scrape each instance (1 = up).',
      kind: 'stat',
      unit: 'none',
      queries: [{ expr: `up{job="${service}"}`, legend: '{{instance}}' }],
      valueText: { '0': 'DOWN', '1': 'UP' },
    },
    {
      title: 'CPU (cores)',
      description: 'CPU time used per second, by instance.',
      unit: 'short',
      width: 6,
      queries: [
        {
          expr: `sum by (instance) (rate(process_cpu_seconds_total{${s}}[${RATE}]))`,
          legend: '{{instance}}',
        },
      ],
    },
    {
      title: 'Resident memory',
      description: 'Resident set size, by instance.',
      unit: 'bytes',
      width: 6,
      queries: [{ expr: `max by (instance) (process_resident_memory_bytes{${s}})`, legend: '{{instance}}' }],
    },
    {
      title: 'Event loop lag p99',
      description: 'A busy or blocked event loop delays every request and message.',
      unit: 's',
      width: 6,
      queries: [
        { expr: `max by (instance) (nodejs_eventloop_lag_p99_seconds{${s}})`, legend: '{{instance}}' },
      ],
    },
  ];
}

function serviceDashboard(
  service: string,
  title: string,
  description: string,
  own: { title: string; panels: PanelSpec[] }[],
  opts: { outbox: boolean },
): DashboardSpec {
  return {
    uid: `dispatch-${service}`,
    title: `Dispatch / ${title}`,
    description,
    tags: ['dispatch', service],
    rows: [
      ...own,
      { title: 'Kafka', panels: kafkaPanels(service) },
      ...(opts.outbox ? [{ title: 'Outbox', panels: outboxPanels(service) }] : []),
      { title: 'HTTP', panels: httpPanels(service) },
      { title: 'Process', panels: processPanels(service) },
    ],
  };
}

// ---- overview -----------------------------------------------------------------------------

const overview: DashboardSpec = {
  uid: 'dispatch-overview',
  title: 'Dispatch / Overview',
  description:
    'The whole saga at a glance: outcomes, end-to-end latency, funnel, and the pipeline health signals.',
  tags: ['dispatch', 'overview'],
  rows: [
    {
      title: 'Orders',
      panels: [
        {
          title: 'Orders/s by terminal status',
          description:
            'Orders whose terminal status (DELIVERED, DELIVERY_FAILED, CANCELLED, PAYMENT_FAILED, INVENTORY_REJECTED) was applied to the read model.',
          unit: 'ops',
          stacked: true,
          queries: [
            {
              expr: `sum by (status) (rate(order_end_to_end_latency_seconds_count[${RATE}]))`,
              legend: '{{status}}',
            },
          ],
        },
        {
          title: 'Orders created/s',
          description: 'POST /api/orders that committed an order (idempotent replays excluded).',
          unit: 'ops',
          queries: [{ expr: `sum(rate(orders_created_total[${RATE}]))`, legend: 'created' }],
        },
        {
          title: 'End-to-end latency (all terminal statuses)',
          description:
            "From order.created's occurredAt to the terminal status applied in query-api. DELIVERED includes the driver's time.",
          unit: 's',
          queries: quantiles('order_end_to_end_latency_seconds', '', []),
        },
        {
          title: 'End-to-end p99 by terminal status',
          description:
            'The SLO alert watches the statuses the system decides alone (INVENTORY_REJECTED, PAYMENT_FAILED): 10 s.',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (le, status) (rate(order_end_to_end_latency_seconds_bucket[${RATE}])))`,
              legend: '{{status}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Saga',
      panels: [
        {
          title: 'Saga funnel (time range)',
          description:
            'How many orders reached each step in the selected time range. The gaps between bars are rejections, failures and orders still in flight.',
          kind: 'bargauge',
          unit: 'short',
          queries: [
            { expr: 'sum(increase(orders_created_total[$__range]))', legend: '1 created' },
            {
              expr: 'sum(increase(inventory_reservations_total{outcome="reserved"}[$__range]))',
              legend: '2 inventory reserved',
            },
            {
              expr: 'sum(increase(inventory_reservations_total{outcome="rejected"}[$__range]))',
              legend: '2 inventory rejected',
            },
            { expr: 'sum(increase(payment_processed_total[$__range]))', legend: '3 payment authorized' },
            { expr: 'sum(increase(payment_failed_total[$__range]))', legend: '3 payment failed' },
            {
              expr: 'sum(increase(delivery_assignments_total{outcome="assigned"}[$__range]))',
              legend: '4 driver assigned',
            },
            { expr: 'sum(increase(delivery_completed_total[$__range]))', legend: '5 delivered' },
          ],
        },
        {
          title: 'Saga stage latency p95 by stage',
          description:
            "From the causing event's occurredAt to the commit of the step that produced `stage` (inventory, payment, delivery).",
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.95, sum by (le, stage) (rate(saga_stage_latency_seconds_bucket[${RATE}])))`,
              legend: '{{stage}}',
            },
          ],
        },
        {
          title: 'Stuck orders cancelled by the saga deadline',
          description:
            'Orders order-service cancelled because they stayed CREATED, INVENTORY_RESERVED or PAYMENT_AUTHORIZED past SAGA_DEADLINE_MS (alert: OrdersStuck).',
          unit: 'short',
          queries: [
            {
              expr: `sum by (status) (increase(saga_deadline_expired_total[${RATE}]))`,
              legend: '{{status}}',
            },
          ],
        },
        {
          title: 'Payment failure ratio',
          description: 'Failed / (failed + authorized) payments (alert: PaymentFailureRatioHigh above 25%).',
          unit: 'percentunit',
          queries: [
            {
              expr:
                `sum(rate(payment_failed_total[${RATE}])) / ` +
                `(sum(rate(payment_failed_total[${RATE}])) + sum(rate(payment_processed_total[${RATE}])))`,
              legend: 'failure ratio',
            },
          ],
        },
      ],
    },
    {
      title: 'Pipeline health',
      panels: [
        {
          title: 'Consumer lag by group',
          description:
            'Messages each consumer group still has to read, over all its topics and partitions (alert: KafkaConsumerLagGrowing).',
          unit: 'short',
          queries: [
            {
              expr: 'sum by (group) (max by (group, topic, partition) (kafka_consumer_lag_messages))',
              legend: '{{group}}',
            },
          ],
        },
        {
          title: 'Dead letters by service and reason',
          description: 'Messages sent to dlq.<service> (alert: DeadLettersReceived). Replay with `pnpm dlq`.',
          unit: 'short',
          queries: [
            {
              expr: `sum by (service, reason) (increase(kafka_dlq_messages_total[${RATE}]))`,
              legend: '{{service}} {{reason}}',
            },
          ],
        },
        {
          title: 'Outbox: oldest unsent row age by service',
          description: 'Alert OutboxOldestRowAgeHigh above 60 s for 5 minutes.',
          unit: 's',
          queries: [{ expr: 'max by (service) (outbox_oldest_unsent_age_seconds)', legend: '{{service}}' }],
        },
        {
          title: 'Read-model apply lag p99',
          description: "From an event's occurredAt to its application in query-api's read model.",
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (le) (rate(read_model_apply_lag_seconds_bucket[${RATE}])))`,
              legend: 'p99',
            },
          ],
        },
      ],
    },
    {
      title: 'Errors',
      panels: [
        {
          title: 'HTTP 5xx ratio by service',
          description: 'Share of requests answered with a server error (alert: DispatchHttpServerErrors).',
          unit: 'percentunit',
          queries: [
            {
              expr:
                `(sum by (service) (rate(http_request_duration_seconds_count{status_code=~"5.."}[${RATE}]))` +
                ` or on(service) (0 * sum by (service) (rate(http_request_duration_seconds_count[${RATE}]))))` +
                ` / sum by (service) (rate(http_request_duration_seconds_count[${RATE}]))`,
              legend: '{{service}}',
            },
          ],
        },
        {
          title: 'Event handler failures/s by service',
          description: 'Handler tries that failed and will be retried, and messages dead-lettered.',
          unit: 'ops',
          queries: [
            {
              expr:
                `sum by (service) (rate(kafka_events_consumed_total{outcome=~"retried|dead_lettered"}[${RATE}]))` +
                ` or on(service) (0 * sum by (service) (rate(kafka_events_consumed_total[${RATE}])))`,
              legend: '{{service}}',
            },
          ],
        },
        {
          title: 'Services up',
          description: 'Whether Prometheus can scrape each service (alert: DispatchTargetDown).',
          kind: 'stat',
          unit: 'none',
          queries: [{ expr: SERVICES_UP, legend: '{{job}}' }],
          valueText: { '0': 'DOWN', '1': 'UP' },
          width: 16,
        },
        {
          title: 'Payment circuit breaker',
          description: 'Gateway breaker per payment-service instance (alert: PaymentCircuitBreakerOpen).',
          kind: 'stat',
          unit: 'none',
          queries: [{ expr: 'max by (instance) (payment_circuit_breaker_state)', legend: '{{instance}}' }],
          valueText: { '0': 'closed', '1': 'half-open', '2': 'OPEN' },
          redFrom: 2,
          width: 8,
        },
      ],
    },
  ],
};

// ---- one dashboard per service ------------------------------------------------------------

const orderService = serviceDashboard(
  'order-service',
  'order-service',
  'Order intake (POST /api/orders, cancel), idempotency, the saga deadline sweeper, and its plumbing.',
  [
    {
      title: 'Orders',
      panels: [
        {
          title: 'Orders created/s by currency',
          description: 'Committed orders (each with its order.created in the outbox).',
          unit: 'ops',
          queries: [
            { expr: `sum by (currency) (rate(orders_created_total[${RATE}]))`, legend: '{{currency}}' },
          ],
        },
        {
          title: 'Idempotent replays/s',
          description: 'POST /api/orders answered from a stored Idempotency-Key response.',
          unit: 'ops',
          queries: [{ expr: `sum(rate(orders_idempotent_replays_total[${RATE}]))`, legend: 'replays' }],
        },
        {
          title: 'Cancel requests/s by outcome',
          description: 'accepted, already_cancelled, rejected (too late), not_found.',
          unit: 'ops',
          queries: [
            {
              expr: orZero(`sum by (outcome) (rate(order_cancellations_total[${RATE}]))`),
              legend: '{{outcome}}',
            },
          ],
        },
        {
          title: 'Saga deadline expirations by status',
          description:
            'Stuck orders cancelled by the deadline sweeper, by the status they were stuck in (alert: OrdersStuck).',
          unit: 'short',
          queries: [
            {
              expr: `sum by (status) (increase(saga_deadline_expired_total[${RATE}]))`,
              legend: '{{status}}',
            },
          ],
        },
      ],
    },
  ],
  { outbox: true },
);

const inventoryService = serviceDashboard(
  'inventory-service',
  'inventory-service',
  'Reservations, rejections, releases and stock, and its plumbing.',
  [
    {
      title: 'Inventory',
      panels: [
        {
          title: 'Orders decided/s by outcome',
          description: 'reserved: every line held; rejected: none held.',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (outcome) (rate(inventory_reservations_total[${RATE}]))`,
              legend: '{{outcome}}',
            },
          ],
        },
        {
          title: 'Rejected lines/s by reason',
          description: 'OUT_OF_STOCK, UNKNOWN_ITEM, PRICE_MISMATCH, CURRENCY_MISMATCH.',
          unit: 'ops',
          queries: [
            {
              expr: orZero(`sum by (reason) (rate(inventory_rejected_lines_total[${RATE}]))`),
              legend: '{{reason}}',
            },
          ],
        },
        {
          title: 'Releases/s by reason',
          description: 'Reservations given back (payment failed, delivery failed, order cancelled).',
          unit: 'ops',
          queries: [
            {
              expr: orZero(`sum by (reason) (rate(inventory_releases_total[${RATE}]))`),
              legend: '{{reason}}',
            },
          ],
        },
        {
          title: 'Sales/s',
          description: 'Reservations turned into sales by delivery.completed.',
          unit: 'ops',
          queries: [{ expr: `sum(rate(inventory_sales_total[${RATE}]))`, legend: 'sales' }],
        },
        {
          title: 'Units in the catalogue',
          description: 'Catalogue-wide totals, read from the database at scrape time.',
          unit: 'short',
          queries: [{ expr: 'max by (state) (inventory_units)', legend: '{{state}}' }],
        },
        stageLatencyPanel('inventory-service'),
      ],
    },
  ],
  { outbox: true },
);

const paymentService = serviceDashboard(
  'payment-service',
  'payment-service',
  'Charges, failures, the gateway and its circuit breaker, the three dedup layers, refunds, and its plumbing.',
  [
    {
      title: 'Payments',
      panels: [
        {
          title: 'Payments/s: authorized and failed by reason',
          description: 'Authorized charges and payments that ended FAILED.',
          unit: 'ops',
          stacked: true,
          queries: [
            { expr: `sum(rate(payment_processed_total[${RATE}]))`, legend: 'authorized' },
            {
              expr: `sum by (reason) (rate(payment_failed_total[${RATE}]))`,
              legend: 'failed {{reason}}',
            },
          ],
        },
        {
          title: 'Failure ratio',
          description: 'Failed / (failed + authorized) (alert: PaymentFailureRatioHigh above 25%).',
          unit: 'percentunit',
          queries: [
            {
              expr:
                `sum(rate(payment_failed_total[${RATE}])) / ` +
                `(sum(rate(payment_failed_total[${RATE}])) + sum(rate(payment_processed_total[${RATE}])))`,
              legend: 'failure ratio',
            },
          ],
        },
        {
          title: 'Gateway p95 latency by operation and outcome',
          description: 'One gateway attempt (charge or refund).',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.95, sum by (le, operation, outcome) (rate(payment_gateway_request_duration_seconds_bucket[${RATE}])))`,
              legend: '{{operation}} {{outcome}}',
            },
          ],
        },
        {
          title: 'Charge handling p95 by outcome',
          description: "From the handler's start to the payment's final commit.",
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.95, sum by (le, outcome) (rate(payment_processing_duration_seconds_bucket[${RATE}])))`,
              legend: '{{outcome}}',
            },
          ],
        },
        {
          title: 'Circuit breaker',
          description:
            'Gateway breaker per instance: closed, half-open, OPEN (alert: PaymentCircuitBreakerOpen).',
          kind: 'stat',
          unit: 'none',
          queries: [{ expr: 'max by (instance) (payment_circuit_breaker_state)', legend: '{{instance}}' }],
          valueText: { '0': 'closed', '1': 'half-open', '2': 'OPEN' },
          redFrom: 2,
          width: 8,
        },
        {
          title: 'Refunds/s by reason',
          description: 'DELIVERY_FAILED, ORDER_CANCELLED.',
          unit: 'ops',
          width: 16,
          queries: [
            {
              expr: orZero(`sum by (reason) (rate(payment_refunds_total[${RATE}]))`),
              legend: '{{reason}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Dedup and Redis',
      panels: [
        {
          title: 'Duplicate charge requests/s by layer',
          description: 'Caught by the inbox, the Redis fast-path key, or the Postgres unique constraint.',
          unit: 'ops',
          queries: [
            {
              expr: orZero(`sum by (layer) (rate(payment_duplicate_total[${RATE}]))`),
              legend: '{{layer}}',
            },
          ],
        },
        {
          title: 'Dedup hits/s and lock timeouts/s',
          description:
            'Redis fast-path hits, database hits, and messages that found the per-order lock held.',
          unit: 'ops',
          queries: [
            { expr: `sum(rate(payment_dedup_redis_hit_total[${RATE}]))`, legend: 'redis hit' },
            { expr: `sum(rate(payment_dedup_db_hit_total[${RATE}]))`, legend: 'db hit' },
            { expr: `sum(rate(payment_lock_timeout_total[${RATE}]))`, legend: 'lock timeout' },
          ],
        },
        {
          title: 'Redis errors/s by operation',
          description: 'Redis down costs speed, not correctness: the layer is skipped and Postgres decides.',
          unit: 'ops',
          queries: [
            {
              expr: orZero(`sum by (operation) (rate(payment_redis_errors_total[${RATE}]))`),
              legend: '{{operation}}',
            },
          ],
        },
        stageLatencyPanel('payment-service'),
      ],
    },
  ],
  { outbox: true },
);

const deliveryService = serviceDashboard(
  'delivery-service',
  'delivery-service',
  'Driver assignment, deliveries in progress, ETA updates, completions, and its plumbing.',
  [
    {
      title: 'Deliveries',
      panels: [
        {
          title: 'Assignments/s by outcome',
          description: 'assigned, or failed (NO_DRIVER_AVAILABLE after the wait).',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (outcome) (rate(delivery_assignments_total[${RATE}]))`,
              legend: '{{outcome}}',
            },
          ],
        },
        {
          title: 'Deliveries in progress and drivers available',
          description:
            'Active (ASSIGNED or EN_ROUTE), waiting for a driver or for order.created, and drivers free now. Read from the database at scrape time.',
          unit: 'short',
          queries: [
            { expr: 'max(delivery_active)', legend: 'active' },
            { expr: 'max by (state) (delivery_pending)', legend: 'pending {{state}}' },
            { expr: 'max(drivers_available)', legend: 'drivers available' },
          ],
        },
        {
          title: 'ETA updates/s, completions/s, late cancellations/s',
          description:
            'eta.updated emitted, delivery.completed, and order.cancelled that arrived after a driver was assigned (the delivery is called off) or after completion.',
          unit: 'ops',
          queries: [
            { expr: `sum(rate(delivery_eta_updates_total[${RATE}]))`, legend: 'eta updates' },
            { expr: `sum(rate(delivery_completed_total[${RATE}]))`, legend: 'completed' },
            { expr: `sum(rate(delivery_late_cancellations_total[${RATE}]))`, legend: 'late cancellations' },
          ],
        },
        stageLatencyPanel('delivery-service'),
      ],
    },
  ],
  { outbox: true },
);

const webhookService = serviceDashboard(
  'webhook-service',
  'webhook-service',
  'Outbound webhooks: attempts by outcome, the delivery queue, disabled endpoints, and its plumbing.',
  [
    {
      title: 'Webhooks',
      panels: [
        {
          title: 'Attempts/s by outcome',
          description:
            'delivered (2xx), failed (retry scheduled), gone (410: endpoint disabled), given_up (retry window over).',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (outcome) (rate(webhook_delivery_attempts_total[${RATE}]))`,
              legend: '{{outcome}}',
            },
          ],
        },
        {
          title: 'Attempt duration p50/p95/p99',
          description: 'From connecting to the answer (timeouts show as WEBHOOK_REQUEST_TIMEOUT_MS).',
          unit: 's',
          queries: quantiles('webhook_delivery_attempt_duration_seconds', '', []),
        },
        {
          title: 'Queue: pending deliveries and oldest age',
          description:
            'Deliveries waiting (or retrying) for enabled endpoints, and the age of the oldest (alert: WebhookDeliveryBacklog). Read from the database at scrape time.',
          unit: 'short',
          queries: [
            { expr: 'max(webhook_deliveries_pending)', legend: 'pending' },
            { expr: 'max(webhook_oldest_pending_delivery_age_seconds)', legend: 'oldest age (s)' },
          ],
        },
        {
          title: 'Endpoints disabled',
          description:
            'Disabled now, and disabled by the service per 15 min by reason (alert: WebhookEndpointDisabled).',
          unit: 'short',
          queries: [
            { expr: 'max(webhook_endpoints_disabled)', legend: 'disabled now' },
            {
              expr: 'sum by (reason) (increase(webhook_endpoints_disabled_total[15m]))',
              legend: 'disabled ({{reason}})',
            },
          ],
        },
      ],
    },
  ],
  { outbox: false },
);

const queryApi = serviceDashboard(
  'query-api',
  'query-api',
  'The read model: events applied, apply lag, end-to-end order latency, live streams, and its plumbing.',
  [
    {
      title: 'Read model',
      panels: [
        {
          title: 'Events applied/s by type',
          description: 'Events the live consumer applied to the Cassandra read model.',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (event_type) (rate(read_model_events_applied_total[${RATE}]))`,
              legend: '{{event_type}}',
            },
          ],
        },
        {
          title: 'Apply lag p50/p95/p99',
          description:
            "From an event's occurredAt to its application in the read model (alert: ReadModelApplyLagHigh).",
          unit: 's',
          queries: quantiles('read_model_apply_lag_seconds', '', []),
        },
        {
          title: 'Apply lag p99 by event type',
          description: 'Which topic is behind.',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (le, event_type) (rate(read_model_apply_lag_seconds_bucket[${RATE}])))`,
              legend: '{{event_type}}',
            },
          ],
        },
        {
          title: 'Open order status streams',
          description: 'GET /api/orders/{id}/events (Server-Sent Events) connections.',
          unit: 'short',
          queries: [{ expr: 'sum(sse_streams_open)', legend: 'streams' }],
        },
        {
          title: 'Orders reaching a terminal status/s',
          description: 'By the terminal status applied.',
          unit: 'ops',
          stacked: true,
          queries: [
            {
              expr: `sum by (status) (rate(order_end_to_end_latency_seconds_count[${RATE}]))`,
              legend: '{{status}}',
            },
          ],
        },
        {
          title: 'End-to-end latency p50/p95/p99 by terminal status',
          description:
            "From order.created's occurredAt to the terminal status (alert: OrderEndToEndLatencyOverSLO).",
          unit: 's',
          queries: quantiles('order_end_to_end_latency_seconds', '', ['status']),
        },
      ],
    },
  ],
  { outbox: false },
);

export const DASHBOARD_SPECS: DashboardSpec[] = [
  overview,
  orderService,
  inventoryService,
  paymentService,
  deliveryService,
  webhookService,
  queryApi,
];

/** Each dashboard's file name under dashboards/grafana and its JSON. */
export function renderDashboards(): { file: string; dashboard: GrafanaDashboard }[] {
  return DASHBOARD_SPECS.map((spec) => ({ file: `${spec.uid}.json`, dashboard: buildDashboard(spec) }));
}

export function dashboardFileText(dashboard: GrafanaDashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
