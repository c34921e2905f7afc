import { randomUUID } from 'node:crypto';
import { type AnyEvent, createEvent, DlqHeader, dlqTopic, serializeEnvelope } from '@dispatch/contracts';
import { eventually } from '@dispatch/testkit';
import { type EventStep, pgBatchHandler } from '../src/batch-transaction';
import {
  type BatchHandler,
  type ConsumerHandle,
  createEventProducer,
  DLQ_REASON_HEADER,
  type EventProducer,
  ensureTopics,
  type KafkaClient,
  type OutgoingMessage,
  PermanentError,
  readDlq,
  runConsumer,
} from '../src/kafka';
import { createMetrics } from '../src/metrics';
import { assertKafkaReachable, orderCreated, suffix, testKafka, testLogger } from './helpers/kafka';
import { createTestDatabase, type TestDatabase } from './helpers/pg';

/**
 * The batch pipeline against real Kafka and PostgreSQL: one partition holding, in this order, good
 * events, a duplicate, an invalid message, an event type the service ignores, a poison event and an
 * event whose step fails once. Fed through pgBatchHandler (one transaction per fetched batch) and,
 * for comparison, one event at a time, both must end in exactly the same state.
 */

const logger = testLogger('batch-consumer-test');
let kafka: KafkaClient;
let producer: EventProducer;
const consumers: ConsumerHandle[] = [];
const databases: TestDatabase[] = [];

beforeAll(async () => {
  await assertKafkaReachable();
  kafka = testKafka(logger);
  producer = createEventProducer(kafka, { logger });
  await producer.connect();
});

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
  await Promise.all(databases.splice(0).map((d) => d.drop()));
});

afterAll(async () => {
  await producer?.disconnect();
});

function cancelled(orderId: string): AnyEvent {
  return createEvent({
    eventType: 'order.cancelled',
    orderId,
    correlationId: orderId,
    causationId: randomUUID(),
    producer: 'order-service',
    payload: { orderId, cancelledBy: 'ADMIN', actorId: 'admin-1' },
  });
}

interface Fixture {
  /** What the partition holds, in offset order. */
  messages: OutgoingMessage[];
  good: AnyEvent[];
  poison: AnyEvent;
  flaky: AnyEvent;
}

function fixture(topic: string): Fixture {
  const id = suffix();
  const good = Array.from({ length: 4 }, (_, i) => orderCreated(`order-${id}-${i}`));
  const poison = orderCreated(`order-${id}-poison`);
  const flaky = orderCreated(`order-${id}-flaky`);
  const ignored = cancelled(`order-${id}-0`);
  const [g0, g1, g2, g3] = good as [AnyEvent, AnyEvent, AnyEvent, AnyEvent];
  const message = (event: AnyEvent): OutgoingMessage => ({
    topic,
    key: 'one-partition',
    value: serializeEnvelope(event),
  });
  const messages = [
    message(g0),
    message(g1),
    message(g0), // duplicate
    { topic, key: 'one-partition', value: Buffer.from('{"not":"an event"}') },
    message(ignored),
    message(poison),
    message(g2),
    message(flaky),
    message(g3),
  ];
  return { messages, good, poison, flaky };
}

interface Run {
  topic: string;
  groupId: string;
  service: string;
  db: TestDatabase;
  dlq: string;
  batchSizes: number[];
  flakyAttempts: number;
}

