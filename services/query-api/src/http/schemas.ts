import {
  CANCELLED_BY,
  currencySchema,
  deliveryAddressSchema,
  idSchema,
  lineRejectionSchema,
  moneySchema,
  ORDER_STATUSES,
  plainText,
  pricedLineSchema,
  REFUND_REASONS,
  RELEASE_REASONS,
} from '@dispatch/contracts';
import { z } from 'zod';

// Requests: validated at the edge with these, and documented from them.

export const orderIdParamsSchema = z.object({ orderId: idSchema });

export const listOrdersQuerySchema = z.object({
  /** Defaults to the caller for customers; required for admins. */
  customerId: idSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** The `nextPageState` of the previous page, unchanged. */
  pageState: plainText().min(1).max(2048).optional(),
});

// Responses: documentation of what the routes send (the contract's OrderView sections).

const isoTime = z.string().describe('ISO-8601 UTC with milliseconds');

const inventorySectionSchema = z.object({
  status: z.enum(['RESERVED', 'REJECTED']),
  amount: moneySchema,
  currency: currencySchema,
  lines: z.array(pricedLineSchema),
  reasons: z.array(lineRejectionSchema),
  reservedAt: isoTime.optional(),
  reservedEventId: z.string().optional(),
  rejectedAt: isoTime.optional(),
  rejectedEventId: z.string().optional(),
});

const paymentSectionSchema = z.object({
  status: z.enum(['AUTHORIZED', 'FAILED']),
  paymentId: z.string(),
  amount: moneySchema,
  currency: currencySchema,
  failureReason: z.string().optional(),
  at: isoTime,
  eventId: z.string(),
});

const deliverySectionSchema = z.object({
  status: z.enum(['ASSIGNED', 'FAILED', 'COMPLETED']),
  deliveryId: z.string(),
  driverName: z.string().optional(),
  driverId: z.string().optional(),
  estimatedDeliveryTime: isoTime.optional(),
  etaAt: isoTime.optional(),
  etaEventId: z.string().optional(),
  assignedAt: isoTime.optional(),
  failedAt: isoTime.optional(),
  failureReason: z.string().optional(),
  failedEventId: z.string().optional(),
  completedAt: isoTime.optional(),
  completedEventId: z.string().optional(),
});

const cancellationSectionSchema = z.object({
  cancelledAt: isoTime,
  reason: z.string().optional(),
  cancelledBy: z.enum(CANCELLED_BY),
  eventId: z.string(),
});

const compensationSectionSchema = z.object({
  inventoryReleased: z.boolean(),
  releasedAt: isoTime.optional(),
  releaseReason: z.enum(RELEASE_REASONS).optional(),
  releaseEventId: z.string().optional(),
  paymentRefunded: z.boolean(),
  refundedAt: isoTime.optional(),
  refundId: z.string().optional(),
  refundReason: z.enum(REFUND_REASONS).optional(),
  refundEventId: z.string().optional(),
});

const timelineEntrySchema = z.object({
  eventType: z.string(),
  occurredAt: isoTime,
  eventId: z.string(),
  producer: z.string(),
  causationId: z.string().optional(),
});

export const orderSummarySchema = z.object({
  orderId: z.string(),
  customerId: z.string().nullable(),
  totalAmount: moneySchema
    .nullable()
    .describe(
      "The catalogue total inventory reserved (what payment charges); before that, order.created's provisional total of the lines sent with a unitPrice.",
    ),
  currency: currencySchema.nullable(),
  status: z.enum(ORDER_STATUSES),
  createdAt: isoTime.nullable(),
  updatedAt: isoTime.nullable(),
  paymentId: z.string().nullable(),
  deliveryId: z.string().nullable(),
  driverName: z.string().nullable(),
  estimatedDeliveryTime: isoTime.nullable(),
});

export const orderResponseSchema = orderSummarySchema.extend({
  /** As the customer asked for them (a line's unitPrice may be absent: inventory prices it). */
  items: z.array(pricedLineSchema.extend({ unitPrice: moneySchema.optional() })).nullable(),
  deliveryAddress: deliveryAddressSchema.nullable(),
  inventory: inventorySectionSchema.nullable(),
  payment: paymentSectionSchema.nullable(),
  delivery: deliverySectionSchema.nullable(),
  cancellation: cancellationSectionSchema.nullable(),
  compensation: compensationSectionSchema,
  timeline: z.array(timelineEntrySchema),
});

export const orderListResponseSchema = z.object({
  customerId: z.string(),
  items: z.array(orderSummarySchema),
  nextPageState: z.string().nullable(),
});
