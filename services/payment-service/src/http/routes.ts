import { idSchema } from '@dispatch/contracts';
import {
  NotFoundError,
  type OpenApiSpec,
  serveOpenApi,
  signedIn,
  type TokenVerifier,
  validate,
} from '@dispatch/platform';
import type { Express } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { findPayment, type PaymentRow } from '../store/payment-store';

export const paymentParamsSchema = z.object({ orderId: idSchema });

export const paymentViewSchema = z.object({
  paymentId: z.string(),
  orderId: z.string(),
  customerId: z.string(),
  amount: z.string(),
  currency: z.string(),
  status: z.enum(['PENDING', 'AUTHORIZED', 'FAILED']),
  failureReason: z.string().nullable(),
  gatewayReference: z.string().nullable(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  refund: z
    .object({
      status: z.enum(['PENDING', 'REFUNDED']),
      refundId: z.string().nullable(),
      reason: z.string().nullable(),
      refundedAt: z.string().nullable(),
    })
    .nullable(),
});

export type PaymentView = z.output<typeof paymentViewSchema>;

export function toPaymentView(p: PaymentRow): PaymentView {
  return {
    paymentId: p.paymentId,
    orderId: p.orderId,
    customerId: p.customerId,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    failureReason: p.failureReason,
    gatewayReference: p.gatewayReference,
    createdAt: p.createdAt.toISOString(),
    decidedAt: p.decidedAt?.toISOString() ?? null,
    refund: p.refundStatus
      ? {
          status: p.refundStatus,
          refundId: p.refundId,
          reason: p.refundReason,
          refundedAt: p.refundedAt?.toISOString() ?? null,
        }
      : null,
  };
}

export const openApiSpec: OpenApiSpec = {
  title: 'payment-service',
  version: '1.0.0',
  description:
    'Payments are made by consuming events (inventory.reserved); there is no public write API. ' +
    'Operators can look a payment up by order.',
  routes: [
    {
      method: 'get',
      path: '/api/payments/:orderId',
      summary: "An order's payment (admin)",
      auth: 'admin',
      params: paymentParamsSchema,
      responses: {
        200: { description: 'The payment', schema: paymentViewSchema },
        404: { description: 'No payment for this order' },
      },
    },
  ],
};

export interface PaymentRouteDeps {
  pool: Pool;
  verifyToken: TokenVerifier;
}

/** Operator routes: read-only, admin role. */
export function addPaymentRoutes(app: Express, deps: PaymentRouteDeps): void {
  app.get('/api/payments/:orderId', ...signedIn(deps.verifyToken, 'admin'), async (req, res) => {
    const { orderId } = validate(paymentParamsSchema, req.params);
    const payment = await findPayment(deps.pool, orderId);
    if (!payment) throw new NotFoundError(`No payment for order ${orderId}.`);
    res.json(toPaymentView(payment));
  });
  serveOpenApi(app, openApiSpec);
}
