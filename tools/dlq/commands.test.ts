import { createHash } from 'node:crypto';
import {
  buildDeadLetter,
  type DeadLetter,
  type LogRecord,
  parseDlqHeaders,
  type RecordLookup,
} from '@dispatch/platform';
import type { DlqCommand } from './args';
import { judgeReplay, replayTarget, selectForReplay } from './commands';
import { formatReplayResults } from './report';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const original: LogRecord = {
  topic: 'raw.payment-events',
  partition: 2,
  offset: '41',
  key: Buffer.from('order-1'),
  value: Buffer.from('{"eventType":"payment.authorized"}'),
  headers: { traceparent: TRACEPARENT },
};

/** The dead letter consumers would write for `record`, as read back from the DLQ at offset 7. */
function deadLetterOf(record = original, maxBytes?: number): DeadLetter {
  const message = buildDeadLetter({
    service: 'query-api',
    record,
    reason: 'permanent',
    error: 'boom',
    retryCount: 0,
    failedAt: new Date('2026-11-21T18:00:00.000Z'),
    ...(maxBytes === undefined ? {} : { maxBytes }),
  });
  const headers = message.headers ?? {};
  return {
    partition: 0,
    offset: '7',
    key: typeof message.key === 'string' ? Buffer.from(message.key) : message.key,
    value: message.value ?? null,
    headers,
    dlq: parseDlqHeaders(headers),
  };
}

const location = { topic: original.topic, partition: original.partition, offset: original.offset };
const found = (record = original): RecordLookup => ({ status: 'found', record });

describe('replayTarget', () => {
  it('points at the original offset when the topic is one the service consumes', () => {
    expect(replayTarget(deadLetterOf(), 'query-api', ['raw.order-events', 'raw.payment-events'])).toEqual({
      location,
    });
  });

  it('refuses a topic the service does not consume, naming the ones it does', () => {
    const forged = deadLetterOf({ ...original, topic: 'raw.payment-events' });
    expect(replayTarget(forged, 'delivery-service', ['raw.order-events'])).toEqual({
      refused:
        'x-original-topic "raw.payment-events" is not a topic delivery-service consumes (raw.order-events)',
    });
    const elsewhere = deadLetterOf({ ...original, topic: '__consumer_offsets' });
    expect(replayTarget(elsewhere, 'query-api', ['raw.payment-events'])).toHaveProperty('refused');
  });

  it('refuses a record whose DLQ headers do not parse', () => {
    const junk: DeadLetter = {
      partition: 0,
      offset: '3',
      key: null,
      value: null,
      headers: {},
      dlq: null,
      dlqError: 'x-original-topic is missing',
    };
    expect(replayTarget(junk, 'query-api', ['raw.payment-events'])).toEqual({
      refused: 'unreadable DLQ headers (x-original-topic is missing)',
    });
  });
});

