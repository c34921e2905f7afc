import {
  type Currency,
  type LineRejection,
  type Money,
  type PricedLine,
  type RequestedLine,
  totalOfLines,
} from '@dispatch/contracts';
import type { CatalogueItem, OrderStockRecord, ReleaseReason, ReservationStatus } from './types';

/** The part of order.created the reservation decision reads. */
export interface OrderRequest {
  currency: Currency;
  /** As the customer asked for them; a given unitPrice is checked against the catalogue, a missing one is taken from it. */
  items: readonly RequestedLine[];
}

export type ReservationDecision =
  /** Every line can be held: `lines` carry the catalogue's prices and `amount` is their total. */
  | { kind: 'reserve'; lines: PricedLine[]; amount: Money }
  /** At least one line cannot be held, so none is: one reason per offending line. */
  | { kind: 'reject'; reasons: LineRejection[] };

/**
 * Decides whether an order can be reserved against a snapshot of the catalogue rows it names (taken
 * under row locks, so the snapshot is still true when the decision is applied). All or nothing.
 *
 * Each offending line gets the first reason that applies, most fundamental first:
 * UNKNOWN_ITEM (not in the catalogue), CURRENCY_MISMATCH (priced in another currency),
 * PRICE_MISMATCH (the client's unitPrice is not the catalogue's; the client's price is never
 * trusted), OUT_OF_STOCK (fewer units available than requested). A line without a unitPrice cannot
 * mismatch: it is priced from the catalogue (every other check still applies).
 *
 * The contract allows one line per item; should an item still appear twice, its lines draw on the
 * same stock, so the second sees what the first left.
 */
export function decideReservation(
  order: OrderRequest,
  catalogue: ReadonlyMap<string, CatalogueItem>,
): ReservationDecision {
  const reasons: LineRejection[] = [];
  const lines: PricedLine[] = [];
  const left = new Map<string, number>();

  for (const line of order.items) {
    const item = catalogue.get(line.itemId);
    const base = { itemId: line.itemId, requestedQuantity: line.quantity };
    if (!item) {
      reasons.push({ ...base, reason: 'UNKNOWN_ITEM' });
      continue;
    }
    if (item.currency !== order.currency) {
      reasons.push({ ...base, reason: 'CURRENCY_MISMATCH' });
      continue;
    }
    // Money strings have one spelling per amount, so !== compares values. No client price: nothing to check.
    if (line.unitPrice !== undefined && item.unitPrice !== line.unitPrice) {
      reasons.push({ ...base, reason: 'PRICE_MISMATCH', catalogueUnitPrice: item.unitPrice });
      continue;
    }
    const available = left.get(item.itemId) ?? item.available;
    if (available < line.quantity) {
      reasons.push({ ...base, reason: 'OUT_OF_STOCK', availableQuantity: available });
      continue;
    }
    left.set(item.itemId, available - line.quantity);
    lines.push({ itemId: item.itemId, quantity: line.quantity, unitPrice: item.unitPrice });
  }

  if (reasons.length > 0) return { kind: 'reject', reasons };
  return { kind: 'reserve', lines, amount: totalOfLines(lines) };
}

export type OrderCreatedDecision =
  | ReservationDecision
  /**
   * A release for this order was recorded before its order.created (a tombstone): nothing is
   * reserved, and the release is announced now that the order (customer, currency) is known.
   */
  | { kind: 'releaseOverdue'; reason: ReleaseReason }
  /** This order was decided before (an order.created with another eventId): nothing to do. */
  | { kind: 'alreadyDecided'; status: ReservationStatus };

/**
 * What to do with an order.created, given what is known about the order. The catalogue matters only
 * for an order seen for the first time (the handler loads it only then).
 */
export function decideOrderCreated(
  existing: OrderStockRecord | undefined,
  order: OrderRequest,
  catalogue: ReadonlyMap<string, CatalogueItem>,
): OrderCreatedDecision {
  if (!existing) return decideReservation(order, catalogue);
  if (!existing.orderSeen) return { kind: 'releaseOverdue', reason: existing.releaseReason };
  return { kind: 'alreadyDecided', status: existing.status };
}
