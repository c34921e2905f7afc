import type { EventEnvelope } from '@dispatch/contracts';
import { followUp } from '@dispatch/contracts';
import type { StepOf } from '@dispatch/platform';
import { observeStageLatency } from '@dispatch/platform';
import { decideOrderCreated } from '../domain/reservation';
import type { CatalogueItem } from '../domain/types';
import { lockItems, moveStock } from '../store/catalogue-store';
import { insertRejected, insertReserved, markTombstoneSeen, orderStock } from '../store/reservation-store';
import type { StepDeps } from './context';

/**
 * order.created → reserve every line or none, inside the batch's transaction (which has recorded the
 * event in the inbox and locked the order and its items), with the outgoing event: inventory.reserved
 * (catalogue-priced lines and their amount), inventory.rejected (a reason per offending line), or —
 * when a release for this order was recorded first — inventory.released with no lines and nothing
 * reserved.
 */
export async function handleOrderCreated(
  deps: StepDeps,
  step: StepOf<EventEnvelope<'order.created'>>,
): Promise<void> {
  const { tx, event, logger } = step;
  const { orderId, customerId, currency, items, totalAmount } = event.payload;
  const order = { orderId, customerId, currency };

  const existing = await orderStock(tx, orderId);
  // Locked in itemId order until commit, so the counts the decision reads stay true.
  const catalogue: ReadonlyMap<string, CatalogueItem> = existing
    ? new Map()
    : await lockItems(
        tx,
        items.map((line) => line.itemId),
      );
  const decision = decideOrderCreated(existing, { currency, items }, catalogue);

  switch (decision.kind) {
    case 'reserve':
      await moveStock(tx, 'reserve', decision.lines);
      await insertReserved(tx, order, decision.lines);
      step.emit(
        followUp(event, 'inventory.reserved', { ...order, amount: decision.amount, lines: decision.lines }),
      );
      step.afterCommit(() => {
        deps.metrics.reservations.inc({ outcome: 'reserved' });
        observeStageLatency(deps.metrics.stageLatency, 'inventory.reserved', event.occurredAt);
        logger.info({ amount: decision.amount, lines: decision.lines.length }, 'stock reserved');
      });
      break;
    case 'reject':
      await insertRejected(tx, order);
      step.emit(
        followUp(event, 'inventory.rejected', { ...order, amount: totalAmount, reasons: decision.reasons }),
      );
      step.afterCommit(() => {
        deps.metrics.reservations.inc({ outcome: 'rejected' });
        for (const r of decision.reasons) deps.metrics.rejectedLines.inc({ reason: r.reason });
        observeStageLatency(deps.metrics.stageLatency, 'inventory.rejected', event.occurredAt);
        logger.info({ reasons: decision.reasons }, 'order rejected');
      });
      break;
    case 'releaseOverdue':
      await markTombstoneSeen(tx, order);
      step.emit(
        followUp(event, 'inventory.released', {
          ...order,
          amount: '0.00',
          reason: decision.reason,
          lines: [],
        }),
      );
      step.afterCommit(() => {
        deps.metrics.releases.inc({ reason: decision.reason });
        logger.info({ reason: decision.reason }, 'order was released before it arrived; nothing reserved');
      });
      break;
    case 'alreadyDecided':
      step.afterCommit(() =>
        logger.warn({ status: decision.status }, 'order.created for an order already decided; ignored'),
      );
      break;
  }
}
