import { idSchema, plainText } from '@dispatch/contracts';
import { z } from 'zod';
import { DELIVERY_STATUSES, DRIVER_STATUSES } from '../domain/delivery';

/** Driver ids are chosen by the operator (employee number, fleet id): URL-safe, short. */
export const driverIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected 1-64 letters, digits, "_", "." or "-"');

export const driverParamsSchema = z.object({ driverId: driverIdSchema });

export const putDriverBodySchema = z.object({
  name: plainText().trim().min(1).max(200),
  /** OFF_DUTY: gets no new deliveries; one already assigned stays theirs until completed. */
  status: z.enum(DRIVER_STATUSES),
});

export const listDriversQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** The nextCursor of the previous page. */
  cursor: driverIdSchema.optional(),
});

export const driverSchema = z.object({
  driverId: z.string(),
  name: z.string(),
  status: z.enum(DRIVER_STATUSES),
  /** The delivery the driver is on, or null when free. */
  activeDeliveryId: z.string().nullable(),
  /** AVAILABLE and not on a delivery: the next assignment may go to this driver. */
  assignable: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const driverPageSchema = z.object({
  items: z.array(driverSchema),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});

export const orderParamsSchema = z.object({ orderId: idSchema });

export const deliverySchema = z.object({
  deliveryId: z.string(),
  orderId: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  driverId: z.string().nullable(),
  driverName: z.string().nullable(),
  estimatedDeliveryTime: z.iso.datetime().nullable(),
  assignDeadline: z.iso.datetime().nullable(),
  assignedAt: z.iso.datetime().nullable(),
  completedAt: z.iso.datetime().nullable(),
  failureReason: z.string().nullable(),
  /** The driver's last reported position on this delivery, null before the first report. */
  driverPosition: z.object({ lat: z.number(), lng: z.number(), at: z.iso.datetime() }).nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

/** POST /api/drivers/{driverId}/position: where the driver is now (WGS84 degrees), as a driver app sends it. */
export const positionBodySchema = z.object({
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
});

export const positionResponseSchema = z.object({
  driverId: z.string(),
  /** The delivery the position was recorded on, with the ETA recomputed from the position. */
  delivery: deliverySchema,
  /** Whether this report published an eta.updated (the ETA moved past the threshold, or the driver left). */
  etaPublished: z.boolean(),
  /** Within 20 m of the address; completing is still a separate POST …/complete (the hand-over). */
  arrived: z.boolean(),
});
