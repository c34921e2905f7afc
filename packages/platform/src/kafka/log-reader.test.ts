import {
  countRecords,
  type EndOffsets,
  LogReadTimeoutError,
  type PartitionProgress,
  partitionsToRead,
  recordsToDeliver,
} from './log-reader';

const ends = (entries: Record<string, Record<number, bigint>>): EndOffsets =>
  new Map(
    Object.entries(entries).map(([topic, partitions]) => [
      topic,
      new Map(Object.entries(partitions).map(([p, end]) => [Number(p), end])),
    ]),
  );

describe('countRecords', () => {
  it('sums the end offsets of every partition of every topic', () => {
    expect(countRecords(ends({ a: { 0: 3n, 1: 0n, 2: 9007199254740993n }, b: { 0: 7n } }))).toBe(
      9007199254741003n,
    );
  });

  it('is 0 for no topics', () => {
    expect(countRecords(new Map())).toBe(0n);
  });
});

describe('partitionsToRead', () => {
  it('keeps partitions with records between their low watermark and their end', () => {
    const toRead = partitionsToRead(
      ends({ a: { 0: 5n, 1: 0n, 2: 4n, 3: 6n }, b: { 0: 2n } }),
      ends({ a: { 0: 0n, 1: 0n, 2: 4n, 3: 2n } }),
    );
    expect([...toRead.keys()].sort()).toEqual(['a[0]', 'a[3]', 'b[0]']);
    expect(toRead.get('a[3]')).toEqual({ topic: 'a', partition: 3, next: 2n, end: 6n });
  });

  it('starts each partition at its given start offset, and drops those already read to their end', () => {
    const toRead = partitionsToRead(
      ends({ a: { 0: 5n, 1: 3n, 2: 9n } }),
      ends({ a: { 0: 0n, 1: 0n, 2: 4n } }),
      ends({ a: { 0: 2n, 1: 3n, 2: 1n } }),
    );
    expect([...toRead.values()].map((p) => [p.partition, p.next, p.end])).toEqual([
      [0, 2n, 5n],
      [2, 4n, 9n],
    ]);
  });

  it('drops a partition whose records retention deleted past its end', () => {
    expect(partitionsToRead(ends({ a: { 0: 4n } }), ends({ a: { 0: 9n } })).size).toBe(0);
  });
});

describe('recordsToDeliver', () => {
  const progress: PartitionProgress = { topic: 'a', partition: 0, next: 2n, end: 5n };
  const messages = ['0', '1', '2', '3', '4', '5', '6'].map((offset) => ({ offset }));

  it('delivers the offsets in [next, end): nothing twice after a refetch, nothing past the end', () => {
    expect(recordsToDeliver(progress, messages).map((m) => m.offset)).toEqual(['2', '3', '4']);
  });

  it('compares 64-bit offsets exactly', () => {
    const big: PartitionProgress = { ...progress, next: 9007199254740993n, end: 9007199254740995n };
    const run = ['9007199254740992', '9007199254740993', '9007199254740994', '9007199254740995'];
    expect(
      recordsToDeliver(
        big,
        run.map((offset) => ({ offset })),
      ).map((m) => m.offset),
    ).toEqual(['9007199254740993', '9007199254740994']);
  });
});

describe('LogReadTimeoutError', () => {
  it('names the unfinished partitions and the timeout', () => {
    const err = new LogReadTimeoutError(1500, ['a[0]', 'b[2]']);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('LogReadTimeoutError');
    expect(err.message).toBe('no progress for 1500 ms; unfinished partitions: a[0], b[2]');
    expect(err.unfinished).toEqual(['a[0]', 'b[2]']);
  });
});
