import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Topics } from '@dispatch/contracts';
import { SAMPLE_DELIVERY_ADDRESS } from '@dispatch/contracts/testing';
import { createPool, type Principal, parseConfig, type RunningService } from '@dispatch/platform';
import { type SigningKey, signToken } from '@dispatch/platform/token-issuer';
import {
  assertStackReachable,
  commitGroupAtEnd,
  createTestDatabase as createSharedTestDatabase,
  createTestIssuer,
  createTestLogger,
  dropTestDatabase,
  http,
  startInProcess,
  type TestDatabase,
  testPgConfig,
  testServiceEnv,
  uniqueName,
} from '@dispatch/testkit';
import type { Pool } from 'pg';
import { type OrderConfig, orderConfigSchema } from '../src/config';
import { orderService } from '../src/service';

export type { TestDatabase };

/** The tests' own token issuer: the service under test gets its public JWKS file only. */
export const TEST_ISSUER = createTestIssuer();

export const testLogger = createTestLogger('order-service-test');

/** The base of every problem type the service answers with. */
export const PROBLEM = 'https://dispatch.dev/problems/';
const MIGRATIONS_DIR = path.resolve(__dirname, '..', 'src', 'migrations');

/**
 * A fresh order_db with the platform's and the service's migrations and nothing running against it: no
 * relay publishes its outbox and no consumer changes its orders, so a test decides every status itself.
 */
export function createTestDatabase(max = 8): Promise<TestDatabase> {
  return createSharedTestDatabase({
    prefix: 'it_orders',
    migrationsDir: MIGRATIONS_DIR,
    poolMax: max,
    logger: testLogger,
  });
}

export interface TestOrderService {
  service: RunningService;
  config: OrderConfig;
  base: string;
  database: string;
  /** A pool of its own on the service's database, for assertions. */
  db: Pool;
  stop(): Promise<void>;
}

/**
 * order-service started in-process the way main.ts starts it, on a free port, with a fresh database,
 * a fresh consumer group (so a running order-service never takes our partitions) and the test secret.
 * The group starts at the topics' current end: replaying their whole history (none of it about this
 * database's orders) would only keep the pool busy while the tests run.
 */
export async function startTestOrderService(env: Record<string, string> = {}): Promise<TestOrderService> {
  await assertStackReachable(['postgres', 'kafka', 'redis']);
  const database = uniqueName('it_orders');
  const groupId = `order-service-it-${randomUUID()}`;
  await commitGroupAtEnd(groupId, [Topics.inventory, Topics.payment, Topics.delivery]);
  const config = parseConfig(
    'order-service',
    orderConfigSchema,
    testServiceEnv(TEST_ISSUER, {
      PGDATABASE: database,
      KAFKA_GROUP_ID: groupId,
      ORDERS_RATE_LIMIT: '100000',
      ...env,
    }),
  );
  const service = await startInProcess(orderService({ ...config, PORT: 0 }));
  const db = createPool({ ...testPgConfig(database), max: 4 }, testLogger);
  return {
    service,
    config,
    base: service.base,
    database,
    db,
    stop: async () => {
      await service.stop();
      await db.end();
      await dropTestDatabase(database);
    },
  };
}

export interface OrderServiceUnderTest {
  /** The running service: read it inside tests and hooks (it starts in the file's beforeAll). */
  svc: TestOrderService;
  /** POST /api/orders on that service. */
  postOrder(body: unknown, token: string, headers?: Record<string, string>): Promise<HttpReply>;
}

