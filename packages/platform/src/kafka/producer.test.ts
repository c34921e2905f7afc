import { groupByTopic, JAVA_COMPATIBLE_PARTITIONER } from './producer';

describe('groupByTopic', () => {
  it('makes one entry per topic, keeping publish order within each topic', () => {
    const value = (s: string) => Buffer.from(s);
    const grouped = groupByTopic([
      { topic: 'a', key: 'o1', value: value('1') },
      { topic: 'b', key: 'o2', value: value('2'), headers: { traceparent: 't' } },
      { topic: 'a', key: 'o1', value: value('3') },
      { topic: 'a', key: null, value: value('4') },
    ]);
    expect(grouped).toEqual([
      {
        topic: 'a',
        messages: [
          { key: 'o1', value: value('1') },
          { key: 'o1', value: value('3') },
          { key: null, value: value('4') },
        ],
      },
      { topic: 'b', messages: [{ key: 'o2', value: value('2'), headers: { traceparent: 't' } }] },
    ]);
  });

  it('returns nothing for no messages', () => {
    expect(groupByTopic([])).toEqual([]);
  });
});

describe('JAVA_COMPATIBLE_PARTITIONER', () => {
  // murmur2 hashes from the Java client's own test suite (org.apache.kafka.common.utils.UtilsTest).
  const javaMurmur2: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];

  it.each([1, 3, 6, 12])('picks the partition the Java client picks, with %i partitions', (numPartitions) => {
    const partition = JAVA_COMPATIBLE_PARTITIONER();
    const partitionMetadata = Array.from({ length: numPartitions }, (_, partitionId) => ({
      partitionId,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }));
    for (const [key, hash] of javaMurmur2) {
      // Java: Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions
      const javaPartition = (hash & 0x7fffffff) % numPartitions;
      expect(partition({ topic: 't', partitionMetadata, message: { key, value: null } })).toBe(javaPartition);
    }
  });
});
