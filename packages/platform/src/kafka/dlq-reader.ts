import type { KafkaClient } from './client';
import { type DeadLetterRecord, type DlqHeaders, parseDlqHeaders } from './dlq';
import { errorMessage } from './errors';
import { fetchEndOffsets, type LogRecord, readTopicsUntil } from './log-reader';

/** One record read back from a DLQ topic. */
export interface DeadLetter extends DeadLetterRecord {
  partition: number;
  offset: string;
  /** The parsed DLQ headers, or null when they are missing or malformed (see dlqError). */
  dlq: DlqHeaders | null;
  dlqError?: string;
}

export interface ReadDlqOptions {
  /**
   * Give up (and throw LogReadTimeoutError) when no record arrives for this long while the
   * snapshot is unfinished. An idle timeout, not an overall one: a large DLQ that keeps arriving is
   * read to its end. Default 30 s.
   */
  timeoutMs?: number;
}

/**
 * Reads everything in a DLQ topic up to its end at the time of the call, sorted by partition and
 * offset. For the replay CLI, DLQ endpoints and tests. Holds every record in memory (DLQs are
 * small); uses readTopicsUntil's throwaway consumer group (deleted afterwards), so it neither moves
 * nor depends on any service's offsets.
 */
export async function readDlq(
  client: KafkaClient,
  topic: string,
  opts: ReadDlqOptions = {},
): Promise<DeadLetter[]> {
  const ends = await fetchEndOffsets(client, [topic]);
  const letters: DeadLetter[] = [];
  await readTopicsUntil(client, {
    ends,
    idleTimeoutMs: opts.timeoutMs ?? 30_000,
    groupIdPrefix: 'dlq-reader',
    handle: async (records) => {
      for (const record of records) letters.push(toDeadLetter(record));
    },
  });
  // Runs of different partitions arrive interleaved.
  return letters.sort((a, b) => a.partition - b.partition || compareOffsets(a.offset, b.offset));
}

function toDeadLetter({ partition, offset, key, value, headers }: LogRecord): DeadLetter {
  try {
    return { partition, offset, key, value, headers, dlq: parseDlqHeaders(headers) };
  } catch (err) {
    return { partition, offset, key, value, headers, dlq: null, dlqError: errorMessage(err) };
  }
}

function compareOffsets(a: string, b: string): number {
  const diff = BigInt(a) - BigInt(b);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}
