import { createHash } from 'node:crypto';
import { consumedTopics, dlqTopic, parseEnvelope } from '@dispatch/contracts';
import {
  type DeadLetter,
  DLQ_ORIGINAL_SHA256_HEADER,
  DLQ_ORIGINAL_SIZE_HEADER,
  DLQ_TRUNCATED_HEADER,
  type EventPublisher,
  type KafkaClient,
  type OutgoingMessage,
  type RecordLocation,
  type RecordLookup,
  readDlq,
  readRecordsAt,
  toReplayMessage,
} from '@dispatch/platform';
import type { DlqCommand } from './args';

export interface DlqRow {
  partition: number;
  offset: string;
  originalTopic: string | null;
  originalPartition: number | null;
  originalOffset: string | null;
  reason: string | null;
  retryCount: number | null;
  failedAt: string | null;
  error: string | null;
  eventType: string | null;
  orderId: string | null;
}

/** One printable row per dead letter; the event is described when its envelope parses. */
export function describeDeadLetter(d: DeadLetter): DlqRow {
  const parsed = d.value ? parseEnvelope(d.value) : undefined;
  return {
    partition: d.partition,
    offset: d.offset,
    originalTopic: d.dlq?.originalTopic ?? null,
    originalPartition: d.dlq?.originalPartition ?? null,
    originalOffset: d.dlq?.originalOffset ?? null,
    reason: d.dlq?.reason ?? null,
    retryCount: d.dlq?.retryCount ?? null,
    failedAt: d.dlq?.failedAt ?? null,
    error: d.dlq?.error ?? d.dlqError ?? null,
    eventType: parsed?.ok ? parsed.event.eventType : null,
    orderId: parsed?.ok ? parsed.event.orderId : null,
  };
}

type ReplayCommand = Extract<DlqCommand, { name: 'replay' }>;

/**
 * Which dead letters a replay command selects. Pure. Dead letters whose DLQ headers do not parse
 * are selected too (by --offset, or by --all without --reason) so the replay can refuse them by name.
 */
export function selectForReplay(
  letters: DeadLetter[],
  cmd: ReplayCommand,
): { selected: DeadLetter[]; missing: string[] } {
  const reasonMatches = (d: DeadLetter) => !cmd.reason || d.dlq?.reason === cmd.reason;
  if ('all' in cmd.selection) {
    const selected = letters.filter((d) => (cmd.reason ? reasonMatches(d) : d.dlq?.reason !== 'invalid'));
    return { selected, missing: [] };
  }
  const selected: DeadLetter[] = [];
  const missing: string[] = [];
  for (const wanted of cmd.selection.offsets) {
    const found = letters.find((d) => d.partition === wanted.partition && d.offset === wanted.offset);
    if (found && reasonMatches(found)) selected.push(found);
    else missing.push(`${wanted.partition}:${wanted.offset}`);
  }
  return { selected, missing };
}

/** The dead letters of dlq.<service> (or of `topic`), described. */
export async function listDeadLetters(
  kafka: KafkaClient,
  service: string,
  topic: string = dlqTopic(service),
): Promise<DlqRow[]> {
  return (await readDlq(kafka, topic)).map(describeDeadLetter);
}

export class ReplaySelectionError extends Error {}

/**
 * Where a dead letter points, when that is somewhere a replay may publish to, or why not. Pure.
 * Only the service's own consumed topics qualify: the topic header is the dead letter's claim, and
 * a DLQ is as writable as any topic.
 */
export function replayTarget(
  letter: DeadLetter,
  service: string,
  sourceTopics: readonly string[],
): { location: RecordLocation } | { refused: string } {
  if (letter.dlq === null) {
    return { refused: `unreadable DLQ headers (${letter.dlqError ?? 'not a dead letter'})` };
  }
  const { originalTopic, originalPartition, originalOffset } = letter.dlq;
  if (!sourceTopics.includes(originalTopic)) {
    return {
      refused: `x-original-topic "${originalTopic}" is not a topic ${service} consumes (${sourceTopics.join(', ')})`,
    };
  }
  return { location: { topic: originalTopic, partition: originalPartition, offset: originalOffset } };
}

export type ReplayVerdict = { replay: OutgoingMessage; note: string } | { refused: string };

const sameBytes = (a: Buffer | null, b: Buffer | null) => (a === null || b === null ? a === b : a.equals(b));

/**
 * Decides a dead letter's replay from what its original offset holds. Pure. A whole dead letter
 * must carry exactly the original key and value bytes. A truncated one (x-dlq-truncated) carries
 * only a prefix of the value: the original is accepted when the key is the same, the kept bytes
 * are its prefix, and its size and SHA-256 are those the dead letter recorded. Either way what is
 * replayed is the original record as read back, never the dead letter's bytes.
 */
