import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { HealthCheck } from '../health';
import type { Logger } from '../logger';
import { type KafkaClient, kafkajsOf } from './client';
import { deadLetterSender } from './dead-letter-sender';
import { errorMessage } from './errors';
import { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_MAX_EVENT_BYTES } from './event-acceptance';
import { messageClassifier } from './fetched-message';
import type { BatchHandler, EventHandler } from './handler';
import { type ConsumerMetrics, type CountConsumed, type Lane, laneKey } from './lane';
import { laneRunner } from './lane-runner';
import { OffsetCommitter } from './offset-committer';
import { PartitionBlockages } from './partition-blockages';
import type { EventPublisher } from './publisher';
import { type ConsumerRetryOptions, resolveRetryOptions } from './retry-policy';

// The consumer is split by concern: handler.ts (the handler types), retry-policy.ts, fetched-message.ts
// (classifying a message), lane-runner.ts (working through a partition's batch), dead-letter-sender.ts,
// partition-blockages.ts; this file adapts kafkajs' group consumer and schedules batches onto lanes.
export interface RunConsumerOptions {
  kafka: KafkaClient;
  groupId: string;
  topics: string[];
  /** The consuming service's name: dead letters go to `dlq.<service>`. */
  service: string;
  logger: Logger;
  metrics?: ConsumerMetrics;
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
  /**
   * How long a finished batch's offset may wait before it is committed (OffsetCommitter): the
   * offsets of every partition that moved meanwhile go in one request, and no lane waits for a
   * commit round trip. A crash redelivers at most this much finished work (the inbox dedupes it).
   * Default 200 ms.
   */
  commitIntervalMs?: number;
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

/**
 * Consumes `topics` as group `groupId` and hands every valid event to the handler, at least once.
 *
 * Each partition's fetched batch is worked through in offset order and its offset committed once,
 * after every event of it was handled or dead-lettered (within `commitIntervalMs`, together with the
 * other partitions'); a crash or rebalance redelivers (never skips) what was not committed, and
 * handlers dedupe through their inbox.
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
  const commitIntervalMs = opts.commitIntervalMs ?? 200;
  const blockedAfterMs = opts.blockedAfterMs ?? 10_000;
  const logger = opts.logger.child({ component: 'kafka-consumer', groupId: opts.groupId });
  const consumer: Consumer = kafkajsOf(opts.kafka).consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: opts.heartbeatIntervalMs ?? 1_000,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 1_000,
    allowAutoTopicCreation: false,
  });
  const committer = new OffsetCommitter(
    (offsets) => consumer.commitOffsets(offsets),
    commitIntervalMs,
    logger,
  );

  let state: ConsumerState = 'starting';
  /** Every batch being worked on, inline or as a lane, by partition. */
  const lanes = new Map<string, Lane>();
  const laneDone = new Map<string, Promise<void>>();
  /** Partitions whose current message is failing. */
  const blockages = new PartitionBlockages(blockedAfterMs, logger, opts.metrics);

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
    // Each join starts a new generation; lanes of the previous one must not keep going, and their
    // uncommitted offsets are not committed in it (see REBALANCING).
    abortAllLanes('group rebalanced');
    committer.discard();
    if (state === 'starting' || state === 'restarting') state = 'running';
    logger.info(
      { memberId: payload.memberId, assignment: payload.memberAssignment },
      'kafka consumer joined group',
    );
    markReady();
  });
  consumer.on(consumer.events.REBALANCING, () => {
    abortAllLanes('group rebalancing');
    // Commit what is finished while the generation may still accept it; then forget the rest, as
    // the partitions may go to another member (they are delivered again from the last commit).
    void committer.flush().then(() => committer.discard());
  });
  consumer.on(consumer.events.STOP, () => abortAllLanes('consumer stopped'));
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    abortAllLanes('consumer crashed');
    committer.discard();
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
  const countConsumed: CountConsumed = (topic, eventType, outcome) =>
    metrics?.eventsConsumed.inc({ topic, event_type: eventType, outcome });

  const runLane = laneRunner({
    handler,
    batchHandler,
    retry,
    classify: messageClassifier({
      logger,
      limits: {
        maxClockSkewMs: opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS,
        maxEventBytes: opts.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES,
      },
      handledTypes: opts.eventTypes ? new Set(opts.eventTypes) : undefined,
    }),
    deadLetter: deadLetterSender({
      service: opts.service,
      publisher: opts.publisher,
      metrics,
      countConsumed,
      blockages,
    }),
    blockages,
    countConsumed,
    // Committed within commitIntervalMs, all partitions in one request; the lane does not wait.
    commit: (offsets) => committer.add(offsets),
    logger,
    observeCall: (events) => metrics?.consumerHandlerCallEvents?.observe(events),
  });

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
    metrics?.consumerFetchedBatchMessages?.observe(batch.messages.length);
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
        blockages.noteProgress(lane);
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
      await committer.flush();
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
        blockages.assertNoneBlocked(opts.groupId);
      },
    },
  };
}
