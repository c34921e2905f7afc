import type { OpenApiSpec } from '@dispatch/platform';
import {
  cancelOrderRequestSchema,
  cancelOrderResponseSchema,
  createdOrderResponseSchema,
  createOrderHeadersSchema,
  createOrderRequestSchema,
  orderIdParamsSchema,
} from './schemas';

/** Answers every POST route may give. */
const sharedErrors = {
  429: { description: 'Too many POSTs from this caller in the current window (Retry-After)' },
  503: {
    description:
      'Overloaded (problem type overloaded): the instance is at capacity and did nothing; send the same request again after Retry-After',
  },
} as const;

/** Served at GET /openapi.json, built from the same zod schemas the routes validate with. */
export const orderServiceOpenApi: OpenApiSpec = {
  title: 'Dispatch order-service',
  version: '1.0.0',
  description:
    'Accepts orders and cancellations. Reads (GET /api/orders/…) are served by query-api. Errors are application/problem+json.',
  routes: [
    {
      method: 'post',
      path: '/api/orders',
      summary:
        'Create an order (idempotent with Idempotency-Key). unitPrice is optional per line: inventory checks a given unitPrice against its catalogue and prices the other lines from it, so totalAmount (the priced lines only) is provisional.',
      auth: 'customer',
      headers: createOrderHeadersSchema,
      body: createOrderRequestSchema,
      responses: {
        201: {
          description:
            'Created (also the replay of a completed Idempotency-Key, with Idempotent-Replayed: true)',
          schema: createdOrderResponseSchema,
        },
        400: { description: 'Invalid fields (each named in `errors`), malformed JSON or Idempotency-Key' },
        ...sharedErrors,
        403: { description: 'customerId is not the caller (only an admin may order for someone else)' },
        409: { description: 'A request with the same Idempotency-Key is still in progress (Retry-After)' },
        413: { description: 'Body larger than 64 KiB' },
        415: { description: 'Body is not application/json' },
        422: { description: 'Idempotency-Key already used with a different body' },
      },
    },
    {
      method: 'post',
      path: '/api/orders/:orderId/cancel',
      summary:
        'Cancel an order before a driver is assigned; emits order.cancelled. Cancelling a cancelled order answers the same 202 again.',
      auth: 'customer',
      params: orderIdParamsSchema,
      body: cancelOrderRequestSchema,
      responses: {
        202: {
          description: 'Cancellation accepted; compensations follow',
          schema: cancelOrderResponseSchema,
        },
        400: { description: 'orderId is not a UUID, or invalid reason' },
        ...sharedErrors,
        404: { description: 'No such order (or it belongs to another customer)' },
        409: { description: 'A driver is assigned or the order has ended (orderStatus names the status)' },
        415: { description: 'Body is not application/json' },
      },
    },
  ],
};