describe('judgeReplay', () => {
  it('replays the record read back when key and value are the same bytes', () => {
    const verdict = judgeReplay(deadLetterOf(), location, found());
    expect(verdict).toEqual({
      replay: {
        topic: 'raw.payment-events',
        key: original.key,
        value: original.value,
        headers: { traceparent: TRACEPARENT },
      },
      note: 'the record at raw.payment-events[2]@41 (same key and value bytes as the dead letter)',
    });
  });

  it('publishes the original headers, not those a dead letter carries', () => {
    const letter = deadLetterOf();
    letter.headers = { ...letter.headers, traceparent: 'forged', 'x-extra': 'forged' };
    const verdict = judgeReplay(letter, location, found());
    expect('replay' in verdict && verdict.replay.headers).toEqual({ traceparent: TRACEPARENT });
  });

  it('refuses different value bytes or a different key', () => {
    const letter = deadLetterOf();
    expect(judgeReplay(letter, location, found({ ...original, value: Buffer.from('{}') }))).toEqual({
      refused:
        'raw.payment-events[2]@41 holds different value bytes than the dead letter (2 bytes there, 34 in the dead letter)',
    });
    expect(judgeReplay(letter, location, found({ ...original, key: Buffer.from('order-2') }))).toEqual({
      refused: 'raw.payment-events[2]@41 holds a different key than the dead letter',
    });
    expect(judgeReplay(letter, location, found({ ...original, key: null }))).toHaveProperty('refused');
  });

  it.each<[RecordLookup, string]>([
    [{ status: 'no-topic' }, 'topic raw.payment-events does not exist'],
    [{ status: 'no-partition', partitions: 2 }, 'raw.payment-events has no partition 2 (it has 2)'],
    [
      { status: 'out-of-range', low: '0', high: '41' },
      'raw.payment-events[2]@41 does not exist: raw.payment-events[2] holds offsets 0 to 40',
    ],
    [
      { status: 'out-of-range', low: '50', high: '50' },
      'raw.payment-events[2]@41 does not exist: raw.payment-events[2] holds no records (next offset 50)',
    ],
    [
      { status: 'no-record' },
      'raw.payment-events[2]@41 holds no record (a transaction marker, or removed by compaction)',
    ],
    [{ status: 'unreadable', error: 'timed out' }, 'could not read raw.payment-events[2]@41: timed out'],
  ])('refuses when the offset has no record: %j', (lookup, reason) => {
    expect(judgeReplay(deadLetterOf(), location, lookup)).toEqual({ refused: reason });
  });

  describe('a truncated dead letter', () => {
    const big = { ...original, value: Buffer.alloc(200_000, 0x61) };
    const truncated = () => deadLetterOf(big, 100_000);

    it('is replayed from the original when size, SHA-256 and the kept prefix match', () => {
      const letter = truncated();
      expect(letter.headers['x-dlq-truncated']).toBe('value');
      expect(letter.value?.length).toBeLessThan(big.value.length);
      const verdict = judgeReplay(letter, location, found(big));
      expect(verdict).toMatchObject({ replay: { topic: 'raw.payment-events', value: big.value } });
      expect('note' in verdict && verdict.note).toContain('truncated');
    });

    it('is refused when the record there is another one', () => {
      const other = { ...big, value: Buffer.alloc(200_000, 0x62) };
      expect(judgeReplay(truncated(), location, found(other))).toMatchObject({
        refused: expect.stringContaining('is not its original'),
      });
      // Same size and prefix, different tail.
      const tail = Buffer.from(big.value);
      tail[tail.length - 1] = 0x62;
      expect(judgeReplay(truncated(), location, found({ ...big, value: tail }))).toHaveProperty('refused');
    });

    it('is refused without the size and hash headers', () => {
      const letter = truncated();
      delete letter.headers['x-original-sha256'];
      expect(judgeReplay(letter, location, found(big))).toMatchObject({
        refused: expect.stringContaining('cannot tell whether raw.payment-events[2]@41 is its original'),
      });
    });

    it('is refused when the kept prefix is not the original prefix', () => {
      const letter = truncated();
      const sha = createHash('sha256').update(big.value).digest('hex');
      expect(letter.headers['x-original-sha256']).toBe(sha);
      letter.value = Buffer.from('not the start');
      expect(judgeReplay(letter, location, found(big))).toHaveProperty('refused');
    });
  });
});

describe('selectForReplay', () => {
  const replay = (selection: Extract<DlqCommand, { name: 'replay' }>['selection'], reason?: 'invalid') => ({
    name: 'replay' as const,
    service: 'query-api' as const,
    selection,
    dryRun: false,
    ...(reason ? { reason } : {}),
  });
  const junk: DeadLetter = {
    partition: 0,
    offset: '9',
    key: null,
    value: null,
    headers: {},
    dlq: null,
    dlqError: 'x',
  };

  it('selects unreadable dead letters too, so they are refused by name', () => {
    const good = deadLetterOf();
    expect(selectForReplay([good, junk], replay({ all: true })).selected).toEqual([good, junk]);
    expect(selectForReplay([good, junk], replay({ offsets: [{ partition: 0, offset: '9' }] }))).toEqual({
      selected: [junk],
      missing: [],
    });
    expect(selectForReplay([good, junk], replay({ all: true }, 'invalid')).selected).toEqual([]);
    expect(selectForReplay([good], replay({ offsets: [{ partition: 1, offset: '7' }] })).missing).toEqual([
      '1:7',
    ]);
  });
});

describe('formatReplayResults', () => {
  it('reports each dead letter and the counts', () => {
    const row = {
      partition: 0,
      offset: '7',
      originalTopic: 'raw.payment-events',
      originalPartition: 2,
      originalOffset: '41',
      reason: 'permanent',
      retryCount: 0,
      failedAt: null,
      error: 'boom',
      eventType: 'payment.authorized',
      orderId: 'order-1',
    };
    const text = formatReplayResults(
      [
        { ...row, outcome: 'replayed', detail: 'the record at raw.payment-events[2]@41' },
        {
          ...row,
          offset: '8',
          outcome: 'refused',
          detail: 'x-original-topic "x" is not a topic query-api consumes',
        },
      ],
      false,
    );
    expect(text).toBe(
      'replayed  0:7  payment.authorized order-1\n' +
        '    published: the record at raw.payment-events[2]@41\n' +
        'REFUSED   0:8  payment.authorized order-1\n' +
        '    refused: x-original-topic "x" is not a topic query-api consumes\n' +
        'replayed 1, refused 1 dead letter(s)\n',
    );
  });
});
