/** Dispatch / delivery-service: its own rows, then the rows every service dashboard has. */
import { RATE, serviceDashboard, stageLatencyPanel } from './panels';

export const deliveryService = serviceDashboard(
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
