import type { Currency, Money, PricedLine, RELEASE_REASONS } from '@dispatch/contracts';

/** One catalogue entry. `available` is what can still be sold; `reserved` is held for orders in flight. */
export interface CatalogueItem {
  itemId: string;
  name: string;
  unitPrice: Money;
  currency: Currency;
  available: number;
  reserved: number;
}

export type ReleaseReason = (typeof RELEASE_REASONS)[number];

/**
 * Where one order's stock stands:
 * - RESERVED: its lines are held (counted in `reserved`);
 * - REJECTED: nothing was ever held;
 * - RELEASED: what was held went back to `available` — or nothing was held because the release
 *   arrived first (a tombstone, `orderSeen` false until its order.created shows up);
 * - SOLD: delivered; the held units left `reserved` for good.
 */
export const RESERVATION_STATUSES = ['RESERVED', 'REJECTED', 'RELEASED', 'SOLD'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** An order whose order.created has been handled: reserved, rejected, released or sold. */
export interface SeenOrderRecord {
  orderId: string;
  orderSeen: true;
  status: ReservationStatus;
  customerId: string;
  currency: Currency;
  /** The held lines at catalogue prices (RESERVED, SOLD, and RELEASED after a reservation); else []. */
  lines: PricedLine[];
  /** Why it was released (RELEASED only). */
  releaseReason?: ReleaseReason;
}

/** A release recorded before the order's order.created arrived: that order must never be reserved. */
export interface TombstoneRecord {
  orderId: string;
  orderSeen: false;
  status: 'RELEASED';
  releaseReason: ReleaseReason;
}

/** What this service remembers about one order. */
export type OrderStockRecord = SeenOrderRecord | TombstoneRecord;
