import { createLogger } from '../logger';
import { OffsetCommitter, type PartitionOffset } from './offset-committer';

const logger = createLogger('offset-committer-test', 'silent');
const at = (partition: number, offset: string): PartitionOffset => ({ topic: 't', partition, offset });

/** A commit function that records every request and fails while `failing` is set. */
function recorder() {
  const requests: PartitionOffset[][] = [];
  const state = { failing: false };
  const commit = async (offsets: PartitionOffset[]) => {
    if (state.failing) throw new Error('coordinator not available');
    requests.push(offsets);
  };
  return { requests, state, commit };
}

describe('OffsetCommitter', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('commits the highest offset of every partition that moved within the interval, in one request', async () => {
    const { requests, commit } = recorder();
    const committer = new OffsetCommitter(commit, 200, logger);
    committer.add([at(0, '5')]);
    committer.add([at(1, '3')]);
    committer.add([at(0, '9')]);
    await jest.advanceTimersByTimeAsync(199);
    expect(requests).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(requests).toEqual([[at(0, '9'), at(1, '3')]]);
    // Nothing pending: no timer, no request.
    await jest.advanceTimersByTimeAsync(1_000);
    expect(requests).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('compares offsets as 64-bit numbers', async () => {
    const { requests, commit } = recorder();
    const committer = new OffsetCommitter(commit, 200, logger);
    committer.add([at(0, '9007199254740993')]);
    committer.add([at(0, '9007199254740992'), at(1, '10')]);
    committer.add([at(1, '9')]);
    await committer.flush();
    expect(requests).toEqual([[at(0, '9007199254740993'), at(1, '10')]]);
  });

  it('flush() commits at once, and waits for the commit', async () => {
    const { requests, commit } = recorder();
    const committer = new OffsetCommitter(commit, 60_000, logger);
    committer.add([at(2, '7')]);
    await committer.flush();
    expect(requests).toEqual([[at(2, '7')]]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps the offsets of a failed commit for the next flush, newer offsets of a partition winning', async () => {
    const { requests, state, commit } = recorder();
    const committer = new OffsetCommitter(commit, 200, logger);
    state.failing = true;
    committer.add([at(0, '4'), at(1, '8')]);
    await committer.flush();
    expect(requests).toEqual([]);
    committer.add([at(0, '6')]);
    state.failing = false;
    await jest.advanceTimersByTimeAsync(200);
    expect(requests).toEqual([[at(0, '6'), at(1, '8')]]);
  });

  it('discard() drops what is pending, also what a commit that fails afterwards would have put back', async () => {
    const { requests, state, commit } = recorder();
    const committer = new OffsetCommitter(commit, 200, logger);
    committer.add([at(0, '4')]);
    committer.discard();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(requests).toEqual([]);

    // A commit in flight when discard() runs, and failing afterwards: its offsets stay dropped.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = new OffsetCommitter(
      async (offsets) => {
        await gate;
        state.failing = !state.failing;
        if (state.failing) throw new Error('not the coordinator');
        requests.push(offsets);
      },
      200,
      logger,
    );
    slow.add([at(1, '2')]);
    const flushing = slow.flush();
    await jest.advanceTimersByTimeAsync(0);
    slow.discard();
    release();
    await flushing;
    await slow.flush();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(requests).toEqual([]);
  });

  it('refuses an interval that is not a positive integer', () => {
    expect(() => new OffsetCommitter(async () => {}, 0, logger)).toThrow(RangeError);
  });
});
