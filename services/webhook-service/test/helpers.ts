import { type AnyEvent, RAW_TOPICS } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { parseConfig } from '@dispatch/platform';
import {
  commitGroupAtEnd,
  createTestIssuer,
  dropTestDatabase,
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
import { type WebhookConfig, webhookConfigSchema } from '../src/config';
import { EVENT_ID_HEADER, verifySignature } from '../src/domain/signature';
import { webhookService } from '../src/service';

export interface Webhook {
  id: string;
  secret: string;
  enabled: boolean;
  disabledReason: string | null;
}

export interface Delivery {
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
export function useWebhookService() {
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

  return {
    issuer,
    config,
    database,
    /** The running service (start() replaces it). */
    get service() {
      return service;
    },
    /** An admin token. */
    get admin() {
      return admin;
    },
    get receiver() {
      return receiver;
    },
    /** The current test's customer: the only one its endpoints select. */
    get customer() {
      return customer;
    },
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
  };
}
