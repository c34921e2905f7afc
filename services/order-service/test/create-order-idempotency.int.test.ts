import { randomUUID } from 'node:crypto';
import { eventually } from '@dispatch/testkit';
import { requestHash } from '../src/domain/idempotency';
import { customerId, customerToken, orderBody, PROBLEM, useTestOrderService } from './helpers';

const { svc, postOrder } = useTestOrderService();

describe('Idempotency-Key', () => {
  const countOrders = async (customer: string) =>
    Number(
      (await svc.db.query('SELECT count(*) FROM orders WHERE customer_id = $1', [customer])).rows[0].count,
    );

  it('answers a sequential repeat with the same status and byte-identical body, creating one order', async () => {
    const customer = customerId();
    const token = await customerToken(customer);
    const key = `seq-${randomUUID()}`;
    const first = await postOrder(orderBody(customer), token, { 'idempotency-key': key });
    // Same body with keys in another order: the canonical body is the same.
    const reordered = JSON.parse(
      JSON.stringify(orderBody(customer), Object.keys(orderBody(customer)).reverse()),
    );
    const second = await postOrder({ ...reordered, ...orderBody(customer) }, token, {
      'idempotency-key': key,
    });

    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await countOrders(customer)).toBe(1);
    const outbox = await svc.db.query('SELECT count(*) FROM outbox WHERE message_key = $1', [
      first.json.orderId,
    ]);
    expect(Number(outbox.rows[0].count)).toBe(1);
  });

  it('20 concurrent requests with one key create exactly one order; the others get its response or 409', async () => {
    const customer = customerId();
    const token = await customerToken(customer);
    const key = `concurrent-${randomUUID()}`;
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => postOrder(orderBody(customer), token, { 'idempotency-key': key })),
    );

    const created = replies.filter((r) => r.status === 201);
    const conflicts = replies.filter((r) => r.status === 409);
    expect(created.length + conflicts.length).toBe(20);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.text)).size).toBe(1);
    for (const conflict of conflicts) expect(conflict.json.type).toBe(`${PROBLEM}idempotency-key-in-flight`);
    expect(await countOrders(customer)).toBe(1);

    // Once the first has finished, every retry gets the stored response.
    const retry = await postOrder(orderBody(customer), token, { 'idempotency-key': key });
    expect(retry.status).toBe(201);
    expect(retry.text).toBe(created[0]?.text);
  });

  it('a repeat sent while the first request is still committing waits for it and answers its response', async () => {
    const customer = customerId();
    const token = await customerToken(customer);
    const key = `committing-${randomUUID()}`;
    // The outbox lock keeps the first request inside its transaction, holding its uncommitted key.
    const blocker = await svc.db.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE outbox IN EXCLUSIVE MODE');
      const first = postOrder(orderBody(customer), token, { 'idempotency-key': key });
      await eventually(
        async () => {
          const waiting = await svc.db.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO outbox%'`,
          );
          expect(waiting.rows[0].n).toBe(1);
        },
        { timeoutMs: 10_000, intervalMs: 20 },
      );
      const second = postOrder(orderBody(customer), token, { 'idempotency-key': key });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await blocker.query('COMMIT');
      const [a, b] = await Promise.all([first, second]);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(b.text).toBe(a.text);
      expect(a.headers.get('idempotent-replayed')).toBeNull();
      expect(b.headers.get('idempotent-replayed')).toBe('true');
      expect(await countOrders(customer)).toBe(1);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
  });

  it('answers 422 for the same key with a different body, and keeps the first order', async () => {
    const customer = customerId();
    const token = await customerToken(customer);
    const key = `reuse-${randomUUID()}`;
    const first = await postOrder(orderBody(customer), token, { 'idempotency-key': key });
    const changed = {
      ...orderBody(customer),
      items: [{ itemId: 'sku-other', quantity: 1, unitPrice: '1.00' }],
    };
    const second = await postOrder(changed, token, { 'idempotency-key': key });

    expect(first.status).toBe(201);
    expect(second.status).toBe(422);
    expect(second.json.type).toBe(`${PROBLEM}idempotency-key-reused`);
    expect(await countOrders(customer)).toBe(1);
  });

  it('scopes keys to the caller: two customers may use the same key', async () => {
    const key = `shared-${randomUUID()}`;
    const a = customerId();
    const b = customerId();
    const first = await postOrder(orderBody(a), await customerToken(a), { 'idempotency-key': key });
    const second = await postOrder(orderBody(b), await customerToken(b), { 'idempotency-key': key });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(first.json.orderId).not.toBe(second.json.orderId);
  });

  it("takes over a crashed request's key once its lease has expired", async () => {
    const customer = customerId();
    const key = `crashed-${randomUUID()}`;
    const body = orderBody(customer);
    const staleToken = randomUUID();
    await svc.db.query(
      `INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, state, claim_token, locked_until)
       VALUES ($1, $2, $3, 'in_flight', $4, now() - interval '1 second')`,
      [customer, key, requestHash(body), staleToken],
    );
    const reply = await postOrder(body, await customerToken(customer), { 'idempotency-key': key });

    expect(reply.status).toBe(201);
    const stored = await svc.db.query(
      'SELECT state, order_id, response_body, claim_token FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2',
      [customer, key],
    );
    expect(stored.rows).toEqual([
      {
        state: 'completed',
        order_id: reply.json.orderId,
        response_body: reply.text,
        claim_token: expect.any(String),
      },
    ]);
    expect(stored.rows[0].claim_token).not.toBe(staleToken);
    expect(await countOrders(customer)).toBe(1);
  });

  it('counts replays on /metrics', async () => {
    const metrics = await (await fetch(`${svc.base}/metrics`)).text();
    expect(metrics).toMatch(/^orders_idempotent_replays_total\{service="order-service"\} [1-9]/m);
  });
});
