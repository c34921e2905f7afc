import { randomUUID } from 'node:crypto';
import { type AnyEvent, type EventEnvelope, followUp, Topics } from '@dispatch/contracts';
import { sampleOrderCreatedPayload } from '@dispatch/contracts/testing';
import { createKafka, createMetrics, createPool, ensureTopics, parseConfig } from '@dispatch/platform';
import {
  assertStackReachable,
  batchFeeder,
  createTestDatabase,
  createTestIssuer,
  createTestLogger,
  eventually,
  type HttpAnswer,
  http,
  type InProcessService,
  orderCreatedEvent,
  outboxOf,
  type RawProducer,
  rawProducer,
  shortId,
  stackAddresses,
  startInProcess,
  type TestDatabase,
  testPgConfig,
  testServiceEnv,
} from '@dispatch/testkit';
import type { Pool } from 'pg';
import type { Clock } from '../src/clock';
import { type DeliveryConfig, deliveryConfigSchema, SERVICE_NAME } from '../src/config';
import { createBatchHandler, HANDLED_EVENT_TYPES } from '../src/handlers';
import { createDeliveryMetrics, type DeliveryMetrics } from '../src/metrics';
import type { DeliveryScheduler } from '../src/scheduler';
import { assignmentSettingsOf, createScheduler, deliveryService, MIGRATIONS_DIR } from '../src/service';

export type { TestDatabase };

