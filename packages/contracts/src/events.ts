import type { z } from 'zod';
import { deliveryAssignedV1, deliveryCompletedV1, deliveryFailedV1, etaUpdatedV1 } from './payloads/delivery';
import { inventoryRejectedV1, inventoryReleasedV1, inventoryReservedV1 } from './payloads/inventory';
import { orderCancelledV1, orderCreatedV1 } from './payloads/order';
import { paymentAuthorizedV1, paymentFailedV1, paymentRefundedV1 } from './payloads/payment';

export const EVENT_TYPES = [
  'order.created',
  'order.cancelled',
  'inventory.reserved',
  'inventory.rejected',
  'inventory.released',
  'payment.authorized',
  'payment.failed',
  'payment.refunded',
  'delivery.assigned',
  'eta.updated',
  'delivery.failed',
  'delivery.completed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The payload schema of the version every producer writes today, per event type. `PayloadOf<T>` and
 * `EventEnvelope<T>` are typed from these.
 */
export const currentPayloadSchemas = {
  'order.created': orderCreatedV1,
  'order.cancelled': orderCancelledV1,
  'inventory.reserved': inventoryReservedV1,
  'inventory.rejected': inventoryRejectedV1,
  'inventory.released': inventoryReleasedV1,
  'payment.authorized': paymentAuthorizedV1,
  'payment.failed': paymentFailedV1,
  'payment.refunded': paymentRefundedV1,
  'delivery.assigned': deliveryAssignedV1,
  'eta.updated': etaUpdatedV1,
  'delivery.failed': deliveryFailedV1,
  'delivery.completed': deliveryCompletedV1,
} satisfies Record<EventType, z.ZodType>;

export type PayloadOf<T extends EventType> = z.output<(typeof currentPayloadSchemas)[T]>;

export const CURRENT_SCHEMA_VERSION: Readonly<Record<EventType, number>> = Object.freeze({
  'order.created': 1,
  'order.cancelled': 1,
  'inventory.reserved': 1,
  'inventory.rejected': 1,
  'inventory.released': 1,
  'payment.authorized': 1,
  'payment.failed': 1,
  'payment.refunded': 1,
  'delivery.assigned': 1,
  'eta.updated': 1,
  'delivery.failed': 1,
  'delivery.completed': 1,
});

export type RegistryKey = `${EventType}@${number}`;

export function registryKey(eventType: EventType, schemaVersion: number): RegistryKey {
  return `${eventType}@${schemaVersion}`;
}

/**
 * Every payload schema ever published, keyed by `${eventType}@${schemaVersion}`; consumers accept all of
 * them because raw.* topics are replayed from offset 0.
 *
 * Evolution: adding an optional field is not a new version (unknown fields are ignored by readers).
 * A breaking change adds `'x.y@2'` here, moves `currentPayloadSchemas` to it, and teaches
 * `parseEnvelope` to upcast @1 payloads to the current shape so consumers handle one shape only.
 */
export const payloadRegistry: ReadonlyMap<RegistryKey, z.ZodType> = new Map<RegistryKey, z.ZodType>(
  EVENT_TYPES.map((eventType) => [registryKey(eventType, 1), currentPayloadSchemas[eventType]]),
);

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/** The payload schema for (eventType, schemaVersion), or undefined when none is registered. */
export function payloadSchemaFor(eventType: EventType, schemaVersion: number): z.ZodType | undefined {
  return payloadRegistry.get(registryKey(eventType, schemaVersion));
}

/** Registered versions of one event type, ascending. */
export function knownSchemaVersions(eventType: EventType): number[] {
  const prefix = `${eventType}@`;
  return [...payloadRegistry.keys()]
    .filter((key) => key.startsWith(prefix))
    .map((key) => Number(key.slice(prefix.length)))
    .sort((a, b) => a - b);
}
