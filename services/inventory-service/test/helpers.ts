import { randomUUID } from 'node:crypto';
import {
  type AnyEvent,
  type Currency,
  type EventEnvelope,
  followUp,
  type RequestedLine,
  requestedTotal,
} from '@dispatch/contracts';
import { sampleOrderCreatedPayload } from '@dispatch/contracts/testing';
import type { Logger } from '@dispatch/platform';
import {
  batchFeeder,
  createTestDatabase,
  createTestLogger,
  orderCreatedEvent,
  outboxOf,
  type TestDatabase,
} from '@dispatch/testkit';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { createBatchHandler, HANDLED_EVENT_TYPES } from '../src/handlers';
import { createInventoryMetrics, type InventoryMetrics } from '../src/metrics';
import { type ItemDefinition, putItem } from '../src/store/catalogue-store';
import { MIGRATIONS_DIR } from '../src/store/migrations';

export type { TestDatabase };

/** Quiet unless TEST_LOG_LEVEL asks for more. */
export const testLogger: Logger = createTestLogger('inventory-test');

/** A fresh database with the platform's and the service's migrations applied. */
export function createInventoryDatabase(prefix = 'it_inventory'): Promise<TestDatabase> {
  return createTestDatabase({ prefix, migrationsDir: MIGRATIONS_DIR, logger: testLogger });
}

export function testMetrics(): { metrics: InventoryMetrics; registry: Registry } {
  const registry = new Registry();
  return { metrics: createInventoryMetrics(registry), registry };
}

/**
 * One instance's batch pipeline, called like the consumer calls it (testkit's batchFeeder): events of
 * types inventory does not act on are acknowledged without reaching the batch handler, the rest go to
 * the service's pgBatchHandler as one batch, in the order given.
 */
export function batchPipeline(pool: Pool, metrics: InventoryMetrics = testMetrics().metrics) {
  return batchFeeder(createBatchHandler({ pool, metrics }), HANDLED_EVENT_TYPES, testLogger);
}

/** The same pipeline one event at a time: each event a batch of one, as the consumer retries them. */
export function pipeline(pool: Pool, metrics: InventoryMetrics = testMetrics().metrics) {
  const handle = batchPipeline(pool, metrics);
  return (event: AnyEvent) => handle([event]);
}

export interface HandlerDatabase {
  /** A fresh database for the calling file (created in beforeAll, dropped in afterAll). */
  readonly db: TestDatabase;
  /** The one-event pipeline on it (pipeline()), counting into `metrics`. */
  handle(event: AnyEvent): Promise<void>;
  metrics: InventoryMetrics;
  registry: Registry;
  /** How many inbox rows the event left (0: not recorded, so a redelivery is handled afresh). */
  inboxCount(eventId: string): Promise<number>;
}

/** The handlers against a real, fresh PostgreSQL database, called as the consumer calls them. */
export function useHandlerDatabase(): HandlerDatabase {
  let db: TestDatabase | undefined;
  let handle: ((event: AnyEvent) => Promise<void>) | undefined;
  const { metrics, registry } = testMetrics();
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the handler database is not set up yet (beforeAll)');
    return value;
  };

  beforeAll(async () => {
    db = await createInventoryDatabase();
    handle = pipeline(db.pool, metrics);
  });

  afterAll(async () => {
    await db?.drop();
  });

  return {
    get db() {
      return ready(db);
    },
    handle: (event) => ready(handle)(event),
    metrics,
    registry,
    async inboxCount(eventId) {
      const result = await ready(db).pool.query('SELECT count(*)::int AS n FROM inbox WHERE event_id = $1', [
        eventId,
      ]);
      return result.rows[0].n;
    },
  };
}

/** A catalogue item with a unique id (so tests sharing a database never touch each other's stock). */
export function testItem(overrides: Partial<ItemDefinition> = {}): ItemDefinition {
  return {
    itemId: `sku-${randomUUID().slice(0, 8)}`,
    name: 'Test item',
    unitPrice: '10.00',
    currency: 'EUR',
    available: 10,
    ...overrides,
  };
}

export async function addItems(pool: Pool, ...items: ItemDefinition[]): Promise<void> {
  for (const item of items) await putItem(pool, item);
}

export async function stockOf(pool: Pool, itemId: string): Promise<{ available: number; reserved: number }> {
  const result = await pool.query<{ available: number; reserved: number }>(
    'SELECT available, reserved FROM items WHERE item_id = $1',
    [itemId],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`no item ${itemId}`);
  return row;
}

export async function reservationOf(
  pool: Pool,
  orderId: string,
): Promise<{ status: string; order_seen: boolean; release_reason: string | null } | undefined> {
  const result = await pool.query(
    'SELECT status, order_seen, release_reason FROM reservations WHERE order_id = $1',
    [orderId],
  );
  return result.rows[0];
}

/** The events this service enqueued for an order, in outbox (publish) order. */
export async function outboxEvents(pool: Pool, orderId: string): Promise<AnyEvent[]> {
  return (await outboxOf(pool, orderId)).map((row) => row.event);
}

export function newOrderId(): string {
  return `order-${randomUUID()}`;
}

/** order.created for the lines given (totalAmount: the provisional total of the lines with a unitPrice). */
export function orderCreated(
  items: RequestedLine[],
  opts: { orderId?: string; currency?: Currency; customerId?: string } = {},
): EventEnvelope<'order.created'> {
  const orderId = opts.orderId ?? newOrderId();
  const customerId = opts.customerId ?? `customer-${randomUUID().slice(0, 8)}`;
  const sample = sampleOrderCreatedPayload(orderId, customerId);
  return orderCreatedEvent({
    ...sample,
    currency: opts.currency ?? 'EUR',
    items,
    totalAmount: requestedTotal(items),
  });
}

export function paymentFailed(cause: AnyEvent) {
  return followUp(cause, 'payment.failed', {
    paymentId: `pay-${cause.orderId}`,
    orderId: cause.orderId,
    amount: '1.00',
    currency: 'EUR',
    status: 'FAILED',
    failureReason: 'card_declined',
  });
}

export function paymentRefunded(cause: AnyEvent, reason: 'DELIVERY_FAILED' | 'ORDER_CANCELLED') {
  return followUp(cause, 'payment.refunded', {
    paymentId: `pay-${cause.orderId}`,
    orderId: cause.orderId,
    amount: '1.00',
    currency: 'EUR',
    status: 'REFUNDED',
    refundId: `refund-${cause.orderId}`,
    reason,
  });
}

export function deliveryFailed(cause: AnyEvent) {
  return followUp(cause, 'delivery.failed', {
    orderId: cause.orderId,
    deliveryId: `delivery-${cause.orderId}`,
    status: 'FAILED',
    reason: 'NO_DRIVER_AVAILABLE',
  });
}

export function orderCancelled(cause: AnyEvent) {
  return followUp(cause, 'order.cancelled', { orderId: cause.orderId, cancelledBy: 'CUSTOMER' });
}

export function deliveryCompleted(cause: AnyEvent) {
  return followUp(cause, 'delivery.completed', {
    orderId: cause.orderId,
    deliveryId: `delivery-${cause.orderId}`,
    driverName: 'Ada Rider',
    status: 'COMPLETED',
    completedAt: new Date().toISOString(),
  });
}

/** Runs `work` over `items` with at most `concurrency` calls in flight. */
export async function runConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