/** startTestOrderService before the calling file's tests, and its stop after them. */
export function useTestOrderService(env: Record<string, string> = {}): OrderServiceUnderTest {
  let running: TestOrderService | undefined;
  beforeAll(async () => {
    running = await startTestOrderService(env);
  });
  afterAll(async () => {
    await running?.stop();
  });
  const current = (): TestOrderService => {
    if (!running) throw new Error('order-service is not started yet: use it inside tests and hooks');
    return running;
  };
  const svc: TestOrderService = {
    get service() {
      return current().service;
    },
    get config() {
      return current().config;
    },
    get base() {
      return current().base;
    },
    get database() {
      return current().database;
    },
    get db() {
      return current().db;
    },
    stop: () => current().stop(),
  };
  return {
    svc,
    postOrder: (body, token, headers = {}) => request(svc.base, '/api/orders', { body, token, headers }),
  };
}

export function customerId(): string {
  return `customer-${randomUUID()}`;
}

export async function tokenFor(
  principal: Principal,
  opts: { expiresIn?: string; key?: SigningKey; issuer?: string; audience?: string } = {},
): Promise<string> {
  return signToken(
    opts.key ?? TEST_ISSUER.currentKey(),
    {
      issuer: opts.issuer ?? TEST_ISSUER.claims.issuer,
      audience: opts.audience ?? TEST_ISSUER.claims.audience,
    },
    principal,
    opts.expiresIn ?? '1h',
  );
}

export function customerToken(subject: string): Promise<string> {
  return tokenFor({ subject, roles: ['customer'] });
}

export function adminToken(subject = `admin-${randomUUID()}`): Promise<string> {
  return tokenFor({ subject, roles: ['admin'] });
}

/**
 * A valid, seed-shaped order body (two lines, 64.99 EUR). The SKUs are in no catalogue, so an
 * inventory-service running against the same topics rejects these orders instead of holding its stock.
 */
export function orderBody(customer: string) {
  return {
    customerId: customer,
    currency: 'EUR',
    items: [
      { itemId: 'it-order-service-beans', quantity: 2, unitPrice: '12.50' },
      { itemId: 'it-order-service-frother', quantity: 1, unitPrice: '39.99' },
    ],
    deliveryAddress: { ...SAMPLE_DELIVERY_ADDRESS },
    paymentMethod: { type: 'card', token: 'tok_visa_4242_test' },
  };
}

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; {} when it is not JSON. */
  json: Record<string, unknown>;
}

/** testkit's http (a POST unless `method` says otherwise), answering with the body as JSON. */
export async function request(
  base: string,
  path: string,
  init: { method?: string } & Parameters<typeof http>[2] = {},
): Promise<HttpReply> {
  const { method = 'POST', ...opts } = init;
  const { status, headers, text } = await http(method, `${base}${path}`, opts);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON; the caller asserts on text
  }
  return { status, headers, text, json };
}

export interface TableState {
  /** The columns a request writes; status, facts and updated_at follow consumed events. */
  orders: string;
  orderLines: string;
  idempotencyKeys: string;
  /** Count and highest id: the relay marks rows sent, which is not a write of a request. */
  outbox: string;
}

/**
 * A fingerprint of every table a request could write, to prove a refused request wrote nothing. The
 * saga keeps running meanwhile (other services react to our order.created, and our consumer folds their
 * events into orders.status/facts and the inbox), so those consumer-owned columns are left out.
 */
export async function tableState(db: Pool): Promise<TableState> {
  const digest = (rows: string, order: string) =>
    `(SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY ${order}), '')) FROM ${rows} t)`;
  const { rows } = await db.query<TableState>(
    `SELECT ${digest(
      `(SELECT order_id, customer_id, currency, total_amount, delivery_address, payment_method_type,
               created_event_id, created_at, cancelled_at, cancelled_by, cancel_reason, cancel_event_id
          FROM orders)`,
      'order_id',
    )} AS "orders",
            ${digest('order_lines', 'order_id, line_no')} AS "orderLines",
            ${digest('idempotency_keys', 'scope, idempotency_key')} AS "idempotencyKeys",
            (SELECT count(*) || ':' || coalesce(max(id), 0) FROM outbox) AS "outbox"`,
  );
  return rows[0] as TableState;
}
