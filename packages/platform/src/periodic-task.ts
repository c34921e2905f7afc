import type { Logger } from './logger';
import type { BackgroundTask } from './service';

export interface PeriodicTaskOptions {
  name: string;
  intervalMs: number;
  /** One run. `signal` aborts when the task is stopped, so a long run can end early. */
  run: (signal: AbortSignal) => Promise<unknown>;
  logger: Logger;
}

export interface PeriodicTask extends BackgroundTask {
  /** Runs soon instead of at the next interval (e.g. a driver became free); coalesced with a run in progress. */
  wake(): void;
}

/**
 * The one way a service runs work on a timer (sweepers, schedulers): every `intervalMs` after the
 * previous run ended, never two runs at once. A failed run is logged and the next one tries again.
 * stop() aborts the signal, stops the timer and waits for the current run, so shutdown never cuts a
 * run's transaction in half. Several instances may run the same task: the work itself must share
 * rows safely (FOR UPDATE SKIP LOCKED), the timer does not coordinate.
 */
export function startPeriodicTask(opts: PeriodicTaskOptions): PeriodicTask {
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let wakeRequested = false;

  const schedule = (delayMs: number) => {
    if (stopping.signal.aborted) return;
    clearTimeout(timer);
    timer = setTimeout(runOnce, delayMs);
    timer.unref();
  };
  const runOnce = () => {
    wakeRequested = false;
    running = opts
      .run(stopping.signal)
      .then(
        () => undefined,
        (err: unknown) =>
          opts.logger.warn({ err, task: opts.name }, `${opts.name} failed; retrying next run`),
      )
      .finally(() => {
        running = undefined;
        schedule(wakeRequested ? 0 : opts.intervalMs);
      });
  };

  schedule(opts.intervalMs);
  return {
    name: opts.name,
    wake: () => {
      if (running) wakeRequested = true;
      else schedule(0);
    },
    stop: async () => {
      stopping.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
