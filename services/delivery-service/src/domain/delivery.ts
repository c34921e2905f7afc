/**
 * A delivery's life. One delivery per order, created when its payment.authorized arrives.
 *
 *   AWAITING_ORDER  paid, but order.created (with the address) not seen yet; no deadline runs
 *   PENDING         address known, waiting for a free driver until the assignment deadline
 *   ASSIGNED        a driver has it and is handling it at the depot
 *   EN_ROUTE        the driver has left the depot
 *   COMPLETED       delivered (terminal)
 *   FAILED          no driver within the wait (terminal)
 *   CANCELLED       the order was cancelled before a driver was assigned (terminal, nothing emitted)
 */
export const DELIVERY_STATUSES = [
  'AWAITING_ORDER',
  'PENDING',
  'ASSIGNED',
  'EN_ROUTE',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const;

export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A driver on one of these is busy; at most one such delivery per driver. */
export const ACTIVE_STATUSES = ['ASSIGNED', 'EN_ROUTE'] as const satisfies readonly DeliveryStatus[];

export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];

export function isActive(status: DeliveryStatus): status is ActiveStatus {
  return (ACTIVE_STATUSES as readonly string[]).includes(status);
}

/** The duty status an admin sets on a driver. Busy is not a status: it is having an active delivery. */
export const DRIVER_STATUSES = ['AVAILABLE', 'OFF_DUTY'] as const;

export type DriverStatus = (typeof DRIVER_STATUSES)[number];

export const NO_DRIVER_AVAILABLE = 'NO_DRIVER_AVAILABLE';
