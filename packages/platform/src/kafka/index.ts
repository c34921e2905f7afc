// The public Kafka API of @dispatch/platform. kafkajs types never appear here, so the client
// library can be swapped without touching a service.
export { ensureTopics, kafkaHealthCheck, type TopicSpec } from './admin';
export { type BackoffOptions, backoffDelay } from './backoff';
export { createKafka, type KafkaClient, type KafkaConfig } from './client';
export {
  KAFKA_SASL_MECHANISMS,
  type KafkaConnection,
  type KafkaEnvConfig,
  type KafkaSasl,
  type KafkaSaslMechanism,
  kafkaConnection,
  kafkaConnectionEnv,
} from './connection';
export { type ConsumerHandle, type ConsumerState, type RunConsumerOptions, runConsumer } from './consumer';
export {
  buildDeadLetter,
  type DeadLetterInput,
  type DeadLetterRecord,
  DLQ_ORIGINAL_SHA256_HEADER,
  DLQ_ORIGINAL_SIZE_HEADER,
  DLQ_REASON_HEADER,
  DLQ_REASONS,
  DLQ_TRUNCATED_HEADER,
  type DlqHeaders,
  type DlqReason,
  type FailedRecord,
  MAX_DEAD_LETTER_BYTES,
  MAX_ERROR_HEADER_LENGTH,
  parseDlqHeaders,
  type ReplaySource,
  TRUNCATED_VALUE_BYTES,
  toReplayMessage,
} from './dlq';
export { type DeadLetter, type ReadDlqOptions, readDlq } from './dlq-reader';
export { DlqHeadersError, PermanentError, RetryableError, TopicMismatchError } from './errors';
export { type Acceptance, acceptEvent, DEFAULT_MAX_CLOCK_SKEW_MS } from './event-acceptance';
export { type FailureKind, failureKind } from './failure';
export type { BatchHandler, ConsumedEvent, EventHandler, HandlerContext } from './handler';
export {
  CONSUMER_LAG_METRIC,
  type ConsumerLagCollector,
  type ConsumerLagCollectorOptions,
  type ConsumerLagTarget,
  type PartitionLag,
  startConsumerLagCollector,
} from './lag';
export {
  countRecords,
  type EndOffsets,
  fetchEndOffsets,
  LogReadTimeoutError,
  type LogRecord,
  type ReadTopicsUntilOptions,
  readTopicsUntil,
} from './log-reader';
export { createEventProducer, type EventProducer, type EventProducerOptions } from './producer';
export type { EventPublisher, OutgoingMessage } from './publisher';
export {
  type ReadRecordsAtOptions,
  type RecordLocation,
  type RecordLookup,
  readRecordsAt,
} from './record-reader';
export { type ConsumerRetryOptions, DEFAULT_CONSUMER_RETRY } from './retry-policy';
