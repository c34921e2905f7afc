import { type AnyEvent, parseEnvelope, RAW_TOPICS } from '@dispatch/contracts';
import { kafkajsConnection, stackAddresses } from '@dispatch/testkit';
// kafkajs directly only here, in a test helper: topic admin and a plain consumer that sees raw records.
import { type Admin, type Consumer, Kafka, logLevel } from 'kafkajs';
import { createKafka } from '../../src/kafka/client';
import { createEventProducer, type EventProducer } from '../../src/kafka/producer';
import type { EventPublisher, OutgoingMessage } from '../../src/kafka/publisher';
import { testLogger, uniqueName } from './pg';

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  event: AnyEvent;
  headers: Record<string, string>;
}

/**
 * Real Kafka for outbox relay tests. Every raw topic is mapped to a fresh topic of this harness
 * (`<prefix>.raw.order-events`, ...), so tests never see each other's messages and can count a
 * topic's records exactly. The relay publishes through `publisher`, which is the platform's real
 * idempotent EventProducer behind that topic mapping.
 */
export interface KafkaHarness {
  /** Harness topic for a raw topic. */
  topicFor(rawTopic: string): string;
  /** What the relay publishes through. */
  publisher: EventPublisher;
  /** Event ids in the order their publish calls were acknowledged. */
  publishedEventIds: string[];
  /** Most publish calls ever in flight at once (1 = publishers never overlapped). */
  maxConcurrentPublishes(): number;
  consumed: ConsumedRecord[];
  /** Starts a fresh consumer group reading every harness topic from the beginning. */
  startConsumer(): Promise<void>;
  /** Records in all harness topics (the sum of the partitions' end offsets). */
  recordCount(): Promise<number>;
  close(): Promise<void>;
}

export async function createKafkaHarness(partitions = 3): Promise<KafkaHarness> {
  const connection = stackAddresses().kafka;
  const { brokers } = connection;
  const prefix = uniqueName('outbox-test');
  const kafkajs = new Kafka({
    clientId: prefix,
    ...kafkajsConnection(connection),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
  });
  const admin: Admin = kafkajs.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `Kafka at ${brokers.join(',')} is unreachable (set KAFKA_BROKERS or run \`pnpm stack up\`): ` +
        `${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const topicFor = (rawTopic: string) => `${prefix}.${rawTopic}`;
  const topics = RAW_TOPICS.map(topicFor);
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions: partitions })),
    waitForLeaders: true,
  });

  const producer: EventProducer = createEventProducer(
    createKafka({ ...connection, clientId: `${prefix}-producer`, logger: testLogger }),
    { logger: testLogger },
  );
  await producer.connect();

  const publishedEventIds: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const publisher: EventPublisher = {
    async publish(messages: OutgoingMessage[]) {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await producer.publish(messages.map((m) => ({ ...m, topic: topicFor(m.topic) })));
      } finally {
        inFlight -= 1;
      }
      for (const m of messages) publishedEventIds.push(eventIdOf(m.value));
    },
  };

  const consumed: ConsumedRecord[] = [];
  let consumer: Consumer | undefined;

  return {
    topicFor,
    publisher,
    publishedEventIds,
    maxConcurrentPublishes: () => maxInFlight,
    consumed,
    async startConsumer() {
      consumer = kafkajs.consumer({ groupId: `${prefix}-reader`, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          const parsed = parseEnvelope(message.value ?? Buffer.alloc(0));
          if (!parsed.ok) throw new Error(`relay published an invalid envelope: ${parsed.error.message}`);
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            if (value !== undefined) headers[name] = value.toString();
          }
          consumed.push({
            topic,
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? '',
            event: parsed.event,
            headers,
          });
        },
      });
    },
    async recordCount() {
      let total = 0;
      for (const topic of topics) {
        for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high) - Number(p.low);
      }
      return total;
    },
    async close() {
      await consumer?.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

function eventIdOf(value: Buffer): string {
  const parsed = parseEnvelope(value);
  return parsed.ok ? parsed.event.eventId : '(invalid)';
}
