import { eventually } from './eventually';

describe('eventually', () => {
  it('returns the value once the condition holds', async () => {
    let calls = 0;
    const value = await eventually(
      () => {
        calls += 1;
        if (calls < 3) throw new Error('not yet');
        return 'ready';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('fails with the last error after the timeout', async () => {
    await expect(
      eventually(
        () => {
          throw new Error('still broken');
        },
        { timeoutMs: 30, intervalMs: 5 },
      ),
    ).rejects.toThrow(/not met within 30 ms; last failure: still broken/);
  });
});
