import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { type KafkaClient, kafkajsOf } from './client';
import { errorMessage } from './errors';
import { decodeHeaders } from './headers';
import { type LogRecord, partitionKey } from './log-reader';

/**
 * Reads single records by topic, partition and offset: what `./dispatch dlq replay` uses to check
 * that the offset a dead letter names exists and holds the bytes the dead letter carries. Like the
 * log reader it joins a throwaway consumer group (deleted afterwards) and never commits.
 */

export interface RecordLocation {
  topic: string;
  partition: number;
  /** A non-negative integer, as Kafka offsets are given everywhere in this code base. */
  offset: string;
}

/** What is at one location. */
export type RecordLookup =
  | { status: 'found'; record: LogRecord }
  | { status: 'no-topic' }
  | { status: 'no-partition'; partitions: number }
  /** Below the first offset still in the log (deleted by retention) or at/after its end (never written). */
  | { status: 'out-of-range'; low: string; high: string }
  /** In range, but no record there: a transaction marker, or removed by compaction. */
  | { status: 'no-record' }
  /** The broker did not deliver that far within the timeout. */
  | { status: 'unreadable'; error: string };

/** A partition's first offset still in the log and its end (one past the last record). */
export interface PartitionWatermarks {
  low: bigint;
  high: bigint;
}

/**
 * What can be told about a location from the topic's partitions alone (undefined when the topic
 * does not exist), or 'fetch' when the record has to be read. Pure.
 */
export function locate(
  location: RecordLocation,
  partitions: Map<number, PartitionWatermarks> | undefined,
): RecordLookup | 'fetch' {
  if (partitions === undefined) return { status: 'no-topic' };
  const marks = partitions.get(location.partition);
  if (marks === undefined) return { status: 'no-partition', partitions: partitions.size };
  const offset = BigInt(location.offset);
  if (offset < marks.low || offset >= marks.high) {
    return { status: 'out-of-range', low: String(marks.low), high: String(marks.high) };
  }
  return 'fetch';
}

/**
 * One partition's wanted offsets, ascending, and the records found for them so far. `settle` is
 * called once the partition has been read up to `lastOffset` (inclusive) from a position at or
 * below the first wanted offset: every wanted offset up to there is either found or has no record.
 */
export class PartitionWants {
  private readonly wanted: bigint[];
  private readonly found = new Map<string, LogRecord>();
  readonly results = new Map<string, RecordLookup>();

