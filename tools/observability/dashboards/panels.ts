/** What the dashboards are built from: query helpers and the rows every service dashboard has. */
import type { DashboardSpec, PanelSpec } from '../grafana';

export const RATE = '$__rate_interval';
export const SERVICES_UP =
  'up{job=~"query-api|order-service|payment-service|inventory-service|delivery-service|webhook-service"}';

/** `expr`, or a single 0 when it has no series yet. */
export function orZero(expr: string): string {
  return `${expr} or on() vector(0)`;
}

export function quantiles(
  metric: string,
  selector: string,
  by: string[],
  legendPrefix = '',
): PanelSpec['queries'] {
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

export function stageLatencyPanel(service: string): PanelSpec {
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

export function serviceDashboard(
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
