import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type AnyEvent, type EventEnvelope, followUp, pricedLinesOf } from '@dispatch/contracts';
import { sampleOrderCreatedPayload } from '@dispatch/contracts/testing';
import { backoffDelay, createRedis, PermanentError, parseConfig, type Redis } from '@dispatch/platform';
import {
  assertStackReachable,
  batchFeeder,
  consumedEvent,
  createTestDatabase,
  createTestIssuer,
  createTestLogger,
  metricValue,
  orderCreatedEvent,
  type TestDatabase,
  testServiceEnv,
} from '@dispatch/testkit';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { type PaymentConfig, paymentConfigSchema } from '../src/config';
import type { PaymentGateway } from '../src/gateway/gateway';
import { SimulatedGateway } from '../src/gateway/simulated-gateway';
import { createBatchHandler, HANDLED_EVENT_TYPES } from '../src/handlers';
import type { PaymentDeps } from '../src/handlers/context';
import { createPaymentDeps } from '../src/service';

export type { TestDatabase };

/** A port nothing listens on: Redis "down" without stopping the machine's Redis, which others share. */
export const DEAD_REDIS_URL = 'redis://127.0.0.1:6390';

/** The tests' own token issuer: the service under test gets only its public JWKS file. */
export const TEST_ISSUER = createTestIssuer();

export const testLogger = createTestLogger('payment-test');

const MIGRATIONS_DIR = path.resolve(__dirname, '../src/migrations');

/** The stack's addresses and logins, with short gateway timings so the failure paths run in well under a second. */
export function testConfig(env: Record<string, string> = {}): PaymentConfig {
  return parseConfig(
    'payment-service',
    paymentConfigSchema,
    testServiceEnv(TEST_ISSUER, {
      GATEWAY_TIMEOUT_MS: '150',
      GATEWAY_RETRIES: '2',
      GATEWAY_BACKOFF_INITIAL_MS: '10',
      GATEWAY_BACKOFF_MAX_MS: '50',
      GATEWAY_LATENCY_MS: '0',
      LOCK_TTL_MS: '1500',
      BREAKER_CONSECUTIVE_FAILURES: '50',
      ...env,
    }),
  );
}

/** A fresh payment database with the platform's and payment's migrations applied (`pool` is for assertions). */
export function createPaymentDatabase(): Promise<TestDatabase> {
  return createTestDatabase({
    prefix: 'it_payment',
    migrationsDir: MIGRATIONS_DIR,
    poolMax: 2,
    logger: testLogger,
  });
}

/** One handler pipeline, as one instance of the service has it: its own pool, Redis client, breaker and metrics. */
export interface Pipeline {
  deps: PaymentDeps;
  registry: Registry;
  redis: Redis;
  handle(event: AnyEvent, attempt?: number): Promise<void>;
  /** A batch of events, as one fetch hands them to the consumer's handler. */
  handleBatch(events: readonly AnyEvent[]): Promise<void>;
  close(): Promise<void>;
}

export function createPipeline(opts: {
  pool: Pool;
  gateway: PaymentGateway;
  config?: PaymentConfig;
  redisUrl?: string;
}): Pipeline {
  const config = opts.config ?? testConfig();
  const redis = createRedis(opts.redisUrl ?? config.REDIS_URL, testLogger, 'payment-test');
  const registry = new Registry();
  const deps = createPaymentDeps({
    config,
    pool: opts.pool,
    redis,
    gateway: opts.gateway,
    registry,
    logger: testLogger,
  });
  const handler = createBatchHandler(deps);
  return {
    deps,
    registry,
    redis,
    handle: (event, attempt = 1) => handler([consumedEvent(event, { attempt, logger: testLogger })]),
    handleBatch: batchFeeder(handler, HANDLED_EVENT_TYPES, testLogger),
    close: () => closeRedis(redis),
  };
}

/** A describe block's own payment database, simulated gateway and pipeline. */
export interface PaymentTestEnv {
  db: TestDatabase;
  gateway: SimulatedGateway;
  pipeline: Pipeline;
}

/**
 * Makes a PaymentTestEnv before the block's tests (a fresh real database, the real Redis) and drops it
 * after them; `env` is passed to testConfig. Its fields are set once beforeAll has run.
 */
export function usePaymentPipeline(env: Record<string, string> = {}): PaymentTestEnv {
  const test = {} as PaymentTestEnv;
  beforeAll(async () => {
    await assertStackReachable(['postgres', 'redis']);
    test.db = await createPaymentDatabase();
    test.gateway = new SimulatedGateway();
    test.pipeline = createPipeline({
      pool: test.db.newPool(),
      gateway: test.gateway,
      config: testConfig(env),
    });
  });
  afterAll(async () => {
    await test.pipeline?.close();
    await test.db?.drop();
  });
  return test;
}

/** QUIT when Redis answers (closes cleanly), otherwise just stop reconnecting. */
async function closeRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
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
  const created = orderCreatedEvent({
    ...payload,
    paymentMethod: cardToken ? { type: 'card', token: cardToken } : { type: 'card' },
  });
  const { totalAmount: amount, currency } = payload;
  const reserve = () =>
    followUp(created, 'inventory.reserved', {
      orderId,
      customerId,
      amount,
      currency,
      lines: pricedLinesOf(payload.items),
    });
  const reserved = reserve();
  return {
    orderId,
    customerId,
    created,
    reserved,
    reservedAgain: reserve,
    rejected: () =>
      followUp(created, 'inventory.rejected', {
        orderId,
        customerId,
        amount,
        currency,
        reasons: [
          { itemId: 'sku-milk-frother', reason: 'OUT_OF_STOCK', requestedQuantity: 1, availableQuantity: 0 },
        ],
      }),
    cancelled: () =>
      followUp(created, 'order.cancelled', {
        orderId,
        cancelledBy: 'CUSTOMER',
        actorId: customerId,
        reason: 'changed my mind',
      }),
    deliveryFailed: () =>
      followUp(reserved, 'delivery.failed', {
        orderId,
        deliveryId: `delivery-${orderId}`,
        status: 'FAILED',
        reason: 'NO_DRIVER_AVAILABLE',
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

/** Sum of a metric over several pipelines (instances). */
export async function totalOver(pipelines: Pipeline[], name: string, labels: Record<string, string> = {}) {
  const values = await Promise.all(pipelines.map((p) => metricValue(p.registry, name, labels)));
  return values.reduce((a, b) => a + b, 0);
}
