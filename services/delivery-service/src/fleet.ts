import {
  type BackgroundTask,
  type Logger,
  type PeriodicTask,
  startPeriodicTask,
  withTransaction,
} from '@dispatch/platform';
import type { Pool } from 'pg';
import type { Clock } from './clock';
import { simulateStep } from './domain/movement';
import type { DeliveryMetrics } from './metrics';
import { lockDueSimulation } from './store/active-deliveries';
import { completeLockedDelivery } from './use-cases/complete';
import { type PositionSettings, recordLockedPositions } from './use-cases/report-position';

export interface FleetSettings extends PositionSettings {
  /** How often the simulated drivers move and report. */
  tickMs: number;
  /** Deliveries moved per transaction. */
  batchSize: number;
}

export interface FleetOptions {
  pool: Pool;
  clock: Clock;
  logger: Logger;
  metrics: DeliveryMetrics;
  settings: FleetSettings;
  /** A simulated driver arrived and is free again: lets the scheduler hand out waiting deliveries now. */
  onDriverFreed?: () => void;
}

export interface FleetTickResult {
  moved: number;
  etaPublished: number;
  completed: number;
}

/**
 * The simulated driver fleet (FLEET_SIMULATION=on): every tick, each active delivery's driver moves
 * from where they last reported towards the address (simulateStep: at the depot until handling is
 * done, then at the model's speed), the position goes through the same use-case as a driver app's
 * POST /api/drivers/{id}/position (ETA from the position, eta.updated past the threshold), and on
 * arrival the delivery is completed through the same use-case as POST …/complete.
 *
 * In-process, not over HTTP: the use-cases are what the routes call after validating, so the path
 * from the use-case down is the same, while an HTTP loop back to itself would need this service to
 * hold an admin token (it can only verify tokens, not issue them), spend the caller's rate limit and
 * admission slots, and could not share the tick's row lock with the completion.
 *
 * Several instances: each tick locks the deliveries due for a move with FOR UPDATE SKIP LOCKED, and a
 * row another instance moved in the meantime has a fresh position_at that the re-check sees, so one
 * driver is moved by one instance at a time, at most about once per tick. The move covers the time
 * since the last report, so it does not matter which instance makes it.
 */
export class FleetSimulator implements BackgroundTask {
  readonly name = 'fleet-simulator';
  private task: PeriodicTask | undefined;

  constructor(private readonly opts: FleetOptions) {}

  start(): void {
    this.task ??= startPeriodicTask({
      name: this.name,
      intervalMs: this.opts.settings.tickMs,
      logger: this.opts.logger,
      run: async () => {
        await this.tick();
      },
    });
  }

  async stop(): Promise<void> {
    await this.task?.stop();
  }

  /** One tick, now. Tests call this directly with a test clock. */
  async tick(): Promise<FleetTickResult> {
    const { pool, clock, settings, metrics } = this.opts;
    const total: FleetTickResult = { moved: 0, etaPublished: 0, completed: 0 };
    // The batches walk the active deliveries in driver order, each starting after the last one's.
    let afterDriverId = '';
    for (;;) {
      const batch = await withTransaction(pool, async (tx) => {
        const now = clock.now();
        // Half a tick: a row moved by any instance within the last half tick is not due yet.
        const due = await lockDueSimulation(
          tx,
          new Date(now.getTime() - settings.tickMs / 2),
          afterDriverId,
          settings.batchSize,
        );
        const moves = due.map((delivery) => {
          const { assignedAt, destination } = delivery;
          if (!assignedAt || !destination)
            throw new Error(`active delivery ${delivery.deliveryId} lacks its assignment data`);
          const step = simulateStep(
            {
              now,
              assignedAt,
              from: delivery.driverPosition ?? settings.etaModel.depot,
              fromAt: delivery.positionAt ?? assignedAt,
              destination,
            },
            settings.etaModel,
          );
          return { delivery, position: step.position, arrived: step.arrived };
        });
        // All of the tick's positions in one statement, their eta.updated in one insert.
        const reports = await recordLockedPositions(tx, moves, now, settings);
        const result: FleetTickResult & { checked: number; lastDriverId: string | null } = {
          checked: due.length,
          lastDriverId: due.at(-1)?.driverId ?? null,
          moved: reports.length,
          etaPublished: reports.filter((report) => report.etaPublished).length,
          completed: 0,
        };
        for (const [i, report] of reports.entries()) {
          if (!moves[i]?.arrived) continue;
          await completeLockedDelivery(tx, report.delivery, now);
          result.completed += 1;
        }
        return result;
      });
      metrics.positions.inc({ source: 'fleet' }, batch.moved);
      metrics.etaUpdates.inc(batch.etaPublished);
      metrics.completed.inc(batch.completed);
      if (batch.completed > 0) this.opts.onDriverFreed?.();
      total.moved += batch.moved;
      total.etaPublished += batch.etaPublished;
      total.completed += batch.completed;
      if (batch.checked < settings.batchSize || batch.lastDriverId === null) break;
      afterDriverId = batch.lastDriverId;
    }
    if (total.completed > 0 || total.etaPublished > 0) {
      this.opts.logger.info(total, 'fleet tick');
    }
    return total;
  }
}
