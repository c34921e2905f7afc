import { type BackgroundTask, type Logger, startPeriodicTask } from '@dispatch/platform';
import type { PaymentDeps } from '../handlers/context';
import { OrderBusyError, PaymentInFlightError } from '../handlers/errors';
import { resumeOrder } from '../handlers/processor';
import { findAbandoned } from '../store/payment-store';

/**
 * Finishes charges and refunds whose worker vanished: a PENDING row whose lease expired (the process
 * crashed between the PENDING commit and the completion, and its message was dead-lettered or is
 * still backing off) or a refund that could not reach the gateway. Redelivery of the message normally
 * does this first; the sweeper makes sure nothing stays PENDING for ever.
 * Returns how many orders it moved on.
 */
export async function sweepOnce(deps: PaymentDeps, logger: Logger, limit = 20): Promise<number> {
  const orderIds = await findAbandoned(deps.pool, limit);
  let resumed = 0;
  for (const orderId of orderIds) {
    const log = logger.child({ orderId, component: 'payment-sweeper' });
    try {
      await resumeOrder(deps, orderId, log);
      resumed += 1;
    } catch (err) {
      // Someone else is on it right now: fine, it is not abandoned after all.
      if (err instanceof OrderBusyError || err instanceof PaymentInFlightError) continue;
      log.warn({ err }, 'resuming an abandoned payment failed; will try again');
    }
  }
  if (resumed > 0) logger.info({ resumed }, 'abandoned payments resumed');
  return resumed;
}

/** Runs `sweepOnce` every `intervalMs` (never two at once). */
export function startSweeper(deps: PaymentDeps, logger: Logger, intervalMs: number): BackgroundTask {
  return startPeriodicTask({
    name: 'payment-sweeper',
    intervalMs,
    logger,
    run: () => sweepOnce(deps, logger),
  });
}