  constructor(offsets: string[]) {
    this.wanted = [...new Set(offsets)].map((o) => BigInt(o)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The next offset to read from, or undefined when every wanted offset is settled. */
  get next(): bigint | undefined {
    return this.wanted[0];
  }

  /** Records of a fetched run; keeps the wanted ones until settled. */
  offer(records: LogRecord[]): void {
    for (const record of records) {
      if (this.wanted.includes(BigInt(record.offset))) this.found.set(record.offset, record);
    }
  }

  /** The partition has been read through `lastOffset`. */
  settle(lastOffset: bigint): void {
    while (this.wanted[0] !== undefined && this.wanted[0] <= lastOffset) {
      const key = String(this.wanted.shift());
      const record = this.found.get(key);
      this.results.set(key, record ? { status: 'found', record } : { status: 'no-record' });
      this.found.delete(key);
    }
  }

  /** Gives up on what is left. */
  abandon(error: string): void {
    for (const offset of this.wanted.splice(0))
      this.results.set(String(offset), { status: 'unreadable', error });
  }
}

export interface ReadRecordsAtOptions {
  /** Give up on what is not read yet when nothing arrives for this long. Default 15 s. */
  idleTimeoutMs?: number;
}

/** The record at each location, in the order given. */
export async function readRecordsAt(
  client: KafkaClient,
  locations: RecordLocation[],
  opts: ReadRecordsAtOptions = {},
): Promise<RecordLookup[]> {
  if (locations.length === 0) return [];
  const kafka = kafkajsOf(client);
  const admin = kafka.admin();
  await admin.connect();
  const wants = new Map<string, { topic: string; partition: number; wants: PartitionWants }>();
  const early = new Map<RecordLocation, RecordLookup>();
  try {
    // listTopics first: asking for a missing topic's offsets would be an error (and a metadata
    // request for it could create it where auto-creation is on).
    const existing = new Set(await admin.listTopics());
    const watermarks = new Map<string, Map<number, PartitionWatermarks>>();
    for (const topic of new Set(locations.map((l) => l.topic))) {
      if (!existing.has(topic)) continue;
      const offsets = await admin.fetchTopicOffsets(topic);
      watermarks.set(
        topic,
        new Map(offsets.map((p) => [p.partition, { low: BigInt(p.low), high: BigInt(p.high) }])),
      );
    }
    const toFetch = new Map<string, RecordLocation[]>();
    for (const location of locations) {
      const verdict = locate(location, watermarks.get(location.topic));
      if (verdict !== 'fetch') early.set(location, verdict);
      else {
        const key = partitionKey(location.topic, location.partition);
        toFetch.set(key, [...(toFetch.get(key) ?? []), location]);
      }
    }
    for (const [key, group] of toFetch) {
      const [first] = group;
      if (first === undefined) continue;
      wants.set(key, {
        topic: first.topic,
        partition: first.partition,
        wants: new PartitionWants(group.map((l) => l.offset)),
      });
    }
    if (wants.size > 0) {
      const groupId = `record-reader-${randomUUID()}`;
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, sessionTimeout: 30_000 });
      try {
        await fetchWanted(consumer, wants, opts.idleTimeoutMs ?? 15_000);
      } finally {
        await consumer.disconnect().catch(() => undefined);
        await admin.deleteGroups([groupId]).catch((err: unknown) => {
          client.logger.debug({ err, groupId }, 'could not delete the record reader group');
        });
      }
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  return locations.map((location) => {
    const known = early.get(location);
    if (known) return known;
    const entry = wants.get(partitionKey(location.topic, location.partition));
    return (
      entry?.wants.results.get(String(BigInt(location.offset))) ?? {
        status: 'unreadable',
        error: 'not read',
      }
    );
  });
}

async function fetchWanted(
  consumer: Consumer,
  wants: Map<string, { topic: string; partition: number; wants: PartitionWants }>,
  idleTimeoutMs: number,
): Promise<void> {
  const unsettled = () => [...wants.values()].filter((w) => w.wants.next !== undefined);
  let idleTimer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    // fromBeginning: until the seeks below apply, fetches start at the earliest offset, so no
    // partition is ever read from a position past a wanted offset (which would look like a gap).
    await consumer.subscribe({
      topics: [...new Set([...wants.values()].map((w) => w.topic))],
      fromBeginning: true,
    });
    await new Promise<void>((resolve, reject) => {
      const armIdleTimer = () => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => {
          for (const w of unsettled()) {
            w.wants.abandon(
              `nothing read from ${partitionKey(w.topic, w.partition)} for ${idleTimeoutMs} ms`,
            );
          }
          resolve();
        }, idleTimeoutMs);
      };
      armIdleTimer();
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) reject(payload.error);
      });
      // Emitted for every fetched run, also for runs of transaction markers only (which never
      // reach eachBatch), so a wanted offset that holds a marker is settled too.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const entry = wants.get(partitionKey(payload.topic, payload.partition));
        if (entry === undefined || entry.wants.next === undefined) {
          consumer.pause([{ topic: payload.topic, partitions: [payload.partition] }]);
          return;
        }
        entry.wants.settle(BigInt(payload.lastOffset));
        armIdleTimer();
        const next = entry.wants.next;
        if (next === undefined) consumer.pause([{ topic: payload.topic, partitions: [payload.partition] }]);
        else if (next > BigInt(payload.lastOffset) + 1n) {
          consumer.seek({ topic: payload.topic, partition: payload.partition, offset: String(next) });
        }
        if (unsettled().length === 0) resolve();
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const entry = wants.get(partitionKey(batch.topic, batch.partition));
            entry?.wants.offer(
              batch.messages.map((m) => ({
                topic: batch.topic,
                partition: batch.partition,
                offset: m.offset,
                key: m.key,
                value: m.value,
                headers: decodeHeaders(m.headers),
              })),
            );
          },
        })
        .then(() => {
          for (const w of wants.values()) {
            if (w.wants.next !== undefined) {
              consumer.seek({ topic: w.topic, partition: w.partition, offset: String(w.wants.next) });
            }
          }
        })
        .catch((err: unknown) => reject(new Error(`reading records: ${errorMessage(err)}`)));
    });
  } finally {
    clearTimeout(idleTimer);
  }
}
