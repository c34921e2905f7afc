import { locate, PartitionWants } from './record-reader';

const rec = (offset: string) => ({
  topic: 't',
  partition: 0,
  offset,
  key: null,
  value: Buffer.from(offset),
  headers: {},
});

describe('locate', () => {
  const partitions = new Map([
    [0, { low: 5n, high: 10n }],
    [1, { low: 0n, high: 0n }],
  ]);
  it.each([
    [{ topic: 't', partition: 0, offset: '5' }, 'fetch'],
    [{ topic: 't', partition: 0, offset: '9' }, 'fetch'],
    [
      { topic: 't', partition: 0, offset: '4' },
      { status: 'out-of-range', low: '5', high: '10' },
    ],
    [
      { topic: 't', partition: 0, offset: '10' },
      { status: 'out-of-range', low: '5', high: '10' },
    ],
    [
      { topic: 't', partition: 1, offset: '0' },
      { status: 'out-of-range', low: '0', high: '0' },
    ],
    [
      { topic: 't', partition: 2, offset: '0' },
      { status: 'no-partition', partitions: 2 },
    ],
  ])('%j → %j', (location, verdict) => {
    expect(locate(location, partitions)).toEqual(verdict);
  });
  it('says when the topic does not exist', () => {
    expect(locate({ topic: 'gone', partition: 0, offset: '0' }, undefined)).toEqual({ status: 'no-topic' });
  });
});

describe('PartitionWants', () => {
  it('settles each wanted offset as found or without a record once read past it', () => {
    const wants = new PartitionWants(['7', '3', '12', '3']);
    expect(wants.next).toBe(3n);
    wants.offer([rec('3'), rec('4'), rec('5')]);
    wants.settle(5n);
    expect(wants.next).toBe(7n);
    // 7 is a transaction marker: a run 6..8 without it.
    wants.offer([rec('6'), rec('8')]);
    wants.settle(8n);
    expect(wants.next).toBe(12n);
    wants.abandon('timed out');
    expect(wants.next).toBeUndefined();
    expect(Object.fromEntries(wants.results)).toEqual({
      '3': { status: 'found', record: rec('3') },
      '7': { status: 'no-record' },
      '12': { status: 'unreadable', error: 'timed out' },
    });
  });

  it('keeps a wanted record offered before its run is settled', () => {
    const wants = new PartitionWants(['2']);
    wants.offer([rec('2')]);
    wants.settle(1n);
    expect(wants.next).toBe(2n);
    wants.settle(2n);
    expect(wants.results.get('2')).toEqual({ status: 'found', record: rec('2') });
  });
});
