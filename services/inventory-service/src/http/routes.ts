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
import type { CatalogueItem } from '../domain/types';
import { getItem, listItems, putItem } from '../store/catalogue-store';
import { decodeCursor, encodeCursor, InvalidCursorError } from './cursor';
import { itemBodySchema, itemPageSchema, itemParamsSchema, itemSchema, listQuerySchema } from './schemas';

const ITEM_PATH = '/api/inventory/items/:itemId';
const ITEMS_PATH = '/api/inventory/items';

/** The documented routes; the OpenAPI document is built from these same schemas. */
export const inventoryRoutes: OpenApiRoute[] = [
  {
    method: 'put',
    path: ITEM_PATH,
    summary:
      'Create or replace a catalogue item. Replacing sets name, price, currency and the sellable count; units reserved for orders stay reserved.',
    auth: 'admin',
    params: itemParamsSchema,
    body: itemBodySchema,
    responses: {
      200: { description: 'Replaced.', schema: itemSchema },
      201: { description: 'Created (Location names the item).', schema: itemSchema },
      400: { description: 'Invalid item id or body; every bad field is listed.' },
    },
  },
  {
    method: 'get',
    path: ITEM_PATH,
    summary: 'One catalogue item with its available and reserved units.',
    auth: 'admin',
    params: itemParamsSchema,
    responses: {
      200: { description: 'The item.', schema: itemSchema },
      404: { description: 'No such item.' },
    },
  },
  {
    method: 'get',
    path: ITEMS_PATH,
    summary: 'The catalogue, a page at a time, in itemId order.',
    auth: 'admin',
    query: listQuerySchema,
    responses: {
      200: { description: 'A page of items.', schema: itemPageSchema },
      400: { description: 'Invalid limit or cursor.' },
    },
  },
];

function itemLocation(itemId: string): string {
  return `${ITEMS_PATH}/${encodeURIComponent(itemId)}`;
}

/** The item as the API shows it (exactly the documented fields). */
function toView(item: CatalogueItem) {
  return {
    itemId: item.itemId,
    name: item.name,
    unitPrice: item.unitPrice,
    currency: item.currency,
    available: item.available,
    reserved: item.reserved,
  };
}

export interface InventoryRouteDeps {
  pool: Pool;
  verifyToken: TokenVerifier;
}

export function addInventoryRoutes(app: Express, deps: InventoryRouteDeps): void {
  const admin = signedIn(deps.verifyToken, 'admin');

  serveOpenApi(app, {
    title: 'Dispatch inventory-service',
    version: '1.0.0',
    description: 'The catalogue and its stock. Every endpoint needs a bearer token with the admin role.',
    routes: inventoryRoutes,
  });

  app.put(ITEM_PATH, ...admin, async (req, res) => {
    const { itemId } = validate(itemParamsSchema, req.params, 'Invalid item id.');
    const body = validate(itemBodySchema, req.body ?? {}, 'Invalid item.');
    const { item, created } = await putItem(deps.pool, { itemId, ...body });
    if (created) res.status(201).location(itemLocation(item.itemId));
    res.json(toView(item));
  });

  app.get(ITEM_PATH, ...admin, async (req, res) => {
    const { itemId } = validate(itemParamsSchema, req.params, 'Invalid item id.');
    const item = await getItem(deps.pool, itemId);
    if (!item) throw new NotFoundError(`No catalogue item '${itemId}'.`);
    res.json(toView(item));
  });

  app.get(ITEMS_PATH, ...admin, async (req, res) => {
    const query = validate(listQuerySchema, req.query, 'Invalid page request.');
    let afterItemId: string | undefined;
    if (query.cursor !== undefined) {
      try {
        afterItemId = decodeCursor(query.cursor);
      } catch (err) {
        if (!(err instanceof InvalidCursorError)) throw err;
        throw new ValidationError([{ path: 'cursor', message: err.message }], 'Invalid page request.');
      }
    }
    // One row more than asked tells whether another page follows.
    const rows = await listItems(deps.pool, { afterItemId, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > query.limit && last ? encodeCursor(last.itemId) : null;
    res.json({ items: page.map(toView), nextCursor });
  });
}
