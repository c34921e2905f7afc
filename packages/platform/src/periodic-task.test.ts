import { eventually } from '@dispatch/testkit';
import pino from 'pino';
import { startPeriodicTask } from './periodic-task';

const logger = pino({ level: 'silent' });

describe('startPeriodicTask', () => {
  it('runs repeatedly, never two runs at once, and keeps going after a failure', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const task = startPeriodicTask({
      name: 'test',
      intervalMs: 1,
      logger,
      run: async () => {
        runs += 1;
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active -= 1;
        if (runs === 2) throw new Error('transient');
      },
    });
    await eventually(() => expect(runs).toBeGreaterThanOrEqual(5), { intervalMs: 5 });
    await task.stop();
    expect(maxActive).toBe(1);
  });

  it('stop() waits for the run in progress and aborts its signal; no run starts afterwards', async () => {
    let finished = false;
    let sawAbort = false;
    let runs = 0;
    let started: () => void = () => {};
    const firstRun = new Promise<void>((resolve) => {
      started = resolve;
    });
    const task = startPeriodicTask({
      name: 'test',
      intervalMs: 1,
      logger,
      run: async (signal) => {
        runs += 1;
        started();
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        sawAbort = signal.aborted;
        finished = true;
      },
    });
    await firstRun;
    await task.stop();
    expect(finished && sawAbort).toBe(true);
    const runsAtStop = runs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runs).toBe(runsAtStop);
  });

  it('wake() runs soon instead of waiting for the interval', async () => {
    let runs = 0;
    const task = startPeriodicTask({
      name: 'test',
      intervalMs: 60_000,
      logger,
      run: async () => void runs++,
    });
    task.wake();
    await eventually(() => expect(runs).toBe(1), { intervalMs: 5, timeoutMs: 2_000 });
    await task.stop();
  });
});
