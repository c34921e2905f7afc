import { z } from 'zod';
import { currencySchema, moneySchema } from '../money';
import {
  amountMismatchIssue,
  duplicateItemIssues,
  idSchema,
  pricedLineSchema,
  quantitySchema,
} from './common';

/** The seed's inventory fields, shared by every inventory.* event. */
const inventoryBase = {
  orderId: idSchema,
  customerId: idSchema,
  amount: moneySchema,
  currency: currencySchema,
};

/**
 * inventory.reserved v1: every line is reserved. `lines` carry the catalogue's unit prices (never the
 * client's), and `amount` = Σ unitPrice × quantity is what payment charges.
 */
export const inventoryReservedV1 = z
  .object({
    ...inventoryBase,
    lines: z.array(pricedLineSchema).min(1).max(100),
  })
  .superRefine((payload, ctx) => {
    for (const issue of duplicateItemIssues(payload.lines, 'lines'))
      ctx.addIssue({ code: 'custom', ...issue });
    const mismatch = amountMismatchIssue(payload.amount, payload.lines, 'amount', 'lines');
    if (mismatch) ctx.addIssue({ code: 'custom', ...mismatch });
  });

export const REJECTION_REASONS = [
  'OUT_OF_STOCK',
  'UNKNOWN_ITEM',
  'PRICE_MISMATCH',
  'CURRENCY_MISMATCH',
] as const;

export const lineRejectionSchema = z.object({
  itemId: idSchema,
  reason: z.enum(REJECTION_REASONS),
  requestedQuantity: quantitySchema.optional(),
  /** For OUT_OF_STOCK: what was available when the order was checked. */
  availableQuantity: z.int().min(0).optional(),
  /** For PRICE_MISMATCH: the catalogue's price, which is the one that counts. */
  catalogueUnitPrice: moneySchema.optional(),
});

export type LineRejection = z.output<typeof lineRejectionSchema>;

/**
 * inventory.rejected v1: nothing was reserved (reservation is all-or-nothing). `reasons` has one entry
 * per offending line; `amount` is the order's requested total.
 */
export const inventoryRejectedV1 = z.object({
  ...inventoryBase,
  reasons: z.array(lineRejectionSchema).min(1).max(100),
});

export const RELEASE_REASONS = [
  'PAYMENT_FAILED',
  'DELIVERY_FAILED',
  'ORDER_CANCELLED',
  'DEADLINE_EXCEEDED',
] as const;

/**
 * inventory.released v1: stock held for the order went back on the shelf. `lines` are what was released
 * and may be empty when the release overtook its reservation (the reservation is then never made);
 * `amount` = Σ unitPrice × quantity of `lines`.
 */
export const inventoryReleasedV1 = z
  .object({
    ...inventoryBase,
    reason: z.enum(RELEASE_REASONS),
    lines: z.array(pricedLineSchema).max(100),
  })
  .superRefine((payload, ctx) => {
    for (const issue of duplicateItemIssues(payload.lines, 'lines'))
      ctx.addIssue({ code: 'custom', ...issue });
    const mismatch = amountMismatchIssue(payload.amount, payload.lines, 'amount', 'lines');
    if (mismatch) ctx.addIssue({ code: 'custom', ...mismatch });
  });
