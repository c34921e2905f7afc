import { DlqHeader, dlqTopic } from '@dispatch/contracts';
import { DlqHeadersError } from './errors';
import type { ConsumedRecord } from './headers';
import type { OutgoingMessage } from './publisher';

/** Why a message was dead-lettered; also the `reason` label of the dlqMessages metric. */
export type DlqReason = 'invalid' | 'permanent' | 'exhausted';

const DLQ_REASONS: readonly DlqReason[] = ['invalid', 'permanent', 'exhausted'];

/** Our addition to the six DLQ headers of the design, so the replay CLI can filter by cause. */
export const DLQ_REASON_HEADER = 'x-dlq-reason';

/** x-error carries the message, not a stack; long errors are cut to keep the record small. */
export const MAX_ERROR_HEADER_LENGTH = 1_000;

/** The consumed record a dead letter is made from. */
export type FailedRecord = ConsumedRecord;

export interface DeadLetterInput {
  /** The consuming service; the dead letter goes to `dlq.<service>`. */
  service: string;
  record: FailedRecord;
  reason: DlqReason;
  error: string;
  /** How many times the handler was tried (0 for an invalid message, maxAttempts when exhausted). */
  retryCount: number;
  failedAt: Date;
}

/** Cuts `text` to at most `max` UTF-16 units without splitting a surrogate pair, marking the cut. */
export function truncateError(text: string, max: number = MAX_ERROR_HEADER_LENGTH): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1; // do not leave half a surrogate pair
  return `${text.slice(0, end)}…`;
}

const DLQ_HEADER_NAMES: readonly string[] = [...Object.values(DlqHeader), DLQ_REASON_HEADER];

/**
 * The dead letter for a failed record: the original key and value bytes untouched, the original
 * headers (traceparent etc.) kept, plus the DLQ headers describing where it came from and why.
 * DLQ headers of an earlier failure (a replayed dead letter failing again) are replaced.
 */
export function buildDeadLetter(input: DeadLetterInput): OutgoingMessage {
  const { record } = input;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers)) {
    if (!DLQ_HEADER_NAMES.includes(name)) headers[name] = value;
  }
  headers[DlqHeader.originalTopic] = record.topic;
  headers[DlqHeader.originalPartition] = String(record.partition);
  headers[DlqHeader.originalOffset] = record.offset;
  headers[DlqHeader.error] = truncateError(input.error);
  headers[DlqHeader.retryCount] = String(input.retryCount);
  headers[DlqHeader.failedAt] = input.failedAt.toISOString();
  headers[DLQ_REASON_HEADER] = input.reason;
  return {
    topic: dlqTopic(input.service),
    key: record.key,
    // A null value (tombstone) is never a valid event; it is forwarded as zero bytes.
    value: record.value ?? Buffer.alloc(0),
    headers,
  };
}

/** The DLQ headers of one dead letter, parsed. */
export interface DlqHeaders {
  originalTopic: string;
  originalPartition: number;
  originalOffset: string;
  error: string;
  retryCount: number;
  /** ISO-8601 */
  failedAt: string;
  /** Absent on dead letters written by tools that only set the six design headers. */
  reason?: DlqReason;
}

const NON_NEGATIVE_INTEGER = /^(0|[1-9]\d*)$/;
const ISO_8601_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads the DLQ headers of a dead letter (for the replay CLI and DLQ endpoints). Pure.
 * Throws DlqHeadersError naming every missing or malformed header.
 */
export function parseDlqHeaders(headers: Record<string, string | Buffer | undefined>): DlqHeaders {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = headers[name];
    return value === undefined ? undefined : typeof value === 'string' ? value : value.toString('utf8');
  };
  const required = (name: string, valid: (v: string) => boolean, expected: string): string => {
    const value = read(name);
    if (value === undefined) problems.push(`${name} is missing`);
    else if (!valid(value)) problems.push(`${name} is '${value}', expected ${expected}`);
    return value ?? '';
  };

  const originalTopic = required(DlqHeader.originalTopic, (v) => v.length > 0, 'a topic name');
  const originalPartition = required(
    DlqHeader.originalPartition,
    (v) => NON_NEGATIVE_INTEGER.test(v),
    'a partition number',
  );
  const originalOffset = required(DlqHeader.originalOffset, (v) => NON_NEGATIVE_INTEGER.test(v), 'an offset');
  const error = required(DlqHeader.error, () => true, 'an error message');
  const retryCount = required(DlqHeader.retryCount, (v) => NON_NEGATIVE_INTEGER.test(v), 'a count');
  const failedAt = required(
    DlqHeader.failedAt,
    (v) => ISO_8601_UTC.test(v) && !Number.isNaN(Date.parse(v)),
    'an ISO-8601 timestamp',
  );
  const reason = read(DLQ_REASON_HEADER);
  if (reason !== undefined && !isDlqReason(reason)) {
    problems.push(`${DLQ_REASON_HEADER} is '${reason}', expected one of ${DLQ_REASONS.join(', ')}`);
  }
  if (problems.length > 0) throw new DlqHeadersError(problems);

  const parsed: DlqHeaders = {
    originalTopic,
    originalPartition: Number(originalPartition),
    originalOffset,
    error,
    retryCount: Number(retryCount),
    failedAt,
  };
  if (reason !== undefined && isDlqReason(reason)) parsed.reason = reason;
  return parsed;
}

function isDlqReason(value: string): value is DlqReason {
  return (DLQ_REASONS as readonly string[]).includes(value);
}

/** A dead letter as read back from a DLQ topic. */
export interface DeadLetterRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * The message that replays a dead letter: same key and value bytes, the original headers without
 * the DLQ ones, sent back to the topic it came from (or `topic` if given). Consumers that already
 * handled the event skip it through their inbox, so replaying to the shared raw topic is safe.
 */
export function toReplayMessage(deadLetter: DeadLetterRecord, topic?: string): OutgoingMessage {
  const { originalTopic } = parseDlqHeaders(deadLetter.headers);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(deadLetter.headers)) {
    if (!DLQ_HEADER_NAMES.includes(name)) headers[name] = value;
  }
  return {
    topic: topic ?? originalTopic,
    key: deadLetter.key,
    value: deadLetter.value ?? Buffer.alloc(0),
    headers,
  };
}
