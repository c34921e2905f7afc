import { Counter, Gauge, type Histogram, type Registry } from 'prom-client';

/**
 * inventory-service's own metrics, registered on the service's registry. Labels are low-cardinality
 * enums only: never an orderId or an itemId (the catalogue can be large), so stock is exported as
 * catalogue-wide totals.
 */
export interface InventoryMetrics {
  /** outcome: reserved | rejected — one per order decided. */
  reservations: Counter<'outcome'>;
  /** One per rejected line, by reason (OUT_OF_STOCK, UNKNOWN_ITEM, PRICE_MISMATCH, CURRENCY_MISMATCH). */
  rejectedLines: Counter<'reason'>;
  /** One per inventory.released, by reason. */
  releases: Counter<'reason'>;
  /** Reservations turned into sales by delivery.completed. */
  sales: Counter;
  /** From the causing event's occurredAt to the commit of this step (the platform's histogram). */
  stageLatency?: Pick<Histogram<'stage'>, 'observe'>;
}

export interface InventoryMetricsOptions {
  stageLatency?: Pick<Histogram<'stage'>, 'observe'>;
  /** Reads Σ available and Σ reserved at scrape time; without it the stock gauges are not registered. */
  stockTotals?: () => Promise<{ available: number; reserved: number }>;
  /** Told when stockTotals fails (the scrape still succeeds with the last known totals). */
  onStockTotalsError?: (err: unknown) => void;
}

export function createInventoryMetrics(
  registry: Registry,
  opts: InventoryMetricsOptions = {},
): InventoryMetrics {
  const registers = [registry];
  if (opts.stockTotals) {
    const read = opts.stockTotals;
    new Gauge({
      name: 'inventory_units',
      help: 'Units in the whole catalogue by state: available (sellable) or reserved (held for orders in flight).',
      labelNames: ['state'],
      registers,
      async collect() {
        try {
          const totals = await read();
          this.set({ state: 'available' }, totals.available);
          this.set({ state: 'reserved' }, totals.reserved);
        } catch (err) {
          // A scrape while the database is down must not fail the whole /metrics answer.
          opts.onStockTotalsError?.(err);
        }
      },
    });
  }
  return {
    reservations: new Counter({
      name: 'inventory_reservations_total',
      help: 'Orders decided by inventory, by outcome (reserved: every line held; rejected: none held).',
      labelNames: ['outcome'],
      registers,
    }),
    rejectedLines: new Counter({
      name: 'inventory_rejected_lines_total',
      help: 'Order lines that caused a rejection, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    releases: new Counter({
      name: 'inventory_releases_total',
      help: 'Reservations released (inventory.released published), by reason.',
      labelNames: ['reason'],
      registers,
    }),
    sales: new Counter({
      name: 'inventory_sales_total',
      help: 'Reservations turned into sales by delivery.completed.',
      registers,
    }),
    ...(opts.stageLatency ? { stageLatency: opts.stageLatency } : {}),
  };
}
