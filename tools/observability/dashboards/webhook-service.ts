/** Dispatch / webhook-service: its own rows, then the rows every service dashboard has. */
import { quantiles, RATE, serviceDashboard } from './panels';

export const webhookService = serviceDashboard(
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
