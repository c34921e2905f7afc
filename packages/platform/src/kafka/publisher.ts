/**
 * One record to publish. Key is the orderId so one order's events keep their order within a topic.
 * A Buffer (or null) key is only for forwarding a consumed record byte for byte, e.g. to a DLQ.
 */
export interface OutgoingMessage {
  topic: string;
  key: string | Buffer | null;
  value: Buffer;
  headers?: Record<string, string>;
}

/**
 * What the outbox relay and the DLQ need from a Kafka producer. Resolves only once
 * every message is acknowledged by all in-sync replicas.
 */
export interface EventPublisher {
  publish(messages: OutgoingMessage[]): Promise<void>;
}
