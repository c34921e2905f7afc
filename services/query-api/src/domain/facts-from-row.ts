import type {
  CancellationSection,
  CompensationSection,
  DeliverySection,
  InventorySection,
  OrderFacts,
  OrderSection,
  PaymentSection,
} from '@dispatch/contracts';
import type { ColumnValue, OrderColumn, OrderRow } from './writes';

/**
 * Rebuilds the contract's OrderFacts from one `orders` row. Each column group already holds its
 * winning event (the write timestamps saw to that); what remains is the fold's precedence between
 * groups — a rejection over a reservation, a failed payment over an authorised one, the ETA's
 * driver over a completion's over a failure's — which is decided here, exactly as
 * packages/contracts/src/fold.ts decides it. The status is then `deriveStatus` of these facts.
 */

export class CorruptRowError extends Error {
  override readonly name = 'CorruptRowError';
}

class RowReader {
  constructor(
    private readonly orderId: string,
    private readonly row: OrderRow,
  ) {}

  text(column: OrderColumn): string | undefined {
    const value = this.row[column];
    if (value === null || value === undefined) return undefined;
    if (typeof value !== 'string') throw this.corrupt(column, 'text');
    return value;
  }

  requiredText(column: OrderColumn): string {
    const value = this.text(column);
    if (value === undefined) throw this.corrupt(column, 'text');
    return value;
  }

  /** A timestamp column as the fold's ISO-8601 string (UTC, milliseconds). */
  time(column: OrderColumn): string | undefined {
    const value: ColumnValue | undefined = this.row[column];
    if (value === null || value === undefined) return undefined;
    if (!(value instanceof Date)) throw this.corrupt(column, 'timestamp');
    return value.toISOString();
  }

  requiredTime(column: OrderColumn): string {
    const value = this.time(column);
    if (value === undefined) throw this.corrupt(column, 'timestamp');
    return value;
  }

  json<T>(column: OrderColumn): T {
    const text = this.requiredText(column);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw this.corrupt(column, 'JSON');
    }
  }

  private corrupt(column: OrderColumn, expected: string): CorruptRowError {
    return new CorruptRowError(`order ${this.orderId}: column ${column} is missing or not ${expected}`);
  }
}

