import { lookup } from 'node:dns/promises';
import {
  NotFoundError,
  type OpenApiRoute,
  serveOpenApi,
  signedIn,
  type TokenVerifier,
  ValidationError,
  validate,
} from '@dispatch/platform';
import type { Express } from 'express';
import type { Pool } from 'pg';
import { generateSecret } from '../domain/signature';
import { checkResolvedAddresses, checkTargetUrl, type TargetPolicy } from '../domain/target-url';
import { type DeliveryView, listDeliveries, redeliver } from '../store/deliveries';
import {
  deleteEndpoint,
  type Endpoint,
  getEndpoint,
  insertEndpoint,
  listEndpoints,
  rotateSecret,
  updateEndpoint,
} from '../store/endpoints';
import {
  createdWebhookSchema,
  createWebhookSchema,
  deliveriesQuerySchema,
  deliveryPageSchema,
  deliveryParamsSchema,
  deliverySchema,
  rotatedSecretSchema,
  rotateSecretSchema,
  updateWebhookSchema,
  webhookListSchema,
  webhookParamsSchema,
  webhookSchema,
} from './schemas';

const WEBHOOKS = '/api/webhooks';
const WEBHOOK = '/api/webhooks/:webhookId';
const ROTATE = '/api/webhooks/:webhookId/rotate-secret';
const DELIVERIES = '/api/webhooks/:webhookId/deliveries';
const REDELIVER = '/api/webhooks/:webhookId/deliveries/:deliveryId/redeliver';

export const webhookRoutes: OpenApiRoute[] = [
  {
    method: 'post',
    path: WEBHOOKS,
    summary: 'Register an endpoint. The answer holds its signing secret, shown only this once.',
    auth: 'admin',
    body: createWebhookSchema,
    responses: {
      201: { description: 'Registered (Location names it).', schema: createdWebhookSchema },
      400: { description: 'Invalid body, or a URL that is not a public https target.' },
    },
  },
  {
    method: 'get',
    path: WEBHOOKS,
    summary: 'Every registered endpoint (secrets are never listed).',
    auth: 'admin',
    responses: { 200: { description: 'The endpoints.', schema: webhookListSchema } },
  },
  {
    method: 'get',
    path: WEBHOOK,
    summary: 'One endpoint.',
    auth: 'admin',
    params: webhookParamsSchema,
    responses: {
      200: { description: 'The endpoint.', schema: webhookSchema },
      404: { description: 'No such endpoint.' },
    },
  },
  {
    method: 'patch',
    path: WEBHOOK,
    summary: 'Change the URL, event types, customer filter or description; enable or disable it.',
    auth: 'admin',
    params: webhookParamsSchema,
    body: updateWebhookSchema,
    responses: {
      200: { description: 'Changed.', schema: webhookSchema },
      400: { description: 'Invalid body or URL.' },
      404: { description: 'No such endpoint.' },
    },
  },
  {
    method: 'delete',
    path: WEBHOOK,
    summary: 'Remove an endpoint with its pending deliveries and their history.',
    auth: 'admin',
    params: webhookParamsSchema,
    responses: { 204: { description: 'Removed.' }, 404: { description: 'No such endpoint.' } },
  },
  {
    method: 'post',
    path: ROTATE,
    summary:
      'A new signing secret (shown only here). The old one keeps signing for the overlap, so requests carry two v1 signatures until it ends.',
    auth: 'admin',
    params: webhookParamsSchema,
    body: rotateSecretSchema,
    responses: {
      200: { description: 'Rotated.', schema: rotatedSecretSchema },
      400: { description: 'Invalid overlap.' },
      404: { description: 'No such endpoint.' },
    },
  },
  {
    method: 'get',
    path: DELIVERIES,
    summary: "The endpoint's deliveries, newest first, each with every attempt.",
    auth: 'admin',
    params: webhookParamsSchema,
    query: deliveriesQuerySchema,
    responses: {
      200: { description: 'A page of deliveries.', schema: deliveryPageSchema },
      400: { description: 'Invalid limit, before or state.' },
      404: { description: 'No such endpoint.' },
    },
  },
  {
    method: 'post',
    path: REDELIVER,
    summary:
      "Send a delivery's event again, as a new delivery with the same event id (queued behind the order's pending ones).",
    auth: 'admin',
    params: deliveryParamsSchema,
    responses: {
      202: { description: 'Queued.', schema: deliverySchema },
      404: { description: 'No such endpoint or delivery.' },
    },
  },
];

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The endpoint as the API shows it: never its secrets. */
function toView(e: Endpoint) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    eventTypes: e.eventTypes,
    customerId: e.customerId,
    enabled: e.enabled,
    disabledReason: e.disabledReason,
    disabledAt: iso(e.disabledAt),
    consecutiveFailures: e.consecutiveFailures,
    previousSecretExpiresAt: iso(e.previousSecretExpiresAt),
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

function deliveryView(d: DeliveryView) {
  return {
    ...d,
    nextAttemptAt: iso(d.nextAttemptAt),
    lastAttemptAt: iso(d.lastAttemptAt),
    deliveredAt: iso(d.deliveredAt),
    createdAt: d.createdAt.toISOString(),
    attempts: d.attempts.map((a) => ({ ...a, startedAt: a.startedAt.toISOString() })),
  };
}

export interface WebhookRouteDeps {
  pool: Pool;
  verifyToken: TokenVerifier;
  policy: TargetPolicy;
  rotationOverlapDefaultMs: number;
  /** Resolves a host name to its addresses (tests may pin it); default: the system resolver. */
  resolve?: (host: string) => Promise<string[]>;
  /** Wakes the dispatcher after a redelivery or a re-enable. */
  onQueued?: () => void;
}

