import {
  type AnyEvent,
  createEvent,
  type EventEnvelope,
  type EventType,
  type PayloadOf,
} from '@dispatch/contracts';
import type { Logger } from '@dispatch/platform';
import type { Pool } from 'pg';
import { SERVICE_NAME } from '../config';
import type { InventoryMetrics } from '../metrics';

/** What every handler needs. Several instances (pools) may run the same handlers on one database. */
export interface HandlerDeps {
  pool: Pool;
  metrics: InventoryMetrics;
}

/** The part of the consumer's HandlerContext the handlers use (so tests can call them directly). */
export interface HandlerCall {
  logger: Logger;
}

/** The inbox records consumed events under the service's name (shared by all its instances). */
export const INBOX_CONSUMER = SERVICE_NAME;

/** An event this service produces because of `cause`: same order and saga, caused by it. */
export function followUp<T extends EventType>(
  cause: AnyEvent,
  eventType: T,
  payload: PayloadOf<T>,
): EventEnvelope<T> {
  return createEvent({
    eventType,
    orderId: cause.orderId,
    correlationId: cause.correlationId,
    causationId: cause.eventId,
    producer: SERVICE_NAME,
    payload,
  });
}
