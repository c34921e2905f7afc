import type { EventEnvelope } from '@dispatch/contracts';
import { enqueue, observeStageLatency, recordInbox, withTransaction } from '@dispatch/platform';
import { decideOrderCreated, type OrderCreatedDecision } from '../domain/reservation';
import type { CatalogueItem } from '../domain/types';
import { lockItems, moveStock } from '../store/catalogue-store';
import { insertRejected, insertReserved, lockOrder, markTombstoneSeen } from '../store/reservation-store';
import { followUp, type HandlerCall, type HandlerDeps, INBOX_CONSUMER } from './context';

/**
 * order.created → reserve every line or none, in one transaction with the inbox record and the
 * outgoing event: inventory.reserved (catalogue-priced lines and their amount), inventory.rejected
 * (a reason per offending line), or — when a release for this order was recorded first —
 * inventory.released with no lines and nothing reserved.
 */
export async function handleOrderCreated(
  deps: HandlerDeps,
  event: EventEnvelope<'order.created'>,
  call: HandlerCall,
): Promise<void> {
  const { orderId, customerId, currency, items, totalAmount } = event.payload;
  const order = { orderId, customerId, currency };

  const decision = await withTransaction(deps.pool, async (tx): Promise<OrderCreatedDecision | undefined> => {
    if (!(await recordInbox(tx, INBOX_CONSUMER, event.eventId, event.eventType))) return undefined;

    const existing = await lockOrder(tx, orderId);
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
        await enqueue(tx, [
          followUp(event, 'inventory.reserved', { ...order, amount: decision.amount, lines: decision.lines }),
        ]);
        break;
      case 'reject':
        await insertRejected(tx, order);
        await enqueue(tx, [
          followUp(event, 'inventory.rejected', { ...order, amount: totalAmount, reasons: decision.reasons }),
        ]);
        break;
      case 'releaseOverdue':
        await markTombstoneSeen(tx, order);
        await enqueue(tx, [
          followUp(event, 'inventory.released', {
            ...order,
            amount: '0.00',
            reason: decision.reason,
            lines: [],
          }),
        ]);
        break;
      case 'alreadyDecided':
        break;
    }
    return decision;
  });

  if (!decision) {
    call.logger.debug('order.created already handled (inbox)');
    return;
  }
  switch (decision.kind) {
    case 'reserve':
      deps.metrics.reservations.inc({ outcome: 'reserved' });
      observeStageLatency(deps.metrics.stageLatency, 'inventory.reserved', event.occurredAt);
      call.logger.info({ amount: decision.amount, lines: decision.lines.length }, 'stock reserved');
      break;
    case 'reject':
      deps.metrics.reservations.inc({ outcome: 'rejected' });
      for (const r of decision.reasons) deps.metrics.rejectedLines.inc({ reason: r.reason });
      observeStageLatency(deps.metrics.stageLatency, 'inventory.rejected', event.occurredAt);
      call.logger.info({ reasons: decision.reasons }, 'order rejected');
      break;
    case 'releaseOverdue':
      deps.metrics.releases.inc({ reason: decision.reason });
      call.logger.info({ reason: decision.reason }, 'order was released before it arrived; nothing reserved');
      break;
    case 'alreadyDecided':
      call.logger.warn({ status: decision.status }, 'order.created for an order already decided; ignored');
      break;
  }
}