async function systemResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}

/** The SSRF check at registration: the URL's shape, then every address its host resolves to now. */
async function checkUrl(raw: string, deps: WebhookRouteDeps): Promise<string> {
  const shape = checkTargetUrl(raw, deps.policy);
  const problem = (message: string) =>
    new ValidationError([{ path: 'url', message }], 'Invalid webhook URL.');
  if (!shape.ok) throw problem(shape.problem);
  if (!shape.literal) {
    let addresses: string[];
    try {
      addresses = await (deps.resolve ?? systemResolve)(shape.host);
    } catch {
      throw problem(`${shape.host} does not resolve`);
    }
    const resolved = checkResolvedAddresses(shape.host, addresses, deps.policy);
    if (!resolved.ok) throw problem(resolved.problem);
  }
  return shape.url.toString();
}

export function addWebhookRoutes(app: Express, deps: WebhookRouteDeps): void {
  const admin = signedIn(deps.verifyToken, 'admin');

  serveOpenApi(app, {
    title: 'Dispatch webhook-service',
    version: '1.0.0',
    description:
      'Signed outbound webhooks for order events. Every endpoint needs a bearer token with the admin role. Signature: `Dispatch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.',
    routes: webhookRoutes,
  });

  const found = async (id: string) => {
    const endpoint = await getEndpoint(deps.pool, id);
    if (!endpoint) throw new NotFoundError(`No webhook '${id}'.`);
    return endpoint;
  };

  app.post(WEBHOOKS, ...admin, async (req, res) => {
    const body = validate(createWebhookSchema, req.body ?? {}, 'Invalid webhook.');
    const url = await checkUrl(body.url, deps);
    const secret = generateSecret();
    const endpoint = await insertEndpoint(deps.pool, {
      url,
      description: body.description ?? null,
      eventTypes: body.eventTypes,
      customerId: body.customerId ?? null,
      enabled: body.enabled ?? true,
      secret,
    });
    res
      .status(201)
      .location(`${WEBHOOKS}/${endpoint.id}`)
      .json({ ...toView(endpoint), secret });
  });

  app.get(WEBHOOKS, ...admin, async (_req, res) => {
    res.json({ items: (await listEndpoints(deps.pool)).map(toView) });
  });

  app.get(WEBHOOK, ...admin, async (req, res) => {
    const { webhookId } = validate(webhookParamsSchema, req.params, 'Invalid webhook id.');
    res.json(toView(await found(webhookId)));
  });

  app.patch(WEBHOOK, ...admin, async (req, res) => {
    const { webhookId } = validate(webhookParamsSchema, req.params, 'Invalid webhook id.');
    const body = validate(updateWebhookSchema, req.body ?? {}, 'Invalid webhook change.');
    const url = body.url !== undefined ? await checkUrl(body.url, deps) : undefined;
    const endpoint = await updateEndpoint(deps.pool, webhookId, {
      ...(url !== undefined ? { url } : {}),
      ...(body.eventTypes !== undefined ? { eventTypes: body.eventTypes } : {}),
      ...(body.customerId !== undefined ? { customerId: body.customerId } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
    });
    if (!endpoint) throw new NotFoundError(`No webhook '${webhookId}'.`);
    if (body.enabled) deps.onQueued?.();
    res.json(toView(endpoint));
  });

  app.delete(WEBHOOK, ...admin, async (req, res) => {
    const { webhookId } = validate(webhookParamsSchema, req.params, 'Invalid webhook id.');
    if (!(await deleteEndpoint(deps.pool, webhookId))) throw new NotFoundError(`No webhook '${webhookId}'.`);
    res.status(204).end();
  });

  app.post(ROTATE, ...admin, async (req, res) => {
    const { webhookId } = validate(webhookParamsSchema, req.params, 'Invalid webhook id.');
    const body = validate(rotateSecretSchema, req.body ?? {}, 'Invalid rotation.');
    const overlapMs =
      body.overlapSeconds !== undefined ? body.overlapSeconds * 1000 : deps.rotationOverlapDefaultMs;
    const secret = generateSecret();
    const endpoint = await rotateSecret(deps.pool, webhookId, secret, overlapMs);
    if (!endpoint) throw new NotFoundError(`No webhook '${webhookId}'.`);
    res.json({ id: endpoint.id, secret, previousSecretExpiresAt: iso(endpoint.previousSecretExpiresAt) });
  });

  app.get(DELIVERIES, ...admin, async (req, res) => {
    const { webhookId } = validate(webhookParamsSchema, req.params, 'Invalid webhook id.');
    const query = validate(deliveriesQuerySchema, req.query, 'Invalid page request.');
    await found(webhookId);
    const rows = await listDeliveries(deps.pool, webhookId, {
      limit: query.limit + 1,
      ...(query.before ? { beforeId: query.before } : {}),
      ...(query.state ? { state: query.state } : {}),
    });
    const page = rows.slice(0, query.limit);
    const nextBefore = rows.length > query.limit ? (page[page.length - 1]?.deliveryId ?? null) : null;
    res.json({ items: page.map(deliveryView), nextBefore });
  });

  app.post(REDELIVER, ...admin, async (req, res) => {
    const { webhookId, deliveryId } = validate(deliveryParamsSchema, req.params, 'Invalid delivery id.');
    await found(webhookId);
    const id = await redeliver(deps.pool, webhookId, deliveryId);
    if (!id) throw new NotFoundError(`No delivery '${deliveryId}' of webhook '${webhookId}'.`);
    const [view] = await listDeliveries(deps.pool, webhookId, {
      limit: 1,
      beforeId: String(BigInt(id) + 1n),
    });
    deps.onQueued?.();
    res.status(202).json(deliveryView(view!));
  });
}
