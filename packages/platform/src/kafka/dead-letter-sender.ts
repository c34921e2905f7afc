import type { Logger } from '../logger';
import { backoffDelay, sleepUnlessAborted } from './backoff';
import { buildDeadLetter, type DlqReason, type FailedRecord } from './dlq';
import type { ConsumerMetrics, CountConsumed, Lane } from './lane';
import type { PartitionBlockages } from './partition-blockages';
import type { EventPublisher } from './publisher';

/** Backoff between attempts to publish a dead letter, which is retried until it succeeds. */
const DLQ_PUBLISH_BACKOFF = { initialDelayMs: 200, maxDelayMs: 5_000 };

/** Publishes a message's dead letter, retrying until it is out; false if the lane was aborted first. */
export type SendDeadLetter = (
  lane: Lane,
  record: FailedRecord,
  eventType: string,
  reason: DlqReason,
  error: string,
  retryCount: number,
  log: Logger,
) => Promise<boolean>;

export function deadLetterSender(deps: {
  /** The consuming service: dead letters go to `dlq.<service>`. */
  service: string;
  publisher: EventPublisher;
  metrics: ConsumerMetrics | undefined;
  countConsumed: CountConsumed;
  blockages: PartitionBlockages;
}): SendDeadLetter {
  const { service, publisher, metrics, countConsumed, blockages } = deps;
  return async (lane, record, eventType, reason, error, retryCount, log) => {
    const input = { service, record, reason, error, retryCount, failedAt: new Date() };
    let message = buildDeadLetter(input);
    for (let attempt = 1; ; attempt++) {
      try {
        await publisher.publish([message]);
        blockages.noteProgress(lane);
        metrics?.dlqMessages.inc({ topic: record.topic, reason });
        countConsumed(record.topic, eventType, 'dead_lettered');
        log.warn({ reason, error, retryCount, dlqTopic: message.topic }, 'message dead-lettered');
        return true;
      } catch (err) {
        if (isTooLarge(err)) {
          // The broker's limit is below ours: keep only the prefix, whatever the size.
          message = buildDeadLetter({ ...input, maxBytes: 0 });
          log.warn({ err }, 'dead letter too large for the broker; truncating it');
          continue;
        }
        // Committing without the dead letter out would lose the message: keep trying instead.
        blockages.noteFailure(lane, err);
        log.error({ err, attempt }, 'publishing the dead letter failed; offset stays uncommitted, retrying');
        if (!(await sleepUnlessAborted(backoffDelay(attempt, DLQ_PUBLISH_BACKOFF), lane.abort.signal)))
          return false;
      }
    }
  };
}

/** The broker refused a record for its size (kafkajs' protocol error types, possibly as a cause). */
function isTooLarge(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    const type = (e as { type?: unknown }).type;
    if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') return true;
    e =
      (e as { cause?: unknown; originalError?: unknown }).cause ??
      (e as { originalError?: unknown }).originalError;
  }
  return false;
}
