import { type AnyEvent, EVENT_TYPES } from '@dispatch/contracts';
import type { Batch, Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { HealthCheck } from '../health';
import { eventLogger, type Logger } from '../logger';
import type { PlatformMetrics } from '../metrics';
import { withConsumerSpan } from '../tracing-context';
import { backoffDelay, sleepUnlessAborted } from './backoff';
import { type KafkaClient, kafkajsOf } from './client';
import { coalesceCalls } from './coalesce';
import { buildDeadLetter, type DlqReason, type FailedRecord } from './dlq';
import { errorMessage } from './errors';
import { acceptEvent, DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_MAX_EVENT_BYTES } from './event-acceptance';
import { failureKind } from './failure';
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

export interface ConsumerRetryOptions {
  /**
   * Tries per message before one failing for an unknown reason is dead-lettered (`exhausted`).
   * Retryable failures (a dependency down) are retried without limit, permanent ones not at all. Default 5.
   */
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
  metrics?: Pick<PlatformMetrics, 'eventsConsumed' | 'dlqMessages'> &
    Partial<Pick<PlatformMetrics, 'consumerBlockedPartitions'>>;
  /** Publishes dead letters (an EventProducer, connected). */
  publisher: EventPublisher;
  /** Exactly one of handler (one event at a time) and batchHandler (a partition's fetched batch at once). */
  handler?: EventHandler;
  batchHandler?: BatchHandler;
  /**
   * The event types the handler acts on. Any other event is acknowledged without parsing it fully or
   * calling the handler (a service reads whole topics but reacts to a few types). Default: all.
   */
  eventTypes?: readonly string[];
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
   * Longest a fetch waits for new data while none arrives (the broker answers as soon as a record
   * does). Default 1 s: an idle consumer makes one fetch a second. Batches are handled inline, so
   * this is not added to the latency of the next event; only a partition whose batch was handed to a
   * lane (slow or failing, see `inlineBudgetMs`) waits up to this long to be fetched again.
   */
  maxWaitTimeInMs?: number;
  /**
   * How long a batch may be worked on inside kafkajs' fetch loop before it is handed to a lane and
   * its partition paused, so a slow or retrying partition does not hold up the others. Default 250 ms.
   */
  inlineBudgetMs?: number;
  /**
   * How long a partition's current message may keep failing before the partition counts as blocked:
   * the health check (readiness) then fails with the reason, and `kafka_consumer_blocked_partitions`
   * counts it. Default 10 s.
   */
  blockedAfterMs?: number;
  /** How far an event's occurredAt may be ahead of this consumer's clock; later ones are dead-lettered (`clock`). Default 5 min. */
  maxClockSkewMs?: number;
  /** Messages larger than this are invalid events, dead-lettered without being parsed. Default 256 KiB. */
  maxEventBytes?: number;
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

/** The most events one batchHandler call gets when runs of several partitions are joined. */
const MAX_EVENTS_PER_CALL = 500;

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

/**
 * What to do after the handler failed on `attempt` (from 1). Pure. A dependency that is down is not
 * a poison message: retryable failures are retried however long it takes, with the offset kept.
 */
export function failureAction(error: unknown, attempt: number, maxAttempts: number): FailureAction {
  const kind = failureKind(error);
  if (kind === 'permanent') return { action: 'dead-letter', reason: 'permanent' };
  if (kind === 'retryable' || attempt < maxAttempts) return { action: 'retry' };
  return { action: 'dead-letter', reason: 'exhausted' };
}

/** The offset to commit once `offset` is done: Kafka's committed offset is the next one to read. */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/** One partition's batch being worked through, in order: inline in kafkajs' fetch loop, or as a lane. */
interface Lane {
  topic: string;
  partition: number;
  /** Aborted on stop and on every rebalance: the lane then finishes its in-flight call and ends. */
  abort: AbortController;
  /** Handed off the fetch loop (its partition paused until it ends). */
  detached: boolean;
  finished: boolean;
}

/** A fetched message, as the lane sees it: an event to handle, one to skip, or an invalid one. */
type Entry =
  | { kind: 'event'; offset: string; item: ConsumedEvent; record: FailedRecord }
  | { kind: 'skip'; offset: string }
  | {
      kind: 'invalid';
      offset: string;
      record: FailedRecord;
      reason: 'invalid' | 'clock';
      error: string;
      log: Logger;
    };

/** A partition whose current message keeps failing. */
interface Blockage {
  since: number;
  error: string;
  /** Counted in kafka_consumer_blocked_partitions (and failing readiness). */
  reported: boolean;
}

/**
 * Consumes `topics` as group `groupId` and hands every valid event to the handler, at least once.
 *
 * Each partition's fetched batch is worked through in offset order and its offset committed once,
 * after every event of it was handled or dead-lettered; a crash or rebalance redelivers (never
 * skips) what was not finished, and handlers dedupe through their inbox.
 *
 * A batch is handled inside kafkajs' fetch loop (up to `partitionsConsumedConcurrently` partitions at
 * once), so the next fetch, a long poll, goes out as soon as the batch is done. But kafkajs fetches
 * again only after every batch of the previous fetch is processed, so one slow or retrying partition
 * would stall all others: a batch still running after `inlineBudgetMs` is handed to a "lane" and its
 * partition paused until the lane is done, while kafkajs keeps fetching (and heartbeating) for the rest.
 */
export function runConsumer(opts: RunConsumerOptions): ConsumerHandle {
  const { handler, batchHandler } = opts;
  if (!handler === !batchHandler)
    throw new Error('runConsumer: give exactly one of handler and batchHandler');
  const retry = resolveRetryOptions(opts.retry);
  const concurrency = opts.partitionsConsumedConcurrently ?? 3;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`partitionsConsumedConcurrently must be an integer >= 1, got ${concurrency}`);
  }
  const inlineBudgetMs = opts.inlineBudgetMs ?? 250;
  const blockedAfterMs = opts.blockedAfterMs ?? 10_000;
  const limits = {
    maxClockSkewMs: opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS,
    maxEventBytes: opts.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES,
  };
  const handledTypes = opts.eventTypes ? new Set(opts.eventTypes) : undefined;
  const logger = opts.logger.child({ component: 'kafka-consumer', groupId: opts.groupId });
  const consumer: Consumer = kafkajsOf(opts.kafka).consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: opts.heartbeatIntervalMs ?? 1_000,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 1_000,
    allowAutoTopicCreation: false,
  });

  let state: ConsumerState = 'starting';
  /** Every batch being worked on, inline or as a lane, by partition. */
  const lanes = new Map<string, Lane>();
  const laneDone = new Map<string, Promise<void>>();
  /** Partitions whose current message is failing, by lane key. */
  const blockages = new Map<string, Blockage>();

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
      logger.info({ lanes: lanes.size, why }, 'ending partition lanes after their in-flight call');
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
    outcome: 'processed' | 'retried' | 'dead_lettered' | 'skipped',
  ) => metrics?.eventsConsumed.inc({ topic, event_type: eventType, outcome });

  /** Records a failed try on the lane's partition; past blockedAfterMs the partition counts as blocked. */
  function noteFailure(lane: Lane, err: unknown): void {
    const key = laneKey(lane.topic, lane.partition);
    const now = Date.now();
    let blockage = blockages.get(key);
    if (!blockage) {
      blockage = { since: now, error: '', reported: false };
      blockages.set(key, blockage);
    }
    blockage.error = errorMessage(err);
    if (!blockage.reported && now - blockage.since >= blockedAfterMs) {
      blockage.reported = true;
      metrics?.consumerBlockedPartitions?.inc({ topic: lane.topic });
      logger.error(
        { topic: lane.topic, partition: lane.partition, err, blockedMs: now - blockage.since },
        'partition blocked: its current message keeps failing; offset kept, retrying',
      );
    }
  }

  /** The lane's partition moved on (or is no longer ours): it is not blocked any more. */
  function noteProgress(lane: Lane): void {
    const key = laneKey(lane.topic, lane.partition);
    const blockage = blockages.get(key);
    if (!blockage) return;
    blockages.delete(key);
    if (!blockage.reported) return;
    metrics?.consumerBlockedPartitions?.dec({ topic: lane.topic });
    logger.info(
      { topic: lane.topic, partition: lane.partition, blockedMs: Date.now() - blockage.since },
      'partition unblocked',
    );
  }

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
    const input = { service: opts.service, record, reason, error, retryCount, failedAt: new Date() };
    let message = buildDeadLetter(input);
    for (let attempt = 1; ; attempt++) {
      try {
        await opts.publisher.publish([message]);
        noteProgress(lane);
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
        noteFailure(lane, err);
        log.error({ err, attempt }, 'publishing the dead letter failed; offset stays uncommitted, retrying');
        if (!(await sleepUnlessAborted(backoffDelay(attempt, DLQ_PUBLISH_BACKOFF), lane.abort.signal)))
          return false;
      }
    }
  }

  /** Classifies one fetched message; only events the handler acts on are fully validated. */
  function toEntry(lane: Lane, message: KafkaMessage): Entry {
    const { topic, partition } = lane;
    const { offset } = message;
    const record: FailedRecord = {
      topic,
      partition,
      offset,
      key: message.key,
      value: message.value,
      headers: decodeHeaders(message.headers),
    };
    const bytes = message.value ?? Buffer.alloc(0);
    const recordLogger = logger.child({ topic, partition, offset });
    // A well-known type the handler ignores is acknowledged untouched; anything else is checked in
    // full (an unknown or missing type is an invalid event, and goes to the DLQ).
    const json = bytes.length <= limits.maxEventBytes ? parseJson(bytes) : undefined;
    const eventType = eventTypeOf(json);
    if (handledTypes && KNOWN_EVENT_TYPES.has(eventType) && !handledTypes.has(eventType)) {
      return { kind: 'skip', offset };
    }
    const accepted = acceptEvent(topic, bytes, { ...limits, json, nowMs: Date.now() });
    if (!accepted.ok) {
      recordLogger.warn({ reason: accepted.reason, error: accepted.error }, 'event refused');
      const { reason, error } = accepted;
      return { kind: 'invalid', offset, record, reason, error, log: recordLogger };
    }
    const event = accepted.event;
    const item: ConsumedEvent = {
      event,
      topic,
      partition,
      offset,
      headers: record.headers,
      attempt: 1,
      logger: eventLogger(recordLogger, {
        orderId: event.orderId,
        correlationId: event.correlationId,
        eventId: event.eventId,
        eventType: event.eventType,
      }),
    };
    return { kind: 'event', offset, item, record };
  }

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
        noteProgress(lane);
        countConsumed(topic, event.eventType, 'processed');
        return true;
      } catch (err) {
        const next = failureAction(err, attempt, retry.maxAttempts);
        noteFailure(lane, err);
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
  const handleTogether = batchHandler ? coalesceCalls(batchHandler, MAX_EVENTS_PER_CALL) : undefined;

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
        noteProgress(lane);
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
        noteFailure(lane, err);
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
      const entry = toEntry(lane, message);
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

  /** Handles the batch, then commits once, up to the last message it finished. */
  async function runLane(lane: Lane, batch: Batch, resolveOffset: (offset: string) => void): Promise<void> {
    const { topic, partition } = lane;
    const doneThrough = await workThrough(lane, batch);
    if (doneThrough === undefined) return;
    try {
      await consumer.commitOffsets([{ topic, partition, offset: nextOffset(doneThrough) }]);
    } catch (err) {
      logger.warn(
        { err, topic, partition, offset: doneThrough },
        'offset commit failed; batch will be redelivered',
      );
      return;
    }
    // Advance kafkajs' fetch position too, unless a rebalance replaced it (then it restarts from the commit).
    if (!lane.abort.signal.aborted) resolveOffset(doneThrough);
  }

  function resumeQuietly(topic: string, partition: number): void {
    try {
      consumer.resume([{ topic, partitions: [partition] }]);
    } catch (err) {
      // Only while kafkajs restarts its consumer group; the new one starts unpaused anyway.
      logger.debug({ err, topic, partition }, 'resume skipped');
    }
  }

  const eachBatch = async ({ batch, pause, resolveOffset }: EachBatchPayload): Promise<void> => {
    const key = laneKey(batch.topic, batch.partition);
    if (state === 'stopping' || state === 'stopped' || lanes.has(key)) {
      // A lane of this partition (from an earlier generation) is still finishing; it resumes the
      // partition when done, and nothing resolved here means kafkajs fetches this batch again.
      pause();
      return;
    }
    const lane: Lane = {
      topic: batch.topic,
      partition: batch.partition,
      abort: new AbortController(),
      detached: false,
      finished: false,
    };
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
        // Its next lane (here or on another member after a rebalance) reports for itself.
        noteProgress(lane);
        lane.finished = true;
        // Fetch this partition again from where the lane got to.
        if (lane.detached && state !== 'stopping' && state !== 'stopped')
          resumeQuietly(lane.topic, lane.partition);
      });
    laneDone.set(key, done);

    let timer: NodeJS.Timeout | undefined;
    const overBudget = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), inlineBudgetMs);
    });
    const detach = await Promise.race([done.then(() => false), overBudget]);
    clearTimeout(timer);
    if (!detach) return;
    // Still working: let the fetch loop go on for the other partitions while this one is paused.
    lane.detached = true;
    pause();
    if (lane.finished) resumeQuietly(lane.topic, lane.partition);
  };

  const started = (async () => {
    await consumer.connect();
    await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: concurrency,
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
        const now = Date.now();
        const blocked = [...blockages.entries()].filter(([, b]) => now - b.since >= blockedAfterMs);
        if (blocked.length > 0) {
          const [key, first] = blocked[0] as [string, Blockage];
          throw new Error(
            `consumer ${opts.groupId} is blocked on ${blocked.length} partition(s): ${key.replace('|', '[')}] ` +
              `has failed for ${Math.round((now - first.since) / 1000)} s: ${first.error}`,
          );
        }
      },
    },
  };
}

const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** The parsed JSON of a message, or undefined when it is not JSON. */
function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The eventType field of a parsed JSON value, or '' when it has none. */
function eventTypeOf(json: unknown): string {
  if (typeof json !== 'object' || json === null || !('eventType' in json)) return '';
  return typeof json.eventType === 'string' ? json.eventType : '';
}

function laneKey(topic: string, partition: number): string {
  return `${topic}|${partition}`;
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
