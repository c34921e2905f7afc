import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import {
  type AnyEvent,
  type OrderView,
  parseEnvelope,
  RAW_TOPICS,
  serializeEnvelope,
  topicForEventType,
} from '@dispatch/contracts';
import {
  createCassandraClient,
  createEventProducer,
  createKafka,
  createLogger,
  type EventProducer,
  kafkaConnectionEnv,
  type Principal,
  parseConfig,
} from '@dispatch/platform';
import { createTestIssuer, kafkajsConnection, stackAddresses } from '@dispatch/testkit';

import type { Client } from 'cassandra-driver';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { type QueryApiConfig, queryApiEnv, SERVICE_NAME } from '../src/config';
import type { OrderResponse } from '../src/domain/order-response';
import { type QueryApi, startQueryApi } from '../src/service';

/** The tests' own token issuer: the service under test gets only its public JWKS file. */
export const TEST_ISSUER = createTestIssuer();

export const testLogger = createLogger('query-api-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const addresses = stackAddresses();

function hostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

async function assertListening(name: string, address: string, hint: string): Promise<void> {
  const [host, port] = hostPort(address);
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port, timeout: 3_000 });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new Error(`${name} is not reachable at ${address} (${reason}). ${hint}`));
    };
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('timeout', () => fail('timed out'));
    socket.once('error', (err) => fail(err.message));
  });
}

/** Kafka and Cassandra must be up: `pnpm stack up`, or point KAFKA_BROKERS / CASSANDRA_CONTACT_POINTS at them. */
export async function assertStackReachable(): Promise<void> {
  await Promise.all([
    assertListening(
      'Kafka',
      addresses.kafka.brokers[0] ?? '127.0.0.1:9092',
      'Set KAFKA_BROKERS or run `pnpm stack up`.',
    ),
    assertListening(
      'Cassandra',
      addresses.cassandraContactPoints[0] ?? '127.0.0.1:9042',
      'Set CASSANDRA_CONTACT_POINTS or run `pnpm stack up`.',
    ),
  ]);
}

export function shortId(): string {
  return randomUUID().replaceAll('-', '').slice(0, 10);
}

/**
 * The service's config for a test: a fresh control keyspace (one per test file, Cassandra DDL is
 * slow), a fresh consumer group, the test issuer's public JWKS, short timers.
 */
export function testConfig(overrides: Record<string, string> = {}): QueryApiConfig {
  const config = parseConfig(SERVICE_NAME, queryApiEnv, {
    ...kafkaConnectionEnv(addresses.kafka),
    CASSANDRA_CONTACT_POINTS: addresses.cassandraContactPoints.join(','),
    CASSANDRA_LOCAL_DC: addresses.cassandraLocalDc,
    // As admin: each test file creates keyspaces of its own.
    CASSANDRA_USERNAME: addresses.cassandraCredentials?.username,
    CASSANDRA_PASSWORD: addresses.cassandraCredentials?.password,
    CASSANDRA_KEYSPACE: `qa_${shortId()}`,
    KAFKA_GROUP_ID: `query-api-test-${shortId()}`,
    ...TEST_ISSUER.env,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    READ_MODEL_REFRESH_MS: '250',
    SSE_POLL_MS: '500',
    SHUTDOWN_TIMEOUT_MS: '10000',
    ...overrides,
  });
  return { ...config, PORT: 0 };
}

function kafkajs(): Kafka {
  return new Kafka({
    ...kafkajsConnection(addresses.kafka),
    clientId: `query-api-test-${shortId()}`,
    logLevel: logLevel.NOTHING,
  });
}

/**
 * Commits the group at the current end of every raw topic before the service first joins, so the
 * test's consumer applies only the events the test produces (raw topics keep every event forever).
 * One join for all four topics (kafkajs' admin.setOffsets joins once per topic, ~5 s each).
 */
export async function startGroupAtEnd(groupId: string): Promise<void> {
  const kafka = kafkajs();
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, { partition: number; high: string }[]>();
  try {
    for (const topic of RAW_TOPICS) ends.set(topic, await admin.fetchTopicOffsets(topic));
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...RAW_TOPICS] });
    await new Promise<void>((resolve, reject) => {
      // Seeks are applied (and, with autoCommit, committed) before the first fetch.
      consumer.on(consumer.events.FETCH, () => resolve());
      consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => {} }).catch(reject);
      for (const [topic, partitions] of ends) {
        consumer.pause([{ topic }]);
        for (const p of partitions) consumer.seek({ topic, partition: p.partition, offset: p.high });
      }
    });
  } finally {
    await consumer.disconnect();
  }
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
    private readonly kafka: Kafka,
    private readonly consumer: Consumer,
    private readonly groupId: string,
  ) {}

  static async start(): Promise<RawTap> {
    const groupId = `query-api-test-tap-${shortId()}`;
    await startGroupAtEnd(groupId);
    const kafka = kafkajs();
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const tap = new RawTap(kafka, consumer, groupId);
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
    const admin = this.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([this.groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

export async function consumerGroups(prefix: string): Promise<string[]> {
  const admin = kafkajs().admin();
  await admin.connect();
  try {
    return (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith(prefix));
  } finally {
    await admin.disconnect();
  }
}

/** The service started in-process (as main.ts does) with its consumer group at the end of the raw topics. */
export async function startTestQueryApi(config: QueryApiConfig): Promise<QueryApi & { base: string }> {
  await startGroupAtEnd(config.KAFKA_GROUP_ID);
  const api = await startQueryApi(config);
  return { ...api, base: `http://127.0.0.1:${api.port}` };
}

export function cassandraClient(): Client {
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

export async function tokenFor(subject: string, roles: Principal['roles'] = ['customer']): Promise<string> {
  return TEST_ISSUER.sign(subject, roles);
}

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  contentType: string | null;
  body: T;
}

export async function getJson<T = Record<string, unknown>>(
  url: string,
  token?: string,
): Promise<JsonResponse<T>> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: (text ? JSON.parse(text) : {}) as T,
  };
}

/** Publishes events to their raw topics, keyed by orderId, as the services' outbox relays do. */
export async function rawProducer(): Promise<EventProducer & { send(events: AnyEvent[]): Promise<void> }> {
  const kafka = createKafka({
    ...addresses.kafka,
    clientId: `query-api-test-${shortId()}`,
    logger: testLogger,
  });
  const producer = createEventProducer(kafka, { logger: testLogger });
  await producer.connect();
  return Object.assign(producer, {
    send: (events: AnyEvent[]) =>
      producer.publish(
        events.map((e) => ({
          topic: topicForEventType(e.eventType),
          key: e.orderId,
          value: serializeEnvelope(e),
        })),
      ),
  });
}

/** mulberry32: a seeded PRNG, so a failing shuffle can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The events plus a random half of them again, in a random order. */
export function shuffledWithDuplicates<T>(events: T[], random: () => number): T[] {
  const list = [...events, ...events.filter(() => random() < 0.5)];
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j] as T, list[i] as T];
  }
  return list;
}

/** What a test file driving a live query-api gets: the service, a raw-topic producer, a tap and an admin token. */
export interface LiveQueryApi {
  api: QueryApi & { base: string };
  producer: EventProducer & { send(events: AnyEvent[]): Promise<void> };
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
    await assertStackReachable();
    live.api = await startTestQueryApi(config);
    live.producer = await rawProducer();
    live.tap = await RawTap.start();
    live.admin = await tokenFor('admin-1', ['admin']);
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
