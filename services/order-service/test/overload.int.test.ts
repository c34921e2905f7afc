import { randomUUID } from 'node:crypto';
import {
  type AdmissionOptions,
  createHttpApp,
  createMetrics,
  createPool,
  createTokenVerifier,
  type HttpApp,
} from '@dispatch/platform';
import { testPgConfig } from '@dispatch/testkit';
import type { RequestHandler } from 'express';
import type { Pool, PoolClient } from 'pg';
import { addOrderRoutes } from '../src/http/routes';
import { createOrderMetrics } from '../src/metrics';
import {
  createTestDatabase,
  customerId,
  customerToken,
  type HttpReply,
  orderBody,
  request,
  TEST_ISSUER,
  type TestDatabase,
  testLogger,
} from './helpers';

/**
 * POST /api/orders under more load than the service admits: the order routes in the platform's HTTP
 * app with a small admission limit, against a fresh order_db (no relay, no consumer). Whatever is
 * refused is a 503 `overloaded` with Retry-After that did nothing; whatever is accepted is a complete
 * order; a client retrying the 503s with the same Idempotency-Key gets every order exactly once.
 */

const OVERLOADED = 'https://dispatch.dev/problems/overloaded';
const noRateLimit: RequestHandler = (_req, _res, next) => next();

interface TestApp {
  http: HttpApp;
  base: string;
  metricsText(): Promise<string>;
}

async function startApp(pool: Pool, admission: Partial<AdmissionOptions>): Promise<TestApp> {
  const platform = createMetrics('order-service');
  const http = createHttpApp({
    service: 'order-service',
    logger: testLogger,
    metrics: platform,
    readinessChecks: [],
    admission,
    routes: (app) =>
      addOrderRoutes(app, {
        pool,
        metrics: createOrderMetrics(platform),
        logger: testLogger,
        verifyToken: createTokenVerifier({
          AUTH_JWKS_FILE: TEST_ISSUER.jwksFile,
          AUTH_JWT_ISSUER: 'dispatch',
          AUTH_JWT_AUDIENCE: 'dispatch-api',
        }),
        rateLimiter: noRateLimit,
      }),
  });
  const base = `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}`;
  return { http, base, metricsText: async () => (await fetch(`${base}/metrics`)).text() };
}

function expectOverloaded(reply: HttpReply): number {
  expect(reply.status).toBe(503);
  expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(reply.json).toMatchObject({ type: OVERLOADED, status: 503, title: expect.any(String) });
  expect(typeof reply.json.detail).toBe('string');
  const retryAfter = Number(reply.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
  return retryAfter;
}

function rejected(metrics: string, reason: string): number {
  const match = new RegExp(`^http_requests_rejected_total\\{reason="${reason}"[^}]*\\} (\\d+)`, 'm').exec(
    metrics,
  );
  return Number(match?.[1] ?? Number.NaN);
}

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase(8);
});

afterAll(async () => {
  await db?.drop();
});

