import type { AnyEvent } from '@dispatch/contracts';
import type { Logger } from '../logger';

export interface HandlerContext {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit; kept as a decimal string. */
  offset: string;
  headers: Record<string, string>;
  /** Bound with the event's orderId, correlationId, eventId, eventType, and topic/partition/offset. */
  logger: Logger;
  /** 1 on the first try, up to retry.maxAttempts. */
  attempt: number;
}

/**
 * Handles one event. Resolve only once the effect is durable (committed in the service's
 * database). Throw PermanentError for failures a retry cannot fix (dead-lettered at once) and
 * RetryableError for conditions that pass (retried as long as it takes); see failureKind for how
 * other errors are classified.
 */
export type EventHandler = (event: AnyEvent, ctx: HandlerContext) => Promise<void>;

/** One valid event of a fetched batch, with where it came from. */
export interface ConsumedEvent extends HandlerContext {
  event: AnyEvent;
}

/**
 * Handles the valid events of fetched batches at once, e.g. in one database transaction: one
 * partition's, or those of several partitions that one fetch returned (each partition's in offset
 * order, one after the other). Resolve only once every effect is durable: the batch's offset is committed
 * right after. If it throws, nothing of the batch may have taken effect (roll back); the runner
 * then handles the events one at a time (each as a batch of one), so a poison event is retried and
 * dead-lettered alone while the rest proceed.
 */
export type BatchHandler = (events: readonly ConsumedEvent[]) => Promise<void>;
