import {
  applyEvent,
  type Currency,
  createEvent,
  type DeliveryAddress,
  deriveStatus,
  type EventEnvelope,
  emptyFacts,
  type Money,
  type OrderFacts,
  type OrderStatus,
  type PaymentMethod,
  type RequestedLine,
  requestedTotal,
} from '@dispatch/contracts';

export const PRODUCER = 'order-service';

/** A validated order request (see http/schemas.ts). */
export interface NewOrder {
  customerId: string;
  currency: Currency;
  /** unitPrice is optional per line. */
  items: RequestedLine[];
  deliveryAddress: DeliveryAddress;
  paymentMethod: PaymentMethod;
}

/** The seed's response fields for a created order. */
export interface CreatedOrderResponse {
  orderId: string;
  customerId: string;
  totalAmount: Money;
  currency: Currency;
  status: 'CREATED';
  createdAt: string;
}

/** Everything the order transaction writes for one new order. */
export interface OrderDraft {
  orderId: string;
  customerId: string;
  currency: Currency;
  /** Σ unitPrice × quantity over the lines with a client price: provisional, the catalogue price decides. */
  totalAmount: Money;
  /** As requested; a line without unitPrice is priced by inventory from its catalogue. */
  lines: RequestedLine[];
  deliveryAddress: DeliveryAddress;
  paymentMethodType: PaymentMethod['type'];
  createdAt: string;
  /** The event that starts the saga; its eventId is the causationId of a later order.cancelled. */
  created: EventEnvelope<'order.created'>;
  /** The contract's fold of `created`, the starting point for every consumed event. */
  facts: OrderFacts;
  status: OrderStatus;
  response: CreatedOrderResponse;
}

export interface DraftIds {
  orderId: string;
  eventId: string;
  /** ISO-8601; the order's createdAt and order.created's occurredAt. */
  createdAt: string;
}

/**
 * Turns a validated request into the order, its lines, its order.created event and the response.
 * A line may carry the unitPrice the customer was shown, or none. The total is the sum over the priced
 * lines and is provisional (order.created's contract): inventory checks each given price against its
 * catalogue, rejecting the order on a mismatch, and prices the other lines from the catalogue.
 */
export function draftOrder(input: NewOrder, ids: DraftIds): OrderDraft {
  // An absent unitPrice stays absent (no `unitPrice: undefined` key) in the event and the stored facts.
  const lines: RequestedLine[] = input.items.map(({ itemId, quantity, unitPrice }) =>
    unitPrice === undefined ? { itemId, quantity } : { itemId, quantity, unitPrice },
  );
  const totalAmount = requestedTotal(lines);
  const created = createEvent({
    eventType: 'order.created',
    eventId: ids.eventId,
    orderId: ids.orderId,
    // The saga's correlation id is the order id: stable, and known to every step.
    correlationId: ids.orderId,
    producer: PRODUCER,
    occurredAt: ids.createdAt,
    payload: {
      orderId: ids.orderId,
      customerId: input.customerId,
      totalAmount,
      currency: input.currency,
      items: lines,
      deliveryAddress: input.deliveryAddress,
      paymentMethod: input.paymentMethod,
    },
  });
  const facts = applyEvent(emptyFacts(ids.orderId), created);
  return {
    orderId: ids.orderId,
    customerId: input.customerId,
    currency: input.currency,
    totalAmount,
    lines,
    deliveryAddress: input.deliveryAddress,
    paymentMethodType: input.paymentMethod.type,
    createdAt: ids.createdAt,
    created,
    facts,
    status: deriveStatus(facts),
    response: {
      orderId: ids.orderId,
      customerId: input.customerId,
      totalAmount,
      currency: input.currency,
      status: 'CREATED',
      createdAt: ids.createdAt,
    },
  };
}
