import { randomUUID } from 'node:crypto';
import { generateSigningKey, signClaims } from '@dispatch/platform/token-issuer';
import { type orderBody, TEST_ISSUER, tokenFor } from './helpers';
import { bodyCases, orderBodyBuilders } from './refusal-cases-body';

// The requests POST /api/orders and POST /api/orders/{id}/cancel must refuse without writing anything,
// sent one by one by create-order-refusals.int.test.ts. The 400s for the order body are in
// refusal-cases-body.ts.

/** Who sends the request: the owner, another customer, nobody, or a token made for the case. */
export type Token = 'owner' | 'stranger' | 'none' | (() => Promise<string>);

export interface BadCase {
  name: string;
  /** Default POST /api/orders. */
  path?: () => string;
  token?: Token;
  headers?: Record<string, string>;
  /** JSON-encoded. */
  body?: () => unknown;
  /** Sent as is (no content type unless headers say so). */
  rawBody?: () => string | Uint8Array;
  status: number;
  code: string;
  /** For 400: exactly the fields named in `errors`. */
  errors?: string[];
}

export type OrderBody = ReturnType<typeof orderBody>;

/** What the cases refer to; create-order-refusals.int.test.ts sets it up. */
export interface RefusalContext {
  /** The customer the 'owner' token belongs to ('stranger' is another customer). */
  owner: string;
  /** A valid order body for the owner. */
  valid: () => OrderBody;
  /** An Idempotency-Key the owner has already used, for the body valid(). */
  setupKey: string;
  /** An Idempotency-Key of the owner whose first request is still in flight, and that request's body. */
  inFlightKey: string;
  inFlightBody: OrderBody;
  /** The owner's order created with setupKey (known once the setup has run). */
  existingOrderId: () => string;
}

const now = () => Math.floor(Date.now() / 1000);
const claimsOf = (sub: string) => ({ sub, roles: ['customer'], iss: 'dispatch', aud: 'dispatch-api' });
const cancelPath = (id: () => string) => () => `/api/orders/${id()}/cancel`;

/** Every case, in the order they are sent. */
export function refusalCases(ctx: RefusalContext): BadCase[] {
  return [...callerAndMediaCases(ctx), ...bodyCases(ctx), ...keyAndCancelCases(ctx)];
}

/** 401 (who is calling), 403 (for whom) and 413/415 (the body's size and type). */
function callerAndMediaCases({ owner, valid }: RefusalContext): BadCase[] {
  return [
    // 401: who is calling
    { name: 'no Authorization header', token: 'none', body: valid, status: 401, code: 'unauthorized' },
    {
      name: 'Basic instead of Bearer',
      token: 'none',
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
      body: valid,
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'a bearer value that is not a JWT',
      token: 'none',
      headers: { authorization: 'Bearer not-a-token' },
      body: valid,
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'a token signed with a key the service does not trust',
      token: () => tokenFor({ subject: owner, roles: ['customer'] }, { key: generateSigningKey() }),
      body: valid,
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'a token signed with an HS256 shared secret',
      token: () =>
        signClaims(
          { hs256Secret: 'a-shared-secret-a-shared-secret-0123456789' },
          { ...claimsOf(owner), iat: now(), exp: now() + 3600 },
          { kid: TEST_ISSUER.currentKey().kid },
        ),
      body: valid,
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'a token without exp',
      token: () => signClaims(TEST_ISSUER.currentKey(), { ...claimsOf(owner), iat: now() }),
      body: valid,
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'an expired token',
      token: () => tokenFor({ subject: owner, roles: ['customer'] }, { expiresIn: '-10 minutes' }),
      body: valid,
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'a token for another audience',
      token: () => tokenFor({ subject: owner, roles: ['customer'] }, { audience: 'somebody-else' }),
      body: valid,
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'a token from another issuer',
      token: () => tokenFor({ subject: owner, roles: ['customer'] }, { issuer: 'evil' }),
      body: valid,
      status: 401,
      code: 'unauthorized',
    },
    // 403: a customer orders for someone else
    { name: "another customer's customerId", token: 'stranger', body: valid, status: 403, code: 'forbidden' },
    // 413 / 415: the body itself
    {
      name: 'a body over 64 KiB',
      body: () => ({ ...valid(), padding: 'x'.repeat(66 * 1024) }),
      status: 413,
      code: 'payload-too-large',
    },
    {
      name: 'text/plain',
      headers: { 'content-type': 'text/plain' },
      rawBody: () => JSON.stringify(valid()),
      status: 415,
      code: 'unsupported-media-type',
    },
    {
      name: 'no content type',
      rawBody: () => new TextEncoder().encode(JSON.stringify(valid())),
      status: 415,
      code: 'unsupported-media-type',
    },
    {
      name: 'a form post',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: () => 'customerId=x&currency=EUR',
      status: 415,
      code: 'unsupported-media-type',
    },
    {
      name: 'JSON in an unsupported charset',
      headers: { 'content-type': 'application/json; charset=latin1' },
      rawBody: () => JSON.stringify(valid()),
      status: 415,
      code: 'unsupported-media-type',
    },
  ];
}

