import { randomUUID } from 'node:crypto';
import { orderBody, type ServiceName } from '@dispatch/testkit';

/**
 * The routes of the hostile-input corpus (hostile-http.test.ts), each with a valid request, and
 * caseFor, which changes one thing of it. Every id, name and customer a case uses carries RUN.
 */

export const RUN = `hostile-${randomUUID().slice(0, 8)}`;

export type Auth = 'customer' | 'admin';

export interface Case {
  name: string;
  service: ServiceName;
  method: string;
  /** Sent byte for byte as the request target. */
  path: string;
  auth: Auth;
  headers?: Record<string, string>;
  body?: Buffer;
  status: number;
}

/** A request Node's HTTP parser must refuse, written to the socket as is. */
export interface RawCase {
  name: string;
  service: ServiceName;
  bytes: string;
  status: number;
}

export const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

let counter = 0;
/** A fresh suffix per case: own subject (no rate limit shared between cases), own ids. */
export const next = () => {
  counter += 1;
  return counter;
};

// ---- the routes, with a valid body each, so a case changes one thing only ------------------------

export interface Route {
  service: ServiceName;
  method: string;
  /** `{id}` is the path parameter. */
  template: string;
  auth: Auth;
  /** A valid id for the parameter (hostile cases replace it). */
  id?: (n: number) => string;
  body?: (n: number) => unknown;
}

/** The customer a case's token names and its order's customerId. */
export const customerOf = (n: number) => `${RUN}-c${n}`;

export const TARGET = '{target}';

export const ROUTES: Route[] = [
  {
    service: 'order-service',
    method: 'POST',
    template: '/api/orders',
    auth: 'customer',
    body: (n) => orderBody(customerOf(n), [{ itemId: `${RUN}-missing`, quantity: 1, unitPrice: '1.00' }]),
  },
  {
    service: 'order-service',
    method: 'POST',
    template: '/api/orders/{id}/cancel',
    auth: 'admin',
    // Cases are built when the file loads, before the target exists: send() fills it in.
    id: () => TARGET,
    body: () => ({ reason: `${RUN} changed my mind` }),
  },
  {
    service: 'payment-service',
    method: 'GET',
    template: '/api/payments/{id}',
    auth: 'admin',
    id: (n) => `${RUN}-o${n}`,
  },
  {
    service: 'inventory-service',
    method: 'PUT',
    template: '/api/inventory/items/{id}',
    auth: 'admin',
    id: (n) => `${RUN}-i${n}`,
    body: () => ({ name: `${RUN} item`, unitPrice: '1.00', currency: 'EUR', available: 1 }),
  },
  {
    service: 'inventory-service',
    method: 'GET',
    template: '/api/inventory/items/{id}',
    auth: 'admin',
    id: (n) => `${RUN}-i${n}`,
  },
  { service: 'inventory-service', method: 'GET', template: '/api/inventory/items', auth: 'admin' },
  {
    service: 'delivery-service',
    method: 'PUT',
    template: '/api/drivers/{id}',
    auth: 'admin',
    id: (n) => `${RUN}-d${n}`,
    body: () => ({ name: `${RUN} driver`, status: 'OFF_DUTY' }),
  },
  {
    service: 'delivery-service',
    method: 'GET',
    template: '/api/drivers/{id}',
    auth: 'admin',
    id: (n) => `${RUN}-d${n}`,
  },
  { service: 'delivery-service', method: 'GET', template: '/api/drivers', auth: 'admin' },
  {
    service: 'delivery-service',
    method: 'GET',
    template: '/api/deliveries/{id}',
    auth: 'admin',
    id: (n) => `${RUN}-o${n}`,
  },
  {
    service: 'delivery-service',
    method: 'POST',
    template: '/api/drivers/{id}/position',
    auth: 'admin',
    id: (n) => `${RUN}-d${n}`,
    body: () => ({ lat: 51.5, lng: -0.1 }),
  },
  {
    service: 'delivery-service',
    method: 'POST',
    template: '/api/deliveries/{id}/complete',
    auth: 'admin',
    id: (n) => `${RUN}-o${n}`,
    body: () => ({}),
  },
  { service: 'query-api', method: 'GET', template: '/api/orders', auth: 'customer' },
  {
    service: 'query-api',
    method: 'GET',
    template: '/api/orders/{id}',
    auth: 'customer',
    id: (n) => `${RUN}-o${n}`,
  },
  {
    service: 'query-api',
    method: 'GET',
    template: '/api/orders/{id}/events',
    auth: 'customer',
    id: (n) => `${RUN}-o${n}`,
  },
];

export function caseFor(
  route: Route,
  name: string,
  change: { id?: string; query?: string; headers?: Record<string, string>; body?: Buffer },
  status: number,
): Case {
  const n = next();
  const id = change.id ?? route.id?.(n) ?? '';
  const path = route.template.replace('{id}', id) + (change.query ?? '');
  const valid = route.body?.(n);
  const body = change.body ?? (valid === undefined ? undefined : json(valid));
  return {
    name: `${route.service} ${route.method} ${route.template}: ${name}`,
    service: route.service,
    method: route.method,
    path,
    auth: route.auth,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...change.headers,
      'x-case': String(n),
    },
    ...(body === undefined ? {} : { body }),
    status,
  };
}
