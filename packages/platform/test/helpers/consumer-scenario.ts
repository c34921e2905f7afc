import { type AnyEvent, dlqTopic, serializeEnvelope, TRACEPARENT_HEADER } from '@dispatch/contracts';
import { eventually } from '@dispatch/testkit';
import {
  type ConsumerHandle,
  createEventProducer,
  type EventProducer,
  type EventPublisher,
  ensureTopics,
  type KafkaClient,
  type OutgoingMessage,
  type RunConsumerOptions,
  runConsumer,
} from '../../src/kafka';
import { createMetrics, type PlatformMetrics } from '../../src/metrics';
import { assertKafkaReachable, orderCreated, suffix, testKafka, testLogger } from './kafka';

export const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** A consuming "service" of its own: topic, group, DLQ and metrics, so tests never see each other's messages. */
export interface Scenario {
  topic: string;
  service: string;
  groupId: string;
  dlq: string;
  metrics: PlatformMetrics;
}

/** A fresh scenario; its topic (and DLQ) is created unless the test consumes existing `topics`. */
export async function scenario(kafka: KafkaClient, numPartitions: number): Promise<Scenario> {
  const id = suffix();
  const s = {
    topic: `test.kafka.${id}`,
    service: `svc-${id}`,
    groupId: `group-${id}`,
    dlq: dlqTopic(`svc-${id}`),
    metrics: createMetrics(`svc-${id}`),
  };
  await ensureTopics(kafka, [
    { topic: s.topic, numPartitions },
    { topic: s.dlq, numPartitions: 1 },
  ]);
  return s;
}

/** Starts consumers of scenarios and stops them all after each test (clients are read when a consumer starts). */
export function consumers(kafka: () => KafkaClient, publisher: () => EventPublisher) {
  const running: ConsumerHandle[] = [];
  return {
    consume(
      s: Scenario,
      handler: RunConsumerOptions['handler'] | undefined,
      overrides: Partial<RunConsumerOptions> = {},
    ): ConsumerHandle {
      const handle = runConsumer({
        kafka: kafka(),
        groupId: s.groupId,
        topics: [s.topic],
        service: s.service,
        logger: testLogger(),
        metrics: s.metrics,
        publisher: publisher(),
        ...(handler ? { handler } : {}),
        // Short backoff keeps the retry tests fast; the logic is the same as with production delays.
        retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
        ...overrides,
      });
      running.push(handle);
      return handle;
    },
    async stopAll(): Promise<void> {
      await Promise.all(running.splice(0).map((c) => c.stop()));
    },
  };
}

export interface KafkaClients {
  /** The file's client (created in beforeAll). */
  readonly kafka: KafkaClient;
  /** Its connected producer, also the consumers' DLQ publisher. */
  readonly producer: EventProducer;
  /** Starts a consumer of `s` (consumers().consume); every one is stopped after each test. */
  consume: ReturnType<typeof consumers>['consume'];
  /** A fresh scenario on the file's client. */
  scenario(numPartitions: number): Promise<Scenario>;
  /**
   * A new member of `s`'s group starts from the committed offsets: it gets a sentinel published now
   * and nothing earlier (what the stopped consumer handled was committed, not redelivered).
   */
  expectNothingRedelivered(s: Scenario): Promise<void>;
}

/** A Kafka client and a connected producer for the calling file, and consumers stopped after each test. */
export function useKafkaClients(): KafkaClients {
  const logger = testLogger();
  let kafka: KafkaClient | undefined;
  let producer: EventProducer | undefined;
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the Kafka clients are not set up yet (beforeAll)');
    return value;
  };
  const running = consumers(
    () => ready(kafka),
    () => ready(producer),
  );

  beforeAll(async () => {
    await assertKafkaReachable();
    kafka = testKafka(logger);
    producer = createEventProducer(kafka, { logger });
    await producer.connect();
  });

  afterEach(() => running.stopAll());

  afterAll(async () => {
    await producer?.disconnect();
  });

  return {
    get kafka() {
      return ready(kafka);
    },
    get producer() {
      return ready(producer);
    },
    consume: running.consume,
    scenario: (numPartitions) => scenario(ready(kafka), numPartitions),
    async expectNothingRedelivered(s) {
      const sentinel = orderCreated(`order-${suffix()}`);
      const seen: string[] = [];
      const member = running.consume(s, async (e) => {
        seen.push(e.eventId);
      });
      await member.ready;
      await ready(producer).publish([toMessage(s.topic, sentinel)]);
      await eventually(() => expect(seen).toContain(sentinel.eventId));
      expect(seen).toEqual([sentinel.eventId]);
    },
  };
}

export function toMessage(topic: string, event: AnyEvent): OutgoingMessage {
  return {
    topic,
    key: event.orderId,
    value: serializeEnvelope(event),
    headers: { [TRACEPARENT_HEADER]: TRACEPARENT },
  };
}

/** The sum of a metric's series whose labels include `labels`. */
export async function metricValue(
  metric: { get(): Promise<{ values: { labels: object; value: number }[] }> },
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => {
      const got = v.labels as Record<string, string | number | undefined>;
      return Object.entries(labels).every(([k, want]) => got[k] === want);
    })
    .reduce((sum, v) => sum + v.value, 0);
}
