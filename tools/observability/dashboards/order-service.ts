/** Dispatch / order-service: its own rows, then the rows every service dashboard has. */
import { orZero, RATE, serviceDashboard } from './panels';

export const orderService = serviceDashboard(
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
