import { z } from 'zod';
import { currencySchema, moneySchema } from '../money';
import { freeText, plainText } from '../text';
import {
  amountMismatchIssue,
  duplicateItemIssues,
  idSchema,
  pricedLinesOf,
  requestedLineSchema,
} from './common';

export const deliveryAddressSchema = z.object({
  line1: plainText().min(1).max(200),
  line2: plainText().min(1).max(200).optional(),
  city: plainText().min(1).max(100),
  postcode: plainText().min(1).max(20),
  /** ISO 3166-1 alpha-2, e.g. "GB". */
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'Invalid country: expected an ISO 3166-1 alpha-2 code')
    .optional(),
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
});

export type DeliveryAddress = z.output<typeof deliveryAddressSchema>;

/**
 * A payment-service-provider token for the card ("tok_…"), never card data.
 *
 * Why it may travel on the bus at all: payment-service learns about the order only from order.created,
 * and a token is a tokenised reference that is useless without our gateway credentials. It is still
 * sensitive (raw.* topics keep events forever), so: it is optional, it must look like a token, a run of
 * 12+ digits (a card number) is rejected outright, and the read side must never store or return it
 * (the status fold drops it).
 */
export const cardTokenSchema = z
  .string()
  .min(8)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'Invalid card token: expected letters, digits, "_" or "-"')
  .refine((token) => !/\d{12,}/.test(token), 'Invalid card token: looks like a card number, not a token');

export const paymentMethodSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('card'), token: cardTokenSchema.optional() }),
]);

export type PaymentMethod = z.output<typeof paymentMethodSchema>;

/** order.created v1: the seed's `{customerId, totalAmount, currency, items}` plus address and payment method. */
export const orderCreatedV1 = z
  .object({
    orderId: idSchema,
    customerId: idSchema,
    /**
     * Provisional: Σ unitPrice × quantity over the `items` that carry a unitPrice ("0.00" when none
     * does). Kept because the seed has it; what is charged is inventory.reserved's `amount`, priced
     * from the catalogue.
     */
    totalAmount: moneySchema,
    currency: currencySchema,
    /**
     * As the customer asked for them, `unitPrice` optional (docs/design.md §6): inventory checks a given
     * unitPrice against its catalogue and prices a line without one from the catalogue.
     */
    items: z.array(requestedLineSchema).min(1).max(100),
    deliveryAddress: deliveryAddressSchema,
    paymentMethod: paymentMethodSchema,
  })
  .superRefine((payload, ctx) => {
    for (const issue of duplicateItemIssues(payload.items, 'items'))
      ctx.addIssue({ code: 'custom', ...issue });
    const mismatch = amountMismatchIssue(
      payload.totalAmount,
      pricedLinesOf(payload.items),
      'totalAmount',
      'the priced items',
    );
    if (mismatch) ctx.addIssue({ code: 'custom', ...mismatch });
  });

export const CANCELLED_BY = ['CUSTOMER', 'ADMIN', 'SYSTEM'] as const;

/**
 * order.cancelled v1. Accepted by order-service only before delivery.assigned; every step then
 * compensates what it did (inventory.released, payment.refunded).
 */
export const orderCancelledV1 = z.object({
  orderId: idSchema,
  reason: freeText().min(1).max(500).optional(),
  cancelledBy: z.enum(CANCELLED_BY),
  /** The user (customer or admin) who asked, when a person did. */
  actorId: idSchema.optional(),
});
