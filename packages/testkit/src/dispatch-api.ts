import { randomUUID } from 'node:crypto';
import type { OrderStatus } from '@dispatch/contracts';
import { serviceUrl } from './services';
import { tokenFor } from './tokens';

/**
 * A small client of Dispatch's HTTP APIs as the services document them (docs/order-service.md,
 * docs/inventory-service.md, docs/delivery-service.md, docs/query-api.md), for the end-to-end tests
 * and the load benchmark: orders, catalogue items, drivers, deliveries, views and /metrics.
 */

export interface HttpAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * One request: `body` JSON-encoded (content-type application/json unless `headers` name one), or
 * `rawBody` sent as is (its content type only what `headers` say); the answer's body parsed when it
 * is JSON, else its text.
 */
export async function http<T = unknown>(
  method: string,
  url: string,
  opts: {
    token?: string;
    body?: unknown;
    rawBody?: string | Uint8Array;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let sent: string | Uint8Array | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    sent = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, {
    method,
    headers,
    ...(sent === undefined ? {} : { body: sent }),
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
  fields: { available: number; unitPrice?: string; currency?: string; idPrefix?: string } = { available: 10 },
): Promise<CatalogueItem> {
  const itemId = uniqueId(fields.idPrefix ?? 'e2e-item');
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

/** The tests' usual address: 2.4 km from the depot, delivered by the local stack's fleet ~8 s after assignment. */
export const NEAR_DEPOT_ADDRESS = {
  line1: '1 Test Street',
  city: 'London',
  postcode: 'EC1A 1BB',
  lat: 51.52,
  lng: -0.1,
};

/**
 * An address ~530 km from the depot (Edinburgh). The local stack's simulated fleet (120× real time)
 * needs over 10 minutes to get there, so an order sent here stays DELIVERY_ASSIGNED for as long as a
 * test needs it to, and it is the test that completes it (POST …/complete), as before the fleet.
 */
export const FAR_FROM_DEPOT_ADDRESS = {
  line1: '1 Far Street',
  city: 'Edinburgh',
  postcode: 'EH1 1AA',
  lat: 55.9533,
  lng: -3.1883,
};

export function orderBody(
  customerId: string,
  items: OrderLine[],
  currency = 'EUR',
  deliveryAddress: typeof NEAR_DEPOT_ADDRESS = NEAR_DEPOT_ADDRESS,
) {
  return {
    customerId,
    currency,
    items,
    // A copy: callers (the hostile-input corpus) mutate the body they get.
    deliveryAddress: { ...deliveryAddress },
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

// ---- delivery-service (admin) -----------------------------------------------------------

export interface Driver {
  driverId: string;
  name: string;
  status: 'AVAILABLE' | 'OFF_DUTY';
  activeDeliveryId: string | null;
  assignable: boolean;
}

export interface Delivery {
  deliveryId: string;
  orderId: string;
  status: 'AWAITING_ORDER' | 'PENDING' | 'ASSIGNED' | 'EN_ROUTE' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  driverId: string | null;
  driverName: string | null;
  estimatedDeliveryTime: string | null;
  assignDeadline: string | null;
  failureReason: string | null;
  createdAt: string;
}

const deliveryApi = () => `${serviceUrl('delivery-service')}/api`;

/** PUT /api/drivers/{driverId}: create or replace. */
export async function putDriver(driverId: string, name: string, status: Driver['status']): Promise<Driver> {
  const answer = await http<Driver>('PUT', `${deliveryApi()}/drivers/${driverId}`, {
    token: await admin(),
    body: { name, status },
  });
  if (answer.status !== 200 && answer.status !== 201) expectStatus(answer, 200, `PUT driver ${driverId}`);
  return answer.body;
}

/**
 * Makes sure `count` drivers are free for the orders a test is about to place. Paid orders of earlier
 * tests may be waiting for a driver (delivery_pending), and the scheduler hands the next free driver
 * to the oldest of them, so those are covered too. Returns the drivers it had to create (random ids):
 * take them off duty when the test is done.
 */
export async function ensureFreeDrivers(count: number, idPrefix = 'e2e-driver'): Promise<Driver[]> {
  const text = await scrape(serviceUrl('delivery-service'));
  const free = metricSum(text, 'drivers_available');
  const waiting = metricSum(text, 'delivery_pending', { state: 'PENDING' });
  const missing = Math.max(0, count + waiting - free);
  const created = await mapConcurrently(
    Array.from({ length: missing }, () => uniqueId(idPrefix)),
    10,
    (driverId) => putDriver(driverId, `Driver ${driverId}`, 'AVAILABLE'),
  );
  return created;
}

/** Every driver, all pages. */
export async function listDrivers(): Promise<Driver[]> {
  const drivers: Driver[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const answer = await http<{ items: Driver[]; nextCursor: string | null }>(
      'GET',
      `${deliveryApi()}/drivers?limit=100${query}`,
      { token: await admin() },
    );
    expectStatus(answer, 200, 'GET /api/drivers');
    drivers.push(...answer.body.items);
    cursor = answer.body.nextCursor;
  } while (cursor !== null);
  return drivers;
}

export async function getDriver(driverId: string): Promise<Driver> {
  const answer = await http<Driver>('GET', `${deliveryApi()}/drivers/${driverId}`, { token: await admin() });
  expectStatus(answer, 200, `GET driver ${driverId}`);
  return answer.body;
}

/** GET /api/deliveries/{orderId}, or undefined while the order has no delivery (404). */
export async function getDelivery(orderId: string): Promise<Delivery | undefined> {
  const answer = await http<Delivery>('GET', `${deliveryApi()}/deliveries/${orderId}`, {
    token: await admin(),
  });
  if (answer.status === 404) return undefined;
  expectStatus(answer, 200, `GET delivery of ${orderId}`);
  return answer.body;
}

/** POST /api/deliveries/{orderId}/complete, which must answer 200. */
export async function completeDelivery(orderId: string): Promise<Delivery> {
  const answer = await http<Delivery>('POST', `${deliveryApi()}/deliveries/${orderId}/complete`, {
    token: await admin(),
  });
  expectStatus(answer, 200, `POST complete delivery of ${orderId}`);
  return answer.body;
}

// ---- payment-service (admin) -----------------------------------------------------------

export interface Payment {
  paymentId: string;
  orderId: string;
  amount: string;
  currency: string;
  status: 'PENDING' | 'AUTHORIZED' | 'FAILED';
  failureReason: string | null;
  gatewayReference: string | null;
  refund: { status: 'PENDING' | 'REFUNDED'; refundId: string | null; reason: string | null } | null;
}

/** Admin GET /api/payments/{orderId}, or undefined while the order has no payment (404). */
export async function getPayment(orderId: string): Promise<Payment | undefined> {
  const answer = await http<Payment>('GET', `${serviceUrl('payment-service')}/api/payments/${orderId}`, {
    token: await admin(),
  });
  if (answer.status === 404) return undefined;
  expectStatus(answer, 200, `GET payment of ${orderId}`);
  return answer.body;
}

// ---- Prometheus -------------------------------------------------------------------------

/** GET <baseUrl>/metrics as text. */
export async function scrape(baseUrl: string): Promise<string> {
  const answer = await http<string>('GET', `${baseUrl}/metrics`);
  expectStatus(answer, 200, `GET ${baseUrl}/metrics`);
  return answer.text;
}

/** Sum of the samples of `name` whose labels include every pair of `labels` (0 when none). */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = new Map<string, string>();
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      present.set(pair[1]!, pair[2]!);
    }
    if (Object.entries(labels).every(([key, value]) => present.get(key) === value)) total += Number(match[3]);
  }
  return total;
}
