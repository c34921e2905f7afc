import type { Admin } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger';
import { type KafkaClient, kafkajsOf } from './client';

export const CONSUMER_LAG_METRIC = 'kafka_consumer_lag_messages';
export const CONSUMER_LAG_ERRORS_METRIC = 'kafka_consumer_lag_collection_errors_total';

/** A consumer group and the topics it reads: what the collector measures. */
export interface ConsumerLagTarget {
  groupId: string;
  topics: string[];
}

export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  /** Messages between the group's committed offset and the partition's end. */
  lag: number;
}

/** A partition's offsets as Kafka reports them: decimal strings, because they are 64-bit. */
export interface PartitionEnds {
  partition: number;
  /** Log start offset (earliest still on disk). */
  low: string;
  /** High watermark: the offset the next message will get. */
  high: string;
}

/**
 * Lag of one partition, never negative. A committed offset of -1 means the group has not committed
 * on that partition yet; our consumers then start from the earliest offset (fromBeginning), so all
 * of the log that is still on disk is lag. A committed offset below the log start (retention deleted
 * what the group never read) counts from the log start too.
 */
export function partitionLag(ends: Pick<PartitionEnds, 'low' | 'high'>, committed: string): number {
  const high = BigInt(ends.high);
  const low = BigInt(ends.low);
  let from = BigInt(committed);
  if (from < 0n || from < low) from = low;
  const lag = high - from;
  return lag > 0n ? Number(lag) : 0;
}

/** Pure: every partition's lag of one group on one topic, from the two admin answers. */
export function topicLag(
  group: string,
  topic: string,
  ends: PartitionEnds[],
  committed: { partition: number; offset: string }[],
): PartitionLag[] {
  const committedByPartition = new Map(committed.map((c) => [c.partition, c.offset]));
  return ends
    .map((end) => ({
      group,
      topic,
      partition: end.partition,
      lag: partitionLag(end, committedByPartition.get(end.partition) ?? '-1'),
    }))
    .sort((a, b) => a.partition - b.partition);
}

export interface ConsumerLagMetrics {
  lag: Gauge<'group' | 'topic' | 'partition'>;
  errors: Counter<'group'>;
}

/** Registers (or reuses) the lag gauge and its error counter on a service's registry. */
export function createConsumerLagMetrics(registry: Registry): ConsumerLagMetrics {
  const existingLag = registry.getSingleMetric(CONSUMER_LAG_METRIC);
  const existingErrors = registry.getSingleMetric(CONSUMER_LAG_ERRORS_METRIC);
  if (existingLag instanceof Gauge && existingErrors instanceof Counter) {
    return {
      lag: existingLag as Gauge<'group' | 'topic' | 'partition'>,
      errors: existingErrors as Counter<'group'>,
    };
  }
  return {
    lag: new Gauge({
      name: CONSUMER_LAG_METRIC,
      help: "Messages a consumer group still has to read: the partition's end offset minus the group's committed offset.",
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
    }),
    errors: new Counter({
      name: CONSUMER_LAG_ERRORS_METRIC,
      help: 'Consumer lag collections that failed (the lag gauge then keeps its previous values).',
      labelNames: ['group'],
      registers: [registry],
    }),
  };
}

export interface ConsumerLagCollectorOptions {
  kafka: KafkaClient;
  targets: ConsumerLagTarget[];
  registry: Registry;
  logger: Logger;
  /** Default 15 s: two cheap admin requests per topic and one per group. */
  intervalMs?: number;
}

export interface ConsumerLagCollector {
  /** Reads the offsets now, updates the gauge and returns what it set. Throws when a group failed. */
  collect(): Promise<PartitionLag[]>;
  /** Stops the timer, waits for a collection in flight and closes the admin connection. */
  stop(): Promise<void>;
}

/**
 * Periodically compares each group's committed offsets with its topics' end offsets and exports the
 * difference as `kafka_consumer_lag_messages{group,topic,partition}`. Measured from the broker, so it
 * also shows lag while the service's consumer is stuck or gone (which its own counters cannot).
 * Every instance of a service reports the same numbers: aggregate with max(), not sum().
 */
export function startConsumerLagCollector(opts: ConsumerLagCollectorOptions): ConsumerLagCollector {
  const intervalMs = opts.intervalMs ?? 15_000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new RangeError(`consumer lag intervalMs must be > 0, got ${intervalMs}`);
  }
  const logger = opts.logger.child({ component: 'kafka-consumer-lag' });
  const metrics = createConsumerLagMetrics(opts.registry);
  // At 0 from the start, so increase() (and the alert on it) sees the first failure.
  for (const target of opts.targets) metrics.errors.inc({ group: target.groupId }, 0);
  let admin: Admin | undefined;
  let inFlight: Promise<PartitionLag[]> | undefined;
  let stopped = false;

  async function connectedAdmin(): Promise<Admin> {
    if (admin) return admin;
    const fresh = kafkajsOf(opts.kafka).admin({ retry: { retries: 1 } });
    await fresh.connect();
    admin = fresh;
    return fresh;
  }

  async function dropAdmin(): Promise<void> {
    const current = admin;
    admin = undefined;
    await current?.disconnect().catch(() => undefined);
  }

  async function readAll(): Promise<PartitionLag[]> {
    const client = await connectedAdmin();
    const endsByTopic = new Map<string, Promise<PartitionEnds[]>>();
    const ends = (topic: string) => {
      let pending = endsByTopic.get(topic);
      if (!pending) {
        pending = client.fetchTopicOffsets(topic);
        endsByTopic.set(topic, pending);
      }
      return pending;
    };
    const results: PartitionLag[] = [];
    const failures: unknown[] = [];
    for (const target of opts.targets) {
      try {
        const committed = await client.fetchOffsets({ groupId: target.groupId, topics: target.topics });
        const committedByTopic = new Map(committed.map((t) => [t.topic, t.partitions]));
        for (const topic of target.topics) {
          results.push(
            ...topicLag(target.groupId, topic, await ends(topic), committedByTopic.get(topic) ?? []),
          );
        }
      } catch (err) {
        metrics.errors.inc({ group: target.groupId });
        failures.push(err);
        logger.warn({ err, groupId: target.groupId }, 'reading consumer lag failed; keeping the last values');
      }
    }
    if (failures.length > 0) {
      // A broken connection is reopened on the next collection.
      await dropAdmin();
      if (results.length === 0) throw failures[0];
    }
    // Set everything in one synchronous step, so a scrape never sees a half-updated gauge, and
    // partitions that disappeared (group deleted, topic gone) stop being reported.
    // A failed group keeps its previous values instead.
    if (failures.length === 0) metrics.lag.reset();
    for (const r of results) {
      metrics.lag.set({ group: r.group, topic: r.topic, partition: String(r.partition) }, r.lag);
    }
    if (failures.length > 0) throw failures[0];
    return results;
  }

  function collect(): Promise<PartitionLag[]> {
    if (stopped) return Promise.reject(new Error('consumer lag collector is stopped'));
    inFlight ??= readAll().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  const runQuietly = () => {
    if (inFlight || stopped) return;
    collect().catch(() => undefined); // logged and counted in readAll
  };
  const timer = setInterval(runQuietly, intervalMs);
  timer.unref();
  runQuietly();

  return {
    collect,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await inFlight?.catch(() => undefined);
      await dropAdmin();
    },
  };
}
