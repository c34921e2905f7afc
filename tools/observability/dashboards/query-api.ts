/** Dispatch / query-api: its own rows, then the rows every service dashboard has. */
import { quantiles, RATE, serviceDashboard } from './panels';

export const queryApi = serviceDashboard(
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
