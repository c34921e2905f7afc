import type { OpenApiSpec } from '@dispatch/platform';
import {
  listOrdersQuerySchema,
  orderIdParamsSchema,
  orderListResponseSchema,
  orderResponseSchema,
} from './schemas';

/** Served at GET /openapi.json, built from the same zod schemas the routes validate with. */
export const queryApiOpenApi: OpenApiSpec = {
  title: 'Dispatch query-api',
  version: '1.0.0',
  description:
    'The read side: order views materialised from every saga event. Writes go to order-service. ' +
    'Errors are application/problem+json.',
  routes: [
    {
      method: 'get',
      path: '/api/orders/:orderId',
      summary: 'One order: the seed fields, the per-step sections, and the timeline of its events.',
      auth: 'any',
      params: orderIdParamsSchema,
      responses: {
        200: { description: 'The order', schema: orderResponseSchema },
        400: { description: 'Invalid orderId' },
        404: { description: 'No such order, or it belongs to another customer' },
      },
    },
    {
      method: 'get',
      path: '/api/orders',
      summary: "A customer's orders, newest first, paged with an opaque nextPageState.",
      auth: 'any',
      query: listOrdersQuerySchema,
      responses: {
        200: { description: 'One page', schema: orderListResponseSchema },
        400: { description: 'Invalid limit or pageState, or an admin without customerId' },
        403: { description: "A customer asked for another customer's orders" },
      },
    },
    {
      method: 'get',
      path: '/api/orders/:orderId/events',
      summary:
        'Server-Sent Events: `event: order` with the full view on connect and on every change, ' +
        '`: heartbeat` comments while idle, `event: end` after a terminal status, then the stream closes; ' +
        '`event: token-expired` when the token expires, then the stream closes (reconnect with a fresh token).',
      auth: 'any',
      params: orderIdParamsSchema,
      responses: {
        200: { description: 'An event stream', contentType: 'text/event-stream' },
        400: { description: 'Invalid orderId' },
        404: { description: 'No such order, or it belongs to another customer' },
        429: {
          description:
            "The customer already holds SSE_MAX_STREAMS_PER_CUSTOMER open streams (`too-many-streams-per-customer`), or the caller's read rate limit is used up (`rate-limited`); Retry-After",
        },
        503: { description: 'Too many open streams on this instance (Retry-After)' },
      },
    },
  ],
};
