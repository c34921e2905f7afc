import {
  countRecords,
  createEventProducer,
  type EndOffsets,
  type EventProducer,
  ensureTopics,
  fetchEndOffsets,
  type KafkaClient,
  LogReadTimeoutError,
  type LogRecord,
  type OutgoingMessage,
  readDlq,
  readTopicsUntil,
} from '../src/kafka';
import { kafkajsOf } from '../src/kafka/client';
import { assertKafkaReachable, suffix, testKafka, testLogger } from './helpers/kafka';

const logger = testLogger();
let kafka: KafkaClient;
let producer: EventProducer;

beforeAll(async () => {
  await assertKafkaReachable();
  kafka = testKafka(logger);
  producer = createEventProducer(kafka, { logger });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
});

/** A fresh topic with 3 partitions, so tests never see each other's records. */
async function freshTopic(): Promise<string> {
  const topic = `test.log-reader.${suffix()}`;
  await ensureTopics(kafka, [{ topic, numPartitions: 3 }]);
  return topic;
}

/** `count` records with distinct keys (spread over the partitions), values `<label>-<i>`, a header each. */
function records(topic: string, label: string, count: number): OutgoingMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    topic,
    key: `${label}-key-${i}`,
    value: Buffer.from(`${label}-${i}`),
    headers: { 'x-test-index': String(i) },
  }));
}

async function groupsStartingWith(prefix: string): Promise<string[]> {
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    return (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith(prefix));
  } finally {
    await admin.disconnect();
  }
}

const valuesOf = (delivered: LogRecord[]) => delivered.map((r) => r.value?.toString('utf8')).sort();

