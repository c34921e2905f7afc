import { randomUUID } from 'node:crypto';
import { type AnyEvent, createEvent, type EventEnvelope, type EventType } from '@dispatch/contracts';
import { sampleOrderCreatedPayload } from '@dispatch/contracts/testing';
import {
  type ConsumedEvent,
  createLogger,
  createMetrics,
  createPool,
  ensureDatabase,
  kafkaConnectionEnv,
  type Logger,
  parseConfig,
  runMigrations,
} from '@dispatch/platform';
import { createTestIssuer, dropTestDatabase, stackAddresses } from '@dispatch/testkit';
import pg, { type Pool } from 'pg';
import type { Clock } from '../src/clock';
import { configSchema, type DeliveryConfig, SERVICE_NAME } from '../src/config';
import { createBatchHandler, HANDLED_EVENT_TYPES } from '../src/handlers';
import { createDeliveryMetrics, type DeliveryMetrics } from '../src/metrics';
import type { DeliveryScheduler } from '../src/scheduler';
import { assignmentSettingsOf, createScheduler, MIGRATIONS_DIR } from '../src/service';

export const addresses = stackAddresses();

/** Silent unless TEST_LOG_LEVEL is set. */
export function testLogger(name = 'delivery-test'): Logger {
  return createLogger(name, process.env.TEST_LOG_LEVEL ?? 'silent');
}

export function suffix(): string {
  return randomUUID().replaceAll('-', '').slice(0, 10);
}

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

/** The service's config as the environment would give it, with test overrides (all strings, like env vars). */
export function testConfig(overrides: Record<string, string> = {}): DeliveryConfig {
  return parseConfig(SERVICE_NAME, configSchema, {
    ...process.env,
    // The broker refuses anonymous clients: the test's service logs in as the admin.
    ...kafkaConnectionEnv(addresses.kafka),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...TEST_ISSUER.env,
    ...overrides,
  });
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ ...addresses.pg, database: 'postgres', connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${addresses.pg.host}:${addresses.pg.port} (${err instanceof Error ? err.message : String(err)}). ` +
        'Start it or set PGHOST/PGPORT.',
    );
  }
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

export const dropDatabase = dropTestDatabase;

export interface TestDatabase {
  name: string;
  /** A new pool on the database (one per simulated instance); closed by drop(). */
  pool(max?: number): Pool;
  drop(): Promise<void>;
}

/** A fresh, migrated delivery database with a unique name. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `delivery_it_${suffix()}`;
  await adminQuery('SELECT 1'); // fails with a clear message when PostgreSQL is down
  await ensureDatabase({ ...addresses.pg, database: 'postgres' }, name);
  const pools: Pool[] = [];
  const pool = (max = 10) => {
    const p = createPool({ ...addresses.pg, database: name, max });
    pools.push(p);
    return p;
  };
  await runMigrations({ pool: pool(2), logger: testLogger(), dir: MIGRATIONS_DIR });
  return {
    name,
    pool,
    drop: async () => {
      await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
      await dropDatabase(name);
    },
  };
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
  pool: Pool = db.pool(),
): Instance {
  const platform = createMetrics(SERVICE_NAME);
  const metrics = createDeliveryMetrics(platform, pool);
  const logger = testLogger();
  const handler = createBatchHandler({ pool, clock, settings: assignmentSettingsOf(config), metrics });
  const handled: ReadonlySet<string> = new Set(HANDLED_EVENT_TYPES);
  let offset = 0;
  const handleBatch = async (events: readonly AnyEvent[]) => {
    // Like the consumer: types the service does not act on are acknowledged without the handler.
    const batch = events.filter((e) => handled.has(e.eventType));
    if (batch.length === 0) return;
    await handler(
      batch.map(
        (event): ConsumedEvent => ({
          event,
          topic: 'test',
          partition: 0,
          offset: String(offset++),
          headers: {},
          logger,
          attempt: 1,
        }),
      ),
    );
  };
  return {
    pool,
    metrics,
    registry: platform.registry,
    scheduler: createScheduler(config, { pool, clock, logger, metrics }),
    handle: (event) => handleBatch([event]),
    handleBatch,
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
  const reader = db.pool(1);
  const read = async () => {
    const result = await reader.query<{ n: number }>(
      'SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return result.rows[0]?.n ?? 0;
  };
  const before = await read();
  const applicationName = `instance-${suffix()}`;
  const pools = Array.from({ length: count }, () =>
    createPool({ ...addresses.pg, database: db.name, max: 10, applicationName }),
  );
  try {
    await work(pools);
  } finally {
    await Promise.all(pools.map((p) => p.end()));
  }
  for (let i = 0; i < 100; i++) {
    const open = await reader.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [
      applicationName,
    ]);
    if (open.rowCount === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  return (await read()) - before;
}

/** A London address near the default depot (about 2.4 km away). */
export const NEAR_DEPOT = { lat: 51.5202, lng: -0.0977 };

export function freshOrderId(): string {
  return `order-dl-${randomUUID()}`;
}

export function orderCreated(orderId: string, at?: Date): EventEnvelope<'order.created'> {
  return createEvent({
    eventType: 'order.created',
    orderId,
    correlationId: orderId,
    producer: 'order-service',
    payload: sampleOrderCreatedPayload(orderId),
    ...(at ? { occurredAt: at.toISOString() } : {}),
  });
}

function follow<T extends EventType>(
  cause: AnyEvent,
  eventType: T,
  producer: string,
  payload: EventEnvelope<T>['payload'],
): EventEnvelope<T> {
  return createEvent({
    eventType,
    orderId: cause.orderId,
    correlationId: cause.correlationId,
    causationId: cause.eventId,
    producer,
    payload,
  });
}

export function paymentAuthorized(
  created: EventEnvelope<'order.created'>,
): EventEnvelope<'payment.authorized'> {
  const { orderId, totalAmount, currency } = created.payload;
  return follow(created, 'payment.authorized', 'payment-service', {
    paymentId: `pay-${orderId}`,
    orderId,
    amount: totalAmount,
    currency,
    status: 'AUTHORIZED',
  });
}

export function orderCancelled(created: EventEnvelope<'order.created'>): EventEnvelope<'order.cancelled'> {
  return follow(created, 'order.cancelled', 'order-service', {
    orderId: created.orderId,
    cancelledBy: 'CUSTOMER',
    reason: 'changed my mind',
  });
}

export interface OutboxEvent {
  eventType: string;
  event: AnyEvent;
}

/** The order's events in this database's outbox, in publish order. */
export async function outboxOf(pool: Pool, orderId: string): Promise<OutboxEvent[]> {
  const result = await pool.query<{ event_type: string; payload: AnyEvent }>(
    'SELECT event_type, payload FROM outbox WHERE message_key = $1 ORDER BY id',
    [orderId],
  );
  return result.rows.map((row) => ({ eventType: row.event_type, event: row.payload }));
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

/** The value of one sample of a metric in a registry (0 when absent). */
export async function metricValue(
  registry: ReturnType<typeof createMetrics>['registry'],
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value ?? 0;
}
