import { createPool, pgConnection } from '@dispatch/platform';
import { createTestLogger, eventually, startInProcess } from '@dispatch/testkit';
import { Registry } from 'prom-client';
import { parseSignatureHeader } from '../src/domain/signature';
import { releaseStaleEvents } from '../src/handlers';
import { createWebhookMetrics } from '../src/metrics';
import { webhookService } from '../src/service';
import { pruneFinished } from '../src/store/retention';
import { type Delivery, useWebhookService, type Webhook } from './helpers';

jest.setTimeout(120_000);

/**
 * Delivery: signed, selected, in causal order, retried, across restarts and instances, disabled on
 * failure, redelivered, pruned. The retention test runs last: it prunes what the tests before it sent.
 */
describe('webhook-service (real PostgreSQL, Kafka and HTTP receiver)', () => {
  const h = useWebhookService();
  const {
    config,
    database,
    start,
    call,
    order,
    register,
    publish,
    deliveries,
    of,
    eventIdOf,
    signatureOf,
    verified,
  } = h;

  it('delivers every selected event signed, with its event id, each order in causal order', async () => {
    const hook = await register('/signed', ['order.created', 'inventory.reserved', 'payment.authorized']);
    const a = order().slice(0, 3); // order.created → inventory.reserved → payment.authorized
    const b = order().slice(0, 3);
    // Effects published before their causes (they sit on other topics): still delivered cause first.
    await publish([a[2]!, b[1]!, a[1]!]);
    await publish([a[0]!, b[0]!, b[2]!]);
    const got = await eventually(() => {
      const rs = of('/signed', [...a, ...b]);
      expect(rs).toHaveLength(6);
      return rs;
    });
    for (const r of got) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(verified(r, hook.secret)).toBe(true);
      expect(verified(r, 'whsec_someone-else')).toBe(false);
      expect(parseSignatureHeader(signatureOf(r))!.v1).toHaveLength(1);
      const body = JSON.parse(r.rawBody) as { id: string; type: string; data: unknown };
      expect(body.id).toBe(eventIdOf(r));
      expect(r.headers['dispatch-event-type']).toBe(body.type);
      expect(r.rawBody).not.toContain('tok_visa');
    }
    for (const events of [a, b]) {
      expect(of('/signed', events).map(eventIdOf)).toEqual(events.map((e) => e.eventId));
    }
    const listed = await deliveries(hook.id);
    expect(listed.filter((d) => d.state === 'delivered').length).toBeGreaterThanOrEqual(6);
  });

  it('selects by event type and customer', async () => {
    const events = order().slice(0, 2);
    const customerId = (events[0]!.payload as { customerId: string }).customerId;
    const mine = await register('/mine', ['inventory.reserved'], { customerId });
    const others = await register('/others', ['inventory.reserved'], { customerId: 'customer-nobody' });
    await publish(events);
    await eventually(() => expect(of('/mine', events).map(eventIdOf)).toEqual([events[1]!.eventId]));
    expect(of('/others', events)).toHaveLength(0);
    expect((await deliveries(others.id)).length).toBe(0);
    await call('DELETE', `/api/webhooks/${mine.id}`);
    await call('DELETE', `/api/webhooks/${others.id}`);
  });

  it('retries after 500s with backoff, and holds the order’s next event until the first is delivered', async () => {
    const hook = await register('/flaky', ['order.created', 'inventory.reserved']);
    const events = order().slice(0, 2);
    h.receiver.on('/flaky', (r, nth) => ({
      status: nth <= 2 && eventIdOf(r) === events[0]!.eventId ? 500 : 200,
    }));
    await publish(events);
    await eventually(() => expect(of('/flaky', events).map(eventIdOf)).toContain(events[1]!.eventId), {
      timeoutMs: 30_000,
    });
    const rs = of('/flaky', events);
    // created (500), created (500), created (200), then reserved: never reserved before created got through.
    expect(rs.map(eventIdOf)).toEqual([
      events[0]!.eventId,
      events[0]!.eventId,
      events[0]!.eventId,
      events[1]!.eventId,
    ]);
    // Backoff: the first retry waits at least half the base (300 ms), the second half of twice the base.
    expect(rs[1]!.at - rs[0]!.at).toBeGreaterThanOrEqual(140);
    expect(rs[2]!.at - rs[1]!.at).toBeGreaterThanOrEqual(290);
    const created = (await deliveries(hook.id)).find((d) => d.eventId === events[0]!.eventId)!;
    expect(created.state).toBe('delivered');
    expect(created.attempts.map((x) => [x.attempt, x.statusCode, x.outcome])).toEqual([
      [1, 500, 'failed'],
      [2, 500, 'failed'],
      [3, 200, 'delivered'],
    ]);
    expect(created.attempts[0]!.error).toContain('HTTP 500');
  });

  it('survives a restart mid-retry: the pending delivery goes out from the new process', async () => {
    const hook = await register('/restart', ['order.created']);
    const [created] = order();
    let up = false;
    h.receiver.on('/restart', () => ({ status: up ? 204 : 503 }));
    await publish([created!]);
    await eventually(async () => {
      const [d] = await deliveries(hook.id);
      expect(d?.attempts.length).toBeGreaterThanOrEqual(1);
    });
    await h.service.stop();
    up = true;
    const before = of('/restart', [created!]).length;
    await start();
    await eventually(
      async () => {
        const [d] = await deliveries(hook.id);
        expect(d?.state).toBe('delivered');
        expect(d!.attempts.at(-1)).toMatchObject({ statusCode: 204, outcome: 'delivered' });
      },
      { timeoutMs: 30_000 },
    );
    expect(of('/restart', [created!]).length).toBe(before + 1);
  });

  it('holds effects whose cause never arrives; the sweep releases them past the hold, cause first', async () => {
    // Unfiltered: without its order.created, payment.authorized names no owner, and an unknown owner
    // matches only endpoints that take every customer's orders (this one sees other tests' events too).
    const hook = await register('/stale', ['inventory.reserved', 'payment.authorized'], {
      customerId: undefined,
    });
    const [created, reserved, authorized] = order();
    // order.created is never published: both effects wait for it, in reverse order of arrival.
    await publish([authorized!, reserved!]);
    const pool = createPool({ ...pgConnection(config), database });
    try {
      await eventually(async () => {
        const { rows } = await pool.query<{ held: number }>(
          'SELECT count(*)::int AS held FROM webhook_events WHERE order_id = $1 AND released_at IS NULL',
          [created!.orderId],
        );
        expect(rows[0]!.held).toBe(2);
      });
      expect(of('/stale', [reserved!, authorized!])).toEqual([]);
      const released = await releaseStaleEvents({
        pool,
        metrics: createWebhookMetrics(new Registry()),
        logger: createTestLogger('webhook-hold-sweep'),
        holdMaxMs: 0,
      });
      expect(released).toBeGreaterThanOrEqual(2);
      const got = await eventually(() => {
        const rs = of('/stale', [reserved!, authorized!]);
        expect(rs).toHaveLength(2);
        return rs;
      });
      expect(got.map(eventIdOf)).toEqual([reserved!.eventId, authorized!.eventId]);
      const ours = new Set([reserved!.eventId, authorized!.eventId]);
      await eventually(async () => {
        const states = (await deliveries(hook.id)).filter((d) => ours.has(d.eventId)).map((d) => d.state);
        expect(states).toEqual(['delivered', 'delivered']);
      });
      expect(await call('DELETE', `/api/webhooks/${hook.id}`)).toMatchObject({ status: 204 });
    } finally {
      await pool.end();
    }
  });

  it('a 410 disables the endpoint (counted); events meanwhile are not queued for it; enabling resends the pending one', async () => {
    const hook = await register('/gone', ['order.created']);
    const witness = await register('/witness', ['order.created']);
    h.receiver.on('/gone', () => ({ status: 410 }));
    const [a] = order();
    const [b] = order();
    await publish([a!]);
    await eventually(async () => {
      const res = await call<Webhook>('GET', `/api/webhooks/${hook.id}`);
      expect(res.body).toMatchObject({ enabled: false, disabledReason: 'gone' });
    });
    const metrics = await (await fetch(`${h.service.base}/metrics`)).text();
    expect(metrics).toMatch(/webhook_endpoints_disabled_total\{[^}]*reason="gone"[^}]*\} [1-9]/);
    h.receiver.on('/gone', () => ({ status: 200 }));
    await publish([b!]);
    // b was consumed (the witness has it) but not queued for the disabled endpoint, nor sent.
    await eventually(() => expect(of('/witness', [b!])).toHaveLength(1));
    expect((await deliveries(hook.id)).map((d) => d.eventId)).toEqual([a!.eventId]);
    expect(of('/gone', [a!, b!]).map(eventIdOf)).toEqual([a!.eventId]);
    expect((await call('PATCH', `/api/webhooks/${hook.id}`, { enabled: true })).status).toBe(200);
    await eventually(() => expect(of('/gone', [a!, b!]).map(eventIdOf)).toEqual([a!.eventId, a!.eventId]));
    const [d] = await deliveries(hook.id);
    expect(d!.attempts.map((x) => [x.statusCode, x.outcome])).toEqual([
      [410, 'gone'],
      [200, 'delivered'],
    ]);
    await call('DELETE', `/api/webhooks/${witness.id}`);
  });

  it('repeated failures disable the endpoint after the threshold', async () => {
    const hook = await register('/down', ['order.created']);
    h.receiver.on('/down', () => ({ status: 500 }));
    await publish([order()[0]!]);
    await eventually(
      async () => {
        const res = await call<Webhook & { consecutiveFailures: number }>('GET', `/api/webhooks/${hook.id}`);
        expect(res.body).toMatchObject({ enabled: false, disabledReason: 'failing', consecutiveFailures: 4 });
      },
      { timeoutMs: 30_000 },
    );
    const metrics = await (await fetch(`${h.service.base}/metrics`)).text();
    expect(metrics).toMatch(/webhook_endpoints_disabled_total\{[^}]*reason="failing"[^}]*\} [1-9]/);
  });

  it('during a rotation overlap sends two v1 (new and old secret); after it one', async () => {
    const hook = await register('/rotate', ['order.created']);
    const rotated = await call<{ secret: string; previousSecretExpiresAt: string }>(
      'POST',
      `/api/webhooks/${hook.id}/rotate-secret`,
      { overlapSeconds: 3600 },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(hook.secret);
    expect(new Date(rotated.body.previousSecretExpiresAt).getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    const [first] = order();
    await publish([first!]);
    const r1 = await eventually(() => {
      const [r] = of('/rotate', [first!]);
      expect(r).toBeDefined();
      return r!;
    });
    const v1 = parseSignatureHeader(signatureOf(r1))!.v1;
    expect(v1).toHaveLength(2);
    expect(verified(r1, rotated.body.secret)).toBe(true);
    expect(verified(r1, hook.secret)).toBe(true);

    const again = await call<{ secret: string; previousSecretExpiresAt: null }>(
      'POST',
      `/api/webhooks/${hook.id}/rotate-secret`,
      { overlapSeconds: 0 },
    );
    expect(again.body.previousSecretExpiresAt).toBeNull();
    const [second] = order();
    await publish([second!]);
    const r2 = await eventually(() => {
      const [r] = of('/rotate', [second!]);
      expect(r).toBeDefined();
      return r!;
    });
    expect(parseSignatureHeader(signatureOf(r2))!.v1).toHaveLength(1);
    expect(verified(r2, again.body.secret)).toBe(true);
    expect(verified(r2, rotated.body.secret)).toBe(false);
  });

  it('redelivers a delivered event as a new delivery with the same event id', async () => {
    const hook = await register('/redeliver', ['order.created']);
    const [created] = order();
    await publish([created!]);
    const first = await eventually(async () => {
      const [d] = await deliveries(hook.id);
      expect(d?.state).toBe('delivered');
      return d!;
    });
    const res = await call<Delivery>(
      'POST',
      `/api/webhooks/${hook.id}/deliveries/${first.deliveryId}/redeliver`,
    );
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      eventId: created!.eventId,
      redeliveryOf: first.deliveryId,
      state: 'pending',
    });
    await eventually(() => expect(of('/redeliver', [created!])).toHaveLength(2));
    const [a, b] = of('/redeliver', [created!]);
    expect(a!.rawBody).toBe(b!.rawBody);
    expect(b!.headers['dispatch-delivery-id']).toBe(res.body.deliveryId);
    expect(verified(b!, hook.secret)).toBe(true);
    expect((await call('POST', `/api/webhooks/${hook.id}/deliveries/999999999/redeliver`)).status).toBe(404);
  });

  it('never follows a redirect', async () => {
    const hook = await register('/redirect', ['order.created']);
    h.receiver.on('/redirect', () => ({ status: 302, headers: { location: h.receiver.url('/redirected') } }));
    const [created] = order();
    await publish([created!]);
    await eventually(async () => {
      const [d] = await deliveries(hook.id);
      expect(d?.attempts[0]).toMatchObject({ statusCode: 302, outcome: 'failed' });
    });
    expect(h.receiver.at('/redirected')).toHaveLength(0);
    await call('PATCH', `/api/webhooks/${hook.id}`, { enabled: false });
  });

  it('two instances share the queue: every delivery is sent once', async () => {
    const second = await startInProcess(webhookService(config), { consumers: { enabled: false } });
    try {
      const hook = await register('/shared', ['order.created']);
      h.receiver.on('/shared', () => ({ status: 200 }));
      const events = Array.from({ length: 24 }, () => order()[0]!);
      await publish(events);
      await eventually(async () => {
        const listed = await deliveries(hook.id);
        expect(listed.filter((d) => d.state === 'delivered')).toHaveLength(24);
      });
      const got = of('/shared', events).map(eventIdOf);
      expect(got.sort()).toEqual(events.map((e) => e.eventId).sort());
      expect((await deliveries(hook.id)).every((d) => d.attemptCount === 1)).toBe(true);
    } finally {
      await second.stop();
    }
  });

  it('drops finished deliveries and their events past the retention, never pending ones', async () => {
    const pool = h.service.ctx.pool!;
    // Nothing new is queued or sent meanwhile: every endpoint disabled.
    await pool.query("UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'admin'");
    const count = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);
    const pending = await count("SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'pending'");
    expect(
      await count("SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'delivered'"),
    ).toBeGreaterThan(0);
    // Everything finished is older than 0 ms; run until a pass finds nothing more.
    for (;;) {
      const dropped = await pruneFinished(pool, 0, 100);
      if (dropped.deliveries + dropped.events + dropped.orders === 0) break;
    }
    expect(await count("SELECT count(*) AS n FROM webhook_deliveries WHERE state <> 'pending'")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'pending'")).toBe(pending);
    const unreferenced = `SELECT count(*) AS n FROM webhook_events e WHERE e.released_at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.event_id)`;
    expect(await count(unreferenced)).toBe(0);
    // The events of pending deliveries stay.
    expect(await count('SELECT count(DISTINCT event_id) AS n FROM webhook_deliveries')).toBeGreaterThan(0);
  });
});
