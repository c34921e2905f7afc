import { type AnyEvent, type OrderView, parseEnvelope, RAW_TOPICS } from '@dispatch/contracts';
import { createCassandraClient, parseConfig } from '@dispatch/platform';
import {
  assertStackReachable,
  commitGroupAtEnd,
  createTestIssuer,
  createTestLogger,
  deleteGroups,
  type InProcessService,
  kafkajsConnection,
  type RawProducer,
  rawProducer,
  shortId,
  stackAddresses,
  startInProcess,
  testServiceEnv,
} from '@dispatch/testkit';
import type { Client } from 'cassandra-driver';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { type QueryApiConfig, queryApiConfigSchema, SERVICE_NAME } from '../src/config';
import type { OrderResponse } from '../src/domain/order-response';
import { queryApiService } from '../src/service';
import type { GenerationTracker } from '../src/store/generations';

/** The tests' own token issuer: the service under test gets only its public JWKS file. */
export const TEST_ISSUER = createTestIssuer();

export const testLogger = createTestLogger('query-api-test');

/**
 * The service's config for a test: the stack's addresses and logins (Cassandra as admin: each test
 * file creates keyspaces of its own), a fresh control keyspace (one per test file, Cassandra DDL is
 * slow), a fresh consumer group, the test issuer's public JWKS, short timers.
 */
export function testConfig(overrides: Record<string, string> = {}): QueryApiConfig {
  const config = parseConfig(
    SERVICE_NAME,
    queryApiConfigSchema,
    testServiceEnv(TEST_ISSUER, {
      CASSANDRA_KEYSPACE: `qa_${shortId()}`,
      KAFKA_GROUP_ID: `query-api-test-${shortId()}`,
      READ_MODEL_REFRESH_MS: '250',
      SSE_POLL_MS: '500',
      SHUTDOWN_TIMEOUT_MS: '10000',
      ...overrides,
    }),
  );
  return { ...config, PORT: 0 };
}

/**
 * Records every raw-topic event of the orders it watches, from the moment it started. The raw
 * topics are shared with the running stack, whose services react to the events a test publishes
 * (e.g. payment-service authorises a test order's inventory.reserved); the tap sees those events
 * too, so a test can compare the read model with the fold of everything on the log.
 */
export class RawTap {
  private readonly watched = new Set<string>();
  private readonly events = new Map<string, Map<string, AnyEvent>>();

  private constructor(
    private readonly consumer: Consumer,
    private readonly groupId: string,
  ) {}

  static async start(): Promise<RawTap> {
    const groupId = `query-api-test-tap-${shortId()}`;
    await commitGroupAtEnd(groupId, RAW_TOPICS);
    const kafka = new Kafka({ ...kafkajsConnection(), clientId: groupId, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const tap = new RawTap(consumer, groupId);
    await consumer.connect();
    await consumer.subscribe({ topics: [...RAW_TOPICS] });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const parsed = parseEnvelope(message.value ?? Buffer.alloc(0));
        if (!parsed.ok || !tap.watched.has(parsed.event.orderId)) return;
        const byId = tap.events.get(parsed.event.orderId) ?? new Map<string, AnyEvent>();
        byId.set(parsed.event.eventId, parsed.event);
        tap.events.set(parsed.event.orderId, byId);
      },
    });
    await joined;
    return tap;
  }

  watch(orderIds: string[]): void {
    for (const id of orderIds) this.watched.add(id);
  }

  /** Every distinct event of the order seen on the raw topics so far. */
  eventsOf(orderId: string): AnyEvent[] {
    return [...(this.events.get(orderId)?.values() ?? [])];
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await deleteGroups([this.groupId]).catch(() => undefined);
  }
}

/** query-api started in-process, with its read model's generations and live handler at hand. */
export interface TestQueryApi extends InProcessService {
  generations: GenerationTracker;
  /** One event through the live consumer's batch handler, as a batch of one (tests apply events in any order). */
  applyEvent(event: AnyEvent): Promise<void>;
}

