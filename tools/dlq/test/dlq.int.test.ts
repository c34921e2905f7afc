import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { type AnyEvent, sampleEvents, serializeEnvelope } from '@dispatch/contracts';
import {
  buildDeadLetter,
  createEventProducer,
  createKafka,
  createLogger,
  type EventProducer,
  ensureTopics,
  type KafkaClient,
  runConsumer,
} from '@dispatch/platform';
import { eventually, stackAddresses } from '@dispatch/testkit';
import { listDeadLetters, replayDeadLetters } from '../commands';

const root = path.resolve(__dirname, '..', '..', '..');
const logger = createLogger('dlq-cli-test', 'silent');

describe('DLQ replay (real Kafka)', () => {
  let kafka: KafkaClient;
  let producer: EventProducer;

  beforeAll(async () => {
    kafka = createKafka({ brokers: stackAddresses().kafkaBrokers, clientId: 'dlq-cli-test', logger });
    producer = createEventProducer(kafka, { logger });
    await producer.connect();
  });
  afterAll(() => producer?.disconnect());

  it('lists a dead letter and replays it to its original topic without the DLQ headers', async () => {
    const originalTopic = `it-dlq-replay-${randomUUID().slice(0, 8)}`;
    await ensureTopics(kafka, [{ topic: originalTopic, numPartitions: 1 }]);
    const [event] = sampleEvents('happy') as [AnyEvent];
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await producer.publish([
      buildDeadLetter({
        service: 'query-api',
        record: {
          topic: originalTopic,
          partition: 0,
          offset: '41',
          key: Buffer.from(event.orderId),
          value: serializeEnvelope(event),
          headers: { traceparent },
        },
        reason: 'exhausted',
        error: 'cassandra timed out',
        retryCount: 5,
        failedAt: new Date('2026-11-21T18:00:00.000Z'),
      }),
    ]);

    const row = await eventually(async () => {
      const found = (await listDeadLetters(kafka, 'query-api')).find((r) => r.orderId === event.orderId);
      expect(found).toBeDefined();
      return found!;
    });
    expect(row).toMatchObject({
      originalTopic,
      originalPartition: 0,
      originalOffset: '41',
      reason: 'exhausted',
      retryCount: 5,
      error: 'cassandra timed out',
      eventType: event.eventType,
    });

    const replayed = await replayDeadLetters(kafka, producer, {
      name: 'replay',
      service: 'query-api',
      selection: { offsets: [{ partition: row.partition, offset: row.offset }] },
      dryRun: false,
    });
    expect(replayed.map((r) => r.orderId)).toEqual([event.orderId]);

    const received: { event: AnyEvent; headers: Record<string, string> }[] = [];
    const consumer = runConsumer({
      kafka,
      groupId: `it-dlq-replay-${randomUUID().slice(0, 8)}`,
      topics: [originalTopic],
      service: 'dlq-cli-test',
      logger,
      publisher: producer,
      handler: async (e, ctx) => void received.push({ event: e, headers: ctx.headers }),
    });
    try {
      await eventually(() => expect(received).toHaveLength(1), { timeoutMs: 30_000 });
      expect(received[0]?.event).toEqual(event);
      expect(received[0]?.headers.traceparent).toBe(traceparent);
      expect(Object.keys(received[0]?.headers ?? {}).filter((h) => h.startsWith('x-'))).toEqual([]);
    } finally {
      await consumer.stop();
    }
  });

  it('exits non-zero with a clear message on bad input', () => {
    const run = (...args: string[]) =>
      spawnSync('pnpm', ['exec', 'tsx', 'tools/dlq/cli.ts', ...args], { cwd: root, encoding: 'utf8' });
    const unknown = run('list', 'billing');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown service "billing"');
    const missing = run('replay', 'query-api', '--offset', '0:999999999', '--dry-run');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('not in dlq.query-api');
  });
});
