import { coalesceCalls } from './coalesce';

describe('coalesceCalls', () => {
  it('joins the calls of one event-loop turn into one call, in call order', async () => {
    const calls: number[][] = [];
    const call = coalesceCalls<number>(async (items) => void calls.push([...items]), 100);
    await Promise.all([call([1, 2]), call([3]), call([4, 5])]);
    await call([6]);
    expect(calls).toEqual([[1, 2, 3, 4, 5], [6]]);
  });

  it('gives every caller of a group its outcome, a failure included', async () => {
    const call = coalesceCalls<string>(async (items) => {
      if (items.includes('poison')) throw new Error('rolled back');
    }, 100);
    const results = await Promise.allSettled([call(['a']), call(['poison']), call(['b'])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    await expect(call(['c'])).resolves.toBeUndefined();
  });

  it('starts a new group once one would hold more than maxItems', async () => {
    const sizes: number[] = [];
    const call = coalesceCalls<number>(async (items) => void sizes.push(items.length), 3);
    await Promise.all([call([1, 2]), call([3]), call([4, 5]), call([6])]);
    expect(sizes).toEqual([3, 3]);
  });
});
