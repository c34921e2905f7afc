import { z } from 'zod';
import { currencySchema, moneySchema } from '../money';
import { plainText } from '../text';
import { idSchema, reasonCodeSchema } from './common';

/** The seed's payment fields: `{paymentId, orderId, amount, currency, status, failureReason}`. */
const paymentBase = {
  paymentId: idSchema,
  orderId: idSchema,
  amount: moneySchema,
  currency: currencySchema,
};

/** payment.authorized v1: the gateway approved `amount` (the inventory.reserved amount). */
export const paymentAuthorizedV1 = z.object({
  ...paymentBase,
  status: z.literal('AUTHORIZED'),
  /** The gateway's own reference for the authorisation. */
  gatewayReference: plainText().min(1).max(200).optional(),
});

/** Codes payment-service uses today, the gateway decline codes in their usual lower case; `failureReason` is an open set. */
export const PAYMENT_FAILURE_REASONS = [
  'card_declined',
  'insufficient_funds',
  'invalid_payment_method',
  'fraud_suspected',
  /** The gateway could not give an answer: every attempt timed out or failed, or the breaker was open. */
  'gateway_unavailable',
] as const;

/** payment.failed v1: nothing was charged; inventory releases its reservation. */
export const paymentFailedV1 = z.object({
  ...paymentBase,
  status: z.literal('FAILED'),
  failureReason: reasonCodeSchema,
});

export const REFUND_REASONS = ['DELIVERY_FAILED', 'ORDER_CANCELLED'] as const;

/** payment.refunded v1: the authorisation was voided or refunded in full (compensation). */
export const paymentRefundedV1 = z.object({
  ...paymentBase,
  status: z.literal('REFUNDED'),
  refundId: idSchema,
  reason: z.enum(REFUND_REASONS),
});
