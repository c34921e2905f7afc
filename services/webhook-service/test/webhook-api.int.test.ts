import { http, startInProcess } from '@dispatch/testkit';
import { webhookService } from '../src/service';
import { useWebhookService } from './helpers';

jest.setTimeout(120_000);

/** The webhook routes: who may call them, what they accept, which endpoint URLs they refuse. */
describe('webhook-service (real PostgreSQL, Kafka and HTTP receiver)', () => {
  const h = useWebhookService();
  const { issuer, config, call, register } = h;

  it('refuses every webhook route without a token (401) and to a customer (403)', async () => {
    const customer = await issuer.sign('customer-1', 'customer');
    const id = '00000000-0000-4000-8000-000000000000';
    const routes: [string, string, unknown?][] = [
      ['POST', '/api/webhooks', { url: h.receiver.url('/x'), eventTypes: ['order.created'] }],
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

  it('refuses private, loopback and link-local endpoint URLs without the local-development settings', async () => {
    const strict = await startInProcess(
      webhookService({ ...config, WEBHOOK_ALLOW_PRIVATE_TARGETS: false, WEBHOOK_ALLOW_HTTP: false }),
      { consumers: { enabled: false }, tasks: false },
    );
    try {
      const post = (url: string, extra: Record<string, unknown> = {}) =>
        http<{ errors?: { path: string; message: string }[] }>('POST', `${strict.base}/api/webhooks`, {
          token: h.admin,
          body: { url, eventTypes: ['order.created'], ...extra },
        });
      for (const url of [
        'https://127.0.0.1/hook',
        'https://[::1]/hook',
        'https://169.254.169.254/latest/meta-data',
        'https://10.1.2.3/hook',
        'https://[::ffff:192.168.0.1]/hook',
        'https://localhost/hook',
        h.receiver.url('/plain-http'),
      ]) {
        const res = await post(url);
        expect([url, res.status, res.body.errors?.[0]?.path]).toEqual([url, 400, 'url']);
      }
      // A public address passes the check (registered disabled: nothing is sent to it).
      const ok = await post('https://93.184.215.14/hook', { enabled: false, customerId: h.customer });
      expect(ok.status).toBe(201);
    } finally {
      await strict.stop();
    }
  });
});
