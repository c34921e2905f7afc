import { CommandTimeoutError, ContainersError, Deadline, exec, pollUntil } from './host';

describe('Deadline', () => {
  test('what is left of the run, and a step bounded by it', () => {
    let now = 1_000;
    const deadline = new Deadline(60, () => now);
    expect(deadline.remainingMs()).toBe(60_000);
    now += 50_000;
    expect(deadline.capMs(30_000)).toBe(10_000);
    expect(deadline.capMs(5_000)).toBe(5_000);
    now += 20_000;
    expect(deadline.remainingMs()).toBe(0);
  });
});

describe('pollUntil', () => {
  test('asks until the condition holds and returns its value', async () => {
    let asked = 0;
    const value = await pollUntil(
      'three answers',
      1_000,
      async () => (++asked < 3 ? { done: false, last: `answer ${asked}` } : { done: true, value: 'ok' }),
      1,
    );
    expect(value).toBe('ok');
    expect(asked).toBe(3);
  });

  test('a clear timeout naming what it waited for and the last answer', async () => {
    await expect(
      pollUntil('the broker', 30, async () => ({ done: false, last: 'ECONNREFUSED' }), 10),
    ).rejects.toThrow(new ContainersError('timed out after 0 s waiting for the broker (last: ECONNREFUSED)'));
  });
});

describe('exec', () => {
  test('a command past its bound is killed, and the error says so and is a CommandTimeoutError', async () => {
    const run = exec('sleep', ['5'], { what: 'a nap', timeoutMs: 100 });
    await expect(run).rejects.toBeInstanceOf(CommandTimeoutError);
    await expect(run).rejects.toThrow('timed out: a nap was still running after 0 s (killed)');
  });

  test('a non-zero exit is returned, not thrown', async () => {
    await expect(exec('sh', ['-c', 'echo out; exit 3'], { what: 'x', timeoutMs: 5_000 })).resolves.toEqual({
      status: 3,
      stdout: 'out\n',
    });
  });
});
