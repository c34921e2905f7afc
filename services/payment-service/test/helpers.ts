import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type AnyEvent, createEvent, type EventEnvelope, pricedLinesOf } from '@dispatch/contracts';
import { sampleOrderCreatedPayload } from '@dispatch/contracts/testing';
import {
  backoffDelay,
  createLogger,
  createPool,
  createRedis,
  ensureDatabase,
  type HandlerContext,
  type Logger,
  PermanentError,
  parseConfig,
  type Redis,
  runMigrations,
} from '@dispatch/platform';
import { createTestIssuer, dropTestDatabase, stackAddresses } from '@dispatch/testkit';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { type PaymentConfig, paymentEnvSchema } from '../src/config';
import type { PaymentGateway } from '../src/gateway/gateway';
import { createPaymentHandler } from '../src/handlers';
import type { PaymentDeps } from '../src/handlers/context';
import { createPaymentDeps } from '../src/service';

export const addresses = stackAddresses();

/** A port nothing listens on: Redis "down" without stopping the machine's Redis, which others share. */
export const DEAD_REDIS_URL = 'redis://127.0.0.1:6390';

/** The tests' own token issuer: the service under test gets only its public JWKS file. */
export const TEST_ISSUER = createTestIssuer();

export function testLogger(name = 'payment-test'): Logger {
  return createLogger(name, process.env.TEST_LOG_LEVEL ?? 'silent');
}

/** Short gateway timings so the failure paths run in well under a second. */
export function testConfig(env: Record<string, string> = {}): PaymentConfig {
  return parseConfig('payment-service', paymentEnvSchema, {
    ...TEST_ISSUER.env,
    REDIS_URL: addresses.redisUrl,
    GATEWAY_TIMEOUT_MS: '150',
    GATEWAY_RETRIES: '2',
    GATEWAY_BACKOFF_INITIAL_MS: '10',
    GATEWAY_BACKOFF_MAX_MS: '50',
    GATEWAY_LATENCY_MS: '0',
    LOCK_TTL_MS: '1500',
    BREAKER_CONSECUTIVE_FAILURES: '50',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** Fails (never skips) with a clear message when a server is not listening. */
export async function assertReachable(what: string, host: string, port: number, hint: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port, timeout: 3_000 });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new Error(`${what} is not reachable at ${host}:${port} (${reason}). ${hint}`));
    };
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('timeout', () => fail('timed out'));
    socket.once('error', (err) => fail(err.message));
  });
}

export async function assertPostgresAndRedisReachable(): Promise<void> {
  await assertReachable('PostgreSQL', addresses.pg.host, addresses.pg.port, 'Set PGHOST/PGPORT.');
  const redis = new URL(addresses.redisUrl);
  await assertReachable('Redis', redis.hostname, Number(redis.port || 6379), 'Set REDIS_URL.');
}

export const MIGRATIONS_DIR = path.resolve(__dirname, '../src/migrations');

export interface TestDatabase {
  name: string;
  /** A pool for assertions (the pipelines get their own). */
  pool: Pool;
  newPool(max?: number): Pool;
  drop(): Promise<void>;
}

/** A fresh payment database with the platform's and payment's migrations applied. */
export async function freshDatabase(): Promise<TestDatabase> {
  const name = uniqueName('it_payment');
  const connection = { ...addresses.pg };
  await ensureDatabase({ ...connection, database: 'postgres' }, name);
  const pools: Pool[] = [];
  const newPool = (max = 4) => {
    const pool = createPool({ ...connection, database: name, max });
    pools.push(pool);
    return pool;
  };
  const pool = newPool(2);
  await runMigrations({ pool, logger: testLogger(), dir: MIGRATIONS_DIR });
  return {
    name,
    pool,
    newPool,
    drop: async () => {
      await Promise.all(pools.map((p) => p.end().catch(() => {})));
      await dropDatabase(name);
    },
  };
}

export const dropDatabase = dropTestDatabase;

/** One handler pipeline, as one instance of the service has it: its own pool, Redis client, breaker and metrics. */
export interface Pipeline {
  deps: PaymentDeps;
  registry: Registry;
  redis: Redis;
  handle(event: AnyEvent, attempt?: number): Promise<void>;
  close(): Promise<void>;
}

export function createPipeline(opts: {
  pool: Pool;
  gateway: PaymentGateway;
  config?: PaymentConfig;
  redisUrl?: string;
}): Pipeline {
  const config = opts.config ?? testConfig();
  const logger = testLogger();
  const redis = createRedis(opts.redisUrl ?? config.REDIS_URL, logger, 'payment-test');
  const registry = new Registry();
  const deps = createPaymentDeps({ config, pool: opts.pool, redis, gateway: opts.gateway, registry, logger });
  const handler = createPaymentHandler(deps);
  return {
    deps,
    registry,
    redis,
    handle: (event, attempt = 1) => handler(event, handlerContext(event, logger, attempt)),
    close: () => closeRedis(redis),
  };
}

/** QUIT when Redis answers (closes cleanly), otherwise just stop reconnecting. */
export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

function handlerContext(event: AnyEvent, logger: Logger, attempt: number): HandlerContext {
  return {
    topic: 'test',
    partition: 0,
    offset: '0',
    headers: {},
    logger: logger.child({ orderId: event.orderId, eventType: event.eventType }),
    attempt,
  };
}

