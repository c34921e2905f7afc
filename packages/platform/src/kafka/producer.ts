import { type Message, Partitioners, type Producer, type TopicMessages } from 'kafkajs';
import type { Logger } from '../logger';
import { type KafkaClient, kafkajsOf } from './client';
import type { EventPublisher, OutgoingMessage } from './publisher';

/** An EventPublisher backed by one idempotent Kafka producer. */
export interface EventProducer extends EventPublisher {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface EventProducerOptions {
  logger: Logger;
  /** How long the broker may wait for all in-sync replicas to acknowledge (acks=all). Default 30 s. */
  ackTimeoutMs?: number;
}

/**
 * Groups messages into one entry per topic, keeping their relative order, so one sendBatch
 * call carries them all and messages with the same key stay in publish order.
 */
export function groupByTopic(messages: readonly OutgoingMessage[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const m of messages) {
    let list = byTopic.get(m.topic);
    if (!list) {
      list = [];
      byTopic.set(m.topic, list);
    }
    list.push(
      m.headers ? { key: m.key, value: m.value, headers: m.headers } : { key: m.key, value: m.value },
    );
  }
  return [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
}

/**
 * The Java client's partitioner (murmur2 of the key, modulo the partition count; kafkajs calls it
 * DefaultPartitioner since v2), so our services and any JVM tooling put an orderId on the same partition.
 */
export const JAVA_COMPATIBLE_PARTITIONER = Partitioners.DefaultPartitioner;

class KafkaEventProducer implements EventProducer {
  private connected = false;

  constructor(
    private readonly producer: Producer,
    private readonly logger: Logger,
    private readonly ackTimeoutMs: number,
  ) {}

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
    this.logger.info('kafka producer connected');
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
    this.logger.info('kafka producer disconnected');
  }

  async publish(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    if (!this.connected) throw new Error('EventProducer.publish: call connect() first');
    await this.producer.sendBatch({
      topicMessages: groupByTopic(messages),
      acks: -1,
      timeout: this.ackTimeoutMs,
    });
  }
}

/**
 * Idempotent producer (the broker drops duplicates a retry would otherwise write), acks from all
 * in-sync replicas, one request in flight so a retried batch cannot overtake the next one (per-key
 * order survives retries). Naming the partitioner explicitly also keeps kafkajs from warning
 * about its v2 partitioner change.
 */
export function createEventProducer(client: KafkaClient, opts: EventProducerOptions): EventProducer {
  const producer = kafkajsOf(client).producer({
    createPartitioner: JAVA_COMPATIBLE_PARTITIONER,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  return new KafkaEventProducer(
    producer,
    opts.logger.child({ component: 'kafka-producer' }),
    opts.ackTimeoutMs ?? 30_000,
  );
}
