import { type AnyEvent, foldOrder } from '@dispatch/contracts';

/**
 * What must hold after a chaos run, whatever crashed when: pure checks over what the run observed
 * through the public APIs and on the bus, so they can be unit-tested.
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

/** A poison message the run published to a raw topic. */
export interface PoisonSent {
  topic: string;
  key: string;
}

/** A dead letter found in `dlq.<service>` after the run. */
export interface DeadLetterSeen {
  service: string;
  key: string | null;
  originalTopic: string;
  reason: string;
  error: string;
}

/**
 * Nothing in any DLQ but the poison, and the poison in the DLQ of every service that consumes its
 * topic: a dependency that was down must never have dead-lettered a real event.
 */
export function dlqViolations(
  seen: DeadLetterSeen[],
  expected: { service: string; topic: string; key: string }[],
): string[] {
  const found: string[] = [];
  const isExpected = (d: DeadLetterSeen) => expected.some((e) => e.service === d.service && e.key === d.key);
  for (const d of seen) {
    if (!isExpected(d)) {
      found.push(
        `dlq.${d.service}: unexpected dead letter of ${d.key ?? 'a record without key'} from ${d.originalTopic} (${d.reason}: ${d.error})`,
      );
    }
  }
  for (const e of expected) {
    if (!seen.some((d) => d.service === e.service && d.key === e.key)) {
      found.push(`dlq.${e.service}: the poison message on ${e.topic} was not dead-lettered`);
    }
  }
  return found;
}

/** What of GET /api/orders/{id} is compared with the fold: the status, the order's fields, each step's section. */
const SECTIONS = ['inventory', 'payment', 'delivery', 'cancellation', 'compensation'] as const;

/**
 * How the read model of one order differs from the fold of the events the consumers accepted for it
 * (docs/design.md: the read model is that fold). `served` is the GET body, undefined when 404.
 */
export function readModelMismatches(
  orderId: string,
  events: readonly AnyEvent[],
  served: Record<string, unknown> | undefined,
): string[] {
  if (events.length === 0) return [`${orderId}: no event of it on the raw topics`];
  if (!served)
    return [`${orderId}: unknown to query-api, though ${events.length} events of it are on the raw topics`];
  const folded = foldOrder(events);
  const expected: Record<string, unknown> = {
    status: folded.status,
    customerId: folded.order?.customerId ?? null,
    totalAmount: folded.totalAmount ?? null,
    items: folded.order?.items ?? null,
    deliveryAddress: folded.order?.deliveryAddress ?? null,
  };
  for (const section of SECTIONS) expected[section] = folded[section] ?? null;
  const found: string[] = [];
  for (const [field, want] of Object.entries(expected)) {
    const got = served[field] ?? null;
    if (canonical(got) !== canonical(want)) {
      found.push(
        `${orderId}: ${field} is ${canonical(got)} in the read model, ${canonical(want)} in the fold of its events`,
      );
    }
  }
  const timeline = Array.isArray(served.timeline) ? (served.timeline as { eventId?: unknown }[]) : [];
  const shown = new Set(timeline.map((entry) => String(entry.eventId)));
  const missing = [...new Set(events.map((e) => e.eventId))].filter((id) => !shown.has(id));
  if (missing.length > 0) {
    const types = missing.map((id) => events.find((e) => e.eventId === id)?.eventType).join(', ');
    found.push(`${orderId}: ${missing.length} events missing from its timeline (${types})`);
  }
  return found;
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}
