import type { AnyEvent, EventType } from '@dispatch/contracts';

/** What an endpoint subscribes to. */
export interface Subscription {
  id: string;
  enabled: boolean;
  eventTypes: readonly string[];
  /** Only this customer's orders when set. */
  customerId: string | null;
}

/**
 * The endpoints an event goes to: enabled, subscribed to its type, and (when filtered by customer)
 * for an order of that customer. `customerId` is the order's owner as far as the service knows it
 * (from the order's order.created, else from the event's own payload); an unknown owner matches only
 * unfiltered endpoints.
 */
export function selectEndpoints<S extends Subscription>(
  endpoints: readonly S[],
  eventType: EventType,
  customerId: string | null,
): S[] {
  return endpoints.filter(
    (e) =>
      e.enabled &&
      e.eventTypes.includes(eventType) &&
      (e.customerId === null || (customerId !== null && e.customerId === customerId)),
  );
}

/** The owner an event itself names (order.created and inventory events carry customerId). */
export function customerIdOf(event: AnyEvent): string | null {
  const payload = event.payload as { customerId?: unknown };
  return typeof payload.customerId === 'string' ? payload.customerId : null;
}

/**
 * The JSON body a receiver gets: the event's identity and its payload, without the card token of
 * order.created (a receiver has no use for it, and it must not travel further than payment-service).
 * Serialised once when the event is queued, so every attempt and redelivery sends the same bytes.
 */
export function webhookBody(event: AnyEvent): string {
  let data: unknown = event.payload;
  if (event.eventType === 'order.created') {
    const { paymentMethod, ...rest } = event.payload;
    data = { ...rest, paymentMethod: { type: paymentMethod.type } };
  }
  return JSON.stringify({
    id: event.eventId,
    type: event.eventType,
    schemaVersion: event.schemaVersion,
    occurredAt: event.occurredAt,
    orderId: event.orderId,
    correlationId: event.correlationId,
    causationId: event.causationId ?? null,
    data,
  });
}
