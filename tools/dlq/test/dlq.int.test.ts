import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { type AnyEvent, serializeEnvelope } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import {
  buildDeadLetter,
  createEventProducer,
  createKafka,
  createLogger,
  type EventProducer,
  ensureTopics,
  type FailedRecord,
  type KafkaClient,
  type LogRecord,
  readRecordsAt,
} from '@dispatch/platform';
import { stackAddresses } from '@dispatch/testkit';
import { listDeadLetters, type ReplayResult, replayDeadLetters } from '../commands';

const root = path.resolve(__dirname, '..', '..', '..');
const logger = createLogger('dlq-cli-test', 'silent');
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('DLQ replay (real Kafka)', () => {
  let kafka: KafkaClient;
  let producer: EventProducer;

  beforeAll(async () => {
    kafka = createKafka({ ...stackAddresses().kafka, clientId: 'dlq-cli-test', logger });
    producer = createEventProducer(kafka, { logger });
    await producer.connect();
  });
  afterAll(() => producer?.disconnect());

  /** A fresh source topic holding `values` at offsets 0.. of partition 0, and a fresh DLQ topic. */
  async function freshTopics(
    values: Buffer[],
  ): Promise<{ source: string; dlq: string; records: LogRecord[] }> {
    const id = randomUUID().slice(0, 8);
    const source = `it-dlq-source-${id}`;
    const dlq = `it-dlq-${id}`;
    await ensureTopics(kafka, [
      { topic: source, numPartitions: 1 },
      { topic: dlq, numPartitions: 1 },
    ]);
    await producer.publish(
      values.map((value, i) => ({
        topic: source,
        key: `order-${i}`,
        value,
        headers: { traceparent: TRACEPARENT },
      })),
    );
    const lookups = await readRecordsAt(
      kafka,
      values.map((_, i) => ({ topic: source, partition: 0, offset: String(i) })),
    );
    const records = lookups.map((l) => {
      if (l.status !== 'found') throw new Error(`expected a record, got ${JSON.stringify(l)}`);
      return l.record;
    });
    return { source, dlq, records };
  }

  const deadLetter = (dlq: string, record: FailedRecord, maxBytes?: number) => ({
    ...buildDeadLetter({
      service: 'query-api',
      record,
      reason: 'permanent',
      error: 'handler failed',
      retryCount: 0,
      failedAt: new Date('2026-11-21T18:00:00.000Z'),
      ...(maxBytes === undefined ? {} : { maxBytes }),
    }),
    topic: dlq,
  });

  it('reads records by offset: found, out of range, and on a missing topic', async () => {
    const { source, records } = await freshTopics([Buffer.from('a'), Buffer.from('b')]);
    expect(records.map((r) => [r.offset, r.key?.toString(), r.value?.toString()])).toEqual([
      ['0', 'order-0', 'a'],
      ['1', 'order-1', 'b'],
    ]);
    const lookups = await readRecordsAt(kafka, [
      { topic: source, partition: 0, offset: '1' },
      { topic: source, partition: 0, offset: '2' },
      { topic: source, partition: 3, offset: '0' },
      { topic: `it-dlq-missing-${randomUUID().slice(0, 8)}`, partition: 0, offset: '0' },
    ]);
    expect(lookups.map((l) => l.status)).toEqual(['found', 'out-of-range', 'no-partition', 'no-topic']);
    expect(lookups[1]).toEqual({ status: 'out-of-range', low: '0', high: '2' });
  });

  it('reads records by offset across partitions, two per partition, in any order asked', async () => {
    const topic = `it-dlq-multi-${randomUUID().slice(0, 8)}`;
    await ensureTopics(kafka, [{ topic, numPartitions: 3 }]);
    await producer.publish(
      Array.from({ length: 60 }, (_, i) => ({ topic, key: `order-${i % 7}`, value: Buffer.from(`v${i}`) })),
    );
    // Which partition each key went to is the partitioner's business: find two offsets per partition.
    const all = await readRecordsAt(
      kafka,
      [0, 1, 2].flatMap((partition) => [
        { topic, partition, offset: '0' },
        { topic, partition, offset: '5' },
      ]),
    );
    const found = all.filter((l) => l.status === 'found');
    expect(found.length).toBeGreaterThanOrEqual(4);
    for (const l of found) {
      if (l.status !== 'found') continue;
      expect(l.record.topic).toBe(topic);
      expect(l.record.value?.toString()).toMatch(/^v\d+$/);
    }
    // Asked again in another order, the same records come back in that order.
    const again = await readRecordsAt(
      kafka,
      [2, 1, 0].flatMap((partition) => [
        { topic, partition, offset: '5' },
        { topic, partition, offset: '0' },
      ]),
    );
    const values = (lookups: typeof all) =>
      lookups.map((l) =>
        l.status === 'found' ? `${l.record.partition}:${l.record.offset}:${l.record.value}` : l.status,
      );
    expect(values(again)).toEqual([2, 1, 0].flatMap((p) => [values(all)[p * 2 + 1], values(all)[p * 2]]));
  });

  it('reads records by offset past fetches that stop short of them (the reader seeks ahead)', async () => {
    const topic = `it-dlq-seek-${randomUUID().slice(0, 8)}`;
    await ensureTopics(kafka, [{ topic, numPartitions: 1 }]);
    // 600 KB each, published one by one: one record batch each, and a fetch (1 MB per partition)
    // returns one of them, so reaching offset 3 after offset 0 takes a seek past 1 and 2.
    for (let i = 0; i < 4; i += 1) {
      await producer.publish([{ topic, key: `k${i}`, value: Buffer.alloc(600_000, 0x30 + i) }]);
    }
    const lookups = await readRecordsAt(kafka, [
      { topic, partition: 0, offset: '3' },
      { topic, partition: 0, offset: '0' },
    ]);
    expect(
      lookups.map((l) => (l.status === 'found' ? [l.record.offset, l.record.key?.toString()] : l)),
    ).toEqual([
      ['3', 'k3'],
      ['0', 'k0'],
    ]);
  });

  it('replays only genuine dead letters, republishing the original record, and refuses the rest by name', async () => {
    const [event, second] = sampleEvents('happy') as [AnyEvent, AnyEvent];
    const big = Buffer.alloc(200_000, 0x61);
    const { source, dlq, records } = await freshTopics([
      serializeEnvelope(event),
      serializeEnvelope(second),
      big,
    ]);
    const [first, other, large] = records as [LogRecord, LogRecord, LogRecord];

    await producer.publish([
      // 0: genuine: the bytes at source[0]@0.
      deadLetter(dlq, first),
      // 1: forged topic: claims a raw topic this replay may not publish to.
      deadLetter(dlq, { ...first, topic: 'raw.payment-events' }),
      // 2: forged bytes: points at source[0]@1 with other bytes.
      deadLetter(dlq, { ...other, value: Buffer.from('{"forged":true}') }),
      // 3: an offset that was never written.
      deadLetter(dlq, { ...first, offset: '999' }),
      // 4: truncated (the dead letter keeps a prefix): replayed from source[0]@2 read back whole.
      deadLetter(dlq, large, 100_000),
      // 5: not a dead letter at all.
      { topic: dlq, key: null, value: Buffer.from('junk') },
    ]);

    const dryRun = await replayDeadLetters(
      kafka,
      producer,
      { name: 'replay', service: 'query-api', selection: { all: true }, dryRun: true },
      { dlqTopic: dlq, sourceTopics: [source] },
    );
    expect(dryRun.map((r) => r.outcome)).toEqual([
      'would-replay',
      'refused',
      'refused',
      'refused',
      'would-replay',
      'refused',
    ]);

    const results = await replayDeadLetters(
      kafka,
      producer,
      { name: 'replay', service: 'query-api', selection: { all: true }, dryRun: false },
      { dlqTopic: dlq, sourceTopics: [source] },
    );
    const byOffset = (offset: string) => results.find((r) => r.offset === offset) as ReplayResult;
    expect(results.map((r) => r.outcome)).toEqual([
      'replayed',
      'refused',
      'refused',
      'refused',
      'replayed',
      'refused',
    ]);
    expect(byOffset('0')).toMatchObject({ orderId: event.orderId, eventType: event.eventType });
    expect(byOffset('1').detail).toBe(
      `x-original-topic "raw.payment-events" is not a topic query-api consumes (${source})`,
    );
    expect(byOffset('2').detail).toMatch(/holds different value bytes than the dead letter/);
    expect(byOffset('3').detail).toBe(`${source}[0]@999 does not exist: ${source}[0] holds offsets 0 to 2`);
    expect(byOffset('4').detail).toMatch(/truncated .*size and SHA-256 match/);
    expect(byOffset('5').detail).toMatch(/^unreadable DLQ headers/);

    // Exactly the two accepted originals were appended to the source topic, in order, whole,
    // without DLQ headers.
    const appended = await readRecordsAt(kafka, [
      { topic: source, partition: 0, offset: '3' },
      { topic: source, partition: 0, offset: '4' },
      { topic: source, partition: 0, offset: '5' },
    ]);
    expect(appended[2]).toEqual({ status: 'out-of-range', low: '0', high: '5' });
    const replayed = appended.slice(0, 2).map((l) => (l.status === 'found' ? l.record : undefined));
    expect(replayed.map((r) => [r?.key?.toString(), r?.value])).toEqual([
      ['order-0', first.value],
      ['order-2', large.value],
    ]);
    for (const r of replayed) expect(r?.headers).toEqual({ traceparent: TRACEPARENT });
  });

  it('lists dead letters with their DLQ headers', async () => {
    const [event] = sampleEvents('happy') as [AnyEvent];
    const { source, dlq, records } = await freshTopics([serializeEnvelope(event)]);
    await producer.publish([deadLetter(dlq, records[0] as LogRecord)]);
    expect(await listDeadLetters(kafka, 'query-api', dlq)).toEqual([
      {
        partition: 0,
        offset: '0',
        originalTopic: source,
        originalPartition: 0,
        originalOffset: '0',
        reason: 'permanent',
        retryCount: 0,
        failedAt: '2026-11-21T18:00:00.000Z',
        error: 'handler failed',
        eventType: event.eventType,
        orderId: event.orderId,
      },
    ]);
  });

  it('exits non-zero with a clear message on bad input', () => {
    const run = (...args: string[]) =>
      spawnSync('pnpm', ['exec', 'tsx', 'tools/dlq/cli.ts', ...args], { cwd: root, encoding: 'utf8' });
    const unknown = run('list', 'billing');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown service "billing"');
    const missing = run('replay', 'query-api', '--offset', '0:999999999', '--dry-run');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('not in dlq.query-api');
  });
});
