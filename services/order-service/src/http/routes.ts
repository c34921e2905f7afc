import {
  currentTraceparent,
  type Logger,
  principalOf,
  serveOpenApi,
  signedIn,
  type TokenVerifier,
  validate,
} from '@dispatch/platform';
import type { Express, Request, RequestHandler } from 'express';
import type { Pool } from 'pg';
import type { OrderMetrics } from '../metrics';
import { callerOf } from '../use-cases/caller';
import { cancelOrder } from '../use-cases/cancel-order';
import { createOrder } from '../use-cases/create-order';
import { UnsupportedMediaTypeError } from '../use-cases/errors';
import { orderServiceOpenApi } from './openapi';
import {
  cancelOrderRequestSchema,
  createOrderHeadersSchema,
  createOrderRequestSchema,
  orderIdParamsSchema,
} from './schemas';

export interface OrderRouteDeps {
  pool: Pool;
  metrics: OrderMetrics;
  logger: Logger;
  verifyToken: TokenVerifier;
  /** Per-caller limit on POSTs, shared by every instance through Redis. */
  rateLimiter: RequestHandler;
}

const JSON_TYPES = ['application/json', 'application/*+json'];
const TRACEPARENT_PATTERN = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * A body in another format than JSON is refused with 415. No body at all (none, or Content-Length: 0)
 * is left to validation: 400 for an order, fine for a cancel.
 */
function requireJsonBody(req: Request): void {
  const length = req.get('content-length');
  const hasBody = req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
  if (hasBody && req.is(JSON_TYPES) === false) throw new UnsupportedMediaTypeError(req.get('content-type'));
}

/**
 * W3C trace context to carry onto the events. With tracing on, the active span's: this request's
 * server span, itself a child of the caller's context, so the saga's consumer spans hang under it
 * (the caller's header would make them its siblings). With tracing off, the caller's header when
 * well-formed, so the saga still carries the caller's trace id.
 */
function traceparentOf(req: Request): { traceparent?: string } {
  const active = currentTraceparent();
  if (active) return { traceparent: active };
  const value = req.get('traceparent');
  return value && TRACEPARENT_PATTERN.test(value) ? { traceparent: value } : {};
}

/** POST /api/orders, POST /api/orders/{orderId}/cancel and GET /openapi.json. */
export function addOrderRoutes(app: Express, deps: OrderRouteDeps): void {
  const callers = [...signedIn(deps.verifyToken, 'customer', 'admin'), deps.rateLimiter];

  app.post('/api/orders', ...callers, async (req, res) => {
    requireJsonBody(req);
    const headers = validate(createOrderHeadersSchema, { 'idempotency-key': req.get('idempotency-key') });
    const order = validate(createOrderRequestSchema, req.body);
    const answer = await createOrder(deps, {
      caller: callerOf(principalOf(res)),
      order,
      rawBody: req.body,
      ...(headers['idempotency-key'] === undefined ? {} : { idempotencyKey: headers['idempotency-key'] }),
      ...traceparentOf(req),
    });
    if (answer.location) res.setHeader('Location', answer.location);
    if (answer.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(answer.status).type('application/json').send(answer.body);
  });

  app.post('/api/orders/:orderId/cancel', ...callers, async (req, res) => {
    requireJsonBody(req);
    const { orderId } = validate(orderIdParamsSchema, req.params);
    const body = validate(cancelOrderRequestSchema, req.body ?? {});
    const cancelled = await cancelOrder(deps, {
      caller: callerOf(principalOf(res)),
      orderId,
      ...(body.reason === undefined ? {} : { reason: body.reason }),
      ...traceparentOf(req),
    });
    res.status(202).json(cancelled);
  });

  serveOpenApi(app, orderServiceOpenApi);
}
