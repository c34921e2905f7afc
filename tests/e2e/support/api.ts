import type { OrderStatus } from '@dispatch/contracts';
import { eventually, type OrderView, readOrder } from '@dispatch/testkit';

/**
 * The HTTP client of Dispatch's APIs lives in testkit (dispatch-api.ts), shared with the load
 * benchmark; this file re-exports testkit for the end-to-end tests and adds their read-side waits.
 */
export * from '@dispatch/testkit';

/** Statuses an order reaches only after inventory reserved its stock. */
export const RESERVED_OR_BEYOND: OrderStatus[] = [
  'INVENTORY_RESERVED',
  'PAYMENT_AUTHORIZED',
  'PAYMENT_FAILED',
  'DELIVERY_ASSIGNED',
  'DELIVERED',
  'DELIVERY_FAILED',
];

/** Polls query-api until inventory has decided the order (reserved or rejected), and returns the view. */
export async function waitForInventoryDecision(orderId: string, timeoutMs = 60_000): Promise<OrderView> {
  return eventually(
    async () => {
      const view = await readOrder(orderId);
      if (!view) throw new Error(`query-api does not know order ${orderId} yet`);
      if (!view.inventory)
        throw new Error(`order ${orderId} is ${view.status}, inventory has not decided yet`);
      return view;
    },
    { timeoutMs, intervalMs: 200 },
  );
}
