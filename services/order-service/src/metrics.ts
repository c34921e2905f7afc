import type { PlatformMetrics } from '@dispatch/platform';
import { Counter } from 'prom-client';
import { CANCELLABLE_STATUSES } from './domain/cancellation';

export type CancellationOutcome = 'accepted' | 'already_cancelled' | 'rejected' | 'not_found';

/** order-service's own metrics, registered next to the platform's. */
export interface OrderMetrics {
  ordersCreated: Counter<'currency'>;
  idempotentReplays: Counter;
  cancellations: Counter<'outcome'>;
  /** Stuck orders the saga deadline sweeper cancelled, by the status they were stuck in. */
  sagaDeadlineExpired: Counter<'status'>;
}

export function createOrderMetrics(platform: PlatformMetrics): OrderMetrics {
  const registers = [platform.registry];
  return {
    ordersCreated: new Counter({
      name: 'orders_created_total',
      help: 'Orders created (committed with their order.created event), by currency.',
      labelNames: ['currency'],
      registers,
    }),
    idempotentReplays: new Counter({
      name: 'orders_idempotent_replays_total',
      help: 'POST /api/orders answered from a stored Idempotency-Key response instead of creating an order.',
      registers,
    }),
    cancellations: new Counter({
      name: 'order_cancellations_total',
      help: 'Cancel requests by outcome (accepted, already_cancelled, rejected, not_found).',
      labelNames: ['outcome'],
      registers,
    }),
    sagaDeadlineExpired: expiredCounter(registers),
  };
}

function expiredCounter(registers: PlatformMetrics['registry'][]): Counter<'status'> {
  const counter = new Counter({
    name: 'saga_deadline_expired_total',
    help: 'Stuck orders the saga deadline sweeper cancelled (cancelledBy SYSTEM, reason DEADLINE_EXCEEDED) because they were still CREATED, INVENTORY_RESERVED or PAYMENT_AUTHORIZED longer than SAGA_DEADLINE_MS after creation, by the status they were stuck in.',
    labelNames: ['status'],
    registers,
  });
  // Every series exists from the start at 0, so an alert on its increase sees the first one.
  for (const status of CANCELLABLE_STATUSES) counter.inc({ status }, 0);
  return counter;
}
