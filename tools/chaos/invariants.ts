/**
 * What must hold after a chaos run, whatever crashed when: pure checks over what the run observed
 * through the public APIs, so they can be unit-tested.
 */

export interface OrderEvidence {
  orderId: string;
  /** query-api's status, or undefined when query-api does not know the order. */
  status: string | undefined;
  /** payment-service's record of the order's payment. */
  payment: { status: string; refunded: boolean } | undefined;
  /** Distinct payment.authorized events in the order's timeline (one per eventId). */
  authorizedEvents: number;
}

export interface StockEvidence {
  initialAvailable: number;
  available: number;
  reserved: number;
}

export function violations(orders: OrderEvidence[], stock: StockEvidence): string[] {
  const found: string[] = [];
  for (const order of orders) {
    const id = order.orderId;
    if (order.status !== 'DELIVERED')
      found.push(`${id}: ${order.status ?? 'unknown to query-api'}, not DELIVERED`);
    if (!order.payment) found.push(`${id}: payment-service has no payment`);
    else {
      if (order.payment.status !== 'AUTHORIZED')
        found.push(`${id}: payment ${order.payment.status}, not AUTHORIZED`);
      if (order.payment.refunded) found.push(`${id}: refunded although delivered`);
    }
    if (order.authorizedEvents !== 1) {
      found.push(`${id}: ${order.authorizedEvents} payment.authorized events in its timeline, not 1`);
    }
  }
  const sold = orders.length;
  if (stock.reserved !== 0) found.push(`stock: ${stock.reserved} still reserved after every order settled`);
  if (stock.available !== stock.initialAvailable - sold) {
    found.push(
      `stock: ${stock.available} available, expected ${stock.initialAvailable} − ${sold} sold = ${stock.initialAvailable - sold}`,
    );
  }
  return found;
}
