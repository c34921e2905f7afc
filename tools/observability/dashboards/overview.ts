/** Dispatch / Overview: the whole saga at a glance. */
import type { DashboardSpec } from '../grafana';
import { quantiles, RATE, SERVICES_UP } from './panels';

export const overview: DashboardSpec = {
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
