import { type BackgroundTask, type Logger, type PeriodicTask, startPeriodicTask } from '@dispatch/platform';
import type { Pool } from 'pg';
import type { Clock } from './clock';
import type { DeliveryMetrics } from './metrics';
import {
  type AssignmentSettings,
  type AttemptOutcome,
  assignDuePending,
  recordAttempt,
} from './use-cases/assign';
import { type EtaRefreshResult, type EtaRefreshSettings, refreshDueEtas } from './use-cases/refresh-etas';

export interface SchedulerOptions {
  pool: Pool;
  clock: Clock;
  logger: Logger;
  metrics: DeliveryMetrics;
  assignment: AssignmentSettings;
  eta: Omit<EtaRefreshSettings, 'batchSize'>;
  /** Deliveries per transaction in both passes. */
  batchSize: number;
  /** How often the scheduler looks for due work (pending assignments, stale ETAs). */
  tickMs: number;
}

export interface TickResult {
  attempts: AttemptOutcome[];
  eta: EtaRefreshResult;
}

/**
 * The one scheduler of delivery-service, run by every instance: each tick retries the due PENDING
 * deliveries (failing those past their deadline) and refreshes stale ETAs. Instances share the work
 * through row locks (FOR UPDATE SKIP LOCKED), so running several is safe and needs no leader.
 * Ticks never overlap; a failed tick is logged and the next one tries again.
 */
export class DeliveryScheduler implements BackgroundTask {
  readonly name = 'delivery-scheduler';
  private task: PeriodicTask | undefined;

  constructor(private readonly opts: SchedulerOptions) {}

  start(): void {
    this.task ??= startPeriodicTask({
      name: this.name,
      intervalMs: this.opts.tickMs,
      logger: this.opts.logger,
      run: () => this.tick(),
    });
  }

  /** Stops ticking and waits for a tick in progress to finish (its transactions commit or roll back). */
  async stop(): Promise<void> {
    await this.task?.stop();
  }

  /** Runs a tick soon instead of at the next interval (a driver became free). */
  wake(): void {
    this.task?.wake();
  }

  /** One tick, now. Tests call this directly (with a test clock) instead of waiting for the timer. */
  async tick(): Promise<TickResult> {
    const { pool, clock, batchSize } = this.opts;
    const { metrics } = this.opts;
    const attempts = await assignDuePending(pool, clock, this.opts.assignment, batchSize, (committed) => {
      for (const outcome of committed) recordAttempt(metrics, outcome);
    });
    const eta = await refreshDueEtas(pool, clock, { ...this.opts.eta, batchSize }, (committed) =>
      metrics.etaUpdates.inc(committed.published),
    );
    const decided = attempts.filter((a) => a.kind !== 'waiting');
    if (decided.length > 0 || eta.published > 0) {
      this.opts.logger.info(
        {
          assigned: decided.filter((a) => a.kind === 'assigned').length,
          failed: decided.filter((a) => a.kind === 'failed').length,
          etaChecked: eta.checked,
          etaPublished: eta.published,
        },
        'scheduler tick',
      );
    }
    return { attempts, eta };
  }
}