/** Runs the fixture through a fresh topic, group and database; `batched` picks the handler shape. */
async function runFixture(batched: boolean): Promise<{ run: Run; fx: Fixture }> {
  const id = suffix();
  const topic = `test.batch.${id}`;
  const service = `svc-batch-${id}`;
  await ensureTopics(kafka, [
    { topic, numPartitions: 1 },
    { topic: dlqTopic(service), numPartitions: 1 },
  ]);
  const db = await createTestDatabase('batch');
  databases.push(db);
  await db.pool.query(
    'CREATE TABLE effects (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, order_id text)',
  );
  const fx = fixture(topic);
  const groupId = `group-${id}`;
  const run: Run = { topic, groupId, service, db, dlq: dlqTopic(service), batchSizes: [], flakyAttempts: 0 };

  const step: EventStep = async ({ tx, event, emit }) => {
    await tx.query('INSERT INTO effects (event_id, order_id) VALUES ($1, $2)', [
      event.eventId,
      event.orderId,
    ]);
    if (event.eventId === fx.poison.eventId) throw new PermanentError('this event can never be applied');
    if (event.eventId === fx.flaky.eventId) {
      run.flakyAttempts += 1;
      if (run.flakyAttempts === 1) throw new Error('connection reset (once)');
    }
    emit(
      createEvent({
        eventType: 'order.cancelled',
        orderId: event.orderId,
        correlationId: event.correlationId,
        causationId: event.eventId,
        producer: 'test-service',
        payload: { orderId: event.orderId, cancelledBy: 'ADMIN', actorId: 'test' },
      }),
    );
  };
  const batchHandler = pgBatchHandler({ pool: db.pool, inboxConsumer: service, step });
  const recording: BatchHandler = async (events) => {
    run.batchSizes.push(events.length);
    await batchHandler(events);
  };

  // Everything is published before the consumer starts, so its first fetch holds the whole partition.
  await producer.publish(fx.messages);
  const consumer = runConsumer({
    kafka,
    groupId,
    topics: [topic],
    service,
    logger,
    metrics: createMetrics(service),
    publisher: producer,
    eventTypes: ['order.created'],
    retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
    ...(batched ? { batchHandler: recording } : { handler: (event, ctx) => recording([{ ...ctx, event }]) }),
  });
  consumers.push(consumer);
  await consumer.ready;
  await eventually(async () => expect(await readDlq(kafka, run.dlq)).toHaveLength(2), { timeoutMs: 20_000 });
  await eventually(async () => {
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM outbox');
    expect(rows[0].n).toBe(fx.good.length + 1);
  });
  return { run, fx };
}

async function effects(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ event_id: string }>('SELECT event_id FROM effects ORDER BY seq');
  return rows.map((r) => r.event_id);
}

async function outboxCauses(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ cause: string }>(
    "SELECT payload->>'causationId' AS cause FROM outbox ORDER BY id",
  );
  return rows.map((r) => r.cause);
}

async function deadLetters(run: Run): Promise<string[][]> {
  const dead = await readDlq(kafka, run.dlq);
  return dead.map((d) => [d.headers[DLQ_REASON_HEADER] ?? '', d.headers[DlqHeader.originalOffset] ?? '']);
}

describe('the batch consumer with pgBatchHandler, against Kafka and PostgreSQL', () => {
  it('handles a batch with a duplicate, a poison event and a transient failure exactly as single events', async () => {
    const batched = await runFixture(true);
    const single = await runFixture(false);
    const [g0, g1, g2, g3] = batched.fx.good as [AnyEvent, AnyEvent, AnyEvent, AnyEvent];

    // The batch went in whole first (and rolled back on the poison event), then event by event.
    expect(Math.max(...batched.run.batchSizes)).toBeGreaterThan(1);
    expect(single.run.batchSizes.every((n) => n === 1)).toBe(true);

    // Every good event took effect once, in offset order; the poison one never did; the flaky one
    // did after its retry. The rolled-back batch left nothing behind.
    const expected = [g0, g1, g2, batched.fx.flaky, g3].map((e) => e.eventId);
    expect(await effects(batched.run.db)).toEqual(expected);
    expect(await outboxCauses(batched.run.db)).toEqual(expected);
    const { rows } = await batched.run.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox');
    expect(rows[0]?.n).toBe(expected.length);

    // The invalid message and the poison event are dead-lettered alone, with their reasons.
    expect(await deadLetters(batched.run)).toEqual([
      ['invalid', '3'],
      ['permanent', '5'],
    ]);

    // One event at a time ends in the same state.
    const singleExpected = [...single.fx.good.slice(0, 3), single.fx.flaky, single.fx.good[3]].map(
      (e) => e?.eventId,
    );
    expect(await effects(single.run.db)).toEqual(singleExpected);
    expect(await deadLetters(single.run)).toEqual(await deadLetters(batched.run));
  }, 60_000);

  it('commits the batch: the group gets nothing of it again after a restart', async () => {
    const { run } = await runFixture(true);
    await Promise.all(consumers.splice(0).map((c) => c.stop()));

    const seen: string[] = [];
    const again = runConsumer({
      kafka,
      groupId: run.groupId,
      topics: [run.topic],
      service: run.service,
      logger,
      publisher: producer,
      handler: async (event) => {
        seen.push(event.eventId);
      },
    });
    consumers.push(again);
    await again.ready;
    const sentinel = orderCreated(`order-${suffix()}`);
    await producer.publish([{ topic: run.topic, key: 'one-partition', value: serializeEnvelope(sentinel) }]);
    await eventually(() => expect(seen).toContain(sentinel.eventId));
    expect(seen).toEqual([sentinel.eventId]);
  }, 60_000);
});
