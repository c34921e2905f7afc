/** Dispatch / payment-service: its own rows, then the rows every service dashboard has. */
import { orZero, RATE, serviceDashboard, stageLatencyPanel } from './panels';

export const paymentService = serviceDashboard(
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
