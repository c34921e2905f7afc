import { type AnyEvent, type OrderStatus, parseEnvelope, serializeEnvelope } from '@dispatch/contracts';
import {
  createEventProducer,
  createKafka,
  createLogger,
  createPool,
  type EventProducer,
  fetchEndOffsets,
  type KafkaClient,
  type OutgoingMessage,
  readTopicsUntil,
} from '@dispatch/platform';
import { eventually, serviceUrl, stackAddresses, tokenFor } from '@dispatch/testkit';
import {
  type CatalogueItem,
  type CreatedOrder,
  completeDelivery,
  expectStatus,
  getDelivery,
  getItem,
  getPayment,
  http,
  listDrivers,
  mapConcurrently,
  type OrderLine,
  type OrderView,
  orderBody,
  type Payment,
  postOrder,
  putDriver,
  readOrder,
} from './api';

// Driver, delivery and /metrics helpers moved to testkit's dispatch-api; the saga tests import them from here.
export {
  completeDelivery,
  type Driver,
  ensureFreeDrivers,
  getDelivery,
  getDriver,
  getPayment,
  metricSum,
  type Payment,
  putDriver,
  scrape,
} from './api';

/**
 * Helpers for the back half of the saga (payment, delivery, compensations) on the running stack:
 * orders paid with a chosen card token, drivers, deliveries, payments, and the evidence behind
 * "charged once" (payment_db rows, outbox rows, raw.payment-events).
 */

// ---- orders ----------------------------------------------------------------------------

/** The simulated gateway's tokens (docs/payment.md): each one's outcome is fixed. */
export type CardToken = 'tok_visa' | 'tok_declined' | 'tok_flaky' | 'tok_gateway_timeout';

/** POST /api/orders paid with `cardToken`, which must answer 201. */
export async function placeOrderPaidWith(
  customerId: string,
  items: OrderLine[],
  cardToken: CardToken,
  token?: string,
  deliveryAddress?: Parameters<typeof orderBody>[3],
): Promise<CreatedOrder> {
  const body = {
    ...orderBody(customerId, items, 'EUR', deliveryAddress),
    paymentMethod: { type: 'card', token: cardToken },
  };
  const answer = await postOrder(customerId, body, { token: token ?? (await tokenFor(customerId)) });
  expectStatus(answer, 201, 'POST /api/orders');
  return answer.body;
}

/** POST /api/orders/{id}/cancel as the customer. */
export async function cancelOrder(orderId: string, customerId: string) {
  return http<{ orderId: string; status: string }>(
    'POST',
    `${serviceUrl('order-service')}/api/orders/${orderId}/cancel`,
    { token: await tokenFor(customerId), body: { reason: 'e2e: changed my mind' } },
  );
}

/**
 * How long a saga step may take to show in the read model. Normally well under a second; the margin
 * covers a service being restarted meanwhile (consumer group rejoin, leases of the old instance).
 */
export const DEFAULT_WAIT_MS = 120_000;

/** The contract's sections of the query-api view that these tests read. */
export interface SagaView extends OrderView {
  paymentId: string | null;
  deliveryId: string | null;
  driverName: string | null;
  estimatedDeliveryTime: string | null;
  payment: {
    status: 'AUTHORIZED' | 'FAILED';
    paymentId: string;
    amount: string;
    failureReason?: string;
  } | null;
  delivery: {
    status: 'ASSIGNED' | 'FAILED' | 'COMPLETED';
    deliveryId: string;
    driverName?: string;
    driverId?: string;
    estimatedDeliveryTime?: string;
    failureReason?: string;
  } | null;
  cancellation: { cancelledBy: string; reason?: string } | null;
  compensation: OrderView['compensation'] & { releaseReason?: string; refundReason?: string };
}

/**
 * Polls query-api until the order's view satisfies `check` (which throws while it does not) and
 * returns it. The last failure message says what was still missing.
 */
