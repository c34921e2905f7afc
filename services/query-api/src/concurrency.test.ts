import { setTimeout as sleep } from 'node:timers/promises';
import { forEachConcurrently } from './concurrency';

describe('forEachConcurrently', () => {
  it('runs every item, never more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachConcurrently([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(n % 3);
      done.push(n);
      running -= 1;
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  it('starts nothing after a failure, waits for the calls in flight, then rejects with the first error', async () => {
    const started: number[] = [];
    let inFlight = 0;
    const call = forEachConcurrently([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      inFlight += 1;
      try {
        if (n === 1) throw new Error('first');
        await sleep(20);
        if (n === 2) throw new Error('second');
      } finally {
        inFlight -= 1;
      }
    });
    await expect(call).rejects.toThrow('first');
    expect(inFlight).toBe(0);
    expect(started).toEqual([1, 2]);
  });

  it('accepts no items and refuses a limit below 1', async () => {
    await expect(forEachConcurrently([], 4, async () => {})).resolves.toBeUndefined();
    await expect(forEachConcurrently([1], 0, async () => {})).rejects.toThrow(RangeError);
  });
});