/**
 * Delivers an event the way the consumer runner does: transient errors (lock busy, payment in flight)
 * are retried with capped exponential backoff and jitter; a PermanentError or running out of attempts
 * fails the test.
 */
export async function deliver(pipeline: Pipeline, event: AnyEvent, maxAttempts = 300): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await pipeline.handle(event, attempt);
      return attempt;
    } catch (err) {
      if (err instanceof PermanentError || attempt >= maxAttempts) throw err;
      await delay(backoffDelay(attempt, { initialDelayMs: 10, maxDelayMs: 100 }));
    }
  }
}

/** One order's events, built like the real producers build them. */
export interface OrderScenario {
  orderId: string;
  customerId: string;
  created: EventEnvelope<'order.created'>;
  reserved: EventEnvelope<'inventory.reserved'>;
  cancelled(): EventEnvelope<'order.cancelled'>;
  deliveryFailed(): EventEnvelope<'delivery.failed'>;
  rejected(): EventEnvelope<'inventory.rejected'>;
  /** inventory.reserved again with a new eventId (a second request for the same order). */
  reservedAgain(): EventEnvelope<'inventory.reserved'>;
}

export function orderScenario(cardToken: string | null, orderId = `order-it-${randomUUID()}`): OrderScenario {
  const customerId = `customer-${randomUUID().slice(0, 8)}`;
  const payload = sampleOrderCreatedPayload(orderId, customerId);
  const created = createEvent({
    eventType: 'order.created',
    orderId,
    correlationId: orderId,
    producer: 'order-service',
    payload: { ...payload, paymentMethod: cardToken ? { type: 'card', token: cardToken } : { type: 'card' } },
  });
  const reserve = () =>
    createEvent({
      eventType: 'inventory.reserved',
      orderId,
      correlationId: orderId,
      causationId: created.eventId,
      producer: 'inventory-service',
      payload: {
        orderId,
        customerId,
        amount: payload.totalAmount,
        currency: payload.currency,
        lines: pricedLinesOf(payload.items),
      },
    });
  const reserved = reserve();
  return {
    orderId,
    customerId,
    created,
    reserved,
    reservedAgain: reserve,
    rejected: () =>
      createEvent({
        eventType: 'inventory.rejected',
        orderId,
        correlationId: orderId,
        causationId: created.eventId,
        producer: 'inventory-service',
        payload: {
          orderId,
          customerId,
          amount: payload.totalAmount,
          currency: payload.currency,
          reasons: [
            {
              itemId: 'sku-milk-frother',
              reason: 'OUT_OF_STOCK',
              requestedQuantity: 1,
              availableQuantity: 0,
            },
          ],
        },
      }),
    cancelled: () =>
      createEvent({
        eventType: 'order.cancelled',
        orderId,
        correlationId: orderId,
        causationId: created.eventId,
        producer: 'order-service',
        payload: { orderId, cancelledBy: 'CUSTOMER', actorId: customerId, reason: 'changed my mind' },
      }),
    deliveryFailed: () =>
      createEvent({
        eventType: 'delivery.failed',
        orderId,
        correlationId: orderId,
        causationId: reserved.eventId,
        producer: 'delivery-service',
        payload: {
          orderId,
          deliveryId: `delivery-${orderId}`,
          status: 'FAILED',
          reason: 'NO_DRIVER_AVAILABLE',
        },
      }),
  };
}

export async function storedCardToken(pool: Pool, orderId: string): Promise<string | null | undefined> {
  const result = await pool.query<{ card_token: string | null }>(
    'SELECT card_token FROM payment_orders WHERE order_id = $1',
    [orderId],
  );
  return result.rows[0]?.card_token;
}

export interface OutboxEvent {
  eventType: string;
  event: AnyEvent;
  sent: boolean;
}

export async function outboxEvents(pool: Pool, orderId: string): Promise<OutboxEvent[]> {
  const result = await pool.query<{ event_type: string; payload: AnyEvent; sent_at: Date | null }>(
    'SELECT event_type, payload, sent_at FROM outbox WHERE message_key = $1 ORDER BY id',
    [orderId],
  );
  return result.rows.map((r) => ({ eventType: r.event_type, event: r.payload, sent: r.sent_at !== null }));
}

export async function paymentRows(
  pool: Pool,
  orderId: string,
): Promise<{ status: string; failure_reason: string | null; refund_status: string | null }[]> {
  const result = await pool.query(
    'SELECT status, failure_reason, refund_status FROM payments WHERE order_id = $1',
    [orderId],
  );
  return result.rows;
}

/** The value of a counter or gauge (summed over label sets, optionally filtered by labels). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} is not registered`);
  const data = await metric.get();
  // Histograms name each series (_bucket/_sum/_count): count their observations.
  const values: { value: number; labels: Record<string, unknown>; metricName?: string }[] = data.values;
  const series = values.some((v) => v.metricName !== undefined) ? `${name}_count` : undefined;
  return values
    .filter((v) => series === undefined || v.metricName === series)
    .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Sum of a metric over several pipelines (instances). */
export async function totalOver(pipelines: Pipeline[], name: string, labels: Record<string, string> = {}) {
  const values = await Promise.all(pipelines.map((p) => metricValue(p.registry, name, labels)));
  return values.reduce((a, b) => a + b, 0);
}
