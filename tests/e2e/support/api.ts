import { randomUUID } from 'node:crypto';
import type { OrderStatus } from '../../../packages/contracts/src';
import { eventually, serviceUrl, tokenFor } from '../../../packages/testkit/src';

/**
 * The three HTTP APIs the end-to-end tests drive, as the services document them
 * (docs/order-service.md, docs/inventory-service.md, docs/query-api.md).
 */

export interface HttpAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function http<T = unknown>(
  method: string,
  url: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: unknown = text;
  if (text !== '' && /json/.test(response.headers.get('content-type') ?? '')) body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: body as T, text };
}

/** Fails with the answer's body in the message, so a failed step explains itself. */
export function expectStatus(answer: HttpAnswer, status: number, what: string): void {
  if (answer.status !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${answer.status}: ${answer.text.slice(0, 500)}`);
  }
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}

// ---- inventory-service (admin) ---------------------------------------------------------

export interface CatalogueItem {
  itemId: string;
  name: string;
  unitPrice: string;
  currency: string;
  available: number;
  reserved: number;
}

let adminToken: Promise<string> | undefined;
export function admin(): Promise<string> {
  adminToken ??= tokenFor('e2e-admin', 'admin');
  return adminToken;
}

/** A fresh catalogue item (random id), so a test depends neither on the demo catalogue nor on other tests. */
export async function createItem(
  fields: { available: number; unitPrice?: string; currency?: string } = { available: 10 },
): Promise<CatalogueItem> {
  const itemId = uniqueId('e2e-item');
  const answer = await http<CatalogueItem>(
    'PUT',
    `${serviceUrl('inventory-service')}/api/inventory/items/${itemId}`,
    {
      token: await admin(),
      body: {
        name: `E2E item ${itemId}`,
        unitPrice: fields.unitPrice ?? '12.50',
        currency: fields.currency ?? 'EUR',
        available: fields.available,
      },
    },
  );
  expectStatus(answer, 201, `PUT item ${itemId}`);
  return answer.body;
}

export async function getItem(itemId: string): Promise<CatalogueItem> {
  const answer = await http<CatalogueItem>(
    'GET',
    `${serviceUrl('inventory-service')}/api/inventory/items/${itemId}`,
    {
      token: await admin(),
    },
  );
  expectStatus(answer, 200, `GET item ${itemId}`);
  return answer.body;
}

// ---- order-service ---------------------------------------------------------------------

export interface OrderLine {
  itemId: string;
  quantity: number;
  unitPrice: string;
}

export interface CreatedOrder {
  orderId: string;
  customerId: string;
  totalAmount: string;
  currency: string;
  status: string;
  createdAt: string;
}

export function orderBody(customerId: string, items: OrderLine[], currency = 'EUR') {
  return {
    customerId,
    currency,
    items,
    deliveryAddress: { line1: '1 Test Street', city: 'London', postcode: 'EC1A 1BB', lat: 51.52, lng: -0.1 },
    paymentMethod: { type: 'card', token: 'tok_visa' },
  };
}

export async function postOrder(
  customerId: string,
  body: unknown,
  opts: { idempotencyKey?: string; token?: string } = {},
): Promise<HttpAnswer<CreatedOrder>> {
  return http<CreatedOrder>('POST', `${serviceUrl('order-service')}/api/orders`, {
    token: opts.token ?? (await tokenFor(customerId)),
    body,
    ...(opts.idempotencyKey ? { headers: { 'idempotency-key': opts.idempotencyKey } } : {}),
  });
}

/** POST /api/orders that must answer 201. */
export async function placeOrder(customerId: string, items: OrderLine[]): Promise<CreatedOrder> {
  const answer = await postOrder(customerId, orderBody(customerId, items));
  expectStatus(answer, 201, 'POST /api/orders');
  return answer.body;
}

// ---- query-api -------------------------------------------------------------------------

export interface TimelineEntry {
  eventType: string;
  occurredAt: string;
  eventId: string;
  producer: string;
  causationId?: string;
}

export interface OrderView {
  orderId: string;
  customerId: string | null;
  totalAmount: string | null;
  currency: string | null;
  status: OrderStatus;
  createdAt: string | null;
  items: OrderLine[] | null;
  inventory: {
    status: 'RESERVED' | 'REJECTED';
    amount: string;
    currency: string;
    lines: OrderLine[];
    reasons: { itemId: string; reason: string; requestedQuantity?: number; availableQuantity?: number }[];
  } | null;
  compensation: { inventoryReleased: boolean; paymentRefunded: boolean };
  timeline: TimelineEntry[];
  [field: string]: unknown;
}

/** GET /api/orders/{id}: the view, or undefined while query-api has not seen the order (404). */
export async function readOrder(orderId: string, token?: string): Promise<OrderView | undefined> {
  const answer = await http<OrderView>('GET', `${serviceUrl('query-api')}/api/orders/${orderId}`, {
    token: token ?? (await admin()),
  });
  if (answer.status === 404) return undefined;
  expectStatus(answer, 200, `GET /api/orders/${orderId}`);
  return answer.body;
}

/** Statuses an order reaches only after inventory reserved its stock. */
export const RESERVED_OR_BEYOND: OrderStatus[] = [
  'INVENTORY_RESERVED',
  'PAYMENT_AUTHORIZED',
  'PAYMENT_FAILED',
  'DELIVERY_ASSIGNED',
  'DELIVERED',
  'DELIVERY_FAILED',
];

/** Polls query-api until inventory has decided the order (reserved or rejected), and returns the view. */
export async function waitForInventoryDecision(orderId: string, timeoutMs = 60_000): Promise<OrderView> {
  return eventually(
    async () => {
      const view = await readOrder(orderId);
      if (!view) throw new Error(`query-api does not know order ${orderId} yet`);
      if (!view.inventory)
        throw new Error(`order ${orderId} is ${view.status}, inventory has not decided yet`);
      return view;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** Runs `fn` over `inputs` with at most `limit` calls in flight. */
export async function mapConcurrently<I, O>(
  inputs: I[],
  limit: number,
  fn: (input: I) => Promise<O>,
): Promise<O[]> {
  const results: O[] = new Array(inputs.length);
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const index = next;
      next += 1;
      results[index] = await fn(inputs[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
  return results;
}
