import { principalOf, serveOpenApi, signedIn, type TokenVerifier, validate } from '@dispatch/platform';
import type { Express } from 'express';
import type { OrderQueries } from '../queries';
import { queryApiOpenApi } from './openapi';
import type { OrderStreams } from './order-streams';
import { listOrdersQuerySchema, orderIdParamsSchema } from './schemas';
import type { StreamLease } from './stream-leases';

export interface QueryApiRouteDeps {
  queries: OrderQueries;
  streams: OrderStreams;
  verifyToken: TokenVerifier;
}

export function addQueryApiRoutes(app: Express, deps: QueryApiRouteDeps): void {
  const callers = signedIn(deps.verifyToken, 'customer', 'admin');

  app.get('/api/orders', ...callers, async (req, res) => {
    const query = validate(listOrdersQuerySchema, req.query);
    res.json(await deps.queries.list(principalOf(res), query));
  });

  app.get('/api/orders/:orderId', ...callers, async (req, res) => {
    const { orderId } = validate(orderIdParamsSchema, req.params);
    res.json(await deps.queries.getFor(principalOf(res), orderId));
  });

  app.get('/api/orders/:orderId/events', ...callers, async (req, res) => {
    const { orderId } = validate(orderIdParamsSchema, req.params);
    const principal = principalOf(res);
    const release = deps.streams.reserve();
    let lease: StreamLease | undefined;
    try {
      lease = await deps.streams.leaseFor(principal.subject);
      const order = await deps.queries.getFor(principal, orderId);
      deps.streams.start(res, orderId, order, {
        release,
        ...(lease ? { lease } : {}),
        ...(principal.expiresAt ? { expiresAt: principal.expiresAt } : {}),
      });
    } catch (err) {
      release();
      lease?.release();
      throw err;
    }
  });

  serveOpenApi(app, queryApiOpenApi);
}