describe('readTopicsUntil (real Kafka)', () => {
  it('delivers every record below the captured ends once, in offset order per partition, and nothing published later', async () => {
    const [a, b] = [await freshTopic(), await freshTopic()];
    const before = [...records(a, 'a-before', 40), ...records(b, 'b-before', 20)];
    await producer.publish(before);
    const ends = await fetchEndOffsets(kafka, [a, b]);
    expect(countRecords(ends)).toBe(60n);
    // Every partition holds records, so the read really covers three partitions per topic.
    for (const topic of [a, b]) {
      expect([...(ends.get(topic)?.entries() ?? [])].filter(([, end]) => end > 0n).length).toBe(3);
    }
    await producer.publish([...records(a, 'a-after', 15), ...records(b, 'b-after', 15)]);

    const prefix = `log-reader-test-${suffix()}`;
    const delivered: LogRecord[] = [];
    const runSizes: number[] = [];
    const handled = await readTopicsUntil(kafka, {
      ends,
      idleTimeoutMs: 20_000,
      groupIdPrefix: prefix,
      handle: async (run) => {
        expect(new Set(run.map((r) => `${r.topic}[${r.partition}]`)).size).toBe(1);
        runSizes.push(run.length);
        delivered.push(...run);
      },
    });

    expect(handled).toBe(60);
    expect(runSizes.reduce((sum, n) => sum + n, 0)).toBe(60);
    expect(valuesOf(delivered)).toEqual(before.map((m) => m.value.toString('utf8')).sort());
    // Per partition: offsets 0 .. end-1, each once, in order.
    for (const [topic, partitions] of ends) {
      for (const [partition, end] of partitions) {
        const offsets = delivered
          .filter((r) => r.topic === topic && r.partition === partition)
          .map((r) => r.offset);
        expect(offsets).toEqual(Array.from({ length: Number(end) }, (_, i) => String(i)));
      }
    }
    const first = delivered.find((r) => r.value?.toString('utf8') === 'a-before-7');
    expect(first).toMatchObject({ topic: a, headers: { 'x-test-index': '7' } });
    expect(first?.key?.toString('utf8')).toBe('a-before-key-7');
    expect(await groupsStartingWith(prefix)).toEqual([]);
  });

  it('with starts, delivers only the records from there to the ends', async () => {
    const topic = await freshTopic();
    const early = records(topic, 'early', 600);
    await producer.publish(early);
    const starts = await fetchEndOffsets(kafka, [topic]);
    const middle = records(topic, 'middle', 30);
    await producer.publish(middle);
    const ends = await fetchEndOffsets(kafka, [topic]);
    await producer.publish(records(topic, 'late', 10));

    const delivered: LogRecord[] = [];
    const handled = await readTopicsUntil(kafka, {
      ends,
      starts,
      idleTimeoutMs: 20_000,
      handle: async (run) => {
        delivered.push(...run);
      },
    });
    expect(handled).toBe(30);
    expect(valuesOf(delivered)).toEqual(middle.map((m) => m.value.toString('utf8')).sort());
  });

  it('rejects with the error the handler threw, and deletes its group', async () => {
    const topic = await freshTopic();
    await producer.publish(records(topic, 'x', 12));
    const ends = await fetchEndOffsets(kafka, [topic]);
    const prefix = `log-reader-test-${suffix()}`;
    const boom = new Error('handler refused the run');

    const read = readTopicsUntil(kafka, {
      ends,
      idleTimeoutMs: 20_000,
      groupIdPrefix: prefix,
      handle: async () => {
        throw boom;
      },
    });

    await expect(read).rejects.toBe(boom);
    expect(await groupsStartingWith(prefix)).toEqual([]);
  });

  it('rejects with LogReadTimeoutError naming the partition that never reaches its end, and deletes its group', async () => {
    const topic = await freshTopic();
    await producer.publish(records(topic, 'y', 12));
    const captured = await fetchEndOffsets(kafka, [topic]);
    const partitions = new Map(captured.get(topic));
    // An end past the log's end: the read can never finish partition 0.
    partitions.set(0, (partitions.get(0) ?? 0n) + 5n);
    const ends: EndOffsets = new Map([[topic, partitions]]);
    const prefix = `log-reader-test-${suffix()}`;
    let handled = 0;

    const read = readTopicsUntil(kafka, {
      ends,
      idleTimeoutMs: 2_000,
      groupIdPrefix: prefix,
      handle: async (run) => {
        handled += run.length;
      },
    });

    await expect(read).rejects.toBeInstanceOf(LogReadTimeoutError);
    await expect(read).rejects.toMatchObject({ idleTimeoutMs: 2_000, unfinished: [`${topic}[0]`] });
    // Everything that exists below the ends was still delivered before giving up.
    expect(handled).toBe(12);
    expect(await groupsStartingWith(prefix)).toEqual([]);
  });

  it('resolves with 0 for an empty topic, without waiting for the idle timeout', async () => {
    const topic = await freshTopic();
    const ends = await fetchEndOffsets(kafka, [topic]);
    const handle = jest.fn(async () => {});
    const started = Date.now();

    await expect(readTopicsUntil(kafka, { ends, idleTimeoutMs: 60_000, handle })).resolves.toBe(0);
    expect(handle).not.toHaveBeenCalled();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('skips a partition whose records were all deleted (low watermark at its end) instead of waiting for it', async () => {
    const topic = await freshTopic();
    await producer.publish(records(topic, 'z', 30));
    const ends = await fetchEndOffsets(kafka, [topic]);
    const end0 = ends.get(topic)?.get(0) ?? 0n;
    expect(end0).toBeGreaterThan(0n);
    const admin = kafkajsOf(kafka).admin();
    await admin.connect();
    try {
      // kafkajs' deleteTopicRecords needs the topic's metadata loaded first.
      await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: end0.toString() }] });
    } finally {
      await admin.disconnect();
    }
    const delivered: LogRecord[] = [];

    const handled = await readTopicsUntil(kafka, {
      ends,
      idleTimeoutMs: 20_000,
      handle: async (run) => {
        delivered.push(...run);
      },
    });

    expect(handled).toBe(30 - Number(end0));
    expect(delivered.filter((r) => r.partition === 0)).toEqual([]);
  });

  it('refuses a non-positive idle timeout', async () => {
    await expect(
      readTopicsUntil(kafka, {
        ends: new Map([['t', new Map([[0, 1n]])]]),
        idleTimeoutMs: 0,
        handle: async () => {},
      }),
    ).rejects.toThrow(RangeError);
  });
});

describe('readDlq on readTopicsUntil (real Kafka)', () => {
  it('returns every record of a multi-partition topic sorted by partition and offset', async () => {
    const topic = await freshTopic();
    await producer.publish(records(topic, 'dead', 25));

    const letters = await readDlq(kafka, topic);

    expect(letters).toHaveLength(25);
    const order = letters.map((l) => [l.partition, Number(l.offset)] as const);
    expect(order).toEqual([...order].sort((x, y) => x[0] - y[0] || x[1] - y[1]));
    expect(new Set(letters.map((l) => l.partition)).size).toBe(3);
    // Not dead letters of ours: the DLQ headers are missing, which readDlq reports per record.
    expect(letters[0]).toMatchObject({ dlq: null, dlqError: expect.stringContaining('x-original-topic') });
  });
});
