import type { Logger } from './logger';

export interface ShutdownStep {
  name: string;
  run(): Promise<void>;
}

export interface Shutdown {
  /** Steps run one after another in registration order: register "stop intake" steps first, "close pools" last. */
  register(name: string, run: () => Promise<void>): void;
  /** Runs every step once; resolves true when all finished within the deadline. */
  run(reason: string): Promise<boolean>;
  /** SIGTERM/SIGINT run the steps, then exit 0 (or 1 when a step failed or the deadline passed). */
  installSignalHandlers(exit?: (code: number) => void): void;
}

/**
 * Graceful shutdown: stop consuming, finish in-flight work, flush the outbox relay,
 * close pools, exit within a bounded time. A step that throws is logged and the
 * rest still run, so one stuck dependency cannot keep pools open.
 */
export function createShutdown(logger: Logger, timeoutMs: number): Shutdown {
  const steps: ShutdownStep[] = [];
  let running: Promise<boolean> | undefined;

  async function runSteps(reason: string): Promise<boolean> {
    logger.info({ reason, timeoutMs }, 'shutting down');
    let ok = true;
    for (const step of steps) {
      const started = Date.now();
      try {
        await step.run();
        logger.info({ step: step.name, durationMs: Date.now() - started }, 'shutdown step done');
      } catch (err) {
        ok = false;
        logger.error({ err, step: step.name }, 'shutdown step failed');
      }
    }
    return ok;
  }

  const shutdown: Shutdown = {
    register(name, run) {
      steps.push({ name, run });
    },
    run(reason) {
      running ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => {
            logger.error({ timeoutMs }, 'shutdown deadline passed');
            resolve(false);
          }, timeoutMs);
          timer.unref();
        });
        try {
          return await Promise.race([runSteps(reason), deadline]);
        } finally {
          clearTimeout(timer);
        }
      })();
      return running;
    },
    installSignalHandlers(exit = (code) => process.exit(code)) {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          void shutdown.run(signal).then((ok) => {
            logger.flush();
            exit(ok ? 0 : 1);
          });
        });
      }
    },
  };
  return shutdown;
}
