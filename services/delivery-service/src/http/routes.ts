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
import type { Clock } from '../clock';
import type { DeliveryMetrics } from '../metrics';
import { findDeliveryByOrder } from '../store/deliveries';
import { getDriver, listDrivers, upsertDriver } from '../store/drivers';
import { completeDelivery } from '../use-cases/complete';
import { type PositionSettings, reportDriverPosition } from '../use-cases/report-position';
import {
  deliverySchema,
  driverPageSchema,
  driverParamsSchema,
  driverSchema,
  listDriversQuerySchema,
  orderParamsSchema,
  positionBodySchema,
  positionResponseSchema,
  putDriverBodySchema,
} from './schemas';
import { deliveryView, driverView } from './views';

export interface DeliveryRouteDeps {
  pool: Pool;
  clock: Clock;
  verifyToken: TokenVerifier;
  metrics: DeliveryMetrics;
  /** The ETA model and threshold position reports recompute and publish the ETA with. */
  positions: PositionSettings;
  /** Wakes the scheduler when a driver may have become free, so waiting deliveries need not wait a tick. */
  onDriverFreed?: () => void;
}

const problems = {
  400: { description: 'Invalid parameters or body (every bad field listed).' },
};

export const openApiSpec: OpenApiSpec = {
  title: 'Dispatch delivery-service',
  version: '1.0.0',
  description:
    'The driver pool and deliveries. Drivers get paid orders assigned automatically (events); ' +
    'admins manage the pool and mark deliveries completed.',
  routes: [
    {
      method: 'put',
      path: '/api/drivers/:driverId',
      summary: 'Create or replace a driver (name and duty status). A driver on a delivery keeps it.',
      auth: 'admin',
      params: driverParamsSchema,
      body: putDriverBodySchema,
      responses: {
        200: { description: 'Replaced (or unchanged).', schema: driverSchema },
        201: { description: 'Created.', schema: driverSchema },
        ...problems,
      },
    },
    {
      method: 'get',
      path: '/api/drivers',
      summary: 'List drivers by id, one page at a time.',
      auth: 'admin',
      query: listDriversQuerySchema,
      responses: { 200: { description: 'A page of drivers.', schema: driverPageSchema }, ...problems },
    },
    {
      method: 'get',
      path: '/api/drivers/:driverId',
      summary: 'One driver.',
      auth: 'admin',
      params: driverParamsSchema,
      responses: {
        200: { description: 'The driver.', schema: driverSchema },
        ...problems,
        404: { description: 'No such driver.' },
      },
    },
    {
      method: 'post',
      path: '/api/drivers/:driverId/position',
      summary:
        "A driver app reports the driver's position: stored on the active delivery, the ETA is recomputed from it (remaining distance at the average speed) and eta.updated is emitted when it moved by more than ETA_CHANGE_THRESHOLD_MS or the driver left the depot. The simulated fleet uses the same use-case.",
      auth: 'admin',
      params: driverParamsSchema,
      body: positionBodySchema,
      responses: {
        200: { description: 'Recorded.', schema: positionResponseSchema },
        ...problems,
        404: { description: 'No such driver.' },
        409: {
          description: 'The driver is not on an active delivery (problem type driver-not-on-delivery).',
        },
      },
    },
    {
      method: 'get',
      path: '/api/deliveries/:orderId',
      summary: "An order's delivery.",
      auth: 'admin',
      params: orderParamsSchema,
      responses: {
        200: { description: 'The delivery.', schema: deliverySchema },
        ...problems,
        404: { description: 'The order has no delivery (not paid yet, or unknown).' },
      },
    },
    {
      method: 'post',
      path: '/api/deliveries/:orderId/complete',
      summary: 'Mark the active delivery delivered: emits delivery.completed and frees the driver.',
      auth: 'admin',
      params: orderParamsSchema,
      responses: {
        200: { description: 'Completed.', schema: deliverySchema },
        ...problems,
        404: { description: 'The order has no delivery.' },
        409: {
          description: 'The delivery is not active (waiting for a driver, completed, failed or cancelled).',
        },
      },
    },
  ],
};

/** Thin routes: validate at the edge, call the store or a use case, map the result. All need the admin role. */
export function addDeliveryRoutes(app: Express, deps: DeliveryRouteDeps): void {
  const admin = signedIn(deps.verifyToken, 'admin');

  serveOpenApi(app, openApiSpec);

  app.put('/api/drivers/:driverId', ...admin, async (req, res) => {
    const { driverId } = validate(driverParamsSchema, req.params);
    const body = validate(putDriverBodySchema, req.body);
    const { outcome, driver } = await upsertDriver(deps.pool, { driverId, ...body }, deps.clock.now());
    if (driver.status === 'AVAILABLE' && driver.activeDeliveryId === null) deps.onDriverFreed?.();
    if (outcome === 'created') res.location(`/api/drivers/${encodeURIComponent(driverId)}`);
    res.status(outcome === 'created' ? 201 : 200).json(driverView(driver));
  });

  app.get('/api/drivers', ...admin, async (req, res) => {
    const query = validate(listDriversQuerySchema, req.query);
    const page = await listDrivers(deps.pool, { limit: query.limit, after: query.cursor });
    const last = page.drivers.at(-1);
    res.json({
      items: page.drivers.map(driverView),
      nextCursor: page.hasMore && last ? last.driverId : null,
    });
  });

  app.get('/api/drivers/:driverId', ...admin, async (req, res) => {
    const { driverId } = validate(driverParamsSchema, req.params);
    const driver = await getDriver(deps.pool, driverId);
    if (!driver) throw new NotFoundError(`No driver ${driverId}.`);
    res.json(driverView(driver));
  });

  app.post('/api/drivers/:driverId/position', ...admin, async (req, res) => {
    const { driverId } = validate(driverParamsSchema, req.params);
    const position = validate(positionBodySchema, req.body);
    const report = await reportDriverPosition(deps.pool, deps.clock, deps.positions, driverId, position);
    deps.metrics.positions.inc({ source: 'api' });
    if (report.etaPublished) deps.metrics.etaUpdates.inc();
    res.json({
      driverId,
      delivery: deliveryView(report.delivery),
      etaPublished: report.etaPublished,
      arrived: report.arrived,
    });
  });

  app.get('/api/deliveries/:orderId', ...admin, async (req, res) => {
    const { orderId } = validate(orderParamsSchema, req.params);
    const delivery = await findDeliveryByOrder(deps.pool, orderId);
    if (!delivery) throw new NotFoundError(`No delivery for order ${orderId}.`);
    res.json(deliveryView(delivery));
  });

  app.post('/api/deliveries/:orderId/complete', ...admin, async (req, res) => {
    const { orderId } = validate(orderParamsSchema, req.params);
    const delivery = await completeDelivery(deps.pool, deps.clock, orderId);
    deps.metrics.completed.inc();
    deps.onDriverFreed?.();
    res.json(deliveryView(delivery));
  });
}