export const testLogger = createTestLogger('delivery-test');

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date = new Date()) {
    this.current = start.getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** The tests' own token issuer: the service under test gets only its public JWKS file. */
export const TEST_ISSUER = createTestIssuer();

/** The service's config from the stack's addresses and logins, with test overrides (all strings, like env vars). */
export function testConfig(overrides: Record<string, string> = {}): DeliveryConfig {
  return parseConfig(SERVICE_NAME, deliveryConfigSchema, testServiceEnv(TEST_ISSUER, overrides));
}

/** A fresh, migrated delivery database with a unique name. */
export async function createDeliveryDatabase(): Promise<TestDatabase> {
  await assertStackReachable(['postgres']);
  return createTestDatabase({
    prefix: 'delivery_it',
    migrationsDir: MIGRATIONS_DIR,
    poolMax: 2,
    logger: testLogger,
  });
}

/** One simulated instance of the service: its own pool, batch handler, metrics and scheduler. */
export interface Instance {
  pool: Pool;
  metrics: DeliveryMetrics;
  registry: ReturnType<typeof createMetrics>['registry'];
  /** One event, as a batch of one (as the consumer also retries a failed batch's events). */
  handle(event: AnyEvent): Promise<void>;
  /** Several events as one fetched batch, in the order given. */
  handleBatch(events: readonly AnyEvent[]): Promise<void>;
  scheduler: DeliveryScheduler;
}

export function createInstance(
  db: TestDatabase,
  config: DeliveryConfig,
  clock: Clock,
  pool: Pool = db.newPool(),
): Instance {
  const platform = createMetrics(SERVICE_NAME);
  const metrics = createDeliveryMetrics(platform, pool);
  const handler = createBatchHandler({ pool, clock, settings: assignmentSettingsOf(config), metrics });
  const handleBatch = batchFeeder(handler, HANDLED_EVENT_TYPES, testLogger);
  return {
    pool,
    metrics,
    registry: platform.registry,
    scheduler: createScheduler(config, { pool, clock, logger: testLogger, metrics }),
    handle: (event) => handleBatch([event]),
    handleBatch,
  };
}

/** A response body as JSON.parse gives it: the tests read the fields they assert on. */
type Json = ReturnType<typeof JSON.parse>;

/** delivery-service running in-process for a describe block (see useDeliveryInProcess). */
export interface LiveDelivery {
  /** The service's own database. */
  readonly db: TestDatabase;
  readonly service: InProcessService;
  /** Publishes events to the service's own topics: order.* to its order topic, the rest to its payment topic. */
  publish(...events: AnyEvent[]): Promise<void>;
  /** A request to the service's HTTP API. */
  call(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<HttpAnswer<Json>>;
}

/**
 * Before the block's tests: delivery-service as main.ts starts it (free port, the test issuer, a
 * fresh database, `env`), consuming Kafka topics of its own (`<prefix>-<id>.raw.order-events` and
 * `.raw.payment-events`, `partitions` each) with a group of its own, so it never reads other tests'
 * orders from the shared raw topics; after them, all of it stopped and dropped. Call inside a describe.
 */
export function useDeliveryInProcess(
  prefix: string,
  env: Record<string, string>,
  partitions: number,
): LiveDelivery {
  const name = `${prefix}-${shortId()}`;
  const orderTopic = `${name}.raw.order-events`;
  const paymentTopic = `${name}.raw.payment-events`;
  let db: TestDatabase | undefined;
  let service: InProcessService | undefined;
  let producer: RawProducer | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('delivery-service is not started yet (beforeAll)');
    return value;
  };

  beforeAll(async () => {
    await assertStackReachable(['postgres', 'kafka']);
    db = await createDeliveryDatabase();
    const kafka = createKafka({ ...stackAddresses().kafka, clientId: name, logger: testLogger });
    await ensureTopics(kafka, [
      { topic: orderTopic, numPartitions: partitions },
      { topic: paymentTopic, numPartitions: partitions },
    ]);
    producer = await rawProducer({ clientId: name, logger: testLogger });
    const config = { ...testConfig({ PGDATABASE: db.name, ...env }), PORT: 0 };
    service = await startInProcess(deliveryService(config), {
      consumers: { topics: { [Topics.order]: orderTopic, [Topics.payment]: paymentTopic }, groupId: name },
    });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await service?.stop();
    await db?.drop();
  });

  return {
    get db() {
      return started(db);
    },
    get service() {
      return started(service);
    },
    publish: (...events) =>
      started(producer).send(events, (event) =>
        event.eventType.startsWith('order.') ? orderTopic : paymentTopic,
      ),
    call: (method, path, opts = {}) => http<Json>(method, `${started(service).base}${path}`, opts),
  };
}

/** How long the assignment tests (assignment*.int.test.ts) let a paid order wait for a driver. */
export const DRIVER_WAIT_MS = 5_000;

export interface AssignmentDatabase {
  /** The current test's database. */
  readonly db: TestDatabase;
  /** DRIVER_WAIT_MS and a 1 s assignment retry. */
  readonly config: DeliveryConfig;
  /** Handles order.created then payment.authorized of a fresh (or the given) order on `instance`. */
  createAndPay(
    instance: Instance,
    orderId?: string,
  ): Promise<{
    orderId: string;
    created: EventEnvelope<'order.created'>;
    paid: EventEnvelope<'payment.authorized'>;
  }>;
}

/**
 * The handler pipelines (inbox → decision → store → outbox) against a fresh real database per test (the
 * driver pool is shared state), for the assignment tests. Call inside a describe.
 */
export function useAssignmentDatabase(): AssignmentDatabase {
  let db: TestDatabase | undefined;
  let config: DeliveryConfig | undefined;
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the assignment database is not set up yet (beforeEach)');
    return value;
  };

  beforeAll(async () => {
    config = testConfig({ DRIVER_WAIT_MS: String(DRIVER_WAIT_MS), ASSIGN_RETRY_MS: '1000' });
  });

  beforeEach(async () => {
    db = await createDeliveryDatabase();
  });

  afterEach(async () => {
    await db?.drop();
  });

  return {
    get db() {
      return ready(db);
    },
    get config() {
      return ready(config);
    },
    async createAndPay(instance, orderId = freshOrderId()) {
      const created = orderCreated(orderId);
      const paid = paymentAuthorized(created);
      await instance.handle(created);
      await instance.handle(paid);
      return { orderId, created, paid };
    },
  };
}

/**
 * Runs `work` with `count` pools of its own (instances) and returns how many deadlocks PostgreSQL
 * detected meanwhile. withTransaction retries a transaction a deadlock aborted, so a deadlock shows
 * only as a pause of deadlock_timeout; the database's counter sees each one. A backend reports its
 * counts when it exits, so the pools are closed, and their backends gone, before it is read.
 */
