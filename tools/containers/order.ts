/** The order the containers test places through the published ports, and its wait for DELIVERED. */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { isTerminal, ORDER_STATUSES, type OrderStatus } from '@dispatch/contracts';
import { authEnv } from '@dispatch/platform';
import { signToken } from '@dispatch/platform/token-issuer';
import { ensureTokenKeys, readTokenKeys } from '../stack/secrets';
import { ContainersError, pollUntil, WORK_DIR } from './host';

/** The run's own token issuer (a new Ed25519 key every run), under .stack/containers/issuer/. */
const ISSUER_DIR = path.join(WORK_DIR, 'issuer');

/** A new signing key for this run; returns the path of its public JWKS (what the services mount). */
export function newIssuer(): string {
  rmSync(ISSUER_DIR, { recursive: true, force: true });
  return ensureTokenKeys(ISSUER_DIR).files.jwksFile;
}

export async function token(subject: string, role: 'customer' | 'admin'): Promise<string> {
  const keys = readTokenKeys(ISSUER_DIR);
  return signToken(
    keys[keys.length - 1]!,
    {
      issuer: authEnv.AUTH_JWT_ISSUER.parse(undefined),
      audience: authEnv.AUTH_JWT_AUDIENCE.parse(undefined),
    },
    { subject, roles: [role] },
    '1h',
  );
}

/** A GET's status and body text, or the connection error's code. */
export async function answers(
  url: string,
  bearer?: string,
): Promise<{ status: number; body: string } | string> {
  try {
    const response = await fetch(url, {
      headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
      signal: AbortSignal.timeout(5_000),
    });
    return { status: response.status, body: await response.text() };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    return (cause as NodeJS.ErrnoException).code ?? String(cause);
  }
}

export function describe(answer: { status: number; body: string } | string): string {
  return typeof answer === 'string' ? answer : `${answer.status} ${answer.body.slice(0, 200)}`;
}

/** The README's quick-start order (catalogue item and price, a card the simulated gateway approves). */
const ORDER = {
  customerId: 'customer-1',
  currency: 'EUR',
  items: [{ itemId: 'sku-espresso-beans-1kg', quantity: 2, unitPrice: '12.50' }],
  deliveryAddress: {
    line1: '1 Main St',
    city: 'London',
    postcode: 'E1 6AN',
    country: 'GB',
    lat: 51.52,
    lng: -0.07,
  },
  paymentMethod: { type: 'card', token: 'tok_visa' },
};

export async function placeOrder(orderPort: number, customer: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${orderPort}/api/orders`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${customer}`,
      'content-type': 'application/json',
      'idempotency-key': `containers-${randomUUID()}`,
    },
    body: JSON.stringify(ORDER),
    signal: AbortSignal.timeout(15_000),
  });
  const body = await response.text();
  if (response.status !== 201) {
    throw new ContainersError(
      `POST /api/orders on :${orderPort} answered ${response.status}: ${body.slice(0, 300)}`,
    );
  }
  const orderId = (JSON.parse(body) as { orderId?: string }).orderId;
  if (!orderId)
    throw new ContainersError(`POST /api/orders answered 201 without an orderId: ${body.slice(0, 300)}`);
  return orderId;
}

/**
 * Reads the order from query-api (the Cassandra read model) until it says DELIVERED; a 404 means
 * the read model has not seen it yet. Returns the statuses seen, in order.
 */
export async function waitDelivered(
  queryPort: number,
  orderId: string,
  customer: string,
  capMs: number,
): Promise<string[]> {
  const seen: string[] = [];
  await pollUntil(
    `order ${orderId} to read DELIVERED on query-api :${queryPort}`,
    capMs,
    async () => {
      const answer = await answers(`http://127.0.0.1:${queryPort}/api/orders/${orderId}`, customer);
      if (typeof answer === 'string' || answer.status !== 200) return { done: false, last: describe(answer) };
      const status = (JSON.parse(answer.body) as { status?: string }).status ?? '(none)';
      if (seen.at(-1) !== status) seen.push(status);
      if (status === 'DELIVERED') return { done: true, value: undefined };
      if ((ORDER_STATUSES as readonly string[]).includes(status) && isTerminal(status as OrderStatus)) {
        throw new ContainersError(
          `order ${orderId} ended ${status}, not DELIVERED: ${answer.body.slice(0, 300)}`,
        );
      }
      return { done: false, last: status };
    },
    500,
  );
  return seen;
}