export async function waitForView(
  orderId: string,
  check: (view: SagaView) => void,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<SagaView> {
  return eventually(
    async () => {
      const view = (await readOrder(orderId)) as SagaView | undefined;
      if (!view) throw new Error(`query-api does not know order ${orderId} yet`);
      check(view);
      return view;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** Polls until the order's status is one of `statuses`. */
export function waitForStatus(
  orderId: string,
  statuses: OrderStatus[],
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<SagaView> {
  return waitForView(
    orderId,
    (view) => {
      if (!statuses.includes(view.status)) {
        throw new Error(`order ${orderId} is ${view.status}, waiting for ${statuses.join(' | ')}`);
      }
    },
    timeoutMs,
  );
}

/** How many times `eventType` appears in the view's timeline (one row per eventId). */
export function timelineCount(view: OrderView, eventType: string): number {
  return view.timeline.filter((entry) => entry.eventType === eventType).length;
}

/** Statuses after which nothing more happens to the order, plus DELIVERY_ASSIGNED (it waits for the driver). */
export const SETTLED: OrderStatus[] = [
  'DELIVERY_ASSIGNED',
  'DELIVERED',
  'DELIVERY_FAILED',
  'PAYMENT_FAILED',
  'INVENTORY_REJECTED',
  'CANCELLED',
];

/**
 * Leaves the stack as the test found it: an assigned delivery is completed (its driver freed) and an
 * order still waiting (for payment or a driver) is cancelled (refund and release follow). Best effort,
 * for afterAll: failures are reported, not thrown.
 */
export async function settleOrders(orders: { orderId: string; customerId: string }[]): Promise<void> {
  await mapConcurrently(orders, 10, async ({ orderId, customerId }) => {
    try {
      const delivery = await getDelivery(orderId);
      if (delivery && (delivery.status === 'ASSIGNED' || delivery.status === 'EN_ROUTE')) {
        await completeDelivery(orderId);
        return;
      }
      const view = await readOrder(orderId);
      if (view && ['CREATED', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED'].includes(view.status)) {
        await cancelOrder(orderId, customerId);
      }
    } catch (err) {
      console.warn(`could not settle order ${orderId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

/** Polls the catalogue item until `ready(stock)` holds (inventory applies events asynchronously). */
export function waitForStock(
  itemId: string,
  ready: (stock: CatalogueItem) => boolean,
  timeoutMs = 30_000,
): Promise<CatalogueItem> {
  return eventually(
    async () => {
      const stock = await getItem(itemId);
      if (!ready(stock))
        throw new Error(`item ${itemId}: available ${stock.available}, reserved ${stock.reserved}`);
      return stock;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/**
 * Takes every driver on duty off duty and returns a function that puts them back. A driver on a
 * delivery keeps it (OFF_DUTY only stops new assignments), so no delivery is disturbed.
 */
export async function takeAllDriversOffDuty(): Promise<() => Promise<void>> {
  const onDuty = (await listDrivers()).filter((driver) => driver.status === 'AVAILABLE');
  const restore = async () => {
    await mapConcurrently(onDuty, 10, (driver) => putDriver(driver.driverId, driver.name, 'AVAILABLE'));
  };
  try {
    await mapConcurrently(onDuty, 10, (driver) => putDriver(driver.driverId, driver.name, 'OFF_DUTY'));
  } catch (err) {
    await restore();
    throw err;
  }
  return restore;
}

// ---- payment-service -------------------------------------------------------------------

/** Polls payment-service until the order's payment is decided and, when authorized, refunded too. */
export function waitForSettledPayment(orderId: string, timeoutMs = DEFAULT_WAIT_MS): Promise<Payment> {
  return eventually(
    async () => {
      const payment = await getPayment(orderId);
      if (!payment || payment.status === 'PENDING') {
        throw new Error(`payment of ${orderId}: ${payment?.status ?? 'none yet'}`);
      }
      if (payment.status === 'AUTHORIZED' && payment.refund?.status !== 'REFUNDED') {
        throw new Error(
          `payment of ${orderId} authorized, refund ${payment.refund?.status ?? 'not started'}`,
        );
      }
      return payment;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** Runs `fn` with a one-connection pool on a service's database (payment_db unless named). */
export async function withDatabase<T>(
  database: string,
  fn: (query: <R extends object>(sql: string, params: unknown[]) => Promise<R[]>) => Promise<T>,
): Promise<T> {
  const pool = createPool({ ...stackAddresses().pg, database, max: 1 });
  try {
    return await fn(async <R extends object>(sql: string, params: unknown[]) => {
      const result = await pool.query<R>(sql, params);
      return result.rows;
    });
  } finally {
    await pool.end();
  }
}

export const PAYMENT_DB = process.env.PAYMENT_DB ?? 'payment_db';

/** payment_db `payments` rows per orderId (every given orderId is present, 0 when it has none). */
export async function paymentRowsPerOrder(
  orderIds: string[],
): Promise<Map<string, { count: number; statuses: string[] }>> {
  const rows = await withDatabase(PAYMENT_DB, (query) =>
    query<{ order_id: string; status: string }>(
      'SELECT order_id, status FROM payments WHERE order_id = ANY($1)',
      [orderIds],
    ),
  );
  const byOrder = new Map(orderIds.map((orderId) => [orderId, { count: 0, statuses: [] as string[] }]));
  for (const row of rows) {
    const entry = byOrder.get(row.order_id);
    if (entry) {
      entry.count += 1;
      entry.statuses.push(row.status);
    }
  }
  return byOrder;
}

/** payment_db outbox rows of `eventType` per orderId: the events payment-service decided to publish. */
export async function paymentOutboxRowsPerOrder(
  orderIds: string[],
  eventType: string,
): Promise<Map<string, number>> {
  const rows = await withDatabase(PAYMENT_DB, (query) =>
    query<{ message_key: string; n: number }>(
      'SELECT message_key, count(*)::int AS n FROM outbox WHERE event_type = $2 AND message_key = ANY($1) GROUP BY message_key',
      [orderIds, eventType],
    ),
  );
  const byOrder = new Map(orderIds.map((orderId) => [orderId, 0]));
  for (const row of rows) byOrder.set(row.message_key, row.n);
  return byOrder;
}

// ---- Kafka -----------------------------------------------------------------------------

function kafkaClient(clientId: string): KafkaClient {
  return createKafka({
    ...stackAddresses().kafka,
    clientId,
    logger: createLogger('e2e-tests', process.env.LOG_LEVEL ?? 'warn'),
  });
}

/** What raw.payment-events holds for some orders. */
export interface PaymentEventsInLog {
  /** orderId → eventType → the distinct eventIds of that type. */
  eventIds: Map<string, Map<string, Set<string>>>;
  /** Records of these orders, duplicates of one eventId included. */
  records: number;
}

/**
 * Reads raw.payment-events from its start up to its current end through a throwaway consumer group
 * (never committed, deleted afterwards) and collects the events of `orderIds`.
 */
export async function readPaymentEvents(orderIds: string[]): Promise<PaymentEventsInLog> {
  const wanted = new Set(orderIds);
  const kafka = kafkaClient('e2e-payment-log-reader');
  const ends = await fetchEndOffsets(kafka, ['raw.payment-events']);
  const log: PaymentEventsInLog = { eventIds: new Map(), records: 0 };
  await readTopicsUntil(kafka, {
    ends,
    idleTimeoutMs: 30_000,
    groupIdPrefix: 'e2e-payment-log-reader',
    handle: async (records) => {
      for (const record of records) {
        if (record.value === null) continue;
        const parsed = parseEnvelope(record.value);
        if (!parsed.ok || !wanted.has(parsed.event.orderId)) continue;
        log.records += 1;
        let byType = log.eventIds.get(parsed.event.orderId);
        if (!byType) {
          byType = new Map();
          log.eventIds.set(parsed.event.orderId, byType);
        }
        let ids = byType.get(parsed.event.eventType);
        if (!ids) {
          ids = new Set();
          byType.set(parsed.event.eventType, ids);
        }
        ids.add(parsed.event.eventId);
      }
    },
  });
  return log;
}

/** Distinct eventIds of `eventType` for `orderId` in a read of the log. */
export function distinctEvents(log: PaymentEventsInLog, orderId: string, eventType: string): number {
  return log.eventIds.get(orderId)?.get(eventType)?.size ?? 0;
}

/** An idempotent producer of the platform, for tests that publish events themselves. */
export async function connectProducer(): Promise<EventProducer> {
  const producer = createEventProducer(kafkaClient('e2e-publisher'), {
    logger: createLogger('e2e-tests', process.env.LOG_LEVEL ?? 'warn'),
  });
  await producer.connect();
  return producer;
}

/** The Kafka message for an event, as the outbox relay would send it (key = orderId unless given). */
export function messageOf(event: AnyEvent, topic: string, key: string = event.orderId): OutgoingMessage {
  return { topic, key, value: serializeEnvelope(event) };
}