export async function deadlocksDuring(
  db: TestDatabase,
  count: number,
  work: (pools: Pool[]) => Promise<void>,
): Promise<number> {
  const reader = db.newPool(1);
  const read = async () => {
    const result = await reader.query<{ n: number }>(
      'SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return result.rows[0]?.n ?? 0;
  };
  const before = await read();
  const applicationName = `instance-${shortId()}`;
  const pools = Array.from({ length: count }, () =>
    createPool({ ...testPgConfig(db.name), max: 10, applicationName }),
  );
  try {
    await work(pools);
  } finally {
    await Promise.all(pools.map((p) => p.end()));
  }
  await eventually(async () => {
    const open = await reader.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [
      applicationName,
    ]);
    expect(open.rowCount).toBe(0);
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  return (await read()) - before;
}

/** A London address near the default depot (about 2.4 km away). */
export const NEAR_DEPOT = { lat: 51.5202, lng: -0.0977 };

export function freshOrderId(): string {
  return `order-dl-${randomUUID()}`;
}

export function orderCreated(orderId: string, at?: Date): EventEnvelope<'order.created'> {
  return orderCreatedEvent(sampleOrderCreatedPayload(orderId), at ? { occurredAt: at } : {});
}

/** About 530 km north of the depot (Edinburgh): a delivery that stays under way for the whole test. */
export const FAR_AWAY = { lat: 55.9533, lng: -3.1883 };

/** order.created for an address of the test's choosing. */
export function orderCreatedTo(
  orderId: string,
  where: { lat: number; lng: number },
): EventEnvelope<'order.created'> {
  const { payload } = orderCreated(orderId);
  return orderCreatedEvent({ ...payload, deliveryAddress: { ...payload.deliveryAddress, ...where } });
}

/**
 * The simulated fleet for tests: the real-time model (10 min handling, 25 km/h) compressed 60×, so
 * 10 s at the depot and 2.4 km in ~6 s; ticks of 500 ms; eta.updated past 2 s of drift.
 */
export const FLEET_TEST_ENV = {
  FLEET_SIMULATION: 'on',
  FLEET_SPEED_UP: '60',
  FLEET_TICK_MS: '500',
  HANDLING_TIME_MS: String(10 * 60_000),
  DRIVER_SPEED_KMH: '25',
  ETA_CHANGE_THRESHOLD_MS: '2000',
};

export function paymentAuthorized(
  created: EventEnvelope<'order.created'>,
): EventEnvelope<'payment.authorized'> {
  const { orderId, totalAmount, currency } = created.payload;
  return followUp(created, 'payment.authorized', {
    paymentId: `pay-${orderId}`,
    orderId,
    amount: totalAmount,
    currency,
    status: 'AUTHORIZED',
  });
}

export function orderCancelled(created: EventEnvelope<'order.created'>): EventEnvelope<'order.cancelled'> {
  return followUp(created, 'order.cancelled', {
    orderId: created.orderId,
    cancelledBy: 'CUSTOMER',
    reason: 'changed my mind',
  });
}

export async function outboxTypes(pool: Pool, orderId: string): Promise<string[]> {
  return (await outboxOf(pool, orderId)).map((e) => e.eventType);
}

export interface DeliveryRow {
  delivery_id: string;
  status: string;
  driver_id: string | null;
  driver_name: string | null;
  estimated_delivery_time: Date | null;
  failure_reason: string | null;
}

export async function deliveryOf(pool: Pool, orderId: string): Promise<DeliveryRow | undefined> {
  const result = await pool.query<DeliveryRow>(
    `SELECT delivery_id, status, driver_id, driver_name, estimated_delivery_time, failure_reason
       FROM deliveries WHERE order_id = $1`,
    [orderId],
  );
  return result.rows[0];
}

export async function insertDrivers(
  pool: Pool,
  drivers: { driverId: string; name?: string; status?: 'AVAILABLE' | 'OFF_DUTY' }[],
): Promise<void> {
  for (const d of drivers) {
    await pool.query(
      `INSERT INTO drivers (driver_id, name, status, idle_since, created_at, updated_at)
       VALUES ($1, $2, $3, now(), now(), now())`,
      [d.driverId, d.name ?? `Driver ${d.driverId}`, d.status ?? 'AVAILABLE'],
    );
  }
}

export async function driverRow(
  pool: Pool,
  driverId: string,
): Promise<{ status: string; active_delivery_id: string | null }> {
  const result = await pool.query<{ status: string; active_delivery_id: string | null }>(
    'SELECT status, active_delivery_id FROM drivers WHERE driver_id = $1',
    [driverId],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`no driver ${driverId}`);
  return row;
}
