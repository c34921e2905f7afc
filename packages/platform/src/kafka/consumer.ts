import { type AnyEvent, parseEnvelope } from '@dispatch/contracts';
import type { Batch, Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { HealthCheck } from '../health';
import { eventLogger, type Logger } from '../logger';
import type { PlatformMetrics } from '../metrics';
import { withConsumerSpan } from '../tracing-context';
import { backoffDelay, sleepUnlessAborted } from './backoff';
import { type KafkaClient, kafkajsOf } from './client';
import { buildDeadLetter, type DlqReason, type FailedRecord } from './dlq';
import { errorMessage, PermanentError } from './errors';
import { decodeHeaders } from './headers';
import type { EventPublisher } from './publisher';

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
 * database): the offset is committed right after. Throw PermanentError for failures a retry
 * cannot fix; any other error is retried with backoff.
 */
export type EventHandler = (event: AnyEvent, ctx: HandlerContext) => Promise<void>;

export interface ConsumerRetryOptions {
  /** Handler tries per message before it is dead-lettered. Default 5. */
  maxAttempts: number;
  /** Ceiling of the first backoff. Default 100 ms. */
  initialDelayMs: number;
  /** Cap of any backoff. Default 5 s. */
  maxDelayMs: number;
}

export interface RunConsumerOptions {
  kafka: KafkaClient;
  groupId: string;
  topics: string[];
  /** The consuming service's name: dead letters go to `dlq.<service>`. */
  service: string;
  logger: Logger;
  metrics?: Pick<PlatformMetrics, 'eventsConsumed' | 'dlqMessages'>;
  /** Publishes dead letters (an EventProducer, connected). */
  publisher: EventPublisher;
  handler: EventHandler;
  retry?: Partial<ConsumerRetryOptions>;
  /** Partitions whose messages are handled at the same time (each partition stays in order). Default 3. */
  partitionsConsumedConcurrently?: number;
  /**
   * Where a group with no committed offset starts. Default true (earliest): a service deployed
   * after events were published must still see them, or those orders would stall.
   */
  fromBeginning?: boolean;
  /** Default 10 s (the broker's minimum is 6 s). How long a dead member holds its partitions. */
  sessionTimeoutMs?: number;
  /** Default 1 s. */
  heartbeatIntervalMs?: number;
  /**
   * Longest a fetch waits for new data. Default 25 ms. A lane pauses its partition while it works;
   * once it resumes, that partition is only fetched again when the fetch in flight for the others
   * returns, so this is how long the next event of a just-handled order can wait (measured with
   * `./dispatch bench`: 100 ms made complete → DELIVERED take 110 ms, 25 ms takes 35 ms). The price
   * is more empty fetches while idle (docs/benchmarks.md).
   */
  maxWaitTimeInMs?: number;
}

export type ConsumerState = 'starting' | 'running' | 'restarting' | 'failed' | 'stopping' | 'stopped';

export interface ConsumerHandle {
  /** Resolves once the consumer has joined its group and got its partitions; rejects if it cannot start. */
  readonly ready: Promise<void>;
  /** Stops fetching, lets each in-flight handler call finish and commits it, then leaves the group. */
  stop(): Promise<void>;
  state(): ConsumerState;
  /** Unavailable when the consumer failed for good or was stopped; ok while running or restarting. */
  readonly healthCheck: HealthCheck;
}

export const DEFAULT_CONSUMER_RETRY: ConsumerRetryOptions = {
  maxAttempts: 5,
  initialDelayMs: 100,
  maxDelayMs: 5_000,
};

/** Backoff between attempts to publish a dead letter, which is retried until it succeeds. */
const DLQ_PUBLISH_BACKOFF = { initialDelayMs: 200, maxDelayMs: 5_000 };

export function resolveRetryOptions(retry: Partial<ConsumerRetryOptions> = {}): ConsumerRetryOptions {
  const resolved = { ...DEFAULT_CONSUMER_RETRY, ...retry };
  if (!Number.isInteger(resolved.maxAttempts) || resolved.maxAttempts < 1) {
    throw new RangeError(`retry.maxAttempts must be an integer >= 1, got ${resolved.maxAttempts}`);
  }
  if (resolved.initialDelayMs < 0 || resolved.maxDelayMs < resolved.initialDelayMs) {
    throw new RangeError('retry delays must satisfy 0 <= initialDelayMs <= maxDelayMs');
  }
  return resolved;
}

export type FailureAction =
  | { action: 'retry' }
  | { action: 'dead-letter'; reason: 'permanent' | 'exhausted' };

/** What to do after the handler failed on `attempt` (from 1). Pure. */
export function failureAction(error: unknown, attempt: number, maxAttempts: number): FailureAction {
  if (error instanceof PermanentError) return { action: 'dead-letter', reason: 'permanent' };
  if (attempt >= maxAttempts) return { action: 'dead-letter', reason: 'exhausted' };
  return { action: 'retry' };
}

