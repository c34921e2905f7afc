import { type AnyEvent, RAW_TOPICS } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { createPool, parseConfig, pgConnection } from '@dispatch/platform';
import {
  commitGroupAtEnd,
  createTestIssuer,
  createTestLogger,
  dropTestDatabase,
  eventually,
  http,
  type InProcessService,
  type RawProducer,
  type ReceivedRequest,
  rawProducer,
  shortId,
  startInProcess,
  testServiceEnv,
  uniqueName,
  WebhookReceiver,
} from '@dispatch/testkit';
import { Registry } from 'prom-client';
import { type WebhookConfig, webhookConfigSchema } from '../src/config';
import { pinnedLookup, sendWebhook } from '../src/dispatch/send';
import { EVENT_ID_HEADER, parseSignatureHeader, verifySignature } from '../src/domain/signature';
import { releaseStaleEvents } from '../src/handlers';
import { createWebhookMetrics } from '../src/metrics';
import { webhookService } from '../src/service';
import { pruneFinished } from '../src/store/retention';

jest.setTimeout(120_000);

interface Webhook {
  id: string;
  secret: string;
  enabled: boolean;
  disabledReason: string | null;
}

interface Delivery {
  deliveryId: string;
  eventId: string;
  eventType: string;
  state: string;
  attemptCount: number;
  redeliveryOf: string | null;
  attempts: {
    attempt: number;
    startedAt: string;
    statusCode: number | null;
    outcome: string;
    error: string | null;
  }[];
}

/**
 * webhook-service in-process against the real PostgreSQL (a fresh database) and Kafka (its own
 * consumer group, started at the end of the raw topics), delivering to a real HTTP receiver on
 * loopback (allowed by the local-development settings). Events are published to the raw topics as
 * the services' relays publish them.
 */
