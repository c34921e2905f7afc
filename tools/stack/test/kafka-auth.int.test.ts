/**
 * Authentication and ACLs on the real broker, as `up` provisioned them: every client must log in,
 * and each principal can do only what tools/stack/kafka-acls.ts grants it. Nothing here writes a
 * record: a refused write never reaches the log, and the grants that work are shown by the requests
 * that need them (metadata, offsets, a producer id), so the stack's topics stay clean.
 */
import { randomUUID } from 'node:crypto';
import { Topics } from '@dispatch/contracts';
import { kafkajsConnection, stackKafka } from '@dispatch/testkit';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { KAFKA_DLQ_TOOL, KAFKA_REBUILD_TOOL } from '../kafka-acls';
import { withAdmin } from '../kafka-admin';

/** Errors come back quickly: few retries (kafkajs needs some to load metadata on a fresh client). */
function client(overrides: Partial<KafkaConfig> = {}, principal?: string): Kafka {
  return new Kafka({
    clientId: `kafka-auth-test-${randomUUID().slice(0, 8)}`,
    ...kafkajsConnection(principal ? stackKafka(process.env, principal) : stackKafka()),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 2, initialRetryTime: 100 },
    ...overrides,
  });
}

const as = (principal: string) => client({}, principal);

/**
 * What an operation fails with: every message, type and cause kafkajs nests (aggregate errors,
 * retries, the broker's error code), in one string; undefined when it succeeds.
 */
async function failure(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (err) {
    return explain(err);
  }
}

function explain(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const nested = err as Error & { type?: string; originalError?: unknown; errors?: unknown[] };
  return [
    `${nested.name}: ${nested.message}`,
    nested.type ?? '',
    nested.originalError ? explain(nested.originalError) : '',
    nested.cause ? explain(nested.cause) : '',
    ...(nested.errors ?? []).map(explain),
  ]
    .filter(Boolean)
    .join(' / ');
}

const REFUSED = /AUTHORIZATION_FAILED/;

/** Sends one record as `principal`'s idempotent producer (what the relays use). */
async function send(principal: string, topic: string): Promise<string | undefined> {
  // kafkajs refuses an idempotent producer without retries.
  const producer = client({ retry: { retries: 1, initialRetryTime: 100 } }, principal).producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  try {
    return await failure(async () => {
      await producer.connect();
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: 'kafka-auth-test', value: 'must never be written' }],
      });
    });
  } finally {
    await producer.disconnect();
  }
}

beforeAll(() => {
  // The stack must run with authentication on: the test reads the generated passwords.
  expect(stackKafka().sasl?.username).toBe('admin');
});

describe('authentication', () => {
  it('refuses an anonymous client', async () => {
    const { brokers } = stackKafka();
    const anonymous = client({ brokers, sasl: undefined });
    const err = await failure(() => withAdmin(anonymous, (admin) => admin.listTopics()));
    expect(err).toBeDefined();
    expect(err).toMatch(/KafkaJS(ConnectionClosedError|NumberOfRetriesExceeded|ConnectionError)/);
  });

  it('refuses a wrong password', async () => {
    const { brokers } = stackKafka();
    const wrong = client({
      brokers,
      sasl: { mechanism: 'scram-sha-512', username: 'inventory-service', password: 'not-its-password-0123' },
    });
    const err = await failure(() => withAdmin(wrong, (admin) => admin.listTopics()));
    expect(err).toMatch(/KafkaJSSASLAuthenticationError.*invalid credentials/);
  });

  it('lets each service log in as its own principal', async () => {
    for (const service of [
      'order-service',
      'inventory-service',
      'payment-service',
      'delivery-service',
      'query-api',
    ]) {
      const cluster = await withAdmin(as(service), (admin) => admin.describeCluster());
      expect(cluster.brokers.length).toBeGreaterThan(0);
    }
  });
});

describe('what a service may do', () => {
  it("inventory-service's principal cannot write raw.payment-events (a forged payment.authorized)", async () => {
    const err = await send('inventory-service', Topics.payment);
    expect(err).toMatch(REFUSED);
  });

  it('a service cannot write the DLQ of another service', async () => {
    const err = await send('order-service', 'dlq.payment-service');
    expect(err).toMatch(REFUSED);
  });

  it('may read the offsets of a topic it consumes, not of one it does not', async () => {
    // delivery-service consumes raw.order-events and raw.payment-events, not raw.inventory-events.
    const delivery = as('delivery-service');
    const allowed = await withAdmin(delivery, (admin) => admin.fetchTopicOffsets(Topics.order));
    expect(allowed.length).toBeGreaterThan(0);
    const err = await failure(() =>
      withAdmin(delivery, (admin) => admin.fetchTopicOffsets(Topics.inventory)),
    );
    expect(err).toMatch(REFUSED);
  });

  it("cannot use another service's consumer group", async () => {
    const inventory = as('inventory-service');
    // Its own group: the coordinator answers (DESCRIBE on the group, which READ implies).
    const own = await withAdmin(inventory, (admin) => admin.fetchOffsets({ groupId: 'inventory-service' }));
    expect(Array.isArray(own)).toBe(true);
    // payment-service's: FindCoordinator is refused (GROUP_AUTHORIZATION_FAILED, which kafkajs
    // reports as a coordinator it cannot find), so the member could never join or commit there.
    const err = await failure(() =>
      withAdmin(inventory, (admin) => admin.fetchOffsets({ groupId: 'payment-service' })),
    );
    expect(err).toMatch(/AUTHORIZATION_FAILED|KafkaJSGroupCoordinatorNotFound/);
  });

  it('cannot create topics or read the ACLs', async () => {
    const topic = `kafka-auth-test-${randomUUID()}`;
    const err = await failure(() =>
      withAdmin(as('order-service'), (admin) =>
        admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }),
      ),
    );
    expect(err).toMatch(REFUSED);
    const topics = await withAdmin(client(), (admin) => admin.listTopics());
    expect(topics).not.toContain(topic);
  });
});

describe('what the operator tools may do', () => {
  it('the rebuild tool reads the raw topics but may write none of them', async () => {
    const offsets = await withAdmin(as(KAFKA_REBUILD_TOOL), (admin) =>
      admin.fetchTopicOffsets(Topics.payment),
    );
    expect(offsets.length).toBeGreaterThan(0);
    const err = await send(KAFKA_REBUILD_TOOL, Topics.payment);
    expect(err).toMatch(REFUSED);
  });

  it('the dlq tool reads a DLQ and the raw records it came from, but writes no DLQ and joins no service group', async () => {
    const dlq = as(KAFKA_DLQ_TOOL);
    const offsets = await withAdmin(dlq, (admin) => admin.fetchTopicOffsets('dlq.payment-service'));
    expect(offsets.length).toBeGreaterThan(0);
    // What `replay` does first: read the original back, in a throwaway group of its own prefix.
    const consumer = dlq.consumer({ groupId: `record-reader-${randomUUID()}` });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [Topics.order], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
        // Fetching is authorized once a fetch returns, with records or empty.
        consumer.on(consumer.events.FETCH, () => resolve());
        void consumer.run({ eachMessage: async () => undefined }).catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    expect(await send(KAFKA_DLQ_TOOL, 'dlq.payment-service')).toMatch(REFUSED);
    const err = await failure(() =>
      withAdmin(dlq, (admin) => admin.fetchOffsets({ groupId: 'payment-service' })),
    );
    expect(err).toMatch(/AUTHORIZATION_FAILED|KafkaJSGroupCoordinatorNotFound/);
  });
});
