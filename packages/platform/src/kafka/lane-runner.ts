import type { Batch } from 'kafkajs';
import type { Logger } from '../logger';
import { withConsumerSpan } from '../tracing-context';
import { backoffDelay, sleepUnlessAborted } from './backoff';
import { coalesceCalls } from './coalesce';
import type { SendDeadLetter } from './dead-letter-sender';
import type { FailedRecord } from './dlq';
import { errorMessage } from './errors';
import { failureKind } from './failure';
import type { ClassifyMessage, Entry } from './fetched-message';
import type { BatchHandler, ConsumedEvent, EventHandler } from './handler';
import type { CountConsumed, Lane } from './lane';
import type { PartitionOffset } from './offset-committer';
import type { PartitionBlockages } from './partition-blockages';
import { type ConsumerRetryOptions, failureAction } from './retry-policy';

/** The most events one batchHandler call gets when runs of several partitions are joined. */
const MAX_EVENTS_PER_CALL = 500;

/** The offset to commit once `offset` is done: Kafka's committed offset is the next one to read. */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/** Works through a lane's batch, then commits once, up to the last message it finished. */
export type RunLane = (lane: Lane, batch: Batch, resolveOffset: (offset: string) => void) => Promise<void>;

export function laneRunner(deps: {
  /** Exactly one of handler and batchHandler. */
  handler: EventHandler | undefined;
  batchHandler: BatchHandler | undefined;
  retry: ConsumerRetryOptions;
  classify: ClassifyMessage;
  deadLetter: SendDeadLetter;
  blockages: PartitionBlockages;
  countConsumed: CountConsumed;
  /** Hands a finished batch's next offset over to be committed (OffsetCommitter.add: never fails, never waits). */
  commit: (offsets: PartitionOffset[]) => void;
  logger: Logger;
  /** Observes the size of every batch handler call (kafka_consumer_handler_call_events). */
  observeCall?: (events: number) => void;
}): RunLane {
  const { handler, batchHandler, retry, classify, deadLetter, blockages, countConsumed, logger } = deps;

  /** Runs the handler on one event, retrying; true once it is handled or dead-lettered, false if abandoned. */
  async function settle(lane: Lane, item: ConsumedEvent, record: FailedRecord): Promise<boolean> {
    const { topic, event, logger: log } = item;
    for (let attempt = 1; ; attempt++) {
      try {
        const call = { ...item, attempt };
        if (handler) {
          await withConsumerSpan(topic, event.eventType, item.headers, () => handler(event, call));
        } else {
          await batchHandler?.([call]);
        }
        blockages.noteProgress(lane);
        countConsumed(topic, event.eventType, 'processed');
        return true;
      } catch (err) {
        const next = failureAction(err, attempt, retry.maxAttempts);
        blockages.noteFailure(lane, err);
        if (next.action === 'dead-letter') {
          log.error({ err, attempt, reason: next.reason }, 'handler failed; dead-lettering');
          return deadLetter(lane, record, event.eventType, next.reason, errorMessage(err), attempt, log);
        }
        countConsumed(topic, event.eventType, 'retried');
        const delayMs = backoffDelay(attempt, retry);
        log.warn({ err, attempt, delayMs }, 'handler failed; retrying');
        // kafkajs keeps heartbeating from its fetch loop while we wait, so the group stays stable.
        if (!(await sleepUnlessAborted(delayMs, lane.abort.signal))) {
          log.info({ attempt }, 'stopping or rebalancing; message left uncommitted for redelivery');
          return false;
        }
      }
    }
  }

  /**
   * With a batchHandler, the runs of the partitions that one fetch returned are handled in one call
   * (one transaction), as long as they come within one event-loop turn.
   */
  const handleTogether = batchHandler
    ? coalesceCalls((items: readonly ConsumedEvent[]) => {
        deps.observeCall?.(items.length);
        return batchHandler(items);
      }, MAX_EVENTS_PER_CALL)
    : undefined;

  /**
   * Handles a run of consecutive valid or skipped entries: all its events in one batchHandler call
   * (joined with other partitions' runs) when there is one, else (or when that call failed) one event
   * at a time. Returns how many entries, from the first, are done.
   */
  async function handleRun(lane: Lane, run: Entry[]): Promise<number> {
    const events = run.filter((e): e is Extract<Entry, { kind: 'event' }> => e.kind === 'event');
    for (let attempt = 1; events.length > 0 && handleTogether; attempt++) {
      if (lane.abort.signal.aborted) return 0;
      try {
        await handleTogether(events.map((e) => e.item));
        blockages.noteProgress(lane);
        for (const e of run) {
          if (e.kind === 'event') countConsumed(lane.topic, e.item.event.eventType, 'processed');
          else countConsumed(lane.topic, 'unknown', 'skipped');
        }
        return run.length;
      } catch (err) {
        const where = { topic: lane.topic, partition: lane.partition, events: events.length };
        if (failureKind(err) !== 'retryable') {
          logger.warn({ err, ...where }, 'batch failed; handling its events one at a time');
          break;
        }
        // A dependency is down: splitting the batch would not help, so the whole batch waits.
        blockages.noteFailure(lane, err);
        const delayMs = backoffDelay(attempt, retry);
        logger.warn({ err, ...where, attempt, delayMs }, 'batch failed on a dependency; retrying it');
        if (!(await sleepUnlessAborted(delayMs, lane.abort.signal))) return 0;
      }
    }
    for (const [index, entry] of run.entries()) {
      if (entry.kind === 'skip') {
        countConsumed(lane.topic, 'unknown', 'skipped');
        continue;
      }
      if (entry.kind !== 'event' || lane.abort.signal.aborted) return index;
      if (!(await settle(lane, entry.item, entry.record))) return index;
    }
    return run.length;
  }

  /** Works through the batch in offset order; returns the offset of the last message it finished. */
  async function workThrough(lane: Lane, batch: Batch): Promise<string | undefined> {
    let doneThrough: string | undefined;
    let run: Entry[] = [];
    const flush = async (): Promise<boolean> => {
      const done = await handleRun(lane, run);
      const last = run[done - 1];
      if (last) doneThrough = last.offset;
      const complete = done === run.length;
      run = [];
      return complete;
    };
    for (const message of batch.messages) {
      if (lane.abort.signal.aborted) return doneThrough;
      const entry = classify(lane.topic, lane.partition, message);
      if (entry.kind !== 'invalid') {
        run.push(entry);
        continue;
      }
      if (!(await flush())) return doneThrough;
      if (!(await deadLetter(lane, entry.record, 'unknown', entry.reason, entry.error, 0, entry.log)))
        return doneThrough;
      doneThrough = entry.offset;
    }
    await flush();
    return doneThrough;
  }

  return async (lane, batch, resolveOffset) => {
    const { topic, partition } = lane;
    const doneThrough = await workThrough(lane, batch);
    if (doneThrough === undefined) return;
    deps.commit([{ topic, partition, offset: nextOffset(doneThrough) }]);
    // Advance kafkajs' fetch position too, unless a rebalance replaced it (then it restarts from the commit).
    if (!lane.abort.signal.aborted) resolveOffset(doneThrough);
  };
}
