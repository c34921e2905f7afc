import type { Currency, Money } from './money';
import type { PricedLine, RequestedLine } from './payloads/common';
import type { LineRejection, RELEASE_REASONS } from './payloads/inventory';
import type { DeliveryAddress } from './payloads/order';
import type { REFUND_REASONS } from './payloads/payment';

/**
 * What the order status fold (fold.ts) knows about an order: one section per saga step, each filled
 * only by its own event types, and what is derived from them when read (the status, the total).
 */

export const ORDER_STATUSES = [
  'CREATED',
  'INVENTORY_RESERVED',
  'INVENTORY_REJECTED',
  'PAYMENT_AUTHORIZED',
  'PAYMENT_FAILED',
  'DELIVERY_ASSIGNED',
  'DELIVERED',
  'DELIVERY_FAILED',
  'CANCELLED',
] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** From order.created (the earliest one, should there ever be two). The card token is deliberately not kept. */
export interface OrderSection {
  customerId: string;
  /** Provisional: the total of the priced items only (see order.created); inventory's amount is what counts. */
  totalAmount: Money;
  currency: Currency;
  /** As requested; a line may lack unitPrice (inventory prices it from the catalogue). */
  items: RequestedLine[];
  deliveryAddress: DeliveryAddress;
  createdAt: string;
  eventId: string;
}

/** From inventory.reserved and inventory.rejected. */
export interface InventorySection {
  /** REJECTED if any rejection is known (it wins over a reservation), else RESERVED. */
  status: 'RESERVED' | 'REJECTED';
  /** From the event that decides `status`. */
  amount: Money;
  currency: Currency;
  /** Reserved lines with catalogue prices; [] until inventory.reserved is known. */
  lines: PricedLine[];
  /** Per-line rejection reasons; [] unless rejected. */
  reasons: LineRejection[];
  reservedAt?: string;
  reservedEventId?: string;
  rejectedAt?: string;
  rejectedEventId?: string;
}

/** From payment.authorized and payment.failed; all fields come from the one event that decides `status`. */
export interface PaymentSection {
  /** FAILED wins over AUTHORIZED. */
  status: 'AUTHORIZED' | 'FAILED';
  paymentId: string;
  amount: Money;
  currency: Currency;
  failureReason?: string;
  /** occurredAt of the deciding event. */
  at: string;
  eventId: string;
}

/** From delivery.assigned, eta.updated, delivery.failed and delivery.completed. */
export interface DeliverySection {
  /** COMPLETED if completion is known, else FAILED if failure is known, else ASSIGNED. */
  status: 'ASSIGNED' | 'FAILED' | 'COMPLETED';
  /** From the ETA event below when there is one, else from delivery.completed, else from delivery.failed. */
  deliveryId: string;
  driverName?: string;
  driverId?: string;
  /** From the delivery.assigned / eta.updated with the latest occurredAt (ties: larger eventId). */
  estimatedDeliveryTime?: string;
  etaAt?: string;
  etaEventId?: string;
  /** Earliest delivery.assigned occurredAt. */
  assignedAt?: string;
  failedAt?: string;
  failureReason?: string;
  failedEventId?: string;
  /** From delivery.completed's payload. */
  completedAt?: string;
  completedEventId?: string;
}

/** From order.cancelled (the earliest). */
export interface CancellationSection {
  cancelledAt: string;
  reason?: string;
  cancelledBy: 'CUSTOMER' | 'ADMIN' | 'SYSTEM';
  eventId: string;
}

/** From the compensating events inventory.released and payment.refunded (the earliest of each). */
export interface CompensationSection {
  inventoryReleased: boolean;
  releasedAt?: string;
  releaseReason?: (typeof RELEASE_REASONS)[number];
  releaseEventId?: string;
  paymentRefunded: boolean;
  refundedAt?: string;
  refundId?: string;
  refundReason?: (typeof REFUND_REASONS)[number];
  refundEventId?: string;
}

export interface OrderFacts {
  orderId: string;
  order?: OrderSection;
  inventory?: InventorySection;
  payment?: PaymentSection;
  delivery?: DeliverySection;
  cancellation?: CancellationSection;
  compensation: CompensationSection;
  /** order.created's occurredAt; until that is known, the earliest occurredAt seen. */
  createdAt?: string;
  /** The latest occurredAt seen. */
  updatedAt?: string;
}

/**
 * The facts plus what is derived from them when read: the status, and the order's total as the
 * saga knows it now (`orderTotalAmount`).
 */
export type OrderView = OrderFacts & { status: OrderStatus; totalAmount?: Money };

export function emptyFacts(orderId: string): OrderFacts {
  return { orderId, compensation: { inventoryReleased: false, paymentRefunded: false } };
}

/**
 * The order's status, by precedence (first match wins):
 *
 *   DELIVERED > DELIVERY_FAILED > CANCELLED > PAYMENT_FAILED > INVENTORY_REJECTED
 *     > DELIVERY_ASSIGNED > PAYMENT_AUTHORIZED > INVENTORY_RESERVED > CREATED
 *
 * Why: a terminal fact is an outcome nothing can undo, so any terminal fact beats any progress fact,
 * whatever order they arrived in. Among terminal facts the step furthest along the saga wins: goods
 * handed over (DELIVERED) are the strongest fact, then a failed delivery; a cancellation explains the
 * end of the saga better than a payment failure or rejection it raced with. Among progress facts the
 * furthest step wins, because it can only have happened after the earlier ones (even if their events
 * have not arrived yet).
 */
export function deriveStatus(facts: OrderFacts): OrderStatus {
  if (facts.delivery?.status === 'COMPLETED') return 'DELIVERED';
  if (facts.delivery?.status === 'FAILED') return 'DELIVERY_FAILED';
  if (facts.cancellation) return 'CANCELLED';
  if (facts.payment?.status === 'FAILED') return 'PAYMENT_FAILED';
  if (facts.inventory?.status === 'REJECTED') return 'INVENTORY_REJECTED';
  if (facts.delivery?.status === 'ASSIGNED') return 'DELIVERY_ASSIGNED';
  if (facts.payment?.status === 'AUTHORIZED') return 'PAYMENT_AUTHORIZED';
  if (facts.inventory?.status === 'RESERVED') return 'INVENTORY_RESERVED';
  return 'CREATED';
}

const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set<OrderStatus>([
  'DELIVERED',
  'DELIVERY_FAILED',
  'CANCELLED',
  'PAYMENT_FAILED',
  'INVENTORY_REJECTED',
]);

/** The saga's outcome is decided (compensations may still be on their way). */
export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/**
 * The order's total: once inventory has priced the order (reserved it), the catalogue total it
 * reserved, which is what payment charges; before that, order.created's provisional total (the lines
 * sent with a unitPrice only, "0.00" when none was). A payment event also carries the reserved total,
 * so it stands in while the read model has seen the payment but not yet the reservation (they
 * arrive on different topics). Undefined while no event with an amount is known.
 *
 * Derived from the sections when read, never stored: each section is already an order-independent
 * merge, so the total is too (commutative and idempotent like the rest of the fold). A rejected
 * order keeps the provisional total: inventory.rejected's amount is the requested total anyway.
 */
export function orderTotalAmount(facts: OrderFacts): Money | undefined {
  if (facts.inventory?.status === 'RESERVED') return facts.inventory.amount;
  if (facts.payment) return facts.payment.amount;
  return facts.order?.totalAmount;
}
