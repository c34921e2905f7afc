import { z } from 'zod';
import { plainText } from '../text';
import { idSchema, isoDateTimeSchema, reasonCodeSchema } from './common';

/** The seed's delivery fields: `{orderId, deliveryId, driverName, status, estimatedDeliveryTime}`. */
const deliveryBase = {
  orderId: idSchema,
  deliveryId: idSchema,
};

const driver = {
  driverName: plainText().min(1).max(200),
  driverId: idSchema.optional(),
};

/** delivery.assigned v1: a driver took the order; carries the first ETA. */
export const deliveryAssignedV1 = z.object({
  ...deliveryBase,
  ...driver,
  status: z.literal('ASSIGNED'),
  estimatedDeliveryTime: isoDateTimeSchema,
});

/** eta.updated v1: a new ETA (right after assignment, then while en route). The latest occurredAt wins. */
export const etaUpdatedV1 = z.object({
  ...deliveryBase,
  ...driver,
  status: z.enum(['ASSIGNED', 'EN_ROUTE']),
  estimatedDeliveryTime: isoDateTimeSchema,
});

/** Codes delivery-service uses today; `reason` is an open set of reason codes. */
export const DELIVERY_FAILURE_REASONS = [
  'NO_DRIVER_AVAILABLE',
  'ADDRESS_UNREACHABLE',
  'DELIVERY_ATTEMPT_FAILED',
] as const;

/** delivery.failed v1: the order cannot be delivered; payment refunds and inventory releases. */
export const deliveryFailedV1 = z.object({
  ...deliveryBase,
  status: z.literal('FAILED'),
  reason: reasonCodeSchema,
  /** Absent when no driver was ever assigned (e.g. NO_DRIVER_AVAILABLE). */
  driverName: driver.driverName.optional(),
  driverId: driver.driverId,
});

/** delivery.completed v1: the customer has the goods. */
export const deliveryCompletedV1 = z.object({
  ...deliveryBase,
  ...driver,
  status: z.literal('COMPLETED'),
  completedAt: isoDateTimeSchema,
});
