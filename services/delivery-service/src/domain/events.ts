import { createEvent, type EventEnvelope } from '@dispatch/contracts';
import type { DeliveryPhase } from './eta';

export const PRODUCER = 'delivery-service';

/** Saga identifiers every outgoing event of one order carries. */
export interface EventOrigin {
  orderId: string;
  correlationId: string;
  /** The consumed event that caused this one; for timer or request events, the order's latest event we acted on. */
  causationId: string;
}

export interface AssignedDelivery {
  deliveryId: string;
  driverId: string;
  driverName: string;
  estimatedDeliveryTime: Date;
}

/** delivery.assigned and the first eta.updated, both caused by the payment.authorized. */
export function assignedEvents(
  origin: EventOrigin,
  delivery: AssignedDelivery,
  at: Date,
): [EventEnvelope<'delivery.assigned'>, EventEnvelope<'eta.updated'>] {
  const fields = {
    orderId: origin.orderId,
    deliveryId: delivery.deliveryId,
    driverId: delivery.driverId,
    driverName: delivery.driverName,
    status: 'ASSIGNED' as const,
    estimatedDeliveryTime: delivery.estimatedDeliveryTime.toISOString(),
  };
  const common = { ...origin, producer: PRODUCER, occurredAt: at.toISOString() };
  return [
    createEvent({ ...common, eventType: 'delivery.assigned', payload: fields }),
    createEvent({ ...common, eventType: 'eta.updated', payload: fields }),
  ];
}

export function etaUpdatedEvent(
  origin: EventOrigin,
  delivery: AssignedDelivery & { phase: DeliveryPhase },
  at: Date,
): EventEnvelope<'eta.updated'> {
  return createEvent({
    ...origin,
    producer: PRODUCER,
    occurredAt: at.toISOString(),
    eventType: 'eta.updated',
    payload: {
      orderId: origin.orderId,
      deliveryId: delivery.deliveryId,
      driverId: delivery.driverId,
      driverName: delivery.driverName,
      status: delivery.phase,
      estimatedDeliveryTime: delivery.estimatedDeliveryTime.toISOString(),
    },
  });
}

export function deliveryFailedEvent(
  origin: EventOrigin,
  delivery: { deliveryId: string; reason: string },
  at: Date,
): EventEnvelope<'delivery.failed'> {
  return createEvent({
    ...origin,
    producer: PRODUCER,
    occurredAt: at.toISOString(),
    eventType: 'delivery.failed',
    payload: {
      orderId: origin.orderId,
      deliveryId: delivery.deliveryId,
      status: 'FAILED',
      reason: delivery.reason,
    },
  });
}

export function deliveryCompletedEvent(
  origin: EventOrigin,
  delivery: { deliveryId: string; driverId: string; driverName: string },
  completedAt: Date,
): EventEnvelope<'delivery.completed'> {
  return createEvent({
    ...origin,
    producer: PRODUCER,
    occurredAt: completedAt.toISOString(),
    eventType: 'delivery.completed',
    payload: {
      orderId: origin.orderId,
      deliveryId: delivery.deliveryId,
      driverId: delivery.driverId,
      driverName: delivery.driverName,
      status: 'COMPLETED',
      completedAt: completedAt.toISOString(),
    },
  });
}