/** The service started in-process (as main.ts does) with its consumer group at the end of the raw topics. */
export async function startTestQueryApi(config: QueryApiConfig): Promise<TestQueryApi> {
  await commitGroupAtEnd(config.KAFKA_GROUP_ID, RAW_TOPICS);
  const definition = queryApiService(config);
  const service = await startInProcess(definition);
  const applyEvents = definition.readModelHandler(service.ctx);
  return Object.assign(service, {
    generations: definition.generations,
    applyEvent: (event: AnyEvent) => applyEvents([event]),
  });
}

export function cassandraClient(): Client {
  const addresses = stackAddresses();
  return createCassandraClient({
    contactPoints: addresses.cassandraContactPoints,
    localDataCenter: addresses.cassandraLocalDc,
    credentials: addresses.cassandraCredentials,
  });
}

/** Drops the test's control keyspace and every generation keyspace of it. */
export async function dropKeyspaces(controlKeyspace: string): Promise<void> {
  const client = cassandraClient();
  try {
    const names = (await client.execute('SELECT keyspace_name FROM system_schema.keyspaces')).rows
      .map((r) => r.get('keyspace_name') as string)
      .filter((name) => name === controlKeyspace || name.startsWith(`${controlKeyspace}_g`));
    for (const name of names) await client.execute(`DROP KEYSPACE IF EXISTS ${name}`);
  } finally {
    await client.shutdown();
  }
}

/** What a test file driving a live query-api gets: the service, a raw-topic producer, a tap and an admin token. */
export interface LiveQueryApi {
  api: TestQueryApi;
  producer: RawProducer;
  tap: RawTap;
  admin: string;
}

/**
 * Starts query-api (its own keyspaces) with a producer and a tap of the raw topics before the
 * file's tests, and tears all of it down after them. Call inside a describe block.
 */
export function useLiveQueryApi(config: QueryApiConfig): LiveQueryApi {
  const live = {} as LiveQueryApi;
  beforeAll(async () => {
    await assertStackReachable(['kafka', 'cassandra']);
    live.api = await startTestQueryApi(config);
    live.producer = await rawProducer({ logger: testLogger });
    live.tap = await RawTap.start();
    live.admin = await TEST_ISSUER.sign('admin-1', 'admin');
  });
  afterAll(async () => {
    await live.producer?.disconnect();
    await live.tap?.stop();
    await live.api?.stop();
    await dropKeyspaces(config.CASSANDRA_KEYSPACE);
  });
  return live;
}

/** What GET must answer for the fold's view: the seed fields, the sections and the timeline. */
export function expectMatchesFold(body: OrderResponse, view: OrderView, events: AnyEvent[]): void {
  expect(body.status).toBe(view.status);
  expect(body).toMatchObject({
    orderId: view.orderId,
    customerId: view.order?.customerId ?? null,
    totalAmount: view.totalAmount ?? null,
    currency: view.order?.currency ?? null,
    createdAt: view.createdAt ?? null,
    updatedAt: view.updatedAt ?? null,
    paymentId: view.payment?.paymentId ?? null,
    deliveryId: view.delivery?.deliveryId ?? null,
    driverName: view.delivery?.driverName ?? null,
    estimatedDeliveryTime: view.delivery?.estimatedDeliveryTime ?? null,
  });
  expect(body.items).toEqual(view.order?.items ?? null);
  expect(body.deliveryAddress).toEqual(view.order?.deliveryAddress ?? null);
  expect(body.inventory).toEqual(view.inventory ?? null);
  expect(body.payment).toEqual(view.payment ?? null);
  expect(body.delivery).toEqual(view.delivery ?? null);
  expect(body.cancellation).toEqual(view.cancellation ?? null);
  expect(body.compensation).toEqual(view.compensation);
  // One timeline entry per distinct event, oldest first.
  const distinct = [...new Map(events.map((e) => [e.eventId, e])).values()].sort(
    (a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt) || (a.eventId < b.eventId ? -1 : 1),
  );
  expect(body.timeline).toEqual(
    distinct.map((e) => ({
      eventType: e.eventType,
      occurredAt: new Date(e.occurredAt).toISOString(),
      eventId: e.eventId,
      producer: e.producer,
      ...(e.causationId ? { causationId: e.causationId } : {}),
    })),
  );
}
