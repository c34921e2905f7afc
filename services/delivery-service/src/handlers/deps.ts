import type { EventType } from '@dispatch/contracts';
import type { Pool } from 'pg';
import type { Clock } from '../clock';
import type { DeliveryMetrics } from '../metrics';
import type { AssignmentSettings } from '../use-cases/assign';

/** The inbox consumer name: one per service, shared by all its instances. */
export const CONSUMER = 'delivery-service';

/** The event types delivery-service acts on; the consumer acknowledges every other one untouched. */
export const HANDLED_EVENT_TYPES = [
  'order.created',
  'order.cancelled',
  'payment.authorized',
] as const satisfies readonly EventType[];

/** What the steps need besides their StepContext. */
export interface StepDeps {
  clock: Clock;
  settings: AssignmentSettings;
  metrics: DeliveryMetrics;
}

/** What the batch handler needs: the steps' deps and the pool its transactions run on. */
export interface HandlerDeps extends StepDeps {
  pool: Pool;
}