describe('a flood of POST /api/orders beyond the admission limit', () => {
  const FLOOD = 40;
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp(db.pool, { maxConcurrent: 2, maxQueue: 3, maxWaitMs: 1_000, retryAfterSeconds: 1 });
  });

  afterAll(async () => {
    await app?.http.close();
  });

  it('answers 201 or 503 overloaded (never another 5xx), each 201 a whole order and each 503 nothing; retries with the same key get every order once', async () => {
    const customers = Array.from({ length: FLOOD }, () => customerId());
    const tokens = await Promise.all(customers.map((c) => customerToken(c)));
    const keys = customers.map(() => `flood-${randomUUID()}`);
    const post = (i: number) =>
      request(app.base, '/api/orders', {
        body: orderBody(customers[i]!),
        token: tokens[i]!,
        headers: { 'idempotency-key': keys[i]! },
      });

    // Hold the outbox so the admitted requests stay in flight while the flood arrives: the limit, not
    // the speed of this machine, decides who gets in.
    const blocker: PoolClient = await db.pool.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE outbox IN EXCLUSIVE MODE');
    const flood = customers.map((_c, i) => post(i));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await blocker.query('COMMIT');
    blocker.release();
    const replies = await Promise.all(flood);

    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
    const created = replies.flatMap((r, i) =>
      r.status === 201 ? [{ i, orderId: String(r.json.orderId) }] : [],
    );
    const refused = replies.flatMap((r, i) => (r.status === 503 ? [i] : []));
    expect(created.length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeGreaterThan(0);
    for (const i of refused) expectOverloaded(replies[i]!);

    // Every 201 is a whole order (row, lines, order.created); a 503 wrote nothing.
    const orders = await db.pool.query<{
      order_id: string;
      customer_id: string;
      lines: number;
      events: number;
    }>(
      `SELECT o.order_id, o.customer_id,
              (SELECT count(*)::int FROM order_lines l WHERE l.order_id = o.order_id) AS lines,
              (SELECT count(*)::int FROM outbox x WHERE x.message_key = o.order_id::text) AS events
         FROM orders o WHERE o.customer_id = ANY ($1)`,
      [customers],
    );
    expect(orders.rows.map((o) => o.order_id).sort()).toEqual(created.map((c) => c.orderId).sort());
    for (const order of orders.rows) expect([order.lines, order.events]).toEqual([2, 1]);
    const keysStored = await db.pool.query(
      'SELECT count(*)::int AS n FROM idempotency_keys WHERE scope = ANY ($1)',
      [customers],
    );
    expect(keysStored.rows[0].n).toBe(created.length);

    const metrics = await app.metricsText();
    expect(rejected(metrics, 'queue_full') + rejected(metrics, 'queue_timeout')).toBe(refused.length);
    expect(metrics).toMatch(/^http_requests_in_flight\{[^}]*\} 0$/m);
    expect(metrics).toMatch(/^http_requests_queued\{[^}]*\} 0$/m);

    // A client retries each 503 after Retry-After with the same key, until it gets its 201.
    const firstOrder = new Map(created.map((c) => [c.i, c.orderId]));
    const retried = await Promise.all(
      refused.map(async (i) => {
        for (let attempt = 1; attempt <= 20; attempt += 1) {
          const reply = await post(i);
          if (reply.status === 201) return String(reply.json.orderId);
          const wait = expectOverloaded(reply);
          await new Promise((resolve) => setTimeout(resolve, wait * 1_000 * Math.random()));
        }
        throw new Error(`order ${i} still refused after 20 attempts`);
      }),
    );
    for (const [n, i] of refused.entries()) firstOrder.set(i, retried[n]!);
    // Replaying a key that was created in the flood answers the same order.
    const replay = await post(created[0]!.i);
    expect([replay.status, replay.json.orderId, replay.headers.get('idempotent-replayed')]).toEqual([
      201,
      created[0]!.orderId,
      'true',
    ]);

    const all = await db.pool.query<{ customer_id: string; order_id: string }>(
      'SELECT customer_id, order_id FROM orders WHERE customer_id = ANY ($1)',
      [customers],
    );
    expect(all.rows).toHaveLength(FLOOD);
    const byCustomer = new Map(all.rows.map((r) => [r.customer_id, r.order_id]));
    expect(customers.map((c) => byCustomer.get(c))).toEqual(customers.map((_c, i) => firstOrder.get(i)));
  });

  it('answers normally once the flood is over', async () => {
    const customer = customerId();
    const started = Date.now();
    const reply = await request(app.base, '/api/orders', {
      body: orderBody(customer),
      token: await customerToken(customer),
    });
    expect(reply.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await fetch(`${app.base}/health/ready`)).status).toBe(200);
  });
});

describe('a PostgreSQL pool with no free connection', () => {
  let pool: Pool;
  let app: TestApp;

  beforeAll(async () => {
    pool = createPool({ ...testPgConfig(db.name), max: 1, connectionTimeoutMs: 200 }, testLogger);
    // More admitted than the pool serves, so the checkout is what runs out.
    app = await startApp(pool, { maxConcurrent: 10 });
  });

  afterAll(async () => {
    await app?.http.close();
    await pool?.end();
  });

  it('answers 503 overloaded with Retry-After when the checkout times out, and 201 once a connection is free', async () => {
    const customer = customerId();
    const token = await customerToken(customer);
    const key = `pool-${randomUUID()}`;
    const post = () =>
      request(app.base, '/api/orders', {
        body: orderBody(customer),
        token,
        headers: { 'idempotency-key': key },
      });

    const held = await pool.connect();
    const started = Date.now();
    const refused = await post();
    held.release();
    expect(Date.now() - started).toBeLessThan(2_000);
    expectOverloaded(refused);
    expect(rejected(await app.metricsText(), 'db_pool_timeout')).toBe(1);
    const none = await db.pool.query('SELECT count(*)::int AS n FROM orders WHERE customer_id = $1', [
      customer,
    ]);
    expect(none.rows[0].n).toBe(0);

    const retry = await post();
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
  });
});
