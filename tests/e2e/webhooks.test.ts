import { createHmac, timingSafeEqual } from 'node:crypto';
import { EVENT_TYPES } from '@dispatch/contracts';
import {
  admin,
  createItem,
  ensureFreeDrivers,
  eventually,
  expectStatus,
  http,
  placeOrder,
  readOrder,
  requireRunningServices,
  restartService,
  serviceUrl,
  uniqueId,
  WebhookReceiver,
} from './support/api';
import { completeDelivery, getDelivery, SETTLED, waitForStatus } from './support/saga';

jest.setTimeout(240_000);

const TERMINAL = [
  'DELIVERED',
  'DELIVERY_FAILED',
  'PAYMENT_FAILED',
  'INVENTORY_REJECTED',
  'CANCELLED',
] as const;

/**
 * The receiver's side of docs/webhook-service.md, written here from the documented algorithm (not
 * the service's code): `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, any v1 may
 * match, compared in constant time, the timestamp within 5 minutes.
 */
function verify(header: string, rawBody: string, secret: string, nowSeconds = Math.floor(Date.now() / 1000)) {
  const parts = header.split(',').map((p) => p.split('=', 2) as [string, string]);
  const t = parts.find(([k]) => k === 't')?.[1];
  if (!t || !/^\d+$/.test(t) || Math.abs(nowSeconds - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  return parts
    .filter(([k, v]) => k === 'v1' && /^[0-9a-f]{64}$/.test(v))
    .some(([, v]) => timingSafeEqual(Buffer.from(v, 'hex'), expected));
}

interface Created {
  id: string;
  secret: string;
}

interface Delivery {
  eventId: string;
  state: string;
  attempts: { statusCode: number | null; outcome: string }[];
}

/**
 * On the running stack: a real HTTP receiver on loopback (the local stack allows loopback targets),
 * registered for one customer's orders; the order goes through the saga while the receiver is down
 * and webhook-service is restarted; once the receiver is back, every event of the order arrives,
 * signed, each after the event that caused it.
 */
describe('webhooks on the running stack', () => {
  const base = serviceUrl('webhook-service');
  let receiver: WebhookReceiver;
  let hook: Created | undefined;

  beforeAll(async () => {
    await requireRunningServices([
      'order-service',
      'inventory-service',
      'payment-service',
      'delivery-service',
      'query-api',
      'webhook-service',
    ]);
    receiver = await WebhookReceiver.start();
  });

  afterAll(async () => {
    if (hook) await http('DELETE', `${base}/api/webhooks/${hook.id}`, { token: await admin() });
    await receiver?.close();
  });

  it('delivers every event of an order signed and in causal order, after the receiver was down and the worker restarted', async () => {
    const customerId = uniqueId('e2e-webhook-customer');
    const created = await http<Created>('POST', `${base}/api/webhooks`, {
      token: await admin(),
      body: { url: receiver.url('/hook'), eventTypes: [...EVENT_TYPES], customerId, description: 'e2e' },
    });
    expectStatus(created, 201, 'POST /api/webhooks');
    hook = created.body;

    let down = true;
    receiver.on('/hook', () => ({ status: down ? 503 : 200 }));

    await ensureFreeDrivers(1);
    const item = await createItem({ available: 5, unitPrice: '4.00' });
    const order = await placeOrder(customerId, [{ itemId: item.itemId, quantity: 1, unitPrice: '4.00' }]);
    const ofOrder = () =>
      receiver
        .at('/hook')
        .filter((r) => (JSON.parse(r.rawBody) as { orderId: string }).orderId === order.orderId);

    // The receiver is down: the first event is attempted (503) and retried, nothing goes further.
    await eventually(() => expect(ofOrder().length).toBeGreaterThanOrEqual(1), { timeoutMs: 60_000 });
    await restartService('webhook-service');
    const settled = await waitForStatus(order.orderId, SETTLED, 180_000);
    // Without the simulated fleet, the driver hands the order over through the driver API.
    if (settled.status === 'DELIVERY_ASSIGNED') {
      const delivery = await getDelivery(order.orderId);
      if (delivery && delivery.status !== 'COMPLETED')
        await completeDelivery(order.orderId).catch(() => undefined);
    }
    const view = await waitForStatus(order.orderId, [...TERMINAL], 120_000);
    down = false;

    // Every event of the order's timeline arrives (2xx), once the receiver answers again.
    const delivered = await eventually(
      async () => {
        const timeline = ((await readOrder(order.orderId)) ?? view).timeline.map((e) => e.eventId);
        const ok = ofOrder().filter((r) => r.at >= 0);
        const ids = new Set(ok.map((r) => String(r.headers['dispatch-event-id'])));
        expect([...ids].sort()).toEqual([...timeline].sort());
        return ok;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );

    for (const r of delivered) {
      expect(verify(String(r.headers['dispatch-signature']), r.rawBody, hook.secret)).toBe(true);
      const body = JSON.parse(r.rawBody) as {
        id: string;
        type: string;
        orderId: string;
        causationId: string | null;
      };
      expect(body.id).toBe(String(r.headers['dispatch-event-id']));
      expect(body.type).toBe(String(r.headers['dispatch-event-type']));
    }
    // Causal order: the first request carrying an event comes after the first request carrying its cause.
    const firstSeen = new Map<string, number>();
    delivered.forEach((r, i) => {
      const id = String(r.headers['dispatch-event-id']);
      if (!firstSeen.has(id)) firstSeen.set(id, i);
    });
    for (const r of delivered) {
      const body = JSON.parse(r.rawBody) as { id: string; causationId: string | null };
      if (body.causationId && firstSeen.has(body.causationId)) {
        expect(firstSeen.get(body.causationId)!).toBeLessThan(firstSeen.get(body.id)!);
      }
    }
    expect(JSON.parse(delivered[0]!.rawBody)).toMatchObject({
      type: 'order.created',
      orderId: order.orderId,
    });

    // The attempts made while it was down are listed: failures (503s; one may have no status, cut
    // short by the restart), then one 2xx per delivery.
    const listed = await http<{ items: Delivery[] }>(
      'GET',
      `${base}/api/webhooks/${hook.id}/deliveries?limit=100`,
      {
        token: await admin(),
      },
    );
    expectStatus(listed, 200, 'GET deliveries');
    const first = listed.body.items.find((d) => d.eventId === JSON.parse(delivered[0]!.rawBody).id)!;
    expect(first.state).toBe('delivered');
    const beforeUp = first.attempts.slice(0, -1);
    expect(beforeUp.every((a) => a.outcome === 'failed')).toBe(true);
    expect(beforeUp.some((a) => a.statusCode === 503)).toBe(true);
    expect(first.attempts.at(-1)).toMatchObject({ statusCode: 200, outcome: 'delivered' });
    expect(listed.body.items.every((d) => d.state === 'delivered')).toBe(true);
  });
});