/** The offset to commit once `offset` is done: Kafka's committed offset is the next one to read. */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/** One partition's batch being worked through, in order, off kafkajs' fetch loop. */
interface Lane {
  topic: string;
  partition: number;
  /** Aborted on stop and on every rebalance: the lane then finishes its in-flight message and ends. */
  abort: AbortController;
}

/**
 * Consumes `topics` as group `groupId` and hands every valid event to `handler`, at least once.
 *
 * Offsets are committed one message at a time, only after the handler resolved or the message
 * was dead-lettered, so a crash or rebalance redelivers (never skips) whatever was not finished;
 * handlers dedupe through their inbox.
 *
 * Why not plain kafkajs eachBatch: kafkajs fetches from a broker again only after every batch of
 * the previous fetch is processed, so one slow or retrying partition would stall all others on
 * that broker. Instead each fetched batch is handed to a "lane" (one per partition, at most
 * `partitionsConsumedConcurrently` at a time) and its partition is paused until the lane is done;
 * kafkajs keeps fetching (and heartbeating) for the other partitions meanwhile.
 */
export function runConsumer(opts: RunConsumerOptions): ConsumerHandle {
  const retry = resolveRetryOptions(opts.retry);
  const concurrency = opts.partitionsConsumedConcurrently ?? 3;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`partitionsConsumedConcurrently must be an integer >= 1, got ${concurrency}`);
  }
  const logger = opts.logger.child({ component: 'kafka-consumer', groupId: opts.groupId });
  const consumer: Consumer = kafkajsOf(opts.kafka).consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: opts.heartbeatIntervalMs ?? 1_000,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 25,
    allowAutoTopicCreation: false,
  });

  let state: ConsumerState = 'starting';
  const lanes = new Map<string, Lane>();
  const laneDone = new Map<string, Promise<void>>();
  /** Partitions paused because every lane was busy; resumed when a lane frees up. */
  const waitingForLane = new Map<string, { topic: string; partition: number }>();

  let markReady: () => void = () => {};
  let failReady: (err: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  // The caller may never await `ready`; a start failure is logged below rather than crashing the process.
  ready.catch(() => {});

  const abortAllLanes = (why: string) => {
    if (lanes.size > 0)
      logger.info({ lanes: lanes.size, why }, 'ending partition lanes after their in-flight message');
    for (const lane of lanes.values()) lane.abort.abort();
  };

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    // Each join starts a new generation; lanes of the previous one must not keep going.
    abortAllLanes('group rebalanced');
    if (state === 'starting' || state === 'restarting') state = 'running';
    logger.info(
      { memberId: payload.memberId, assignment: payload.memberAssignment },
      'kafka consumer joined group',
    );
    markReady();
  });
  consumer.on(consumer.events.REBALANCING, () => abortAllLanes('group rebalancing'));
  consumer.on(consumer.events.STOP, () => abortAllLanes('consumer stopped'));
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    abortAllLanes('consumer crashed');
    if (state === 'stopping' || state === 'stopped') return;
    if (payload.restart) {
      state = 'restarting';
      logger.error({ err: payload.error }, 'kafka consumer crashed; kafkajs restarts it');
    } else {
      state = 'failed';
      logger.error({ err: payload.error }, 'kafka consumer crashed and will not restart');
      failReady(payload.error);
    }
  });

  const metrics = opts.metrics;
  const countConsumed = (
    topic: string,
    eventType: string,
    outcome: 'processed' | 'retried' | 'dead_lettered',
  ) => metrics?.eventsConsumed.inc({ topic, event_type: eventType, outcome });

  /** Publishes the dead letter, retrying until it is out; false if the lane was aborted first. */
  async function deadLetter(
    lane: Lane,
    record: FailedRecord,
    eventType: string,
    reason: DlqReason,
    error: string,
    retryCount: number,
    log: Logger,
  ): Promise<boolean> {
    const message = buildDeadLetter({
      service: opts.service,
      record,
      reason,
      error,
      retryCount,
      failedAt: new Date(),
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await opts.publisher.publish([message]);
        metrics?.dlqMessages.inc({ topic: record.topic, reason });
        countConsumed(record.topic, eventType, 'dead_lettered');
        log.warn({ reason, error, retryCount, dlqTopic: message.topic }, 'message dead-lettered');
        return true;
      } catch (err) {
        // Committing without the dead letter out would lose the message: keep trying instead.
        log.error({ err, attempt }, 'publishing the dead letter failed; offset stays uncommitted, retrying');
        if (!(await sleepUnlessAborted(backoffDelay(attempt, DLQ_PUBLISH_BACKOFF), lane.abort.signal)))
          return false;
      }
    }
  }

  /** Handles one message to the end (processed or dead-lettered): true. Abandoned for redelivery: false. */
  async function settle(lane: Lane, message: KafkaMessage): Promise<boolean> {
    const { topic, partition } = lane;
    const record: FailedRecord = {
      topic,
      partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      headers: decodeHeaders(message.headers),
    };
    const recordLogger = logger.child({ topic, partition, offset: message.offset });
    const parsed = parseEnvelope(message.value ?? Buffer.alloc(0));
    if (!parsed.ok) {
      recordLogger.warn({ issues: parsed.error.issues }, 'invalid event envelope');
      return deadLetter(lane, record, 'unknown', 'invalid', parsed.error.message, 0, recordLogger);
    }

    const event = parsed.event;
    const log = eventLogger(recordLogger, {
      orderId: event.orderId,
      correlationId: event.correlationId,
      eventId: event.eventId,
      eventType: event.eventType,
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await withConsumerSpan(topic, event.eventType, record.headers, () =>
          opts.handler(event, {
            topic,
            partition,
            offset: message.offset,
            headers: record.headers,
            logger: log,
            attempt,
          }),
        );
        countConsumed(topic, event.eventType, 'processed');
        return true;
      } catch (err) {
        const next = failureAction(err, attempt, retry.maxAttempts);
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

  async function runLane(lane: Lane, batch: Batch, resolveOffset: (offset: string) => void): Promise<void> {
    const { topic, partition } = lane;
    for (const message of batch.messages) {
      if (lane.abort.signal.aborted) return;
      if (!(await settle(lane, message))) return;
      try {
        await consumer.commitOffsets([{ topic, partition, offset: nextOffset(message.offset) }]);
      } catch (err) {
        logger.warn(
          { err, topic, partition, offset: message.offset },
          'offset commit failed; message will be redelivered',
        );
        return;
      }
      // Advance kafkajs' fetch position too, unless a rebalance replaced it (then it restarts from the commit).
      if (!lane.abort.signal.aborted) resolveOffset(message.offset);
    }
  }

  function resumeQuietly(topic: string, partition: number): void {
    try {
      consumer.resume([{ topic, partitions: [partition] }]);
    } catch (err) {
      // Only while kafkajs restarts its consumer group; the new one starts unpaused anyway.
      logger.debug({ err, topic, partition }, 'resume skipped');
    }
  }

  function startLane(batch: Batch, resolveOffset: (offset: string) => void): void {
    const key = laneKey(batch.topic, batch.partition);
    const lane: Lane = { topic: batch.topic, partition: batch.partition, abort: new AbortController() };
    lanes.set(key, lane);
    const done = runLane(lane, batch, resolveOffset)
      .catch((err: unknown) => {
        logger.error(
          { err, topic: lane.topic, partition: lane.partition },
          'partition lane failed unexpectedly',
        );
      })
      .finally(() => {
        lanes.delete(key);
        laneDone.delete(key);
        if (state === 'stopping' || state === 'stopped') return;
        // Fetch this partition again from where the lane got to, and give waiting partitions a turn.
        resumeQuietly(lane.topic, lane.partition);
        for (const waiting of waitingForLane.values()) resumeQuietly(waiting.topic, waiting.partition);
        waitingForLane.clear();
      });
    laneDone.set(key, done);
  }

  const eachBatch = async ({ batch, pause, resolveOffset }: EachBatchPayload): Promise<void> => {
    const key = laneKey(batch.topic, batch.partition);
    // Never process here: the fetch loop must not wait on handlers. Pause the partition and let
    // a lane work through the batch; the lane resumes it when done. Nothing is resolved for
    // batches we do not take, so kafkajs fetches them again after the resume.
    pause();
    if (state === 'stopping' || state === 'stopped') return;
    if (lanes.has(key)) return; // a lane of an earlier generation is still finishing; it resumes the partition
    if (lanes.size >= concurrency) {
      waitingForLane.set(key, { topic: batch.topic, partition: batch.partition });
      return;
    }
    startLane(batch, resolveOffset);
  };

  const started = (async () => {
    await consumer.connect();
    await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1, // lanes provide the concurrency
      eachBatch,
    });
  })().catch((err: unknown) => {
    const error = err instanceof Error ? err : new Error(errorMessage(err));
    if (state !== 'stopping' && state !== 'stopped') {
      state = 'failed';
      logger.error({ err: error }, 'kafka consumer failed to start');
    }
    failReady(error);
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      state = 'stopping';
      abortAllLanes('stopping');
      // Let lanes finish their in-flight handler call and commit it while the group is still ours.
      await Promise.all(laneDone.values());
      await started;
      await consumer.disconnect();
      state = 'stopped';
      failReady(new Error('consumer stopped before it joined its group'));
      logger.info('kafka consumer stopped');
    })();
    return stopping;
  };

  return {
    ready,
    stop,
    state: () => state,
    healthCheck: {
      name: `kafka-consumer:${opts.groupId}`,
      check: async () => {
        if (state === 'failed' || state === 'stopping' || state === 'stopped') {
          throw new Error(`consumer ${opts.groupId} is ${state}`);
        }
      },
    },
  };
}

function laneKey(topic: string, partition: number): string {
  return `${topic}|${partition}`;
}
