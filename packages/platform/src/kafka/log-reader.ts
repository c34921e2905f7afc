import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { type KafkaClient, kafkajsOf } from './client';
import { type ConsumedRecord, decodeHeaders } from './headers';

/**
 * Reads topics from their first offset up to end offsets captured beforehand: a snapshot of the
 * log, streamed. For the read-model rebuild (which replays raw.*) and readDlq. It joins a throwaway
 * consumer group (deleted afterwards) and never commits, so no service's committed offsets move and
 * the read does not depend on them.
 */

/** A record the log reader hands over. */
export type LogRecord = ConsumedRecord;

/** topic → partition → the offset one past the last record to read. */
export type EndOffsets = Map<string, Map<number, bigint>>;

/** Raised by readTopicsUntil when the log yields nothing new for idleTimeoutMs before the end offsets. */
export class LogReadTimeoutError extends Error {
  constructor(
    readonly idleTimeoutMs: number,
    /** The partitions not read to their end, as `topic[partition]`. */
    readonly unfinished: string[],
  ) {
    super(`no progress for ${idleTimeoutMs} ms; unfinished partitions: ${unfinished.join(', ')}`);
    this.name = 'LogReadTimeoutError';
  }
}

/** The current end (high watermark) of every partition of `topics`. */
export async function fetchEndOffsets(client: KafkaClient, topics: string[]): Promise<EndOffsets> {
  const admin = kafkajsOf(client).admin();
  await admin.connect();
  try {
    const ends: EndOffsets = new Map();
    for (const topic of topics) {
      const partitions = new Map<number, bigint>();
      for (const p of await admin.fetchTopicOffsets(topic)) partitions.set(p.partition, BigInt(p.high));
      ends.set(topic, partitions);
    }
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The offsets below the ends. An upper bound on the records a read delivers: records deleted by
 * retention or compaction, and transaction markers, have offsets too.
 */
export function countRecords(ends: EndOffsets): bigint {
  let total = 0n;
  for (const partitions of ends.values()) for (const end of partitions.values()) total += end;
  return total;
}

export interface ReadTopicsUntilOptions {
  ends: EndOffsets;
  /** Where to start, per partition (e.g. the ends captured earlier): records below are skipped. Default: the log's start. */
  starts?: EndOffsets;
  /**
   * Called with each fetched run of records of one partition, in offset order; awaited before that
   * partition is fetched on. Runs of different partitions may be handled at the same time (up to
   * PARTITIONS_AT_ONCE). When it throws, the read stops and rejects with that error.
   */
  handle: (records: LogRecord[]) => Promise<void>;
  /** Reject with LogReadTimeoutError when no record was handled for this long while partitions are unfinished. */
  idleTimeoutMs: number;
  /** The throwaway group is `<prefix>-<uuid>`. Default 'log-reader'. */
  groupIdPrefix?: string;
}

/** Partitions whose runs are handled at the same time. */
export const PARTITIONS_AT_ONCE = 4;

/** Where a partition's read stands: deliver offsets in [next, end). */
export interface PartitionProgress {
  topic: string;
  partition: number;
  next: bigint;
  end: bigint;
}

/**
 * The partitions that hold records below their end. A partition whose first offset still in the
 * log (low watermark) is at or past its end has nothing left to read: retention deleted it all,
 * and the consumer would wait for it forever.
 */
export function partitionsToRead(
  ends: EndOffsets,
  lowWatermarks: Map<string, Map<number, bigint>>,
  starts?: EndOffsets,
): Map<string, PartitionProgress> {
  const toRead = new Map<string, PartitionProgress>();
  for (const [topic, partitions] of ends) {
    for (const [partition, end] of partitions) {
      const low = lowWatermarks.get(topic)?.get(partition) ?? 0n;
      const start = starts?.get(topic)?.get(partition) ?? 0n;
      const next = start > low ? start : low;
      if (end > next) toRead.set(partitionKey(topic, partition), { topic, partition, next, end });
    }
  }
  return toRead;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}[${partition}]`;
}

/**
 * The records of a fetched run to deliver: those in [next, end). Offsets below `next` were
 * delivered already: after a rebalance of the throwaway group (it never commits) a partition is
 * fetched again from its start, and those records must not reach the handler twice.
 */
export function recordsToDeliver<T extends { offset: string }>(
  progress: PartitionProgress,
  messages: T[],
): T[] {
  return messages.filter((m) => {
    const offset = BigInt(m.offset);
    return offset >= progress.next && offset < progress.end;
  });
}

/**
 * Streams every record below the end offsets to `handle`, each once; resolves with the number
 * handled once every partition reached its end. Rejects with LogReadTimeoutError on idle timeout,
 * with the handler's error when `handle` throws, or with the consumer's error when it crashes for
 * good. The throwaway group is deleted in every case.
 */
export async function readTopicsUntil(client: KafkaClient, opts: ReadTopicsUntilOptions): Promise<number> {
  if (!(opts.idleTimeoutMs > 0)) throw new RangeError('readTopicsUntil: idleTimeoutMs must be > 0');
  const candidates = [...opts.ends].filter(([, partitions]) =>
    [...partitions.values()].some((end) => end > 0n),
  );
  if (candidates.length === 0) return 0;

  const kafka = kafkajsOf(client);
  const logger = client.logger;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const lows = new Map<string, Map<number, bigint>>();
    for (const [topic] of candidates) {
      const offsets = await admin.fetchTopicOffsets(topic);
      lows.set(topic, new Map(offsets.map((p) => [p.partition, BigInt(p.low)])));
    }
    const pending = partitionsToRead(opts.ends, lows, opts.starts);
    if (pending.size === 0) return 0;

    const groupId = `${opts.groupIdPrefix ?? 'log-reader'}-${randomUUID()}`;
    const consumer = kafka.consumer({
      groupId,
      // Heartbeats go out between runs only, so the session must outlast the slowest `handle`.
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 250,
    });
    try {
      return await consume(consumer, pending, opts, logger);
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([groupId]).catch((err: unknown) => {
        logger.debug({ err, groupId }, 'could not delete the log reader group');
      });
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function consume(
  consumer: Consumer,
  pending: Map<string, PartitionProgress>,
  opts: ReadTopicsUntilOptions,
  logger: KafkaClient['logger'],
): Promise<number> {
  let handled = 0;
  let stopped = false;
  let idleTimer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({
      topics: [...new Set([...pending.values()].map((p) => p.topic))],
      fromBeginning: true,
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => {
        stopped = true;
        reject(err);
      };
      const armIdleTimer = () => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(
          () => fail(new LogReadTimeoutError(opts.idleTimeoutMs, [...pending.keys()])),
          opts.idleTimeoutMs,
        );
      };
      armIdleTimer();
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        // kafkajs restarts the consumer after retriable errors; otherwise nothing more arrives.
        if (!payload.restart) fail(payload.error);
      });
      consumer
        .run({
          autoCommit: false,
          partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
          eachBatch: async ({ batch, heartbeat, pause }) => {
            if (stopped) return;
            const progress = pending.get(partitionKey(batch.topic, batch.partition));
            if (progress === undefined) {
              // Done, or nothing to read: records past the end (live traffic) need not be fetched.
              pause();
              return;
            }
            if (BigInt(batch.lastOffset()) + 1n < progress.next) {
              // Fetching from the log's start, all of it below `starts`: jump there instead.
              consumer.seek({
                topic: batch.topic,
                partition: batch.partition,
                offset: String(progress.next),
              });
              return;
            }
            const records = recordsToDeliver(progress, batch.messages).map(
              (m): LogRecord => ({
                topic: batch.topic,
                partition: batch.partition,
                offset: m.offset,
                key: m.key,
                value: m.value,
                headers: decodeHeaders(m.headers),
              }),
            );
            const last = records[records.length - 1];
            if (last !== undefined) {
              try {
                await opts.handle(records);
              } catch (err) {
                // Not rethrown: kafkajs would retry the batch; the read fails instead.
                fail(err);
                return;
              }
              handled += records.length;
              progress.next = BigInt(last.offset) + 1n;
              armIdleTimer();
              await heartbeat();
            }
            if (BigInt(batch.lastOffset()) + 1n >= progress.end) {
              pending.delete(partitionKey(batch.topic, batch.partition));
              logger.debug(
                { topic: batch.topic, partition: batch.partition },
                'partition read to its end offset',
              );
              pause();
            }
            if (pending.size === 0) resolve();
          },
        })
        .catch(fail);
    });
    return handled;
  } finally {
    stopped = true;
    clearTimeout(idleTimer);
  }
}
