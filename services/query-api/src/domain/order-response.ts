import type {
  CancellationSection,
  CompensationSection,
  DeliveryAddress,
  DeliverySection,
  InventorySection,
  OrderSection,
  OrderStatus,
  OrderView,
  PaymentSection,
} from '@dispatch/contracts';

export interface TimelineEntry {
  eventType: string;
  occurredAt: string;
  eventId: string;
  producer: string;
  causationId?: string;
}

/** The seed's order fields; null where the saga has not produced the fact (yet). */
export interface OrderSummary {
  orderId: string;
  customerId: string | null;
  totalAmount: string | null;
  currency: string | null;
  status: OrderStatus;
  createdAt: string | null;
  updatedAt: string | null;
  paymentId: string | null;
  deliveryId: string | null;
  driverName: string | null;
  estimatedDeliveryTime: string | null;
}

/** GET /api/orders/{id}: the seed's fields, the per-step sections of the contract's fold, and the timeline. */
export interface OrderResponse extends OrderSummary {
  items: OrderSection['items'] | null;
  deliveryAddress: DeliveryAddress | null;
  inventory: InventorySection | null;
  payment: PaymentSection | null;
  delivery: DeliverySection | null;
  cancellation: CancellationSection | null;
  compensation: CompensationSection;
  timeline: TimelineEntry[];
}

export function toOrderSummary(view: OrderView): OrderSummary {
  return {
    orderId: view.orderId,
    customerId: view.order?.customerId ?? null,
    // The priced total once inventory reserved the order, the provisional one before (the fold decides).
    totalAmount: view.totalAmount ?? null,
    currency: view.order?.currency ?? null,
    status: view.status,
    createdAt: view.createdAt ?? null,
    updatedAt: view.updatedAt ?? null,
    paymentId: view.payment?.paymentId ?? null,
    deliveryId: view.delivery?.deliveryId ?? null,
    driverName: view.delivery?.driverName ?? null,
    estimatedDeliveryTime: view.delivery?.estimatedDeliveryTime ?? null,
  };
}

export function toOrderResponse(view: OrderView, timeline: TimelineEntry[]): OrderResponse {
  return {
    ...toOrderSummary(view),
    items: view.order?.items ?? null,
    deliveryAddress: view.order?.deliveryAddress ?? null,
    inventory: view.inventory ?? null,
    payment: view.payment ?? null,
    delivery: view.delivery ?? null,
    cancellation: view.cancellation ?? null,
    compensation: view.compensation,
    timeline,
  };
}
