import { createHash } from 'node:crypto';
import {
  buildDeadLetter,
  DLQ_ORIGINAL_SHA256_HEADER,
  DLQ_ORIGINAL_SIZE_HEADER,
  DLQ_REASON_HEADER,
  DLQ_TRUNCATED_HEADER,
  type FailedRecord,
  MAX_DEAD_LETTER_BYTES,
  MAX_ERROR_HEADER_LENGTH,
  parseDlqHeaders,
  TRUNCATED_VALUE_BYTES,
  toReplayMessage,
  truncateError,
} from './dlq';
import { DlqHeadersError } from './errors';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function failedRecord(overrides: Partial<FailedRecord> = {}): FailedRecord {
  return {
    topic: 'raw.payment-events',
    partition: 3,
    offset: '9007199254740993', // beyond Number precision: must travel as a string
    key: Buffer.from('order-1'),
    value: Buffer.from([0x7b, 0x00, 0xff, 0x7d]), // not even UTF-8
    headers: { traceparent: TRACEPARENT },
    ...overrides,
  };
}

describe('buildDeadLetter', () => {
  const failedAt = new Date('2026-03-01T12:34:56.789Z');

  it('keeps the original key, value bytes and headers and adds the six DLQ headers', () => {
    const record = failedRecord();
    const dead = buildDeadLetter({
      service: 'payment-service',
      record,
      reason: 'exhausted',
      error: 'connection refused',
      retryCount: 5,
      failedAt,
    });
    expect(dead.topic).toBe('dlq.payment-service');
    expect(dead.key).toEqual(record.key);
    expect(dead.value.equals(Buffer.from([0x7b, 0x00, 0xff, 0x7d]))).toBe(true);
    expect(dead.headers).toEqual({
      traceparent: TRACEPARENT,
      'x-original-topic': 'raw.payment-events',
      'x-original-partition': '3',
      'x-original-offset': '9007199254740993',
      'x-error': 'connection refused',
      'x-retry-count': '5',
      'x-failed-at': '2026-03-01T12:34:56.789Z',
      [DLQ_REASON_HEADER]: 'exhausted',
    });
  });

  it('replaces the DLQ headers of an earlier failure instead of keeping stale ones', () => {
    const earlier = buildDeadLetter({
      service: 'payment-service',
      record: failedRecord(),
      reason: 'exhausted',
      error: 'first failure',
      retryCount: 5,
      failedAt,
    });
    const again = buildDeadLetter({
      service: 'payment-service',
      record: failedRecord({
        topic: 'raw.order-events',
        partition: 0,
        offset: '7',
        headers: earlier.headers ?? {},
      }),
      reason: 'permanent',
      error: 'second failure',
      retryCount: 1,
      failedAt,
    });
    expect(again.headers?.['x-original-topic']).toBe('raw.order-events');
    expect(again.headers?.['x-error']).toBe('second failure');
    expect(again.headers?.['x-retry-count']).toBe('1');
    expect(again.headers?.[DLQ_REASON_HEADER]).toBe('permanent');
    expect(again.headers?.traceparent).toBe(TRACEPARENT);
  });

  it('forwards a null key as null and a tombstone as zero bytes', () => {
    const dead = buildDeadLetter({
      service: 'svc',
      record: failedRecord({ key: null, value: null }),
      reason: 'invalid',
      error: 'invalid JSON',
      retryCount: 0,
      failedAt,
    });
    expect(dead.key).toBeNull();
    expect(dead.value.length).toBe(0);
  });

  it('truncates long errors', () => {
    const dead = buildDeadLetter({
      service: 'svc',
      record: failedRecord(),
      reason: 'exhausted',
      error: 'x'.repeat(50_000),
      retryCount: 5,
      failedAt,
    });
    expect(dead.headers?.['x-error']).toHaveLength(MAX_ERROR_HEADER_LENGTH);
    expect(dead.headers?.['x-error']?.endsWith('…')).toBe(true);
  });
});

describe('truncateError', () => {
  it('leaves short text alone', () => {
    expect(truncateError('short', 10)).toBe('short');
    expect(truncateError('exactly10!', 10)).toBe('exactly10!');
  });

  it('never splits a surrogate pair', () => {
    const cut = truncateError(`abc${'😀'.repeat(10)}`, 7);
    expect(cut).toBe('abc😀…');
    expect(cut.length).toBeLessThanOrEqual(7);
  });
});

