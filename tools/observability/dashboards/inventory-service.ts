/** Dispatch / inventory-service: its own rows, then the rows every service dashboard has. */
import { orZero, RATE, serviceDashboard, stageLatencyPanel } from './panels';

export const inventoryService = serviceDashboard(
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