export function judgeReplay(
  letter: DeadLetter,
  location: RecordLocation,
  lookup: RecordLookup,
): ReplayVerdict {
  const where = `${location.topic}[${location.partition}]@${location.offset}`;
  switch (lookup.status) {
    case 'no-topic':
      return { refused: `topic ${location.topic} does not exist` };
    case 'no-partition':
      return {
        refused: `${location.topic} has no partition ${location.partition} (it has ${lookup.partitions})`,
      };
    case 'out-of-range':
      return {
        refused:
          lookup.low === lookup.high
            ? `${where} does not exist: ${location.topic}[${location.partition}] holds no records (next offset ${lookup.high})`
            : `${where} does not exist: ${location.topic}[${location.partition}] holds offsets ${lookup.low} to ${BigInt(lookup.high) - 1n}`,
      };
    case 'no-record':
      return { refused: `${where} holds no record (a transaction marker, or removed by compaction)` };
    case 'unreadable':
      return { refused: `could not read ${where}: ${lookup.error}` };
    case 'found':
      break;
  }
  const original = lookup.record;
  const replay = toReplayMessage({ ...original, topic: location.topic });
  if (!sameBytes(letter.key, original.key)) {
    return { refused: `${where} holds a different key than the dead letter` };
  }
  const originalValue = original.value ?? Buffer.alloc(0);
  const kept = letter.value ?? Buffer.alloc(0);
  const truncated = letter.headers[DLQ_TRUNCATED_HEADER];
  if (truncated === undefined) {
    if (!originalValue.equals(kept)) {
      return {
        refused: `${where} holds different value bytes than the dead letter (${originalValue.length} bytes there, ${kept.length} in the dead letter)`,
      };
    }
    return { replay, note: `the record at ${where} (same key and value bytes as the dead letter)` };
  }
  const sha256 = letter.headers[DLQ_ORIGINAL_SHA256_HEADER];
  const size = letter.headers[DLQ_ORIGINAL_SIZE_HEADER];
  if (sha256 === undefined || size === undefined) {
    return {
      refused: `truncated dead letter (${DLQ_TRUNCATED_HEADER}: ${truncated}) without ${DLQ_ORIGINAL_SHA256_HEADER} and ${DLQ_ORIGINAL_SIZE_HEADER}: cannot tell whether ${where} is its original`,
    };
  }
  const actual = createHash('sha256').update(originalValue).digest('hex');
  if (
    String(originalValue.length) !== size ||
    actual !== sha256.toLowerCase() ||
    !originalValue.subarray(0, kept.length).equals(kept)
  ) {
    return {
      refused: `truncated dead letter: ${where} is not its original (${originalValue.length} bytes, SHA-256 ${actual}; the dead letter recorded ${size} bytes, SHA-256 ${sha256})`,
    };
  }
  return {
    replay,
    note: `the record at ${where}, read back whole: the dead letter was truncated (${truncated}); size and SHA-256 match`,
  };
}

export interface ReplayResult extends DlqRow {
  outcome: 'replayed' | 'would-replay' | 'refused';
  /** What was (or would be) published, or why the dead letter was refused. */
  detail: string;
}

export interface ReplayTopics {
  /** Default dlq.<service>. */
  dlqTopic: string;
  /** The topics a replay may publish to. Default the service's consumed topics. */
  sourceTopics: readonly string[];
}

/**
 * Checks every selected dead letter (replayTarget, then judgeReplay on the record at its original
 * offset), publishes the accepted ones to their original topics in one batch, and reports each:
 * replayed (or would-replay on --dry-run) or refused with the reason. Throws ReplaySelectionError,
 * publishing nothing, when an --offset is not in the DLQ.
 */
export async function replayDeadLetters(
  kafka: KafkaClient,
  publisher: EventPublisher,
  cmd: ReplayCommand,
  topics: ReplayTopics = { dlqTopic: dlqTopic(cmd.service), sourceTopics: consumedTopics(cmd.service) },
): Promise<ReplayResult[]> {
  const letters = await readDlq(kafka, topics.dlqTopic);
  const { selected, missing } = selectForReplay(letters, cmd);
  if (missing.length > 0) {
    throw new ReplaySelectionError(
      `not in ${topics.dlqTopic} (or with another reason): ${missing.join(', ')}`,
    );
  }
  const targets = selected.map((letter) => ({
    letter,
    target: replayTarget(letter, cmd.service, topics.sourceTopics),
  }));
  const locations = targets.flatMap(({ target }) => ('location' in target ? [target.location] : []));
  const lookups = await readRecordsAt(kafka, locations);
  let next = 0;
  const verdicts = targets.map(({ letter, target }): ReplayVerdict => {
    if ('refused' in target) return target;
    const lookup = lookups[next++];
    return lookup ? judgeReplay(letter, target.location, lookup) : { refused: 'not looked up' };
  });
  const accepted = verdicts.flatMap((v) => ('replay' in v ? [v.replay] : []));
  if (!cmd.dryRun && accepted.length > 0) await publisher.publish(accepted);
  return selected.map((letter, i) => {
    const verdict = verdicts[i] ?? { refused: 'not judged' };
    return {
      ...describeDeadLetter(letter),
      ...('replay' in verdict
        ? { outcome: cmd.dryRun ? 'would-replay' : 'replayed', detail: verdict.note }
        : { outcome: 'refused', detail: verdict.refused }),
    };
  });
}