describe('parseDlqHeaders', () => {
  const headers = {
    traceparent: TRACEPARENT,
    'x-original-topic': 'raw.order-events',
    'x-original-partition': '2',
    'x-original-offset': '41',
    'x-error': 'invalid event envelope: eventId: Invalid UUID',
    'x-retry-count': '0',
    'x-failed-at': '2026-03-01T12:34:56.789Z',
  };

  it('parses the six headers, from strings or Buffers', () => {
    const fromBuffers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
    for (const input of [headers, fromBuffers]) {
      expect(parseDlqHeaders(input)).toEqual({
        originalTopic: 'raw.order-events',
        originalPartition: 2,
        originalOffset: '41',
        error: 'invalid event envelope: eventId: Invalid UUID',
        retryCount: 0,
        failedAt: '2026-03-01T12:34:56.789Z',
      });
    }
  });

  it('reads the reason when present', () => {
    expect(parseDlqHeaders({ ...headers, [DLQ_REASON_HEADER]: 'invalid' }).reason).toBe('invalid');
  });

  it('round-trips what buildDeadLetter writes', () => {
    const dead = buildDeadLetter({
      service: 'svc',
      record: failedRecord(),
      reason: 'permanent',
      error: 'order unknown',
      retryCount: 1,
      failedAt: new Date('2026-01-02T03:04:05.000Z'),
    });
    expect(parseDlqHeaders(dead.headers ?? {})).toEqual({
      originalTopic: 'raw.payment-events',
      originalPartition: 3,
      originalOffset: '9007199254740993',
      error: 'order unknown',
      retryCount: 1,
      failedAt: '2026-01-02T03:04:05.000Z',
      reason: 'permanent',
    });
  });

  it('names every missing or malformed header', () => {
    let caught: unknown;
    try {
      parseDlqHeaders({
        'x-original-partition': '-1',
        'x-original-offset': 'abc',
        'x-retry-count': '1.5',
        'x-failed-at': 'yesterday',
        [DLQ_REASON_HEADER]: 'bored',
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DlqHeadersError);
    expect((caught as DlqHeadersError).problems).toEqual([
      'x-original-topic is missing',
      "x-original-partition is '-1', expected a partition number",
      "x-original-offset is 'abc', expected an offset",
      'x-error is missing',
      "x-retry-count is '1.5', expected a count",
      "x-failed-at is 'yesterday', expected an ISO-8601 timestamp",
      "x-dlq-reason is 'bored', expected one of invalid, clock, permanent, exhausted",
    ]);
  });
});

describe('toReplayMessage', () => {
  it('republishes the source record to its own topic without any DLQ headers', () => {
    const record = failedRecord();
    const replay = toReplayMessage({
      topic: record.topic,
      key: record.key,
      value: record.value,
      headers: {
        ...record.headers,
        'x-original-topic': 'raw.order-events',
        'x-dlq-reason': 'exhausted',
        'x-dlq-truncated': 'value',
      },
    });
    expect(replay).toEqual({
      topic: 'raw.payment-events',
      key: record.key,
      value: record.value,
      headers: { traceparent: TRACEPARENT },
    });
  });

  it('takes the topic from the source, never from a dead letter header', () => {
    const dead = buildDeadLetter({
      service: 'svc',
      record: failedRecord(),
      reason: 'exhausted',
      error: 'boom',
      retryCount: 5,
      failedAt: new Date(),
    });
    const replay = toReplayMessage({
      topic: 'raw.order-events',
      key: null,
      value: null,
      headers: dead.headers ?? {},
    });
    expect(replay.topic).toBe('raw.order-events');
    expect(replay.value).toEqual(Buffer.alloc(0));
    expect(replay.headers).toEqual({ traceparent: TRACEPARENT });
  });
});

describe('buildDeadLetter of a record too large to dead-letter whole', () => {
  const failedAt = new Date('2026-03-01T12:34:56.789Z');
  const input = (record: FailedRecord, maxBytes?: number) => ({
    service: 'payment-service',
    record,
    reason: 'invalid' as const,
    error: 'not JSON',
    retryCount: 0,
    failedAt,
    ...(maxBytes === undefined ? {} : { maxBytes }),
  });

  it('keeps a prefix of the value, the original headers, and the original size and hash', () => {
    const value = Buffer.alloc(1_000_000, 0x61);
    const dead = buildDeadLetter(input(failedRecord({ value })));
    expect(dead.value.equals(value.subarray(0, TRUNCATED_VALUE_BYTES))).toBe(true);
    expect(dead.headers).toMatchObject({
      traceparent: TRACEPARENT,
      [DLQ_TRUNCATED_HEADER]: 'value',
      [DLQ_ORIGINAL_SIZE_HEADER]: '1000000',
      [DLQ_ORIGINAL_SHA256_HEADER]: createHash('sha256').update(value).digest('hex'),
      'x-original-offset': '9007199254740993',
    });
    const size =
      dead.value.length +
      Object.entries(dead.headers ?? {}).reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(size).toBeLessThan(MAX_DEAD_LETTER_BYTES);
  });

  it('drops the original headers too when they alone are too large', () => {
    const headers = { traceparent: TRACEPARENT, huge: 'h'.repeat(950_000) };
    const dead = buildDeadLetter(input(failedRecord({ headers })));
    expect(dead.headers?.huge).toBeUndefined();
    expect(dead.headers?.traceparent).toBeUndefined();
    expect(dead.headers?.[DLQ_TRUNCATED_HEADER]).toBe('value,headers');
    expect(dead.headers?.['x-original-topic']).toBe('raw.payment-events');
  });

  it('leaves a record under the limit whole, and truncates any with maxBytes 0', () => {
    const small = buildDeadLetter(input(failedRecord()));
    expect(small.headers?.[DLQ_TRUNCATED_HEADER]).toBeUndefined();
    const forced = buildDeadLetter(input(failedRecord({ value: Buffer.alloc(100_000, 1) }), 0));
    expect(forced.value.length).toBe(TRUNCATED_VALUE_BYTES);
    expect(forced.headers?.[DLQ_TRUNCATED_HEADER]).toBe('value');
  });
});
