import {
  CANCELLED_BY,
  currencySchema,
  deliveryAddressSchema,
  freeText,
  idSchema,
  isoDateTimeSchema,
  itemIdSchema,
  MoneyError,
  moneyInputSchema,
  moneySchema,
  paymentMethodSchema,
  requestedTotal,
} from '@dispatch/contracts';
import { z } from 'zod';
import { IDEMPOTENCY_KEY_PATTERN } from '../domain/idempotency';

/**
 * The HTTP request and response schemas. Routes validate with them and /openapi.json is generated
 * from them. Field schemas come from the contracts, so what the edge accepts is what order.created
 * carries.
 */

export const MAX_LINES = 50;
export const MAX_QUANTITY = 1000;

export const orderLineRequestSchema = z.object({
  itemId: itemIdSchema,
  quantity: z.int().min(1).max(MAX_QUANTITY),
  /**
   * Optional (docs/design.md §6). When given, it is the price the customer was shown: inventory checks it against
   * its catalogue (whose price is authoritative) and rejects the order on a mismatch. When left out,
   * inventory prices the line from its catalogue. A decimal string ("12.50") or, as the seed's clients
   * send it, a JSON number with at most 2 decimals (12.5); either becomes the canonical string here.
   */
  unitPrice: moneyInputSchema.optional(),
});

export const orderLinesRequestSchema = z
  .array(orderLineRequestSchema)
  .min(1)
  .max(MAX_LINES)
  .superRefine((lines, ctx) => {
    const seen = new Set<string>();
    lines.forEach((line, index) => {
      if (seen.has(line.itemId)) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'itemId'],
          message: `Duplicate itemId '${line.itemId}': put the whole quantity on one line`,
        });
      }
      seen.add(line.itemId);
    });
    // zod runs this check even when a line failed its own schema; the total only means something once
    // every line is valid.
    if (!lines.every((line) => orderLineRequestSchema.safeParse(line).success)) return;
    try {
      requestedTotal(lines);
    } catch (err) {
      if (!(err instanceof MoneyError)) throw err;
      ctx.addIssue({ code: 'custom', message: 'The order total is out of range' });
    }
  });

/** POST /api/orders. Unknown fields are ignored. */
export const createOrderRequestSchema = z.object({
  /** Must be the caller's own id (the token subject) unless the caller is an admin. */
  customerId: idSchema,
  currency: currencySchema,
  items: orderLinesRequestSchema,
  deliveryAddress: deliveryAddressSchema,
  paymentMethod: paymentMethodSchema,
});

export const idempotencyKeySchema = z
  .string()
  .regex(IDEMPOTENCY_KEY_PATTERN, 'Invalid Idempotency-Key: expected 1-255 printable ASCII characters');

export const createOrderHeadersSchema = z.object({
  'idempotency-key': idempotencyKeySchema.optional(),
});

export const createdOrderResponseSchema = z.object({
  orderId: z.uuid(),
  customerId: idSchema,
  /**
   * Σ unitPrice × quantity over the lines sent with a unitPrice ("0.00" when none was): provisional, the
   * catalogue prices every line and decides what is charged.
   */
  totalAmount: moneySchema,
  currency: currencySchema,
  status: z.literal('CREATED'),
  createdAt: isoDateTimeSchema,
});

export const orderIdParamsSchema = z.object({ orderId: z.uuid() });

/** POST /api/orders/{orderId}/cancel: the body is optional. */
export const cancelOrderRequestSchema = z.object({
  /** Free text: tab and line feed allowed, other control characters not. */
  reason: freeText().min(1).max(500).optional(),
});

export const cancelOrderResponseSchema = z.object({
  orderId: z.uuid(),
  status: z.literal('CANCELLED'),
  /** CUSTOMER or ADMIN for this request; a repeated cancel answers the first one, SYSTEM if the deadline sweeper's. */
  cancelledBy: z.enum(CANCELLED_BY),
  cancelledAt: isoDateTimeSchema,
});