describe('webhook-service (real PostgreSQL, Kafka and HTTP receiver)', () => {
  const issuer = createTestIssuer();
  const database = uniqueName('it_webhook');
  const groupId = `webhook-service-test-${shortId()}`;
  const config: WebhookConfig = parseConfig(
    'webhook-service',
    webhookConfigSchema,
    testServiceEnv(issuer, {
      KAFKA_GROUP_ID: groupId,
      PGDATABASE: database,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_RETRY_BASE_MS: '300',
      WEBHOOK_RETRY_MAX_DELAY_MS: '1000',
      WEBHOOK_REQUEST_TIMEOUT_MS: '2000',
      WEBHOOK_DISABLE_AFTER_FAILURES: '4',
      WEBHOOK_DISABLE_MIN_FAILING_MS: '0',
    }),
  );

  let service: InProcessService;
  let admin: string;
  let receiver: WebhookReceiver;
  let producer: RawProducer;

  const start = async () => {
    service = await startInProcess(webhookService(config));
  };

  beforeAll(async () => {
    await commitGroupAtEnd(groupId, RAW_TOPICS);
    await start();
    admin = await issuer.sign('ops', 'admin');
    receiver = await WebhookReceiver.start();
    producer = await rawProducer({ clientId: groupId });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await service?.stop();
    await receiver?.close();
    await dropTestDatabase(database);
    issuer.cleanup();
  });

  const call = <T = unknown>(method: string, path: string, body?: unknown, token: string | null = admin) =>
    http<T>(method, `${service.base}${path}`, { body, ...(token ? { token } : {}) });

  // Each test's endpoints select only its own customer's orders: other tests (and the stack) publish
  // order events on the same topics at the same time.
  let customer = '';
  beforeEach(() => {
    customer = `customer-webhook-${shortId()}`;
  });
  const order = () => sampleEvents('happy', { customerId: customer });

  async function register(path: string, eventTypes: string[], extra: Record<string, unknown> = {}) {
    const res = await call<Webhook>('POST', '/api/webhooks', {
      url: receiver.url(path),
      eventTypes,
      customerId: customer,
      ...extra,
    });
    expect(res.status).toBe(201);
    expect(res.body.secret).toMatch(/^whsec_/);
    return res.body;
  }

  const publish = (events: AnyEvent[]) => producer.send(events);

  async function deliveries(webhookId: string) {
    const res = await call<{ items: Delivery[] }>('GET', `/api/webhooks/${webhookId}/deliveries?limit=100`);
    expect(res.status).toBe(200);
    return res.body.items;
  }

  /** The requests at `path` carrying one of `events`, in the order they arrived. */
  const of = (path: string, events: AnyEvent[]) => {
    const ids = new Set(events.map((e) => e.eventId));
    return receiver.at(path).filter((r) => ids.has(String(r.headers[EVENT_ID_HEADER.toLowerCase()])));
  };
  const eventIdOf = (r: ReceivedRequest) => String(r.headers[EVENT_ID_HEADER.toLowerCase()]);
  const signatureOf = (r: ReceivedRequest) => String(r.headers['dispatch-signature']);

  const verified = (r: ReceivedRequest, secret: string) =>
    verifySignature({
      header: signatureOf(r),
      rawBody: r.rawBody,
      secret,
      nowSeconds: Math.floor(Date.now() / 1000),
    }).ok;

  it('refuses every webhook route without a token (401) and to a customer (403)', async () => {
    const customer = await issuer.sign('customer-1', 'customer');
    const id = '00000000-0000-4000-8000-000000000000';
    const routes: [string, string, unknown?][] = [
      ['POST', '/api/webhooks', { url: receiver.url('/x'), eventTypes: ['order.created'] }],
      ['GET', '/api/webhooks'],
      ['GET', `/api/webhooks/${id}`],
      ['PATCH', `/api/webhooks/${id}`, { enabled: false }],
      ['DELETE', `/api/webhooks/${id}`],
      ['POST', `/api/webhooks/${id}/rotate-secret`, {}],
      ['GET', `/api/webhooks/${id}/deliveries`],
      ['POST', `/api/webhooks/${id}/deliveries/1/redeliver`],
    ];
    for (const [method, path, body] of routes) {
      expect([method, path, (await call(method, path, body, null)).status]).toEqual([method, path, 401]);
      expect([method, path, (await call(method, path, body, customer)).status]).toEqual([method, path, 403]);
    }
    expect((await call('GET', `/api/webhooks/${id}`)).status).toBe(404);
  });

  it('never lists the secret; validates the body', async () => {
    const hook = await register('/listed', ['order.created']);
    const list = await call<{ items: Record<string, unknown>[] }>('GET', '/api/webhooks');
    const listed = list.body.items.find((w) => w.id === hook.id)!;
    expect(listed).toBeDefined();
    expect(JSON.stringify(list.body)).not.toContain(hook.secret);
    expect(
      (await call<Record<string, unknown>>('GET', `/api/webhooks/${hook.id}`)).body.secret,
    ).toBeUndefined();
    const bad = await call<{ errors: { path: string }[] }>('POST', '/api/webhooks', {
      url: 'ftp://x.example/',
      eventTypes: ['order.nope'],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.path).sort()).toEqual(['eventTypes.0']);
    const badUrl = await call<{ errors: { path: string }[] }>('POST', '/api/webhooks', {
      url: 'ftp://x.example/',
      eventTypes: ['order.created'],
    });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.errors[0]!.path).toBe('url');
    expect((await call('DELETE', `/api/webhooks/${hook.id}`)).status).toBe(204);
    expect((await call('GET', `/api/webhooks/${hook.id}`)).status).toBe(404);
  });

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
    receiver.on('/flaky', (r, nth) => ({
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
    receiver.on('/restart', () => ({ status: up ? 204 : 503 }));
    await publish([created!]);
    await eventually(async () => {
      const [d] = await deliveries(hook.id);
      expect(d?.attempts.length).toBeGreaterThanOrEqual(1);
    });
    await service.stop();
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
    receiver.on('/gone', () => ({ status: 410 }));
    const [a] = order();
    const [b] = order();
    await publish([a!]);
    await eventually(async () => {
      const res = await call<Webhook>('GET', `/api/webhooks/${hook.id}`);
      expect(res.body).toMatchObject({ enabled: false, disabledReason: 'gone' });
    });
    const metrics = await (await fetch(`${service.base}/metrics`)).text();
    expect(metrics).toMatch(/webhook_endpoints_disabled_total\{[^}]*reason="gone"[^}]*\} [1-9]/);
    receiver.on('/gone', () => ({ status: 200 }));
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
    receiver.on('/down', () => ({ status: 500 }));
    await publish([order()[0]!]);
    await eventually(
      async () => {
        const res = await call<Webhook & { consecutiveFailures: number }>('GET', `/api/webhooks/${hook.id}`);
        expect(res.body).toMatchObject({ enabled: false, disabledReason: 'failing', consecutiveFailures: 4 });
      },
      { timeoutMs: 30_000 },
    );
    const metrics = await (await fetch(`${service.base}/metrics`)).text();
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
    receiver.on('/redirect', () => ({ status: 302, headers: { location: receiver.url('/redirected') } }));
    const [created] = order();
    await publish([created!]);
    await eventually(async () => {
      const [d] = await deliveries(hook.id);
      expect(d?.attempts[0]).toMatchObject({ statusCode: 302, outcome: 'failed' });
    });
    expect(receiver.at('/redirected')).toHaveLength(0);
    await call('PATCH', `/api/webhooks/${hook.id}`, { enabled: false });
  });

  it('two instances share the queue: every delivery is sent once', async () => {
    const second = await startInProcess(webhookService(config), { consumers: { enabled: false } });
    try {
      const hook = await register('/shared', ['order.created']);
      receiver.on('/shared', () => ({ status: 200 }));
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

  it('refuses private, loopback and link-local endpoint URLs without the local-development settings', async () => {
    const strict = await startInProcess(
      webhookService({ ...config, WEBHOOK_ALLOW_PRIVATE_TARGETS: false, WEBHOOK_ALLOW_HTTP: false }),
      { consumers: { enabled: false }, tasks: false },
    );
    try {
      const post = (url: string, extra: Record<string, unknown> = {}) =>
        http<{ errors?: { path: string; message: string }[] }>('POST', `${strict.base}/api/webhooks`, {
          token: admin,
          body: { url, eventTypes: ['order.created'], ...extra },
        });
      for (const url of [
        'https://127.0.0.1/hook',
        'https://[::1]/hook',
        'https://169.254.169.254/latest/meta-data',
        'https://10.1.2.3/hook',
        'https://[::ffff:192.168.0.1]/hook',
        'https://localhost/hook',
        receiver.url('/plain-http'),
      ]) {
        const res = await post(url);
        expect([url, res.status, res.body.errors?.[0]?.path]).toEqual([url, 400, 'url']);
      }
      // A public address passes the check (registered disabled: nothing is sent to it).
      const ok = await post('https://93.184.215.14/hook', { enabled: false, customerId: customer });
      expect(ok.status).toBe(201);
    } finally {
      await strict.stop();
    }
  });

  it('drops finished deliveries and their events past the retention, never pending ones', async () => {
    const pool = service.ctx.pool!;
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

describe('the connection-time SSRF check (real sockets)', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  afterAll(() => receiver.close());

  const request = (url: string, allowPrivate: boolean) =>
    sendWebhook({
      url,
      headers: {},
      body: '{}',
      timeoutMs: 2_000,
      policy: { allowPrivate, allowHttp: true },
    });

  it('refuses loopback by address and by name without the local-development setting; allows it with', async () => {
    const port = new URL(receiver.base).port;
    expect(await request(`http://127.0.0.1:${port}/a`, false)).toMatchObject({ kind: 'error' });
    const byName = await request(`http://localhost.:${port}/b`, false);
    expect(byName).toMatchObject({ kind: 'error' });
    expect(receiver.requests).toHaveLength(0);
    expect(await request(`http://localhost:${port}/c`, true)).toMatchObject({
      kind: 'answered',
      status: 200,
    });
    expect(receiver.requests.map((r) => r.path)).toEqual(['/c']);
  });

  it('the pinned lookup refuses a name that resolves to a private address', async () => {
    const lookup = pinnedLookup({ allowPrivate: false });
    const error = await new Promise<Error | null>((resolve) =>
      lookup('localhost', {}, (err) => resolve(err)),
    );
    expect(error?.message).toMatch(/localhost resolves to .*not a public address/);
  });

  it('times out a receiver that never answers', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const result = await sendWebhook({
      url: `http://127.0.0.1:${port}/`,
      headers: {},
      body: '{}',
      timeoutMs: 300,
      policy: { allowPrivate: true, allowHttp: true },
    });
    expect(result).toEqual({ kind: 'error', error: 'timeout after 300 ms' });
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});