/** The Idempotency-Key header, and the cancel endpoint. */
function keyAndCancelCases(ctx: RefusalContext): BadCase[] {
  const { valid, setupKey, inFlightKey, inFlightBody, existingOrderId } = ctx;
  const { withLine } = orderBodyBuilders(valid);
  return [
    // Idempotency-Key
    {
      name: 'an empty Idempotency-Key',
      headers: { 'idempotency-key': '' },
      body: valid,
      status: 400,
      code: 'validation-failed',
      errors: ['idempotency-key'],
    },
    {
      name: 'a 256-character Idempotency-Key',
      headers: { 'idempotency-key': 'k'.repeat(256) },
      body: valid,
      status: 400,
      code: 'validation-failed',
      errors: ['idempotency-key'],
    },
    {
      name: 'a non-ASCII Idempotency-Key',
      headers: { 'idempotency-key': 'cl\u00e9' },
      body: valid,
      status: 400,
      code: 'validation-failed',
      errors: ['idempotency-key'],
    },
    {
      name: 'a valid Idempotency-Key with an invalid body (no key is recorded)',
      headers: { 'idempotency-key': `fresh-${randomUUID()}` },
      body: withLine({ quantity: 0 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.quantity'],
    },
    {
      name: 'a used Idempotency-Key with a different body',
      headers: { 'idempotency-key': setupKey },
      body: () => ({ ...valid(), currency: 'USD' }),
      status: 422,
      code: 'idempotency-key-reused',
    },
    {
      name: 'an Idempotency-Key whose first request is still in flight',
      headers: { 'idempotency-key': inFlightKey },
      body: () => inFlightBody,
      status: 409,
      code: 'idempotency-key-in-flight',
    },
    // POST /api/orders/{id}/cancel
    {
      name: 'cancel: orderId not a UUID',
      path: () => '/api/orders/not-a-uuid/cancel',
      status: 400,
      code: 'validation-failed',
      errors: ['orderId'],
    },
    { name: 'cancel: unknown order', path: cancelPath(randomUUID), status: 404, code: 'not-found' },
    {
      name: "cancel: another customer's order",
      path: cancelPath(existingOrderId),
      token: 'stranger',
      status: 404,
      code: 'not-found',
    },
    {
      name: 'cancel: no token',
      path: cancelPath(existingOrderId),
      token: 'none',
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'cancel: text/plain body',
      path: cancelPath(existingOrderId),
      headers: { 'content-type': 'text/plain' },
      rawBody: () => 'please',
      status: 415,
      code: 'unsupported-media-type',
    },
    {
      name: 'cancel: a 501-character reason',
      path: cancelPath(existingOrderId),
      body: () => ({ reason: 'r'.repeat(501) }),
      status: 400,
      code: 'validation-failed',
      errors: ['reason'],
    },
    {
      name: 'cancel: a numeric reason',
      path: cancelPath(existingOrderId),
      body: () => ({ reason: 5 }),
      status: 400,
      code: 'validation-failed',
      errors: ['reason'],
    },
  ];
}
