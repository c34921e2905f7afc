import { createHash } from 'node:crypto';
import { DlqHeader, dlqTopic } from '@dispatch/contracts';
import { DlqHeadersError } from './errors';
import type { ConsumedRecord } from './headers';
import type { OutgoingMessage } from './publisher';

/**
 * Why a message was dead-lettered; also the `reason` label of the dlqMessages metric. `invalid`: not
 * a valid event for its topic; `clock`: dated further in the future than the allowed clock skew;
 * `permanent`: the handler refused it for good; `exhausted`: it kept failing for an unknown reason.
 */
export type DlqReason = 'invalid' | 'clock' | 'permanent' | 'exhausted';

export const DLQ_REASONS: readonly DlqReason[] = ['invalid', 'clock', 'permanent', 'exhausted'];

/** Our addition to the six DLQ headers of the design, so the replay CLI can filter by cause. */
export const DLQ_REASON_HEADER = 'x-dlq-reason';

/** x-error carries the message, not a stack; long errors are cut to keep the record small. */
export const MAX_ERROR_HEADER_LENGTH = 1_000;

/**
 * The largest dead letter written whole (key, value and headers). Kafka's default limit of a record
 * batch is 1 MiB (message.max.bytes), and a dead letter is its original record plus headers, so one
 * consumed just under the limit would not fit: a larger one keeps only a prefix of its value.
 */
export const MAX_DEAD_LETTER_BYTES = 900_000;

/** The prefix of the value a truncated dead letter keeps. */
export const TRUNCATED_VALUE_BYTES = 64 * 1024;

/** Set on a truncated dead letter: what was cut (`value`, or `value,headers`). */
export const DLQ_TRUNCATED_HEADER = 'x-dlq-truncated';
/** On a truncated dead letter: the original value's length in bytes and its SHA-256 (hex). */
export const DLQ_ORIGINAL_SIZE_HEADER = 'x-original-size';
export const DLQ_ORIGINAL_SHA256_HEADER = 'x-original-sha256';

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
  /** Dead letters larger than this are truncated (default MAX_DEAD_LETTER_BYTES; 0 truncates any). */
  maxBytes?: number;
}

/** Cuts `text` to at most `max` UTF-16 units without splitting a surrogate pair, marking the cut. */
export function truncateError(text: string, max: number = MAX_ERROR_HEADER_LENGTH): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1; // do not leave half a surrogate pair
  return `${text.slice(0, end)}…`;
}

const DLQ_HEADER_NAMES: readonly string[] = [
  ...Object.values(DlqHeader),
  DLQ_REASON_HEADER,
  DLQ_TRUNCATED_HEADER,
  DLQ_ORIGINAL_SIZE_HEADER,
  DLQ_ORIGINAL_SHA256_HEADER,
];

/**
 * The dead letter for a failed record: the original key and value bytes untouched, the original
 * headers (traceparent etc.) kept, plus the DLQ headers describing where it came from and why.
 * DLQ headers of an earlier failure (a replayed dead letter failing again) are replaced.
 *
 * One over `maxBytes` could never be published (and retrying it would stop the partition for good):
 * it keeps the first TRUNCATED_VALUE_BYTES of its value, says so in `x-dlq-truncated`, and carries the
 * original value's size and SHA-256; the original headers go too if they alone are too large.
 */
export function buildDeadLetter(input: DeadLetterInput): OutgoingMessage {
  const { record } = input;
  const maxBytes = input.maxBytes ?? MAX_DEAD_LETTER_BYTES;
  // A null value (tombstone) is never a valid event; it is forwarded as zero bytes.
  const value = record.value ?? Buffer.alloc(0);
  let headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(record.headers)) {
    if (!DLQ_HEADER_NAMES.includes(name)) headers[name] = headerValue;
  }
  const keyBytes = record.key?.length ?? 0;
  let keptValue = value;
  if (keyBytes + value.length + headerBytes(headers) + DLQ_HEADERS_ALLOWANCE > maxBytes) {
    keptValue = value.subarray(0, TRUNCATED_VALUE_BYTES);
    let cut = 'value';
    if (
      keyBytes + keptValue.length + headerBytes(headers) + DLQ_HEADERS_ALLOWANCE >
      Math.max(maxBytes, TRUNCATED_VALUE_BYTES * 2)
    ) {
      headers = {};
      cut = 'value,headers';
    }
    headers[DLQ_TRUNCATED_HEADER] = cut;
    headers[DLQ_ORIGINAL_SIZE_HEADER] = String(value.length);
    headers[DLQ_ORIGINAL_SHA256_HEADER] = createHash('sha256').update(value).digest('hex');
  }
  headers[DlqHeader.originalTopic] = record.topic;
  headers[DlqHeader.originalPartition] = String(record.partition);
  headers[DlqHeader.originalOffset] = record.offset;
  headers[DlqHeader.error] = truncateError(input.error);
  headers[DlqHeader.retryCount] = String(input.retryCount);
  headers[DlqHeader.failedAt] = input.failedAt.toISOString();
  headers[DLQ_REASON_HEADER] = input.reason;
  return { topic: dlqTopic(input.service), key: record.key, value: keptValue, headers };
}

/** Room for the DLQ headers themselves (x-error is cut to 1000 characters, up to 4 bytes each). */
const DLQ_HEADERS_ALLOWANCE = 8 * 1024;

function headerBytes(headers: Record<string, string>): number {
  let total = 0;
  for (const [name, value] of Object.entries(headers))
    total += Buffer.byteLength(name) + Buffer.byteLength(value);
  return total;
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

/** The record a replay republishes: the original, as read back from its topic and offset. */
export interface ReplaySource extends DeadLetterRecord {
  topic: string;
}

/**
 * The message that replays a dead letter. It is built from the original record read back from the
 * source topic and offset (never from the dead letter's own bytes or x-original-topic, which anyone
 * who can write to the DLQ could forge): same topic, key and value bytes, its headers without any
 * DLQ ones. The caller decides that the record may be replayed (`./dispatch dlq replay` checks the
 * topic is one the service consumes and the record matches the dead letter). Consumers that already
 * handled the event skip it through their inbox, so replaying to the shared raw topic is safe.
 */
export function toReplayMessage(source: ReplaySource): OutgoingMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(source.headers)) {
    if (!DLQ_HEADER_NAMES.includes(name)) headers[name] = value;
  }
  return {
    topic: source.topic,
    key: source.key,
    value: source.value ?? Buffer.alloc(0),
    headers,
  };
}