/** Drops undefined values, so rebuilt facts equal the fold's structurally. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

// The currency and reason columns hold what the contract validated on the way in.
type Currency = OrderSection['currency'];

function orderSection(r: RowReader): OrderSection | undefined {
  const eventId = r.text('order_event_id');
  if (!eventId) return undefined;
  return {
    customerId: r.requiredText('order_customer_id'),
    totalAmount: r.requiredText('order_total_amount'),
    currency: r.requiredText('order_currency') as Currency,
    items: r.json('order_items'),
    deliveryAddress: r.json('order_delivery_address'),
    createdAt: r.requiredTime('order_created_at'),
    eventId,
  };
}

function inventorySection(r: RowReader): InventorySection | undefined {
  const reservedEventId = r.text('inventory_reserved_event_id');
  const rejectedEventId = r.text('inventory_rejected_event_id');
  if (!reservedEventId && !rejectedEventId) return undefined;
  // Any rejection decides the status, and with it amount and currency.
  const rejected = rejectedEventId !== undefined;
  const decider = rejected ? 'inventory_rejected' : 'inventory_reserved';
  return compact<InventorySection>({
    status: rejected ? 'REJECTED' : 'RESERVED',
    amount: r.requiredText(`${decider}_amount`),
    currency: r.requiredText(`${decider}_currency`) as Currency,
    lines: reservedEventId ? r.json('inventory_reserved_lines') : [],
    reasons: rejected ? r.json('inventory_rejected_reasons') : [],
    reservedAt: reservedEventId ? r.requiredTime('inventory_reserved_at') : undefined,
    reservedEventId,
    rejectedAt: rejected ? r.requiredTime('inventory_rejected_at') : undefined,
    rejectedEventId,
  });
}

function paymentSection(r: RowReader): PaymentSection | undefined {
  // FAILED outranks AUTHORIZED; each group already holds its earliest event.
  const failedEventId = r.text('payment_failed_event_id');
  if (failedEventId) {
    return {
      status: 'FAILED',
      paymentId: r.requiredText('payment_failed_payment_id'),
      amount: r.requiredText('payment_failed_amount'),
      currency: r.requiredText('payment_failed_currency') as Currency,
      failureReason: r.requiredText('payment_failed_reason'),
      at: r.requiredTime('payment_failed_at'),
      eventId: failedEventId,
    };
  }
  const authorizedEventId = r.text('payment_authorized_event_id');
  if (!authorizedEventId) return undefined;
  return {
    status: 'AUTHORIZED',
    paymentId: r.requiredText('payment_authorized_payment_id'),
    amount: r.requiredText('payment_authorized_amount'),
    currency: r.requiredText('payment_authorized_currency') as Currency,
    at: r.requiredTime('payment_authorized_at'),
    eventId: authorizedEventId,
  };
}

function deliverySection(r: RowReader): DeliverySection | undefined {
  const etaEventId = r.text('delivery_eta_event_id');
  const failedEventId = r.text('delivery_failed_event_id');
  const completedEventId = r.text('delivery_completed_event_id');
  if (!etaEventId && !failedEventId && !completedEventId) return undefined;
  // The delivery's identity (id and driver) comes from the ETA event, else the completion, else the failure.
  const identity = etaEventId ? 'delivery_eta' : completedEventId ? 'delivery_completed' : 'delivery_failed';
  return compact<DeliverySection>({
    status: completedEventId ? 'COMPLETED' : failedEventId ? 'FAILED' : 'ASSIGNED',
    deliveryId: r.requiredText(`${identity}_delivery_id`),
    driverName: r.text(`${identity}_driver_name`),
    driverId: r.text(`${identity}_driver_id`),
    estimatedDeliveryTime: etaEventId ? r.requiredTime('delivery_eta_estimated_time') : undefined,
    etaAt: etaEventId ? r.requiredTime('delivery_eta_at') : undefined,
    etaEventId,
    assignedAt: r.time('delivery_assigned_at'),
    failedAt: failedEventId ? r.requiredTime('delivery_failed_at') : undefined,
    failureReason: failedEventId ? r.requiredText('delivery_failed_reason') : undefined,
    failedEventId,
    completedAt: completedEventId ? r.requiredTime('delivery_completed_at') : undefined,
    completedEventId,
  });
}

function cancellationSection(r: RowReader): CancellationSection | undefined {
  const eventId = r.text('cancellation_event_id');
  if (!eventId) return undefined;
  return compact<CancellationSection>({
    cancelledAt: r.requiredTime('cancellation_at'),
    reason: r.text('cancellation_reason'),
    cancelledBy: r.requiredText('cancellation_by') as CancellationSection['cancelledBy'],
    eventId,
  });
}

function compensationSection(r: RowReader): CompensationSection {
  const releaseEventId = r.text('compensation_released_event_id');
  const refundEventId = r.text('compensation_refunded_event_id');
  return compact<CompensationSection>({
    inventoryReleased: releaseEventId !== undefined,
    releasedAt: releaseEventId ? r.requiredTime('compensation_released_at') : undefined,
    releaseReason: releaseEventId
      ? (r.requiredText('compensation_released_reason') as CompensationSection['releaseReason'])
      : undefined,
    releaseEventId,
    paymentRefunded: refundEventId !== undefined,
    refundedAt: refundEventId ? r.requiredTime('compensation_refunded_at') : undefined,
    refundId: refundEventId ? r.requiredText('compensation_refund_id') : undefined,
    refundReason: refundEventId
      ? (r.requiredText('compensation_refund_reason') as CompensationSection['refundReason'])
      : undefined,
    refundEventId,
  });
}

/** The facts the fold would hold for this order's events. */
export function factsFromRow(orderId: string, row: OrderRow): OrderFacts {
  const r = new RowReader(orderId, row);
  const order = orderSection(r);
  return compact<OrderFacts>({
    orderId,
    order,
    inventory: inventorySection(r),
    payment: paymentSection(r),
    delivery: deliverySection(r),
    cancellation: cancellationSection(r),
    compensation: compensationSection(r),
    // order.created fixes createdAt; before it is known, the earliest event stands in (as in the fold).
    createdAt: order ? order.createdAt : r.time('first_event_at'),
    updatedAt: r.time('last_event_at'),
  });
}
