import { randomUUID } from 'node:crypto';
import { parseEnvelope, Topics } from '@dispatch/contracts';
import { createKafka, type KafkaClient, readDlq } from '@dispatch/platform';
import { generateSigningKey, signClaims } from '@dispatch/platform/token-issuer';
import { eventually, stackAddresses } from '@dispatch/testkit';
import { requestHash } from '../src/domain/idempotency';
import {
  adminToken,
  customerId,
  customerToken,
  type HttpReply,
  orderBody,
  request,
  startTestOrderService,
  TEST_ISSUER,
  type TestOrderService,
  tableState,
  testLogger,
  tokenFor,
} from './helpers';

const PROBLEM = 'https://dispatch.dev/problems/';
const now = () => Math.floor(Date.now() / 1000);
const claimsOf = (sub: string) => ({ sub, roles: ['customer'], iss: 'dispatch', aud: 'dispatch-api' });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let svc: TestOrderService;
let kafka: KafkaClient;

beforeAll(async () => {
  svc = await startTestOrderService();
  kafka = createKafka({
    ...stackAddresses().kafka,
    clientId: `order-service-it-${randomUUID()}`,
    logger: testLogger,
  });
});

afterAll(async () => {
  await svc?.stop();
});

function postOrder(body: unknown, token: string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return request(svc.base, '/api/orders', { body, token, headers });
}

describe('POST /api/orders refuses bad input and writes nothing', () => {
  const owner = customerId();
  const stranger = customerId();
  const valid = () => orderBody(owner);
  const setupKey = `setup-${randomUUID()}`;
  const inFlightKey = `in-flight-${randomUUID()}`;
  const inFlightBody = { ...valid(), currency: 'GBP' };
  let ownerToken: string;
  let strangerToken: string;
  let existingOrderId: string;

  beforeAll(async () => {
    ownerToken = await customerToken(owner);
    strangerToken = await customerToken(stranger);
    // An order (with a key) for the 422 and cancel cases, and a key still in flight for the 409 case.
    const created = await postOrder(valid(), ownerToken, { 'idempotency-key': setupKey });
    expect(created.status).toBe(201);
    existingOrderId = String(created.json.orderId);
    await svc.db.query(
      `INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, state, claim_token, locked_until)
       VALUES ($1, $2, $3, 'in_flight', $4, now() + interval '1 hour')`,
      [owner, inFlightKey, requestHash(inFlightBody), randomUUID()],
    );
  });

  type Token = 'owner' | 'stranger' | 'none' | (() => Promise<string>);
  interface BadCase {
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

  const withItems = (items: unknown) => () => ({ ...valid(), items });
  const line = (patch: Record<string, unknown>) => ({
    itemId: 'sku-1',
    quantity: 1,
    unitPrice: '1.00',
    ...patch,
  });
  const withLine = (patch: Record<string, unknown>) => withItems([line(patch)]);
  const withAddress = (patch: Record<string, unknown>) => () => ({
    ...valid(),
    deliveryAddress: { ...valid().deliveryAddress, ...patch },
  });
  const without = (field: string) => () => {
    const body: Record<string, unknown> = { ...valid() };
    delete body[field];
    return body;
  };
  const cancelPath = (id: () => string) => () => `/api/orders/${id()}/cancel`;

  const cases: BadCase[] = [
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
    // 400: not an order at all
    {
      name: 'malformed JSON',
      headers: { 'content-type': 'application/json' },
      rawBody: () => '{"customerId": ',
      status: 400,
      code: 'validation-failed',
      errors: ['(body)'],
    },
    {
      name: 'JSON null',
      headers: { 'content-type': 'application/json' },
      rawBody: () => 'null',
      status: 400,
      code: 'validation-failed',
      errors: ['(body)'],
    },
    {
      name: 'a JSON array',
      body: () => [valid()],
      status: 400,
      code: 'validation-failed',
      errors: ['(root)'],
    },
    {
      name: 'an empty object',
      body: () => ({}),
      status: 400,
      code: 'validation-failed',
      errors: ['currency', 'customerId', 'deliveryAddress', 'items', 'paymentMethod'],
    },
    // 400: customerId
    {
      name: 'missing customerId',
      body: without('customerId'),
      status: 400,
      code: 'validation-failed',
      errors: ['customerId'],
    },
    {
      name: 'numeric customerId',
      body: () => ({ ...valid(), customerId: 42 }),
      status: 400,
      code: 'validation-failed',
      errors: ['customerId'],
    },
    {
      name: 'empty customerId',
      body: () => ({ ...valid(), customerId: '' }),
      status: 400,
      code: 'validation-failed',
      errors: ['customerId'],
    },
    {
      name: '129-character customerId',
      body: () => ({ ...valid(), customerId: 'c'.repeat(129) }),
      status: 400,
      code: 'validation-failed',
      errors: ['customerId'],
    },
    // 400: currency
    {
      name: 'missing currency',
      body: without('currency'),
      status: 400,
      code: 'validation-failed',
      errors: ['currency'],
    },
    {
      name: 'unknown currency',
      body: () => ({ ...valid(), currency: 'XYZ' }),
      status: 400,
      code: 'validation-failed',
      errors: ['currency'],
    },
    {
      name: 'lower-case currency',
      body: () => ({ ...valid(), currency: 'eur' }),
      status: 400,
      code: 'validation-failed',
      errors: ['currency'],
    },
    {
      name: 'a currency without 2 minor digits (JPY)',
      body: () => ({ ...valid(), currency: 'JPY' }),
      status: 400,
      code: 'validation-failed',
      errors: ['currency'],
    },
    // 400: lines
    {
      name: 'missing items',
      body: without('items'),
      status: 400,
      code: 'validation-failed',
      errors: ['items'],
    },
    { name: 'no lines', body: withItems([]), status: 400, code: 'validation-failed', errors: ['items'] },
    {
      name: '51 lines',
      body: withItems(Array.from({ length: 51 }, (_, i) => line({ itemId: `sku-${i}` }))),
      status: 400,
      code: 'validation-failed',
      errors: ['items'],
    },
    {
      name: 'items as an object',
      body: withItems({ 0: line({}) }),
      status: 400,
      code: 'validation-failed',
      errors: ['items'],
    },
    {
      name: 'quantity 0',
      body: withLine({ quantity: 0 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.quantity'],
    },
    {
      name: 'quantity 1001',
      body: withLine({ quantity: 1001 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.quantity'],
    },
    {
      name: 'fractional quantity',
      body: withLine({ quantity: 1.5 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.quantity'],
    },
    {
      name: 'quantity as a string',
      body: withLine({ quantity: '2' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.quantity'],
    },
    {
      name: 'empty itemId',
      body: withLine({ itemId: '' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.itemId'],
    },
    {
      name: '65-character itemId',
      body: withLine({ itemId: 's'.repeat(65) }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.itemId'],
    },
    {
      name: 'itemId with markup',
      body: withLine({ itemId: '<script>' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.itemId'],
    },
    {
      name: 'itemId with a space',
      body: withLine({ itemId: 'sku 1' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.itemId'],
    },
    {
      name: 'numeric itemId',
      body: withLine({ itemId: 7 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.itemId'],
    },
    {
      // unitPrice may be left out, but a present one must be money.
      name: 'unitPrice null',
      body: withLine({ unitPrice: null }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.unitPrice'],
    },
    {
      // A JSON number is accepted (the seed's shape), but only with at most two decimals.
      name: 'unitPrice as a number with three decimals',
      body: withLine({ unitPrice: 12.345 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.unitPrice'],
    },
    {
      name: 'unitPrice as a negative number',
      body: withLine({ unitPrice: -12.5 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.unitPrice'],
    },
    {
      name: 'unitPrice with one decimal',
      body: withLine({ unitPrice: '12.5' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.unitPrice'],
    },
    {
      name: 'negative unitPrice',
      body: withLine({ unitPrice: '-1.00' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.unitPrice'],
    },
    {
      name: 'the same itemId on two lines',
      body: withItems([line({}), line({ quantity: 3 })]),
      status: 400,
      code: 'validation-failed',
      errors: ['items.1.itemId'],
    },
    {
      name: 'a total beyond the money range',
      body: withLine({ quantity: 1000, unitPrice: '999999999999.99' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items'],
    },
    // 400: delivery address and payment method
    {
      name: 'missing deliveryAddress',
      body: without('deliveryAddress'),
      status: 400,
      code: 'validation-failed',
      errors: ['deliveryAddress'],
    },
    {
      name: 'latitude 91',
      body: withAddress({ lat: 91 }),
      status: 400,
      code: 'validation-failed',
      errors: ['deliveryAddress.lat'],
    },
    {
      name: 'longitude -181',
      body: withAddress({ lng: -181 }),
      status: 400,
      code: 'validation-failed',
      errors: ['deliveryAddress.lng'],
    },
    {
      name: 'empty address line',
      body: withAddress({ line1: '' }),
      status: 400,
      code: 'validation-failed',
      errors: ['deliveryAddress.line1'],
    },
    {
      name: 'missing postcode',
      body: withAddress({ postcode: undefined }),
      status: 400,
      code: 'validation-failed',
      errors: ['deliveryAddress.postcode'],
    },
    {
      name: 'lower-case country code',
      body: withAddress({ country: 'gb' }),
      status: 400,
      code: 'validation-failed',
      errors: ['deliveryAddress.country'],
    },
    {
      name: 'missing paymentMethod',
      body: without('paymentMethod'),
      status: 400,
      code: 'validation-failed',
      errors: ['paymentMethod'],
    },
    {
      name: 'cash payment',
      body: () => ({ ...valid(), paymentMethod: { type: 'cash' } }),
      status: 400,
      code: 'validation-failed',
      errors: ['paymentMethod.type'],
    },
    {
      name: 'a card number instead of a token',
      body: () => ({ ...valid(), paymentMethod: { type: 'card', token: '4242424242424242' } }),
      status: 400,
      code: 'validation-failed',
      errors: ['paymentMethod.token'],
    },
    {
      name: 'a too-short card token',
      body: () => ({ ...valid(), paymentMethod: { type: 'card', token: 'tok' } }),
      status: 400,
      code: 'validation-failed',
      errors: ['paymentMethod.token'],
    },
    {
      name: 'many bad fields at once',
      body: () => ({
        customerId: owner,
        currency: 'XYZ',
        items: [{ itemId: '', quantity: 0, unitPrice: 'free' }],
        deliveryAddress: { ...valid().deliveryAddress, lat: 'north' },
        paymentMethod: { type: 'card', token: 'tok' },
      }),
      status: 400,
      code: 'validation-failed',
      errors: [
        'currency',
        'deliveryAddress.lat',
        'items.0.itemId',
        'items.0.quantity',
        'items.0.unitPrice',
        'paymentMethod.token',
      ],
    },
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
      path: cancelPath(() => existingOrderId),
      token: 'stranger',
      status: 404,
      code: 'not-found',
    },
    {
      name: 'cancel: no token',
      path: cancelPath(() => existingOrderId),
      token: 'none',
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'cancel: text/plain body',
      path: cancelPath(() => existingOrderId),
      headers: { 'content-type': 'text/plain' },
      rawBody: () => 'please',
      status: 415,
      code: 'unsupported-media-type',
    },
    {
      name: 'cancel: a 501-character reason',
      path: cancelPath(() => existingOrderId),
      body: () => ({ reason: 'r'.repeat(501) }),
      status: 400,
      code: 'validation-failed',
      errors: ['reason'],
    },
    {
      name: 'cancel: a numeric reason',
      path: cancelPath(() => existingOrderId),
      body: () => ({ reason: 5 }),
      status: 400,
      code: 'validation-failed',
      errors: ['reason'],
    },
  ];

  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const before = await tableState(svc.db);
    const tokenChoice = c.token ?? 'owner';
    const token =
      tokenChoice === 'owner'
        ? ownerToken
        : tokenChoice === 'stranger'
          ? strangerToken
          : tokenChoice === 'none'
            ? undefined
            : await tokenChoice();
    const path = c.path?.() ?? '/api/orders';
    const reply = await request(svc.base, path, {
      ...(token ? { token } : {}),
      ...(c.headers ? { headers: c.headers } : {}),
      ...(c.body ? { body: c.body() } : {}),
      ...(c.rawBody ? { rawBody: c.rawBody() } : {}),
    });

    expect({ status: reply.status, body: reply.json }).toMatchObject({
      status: c.status,
      body: { type: `${PROBLEM}${c.code}`, status: c.status, instance: path },
    });
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(typeof reply.json.title).toBe('string');
    expect(typeof reply.json.detail).toBe('string');
    if (c.errors) {
      const errors = reply.json.errors as { path: string; message: string }[];
      expect(errors.map((e) => e.path).sort()).toEqual([...c.errors].sort());
      for (const error of errors) expect(error.message.length).toBeGreaterThan(0);
    }
    if (c.status === 409) expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await tableState(svc.db)).toEqual(before);
  });
});

describe('POST /api/orders creates an order', () => {
  it('answers 201 with Location and the seed fields, writes the order, its lines and order.created, which reaches Kafka', async () => {
    const customer = customerId();
    const body = orderBody(customer);
    const reply = await postOrder(body, await customerToken(customer));

    expect(reply.status).toBe(201);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    const orderId = String(reply.json.orderId);
    expect(orderId).toMatch(UUID);
    expect(reply.headers.get('location')).toBe(`/api/orders/${orderId}`);
    expect(reply.json).toEqual({
      orderId,
      customerId: customer,
      totalAmount: '64.99',
      currency: 'EUR',
      status: 'CREATED',
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });

    // The status is not asserted: other services may already be reacting to order.created.
    const order = await svc.db.query(
      'SELECT customer_id, currency, total_amount::text, created_at, created_event_id FROM orders WHERE order_id = $1',
      [orderId],
    );
    expect(order.rows).toEqual([
      {
        customer_id: customer,
        currency: 'EUR',
        total_amount: '64.99',
        created_at: new Date(String(reply.json.createdAt)),
        created_event_id: expect.any(String),
      },
    ]);
    const lines = await svc.db.query(
      'SELECT line_no, item_id, quantity, unit_price::text FROM order_lines WHERE order_id = $1 ORDER BY line_no',
      [orderId],
    );
    expect(lines.rows).toEqual([
      { line_no: 1, item_id: 'it-order-service-beans', quantity: 2, unit_price: '12.50' },
      { line_no: 2, item_id: 'it-order-service-frother', quantity: 1, unit_price: '39.99' },
    ]);
    const outbox = await svc.db.query(
      'SELECT topic, message_key, event_id, event_type FROM outbox WHERE message_key = $1',
      [orderId],
    );
    expect(outbox.rows).toEqual([
      {
        topic: Topics.order,
        message_key: orderId,
        event_id: order.rows[0].created_event_id,
        event_type: 'order.created',
      },
    ]);

    const published = await eventually(
      async () => {
        const records = await readDlq(kafka, Topics.order);
        const mine = records.filter((r) => r.key?.toString() === orderId);
        expect(mine).toHaveLength(1);
        return mine[0]!;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const parsed = parseEnvelope(published.value ?? '');
    if (!parsed.ok) throw parsed.error;
    expect(parsed.event).toMatchObject({
      eventId: order.rows[0].created_event_id,
      eventType: 'order.created',
      orderId,
      correlationId: orderId,
      producer: 'order-service',
      occurredAt: reply.json.createdAt,
      payload: { ...body, orderId, totalAmount: '64.99' },
    });
    expect(parsed.event.causationId).toBeUndefined();
  });

  it('accepts a line without unitPrice: 201, a NULL unit_price, the total over the priced lines, and order.created without that unitPrice', async () => {
    const customer = customerId();
    const body = {
      ...orderBody(customer),
      items: [
        { itemId: 'it-order-service-beans', quantity: 2, unitPrice: '12.50' },
        { itemId: 'it-order-service-frother', quantity: 1 },
      ],
    };
    const reply = await postOrder(body, await customerToken(customer));

    expect(reply.status).toBe(201);
    const orderId = String(reply.json.orderId);
    expect(reply.headers.get('location')).toBe(`/api/orders/${orderId}`);
    expect(reply.json).toMatchObject({
      orderId,
      customerId: customer,
      totalAmount: '25.00',
      status: 'CREATED',
    });

    const lines = await svc.db.query(
      'SELECT line_no, item_id, quantity, unit_price::text FROM order_lines WHERE order_id = $1 ORDER BY line_no',
      [orderId],
    );
    expect(lines.rows).toEqual([
      { line_no: 1, item_id: 'it-order-service-beans', quantity: 2, unit_price: '12.50' },
      { line_no: 2, item_id: 'it-order-service-frother', quantity: 1, unit_price: null },
    ]);

    const published = await eventually(
      async () => {
        const records = await readDlq(kafka, Topics.order);
        const mine = records.filter((r) => r.key?.toString() === orderId);
        expect(mine).toHaveLength(1);
        return mine[0]!;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const parsed = parseEnvelope(published.value ?? '');
    if (!parsed.ok) throw parsed.error;
    if (parsed.event.eventType !== 'order.created') throw new Error(`unexpected ${parsed.event.eventType}`);
    expect(parsed.event.payload.totalAmount).toBe('25.00');
    expect(parsed.event.payload.items).toEqual(body.items);
    expect(parsed.event.payload.items[1]).not.toHaveProperty('unitPrice');
  });

  it("accepts the seed's money as JSON numbers: stored, answered and published as canonical strings", async () => {
    const customer = customerId();
    const body = {
      ...orderBody(customer),
      items: [
        { itemId: 'it-order-service-beans', quantity: 2, unitPrice: 12.5 },
        { itemId: 'it-order-service-frother', quantity: 1, unitPrice: 39.99 },
      ],
    };
    const reply = await postOrder(body, await customerToken(customer));
    expect(reply.status).toBe(201);
    expect(reply.json).toMatchObject({ customerId: customer, totalAmount: '64.99', status: 'CREATED' });
    const orderId = String(reply.json.orderId);

    const lines = await svc.db.query(
      'SELECT item_id, unit_price::text FROM order_lines WHERE order_id = $1 ORDER BY line_no',
      [orderId],
    );
    expect(lines.rows).toEqual([
      { item_id: 'it-order-service-beans', unit_price: '12.50' },
      { item_id: 'it-order-service-frother', unit_price: '39.99' },
    ]);
    const outbox = await svc.db.query<{ payload: { payload: { items: unknown[]; totalAmount: unknown } } }>(
      'SELECT payload FROM outbox WHERE message_key = $1',
      [orderId],
    );
    expect(outbox.rows[0]?.payload.payload).toMatchObject({
      totalAmount: '64.99',
      items: [
        { itemId: 'it-order-service-beans', quantity: 2, unitPrice: '12.50' },
        { itemId: 'it-order-service-frother', quantity: 1, unitPrice: '39.99' },
      ],
    });
  });

  it('lets an admin order for any customer', async () => {
    const customer = customerId();
    const reply = await postOrder(orderBody(customer), await adminToken());
    expect(reply.status).toBe(201);
    expect(reply.json.customerId).toBe(customer);
  });

  it('counts created orders by currency on /metrics', async () => {
    const customer = customerId();
    const reply = await postOrder({ ...orderBody(customer), currency: 'SEK' }, await customerToken(customer));
    expect(reply.status).toBe(201);
    const metrics = await (await fetch(`${svc.base}/metrics`)).text();
    expect(metrics).toMatch(/^orders_created_total\{currency="SEK",service="order-service"\} [1-9]/m);
  });

  it('serves its OpenAPI document from the route schemas', async () => {
    const res = await fetch(`${svc.base}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/orders', '/api/orders/{orderId}/cancel']);
    expect(JSON.stringify(doc.paths['/api/orders']?.post?.requestBody)).toContain('"maxItems":50');
  });
});

describe('Idempotency-Key', () => {
  const countOrders = async (customer: string) =>
    Number(
      (await svc.db.query('SELECT count(*) FROM orders WHERE customer_id = $1', [customer])).rows[0].count,
    );

  it('answers a sequential repeat with the same status and byte-identical body, creating one order', async () => {
    const customer = customerId();
    const token = await customerToken(customer);
    const key = `seq-${randomUUID()}`;
    const first = await postOrder(orderBody(customer), token, { 'idempotency-key': key });
    // Same body with keys in another order: the canonical body is the same.
    const reordered = JSON.parse(
      JSON.stringify(orderBody(customer), Object.keys(orderBody(customer)).reverse()),
    );
    const second = await postOrder({ ...reordered, ...orderBody(customer) }, token, {
      'idempotency-key': key,
    });

    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await countOrders(customer)).toBe(1);
    const outbox = await svc.db.query('SELECT count(*) FROM outbox WHERE message_key = $1', [
      first.json.orderId,
    ]);
    expect(Number(outbox.rows[0].count)).toBe(1);
  });

  it('20 concurrent requests with one key create exactly one order; the others get its response or 409', async () => {
    const customer = customerId();
    const token = await customerToken(customer);
    const key = `concurrent-${randomUUID()}`;
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => postOrder(orderBody(customer), token, { 'idempotency-key': key })),
    );

    const created = replies.filter((r) => r.status === 201);
    const conflicts = replies.filter((r) => r.status === 409);
    expect(created.length + conflicts.length).toBe(20);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.text)).size).toBe(1);
    for (const conflict of conflicts) expect(conflict.json.type).toBe(`${PROBLEM}idempotency-key-in-flight`);
    expect(await countOrders(customer)).toBe(1);

    // Once the first has finished, every retry gets the stored response.
    const retry = await postOrder(orderBody(customer), token, { 'idempotency-key': key });
    expect(retry.status).toBe(201);
    expect(retry.text).toBe(created[0]?.text);
  });

  it('a repeat sent while the first request is still committing waits for it and answers its response', async () => {
    const customer = customerId();
    const token = await customerToken(customer);
    const key = `committing-${randomUUID()}`;
    // The outbox lock keeps the first request inside its transaction, holding its uncommitted key.
    const blocker = await svc.db.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE outbox IN EXCLUSIVE MODE');
      const first = postOrder(orderBody(customer), token, { 'idempotency-key': key });
      await eventually(
        async () => {
          const waiting = await svc.db.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO outbox%'`,
          );
          expect(waiting.rows[0].n).toBe(1);
        },
        { timeoutMs: 10_000, intervalMs: 20 },
      );
      const second = postOrder(orderBody(customer), token, { 'idempotency-key': key });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await blocker.query('COMMIT');
      const [a, b] = await Promise.all([first, second]);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(b.text).toBe(a.text);
      expect(a.headers.get('idempotent-replayed')).toBeNull();
      expect(b.headers.get('idempotent-replayed')).toBe('true');
      expect(await countOrders(customer)).toBe(1);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
  });

  it('answers 422 for the same key with a different body, and keeps the first order', async () => {
    const customer = customerId();
    const token = await customerToken(customer);
    const key = `reuse-${randomUUID()}`;
    const first = await postOrder(orderBody(customer), token, { 'idempotency-key': key });
    const changed = {
      ...orderBody(customer),
      items: [{ itemId: 'sku-other', quantity: 1, unitPrice: '1.00' }],
    };
    const second = await postOrder(changed, token, { 'idempotency-key': key });

    expect(first.status).toBe(201);
    expect(second.status).toBe(422);
    expect(second.json.type).toBe(`${PROBLEM}idempotency-key-reused`);
    expect(await countOrders(customer)).toBe(1);
  });

  it('scopes keys to the caller: two customers may use the same key', async () => {
    const key = `shared-${randomUUID()}`;
    const a = customerId();
    const b = customerId();
    const first = await postOrder(orderBody(a), await customerToken(a), { 'idempotency-key': key });
    const second = await postOrder(orderBody(b), await customerToken(b), { 'idempotency-key': key });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(first.json.orderId).not.toBe(second.json.orderId);
  });

  it("takes over a crashed request's key once its lease has expired", async () => {
    const customer = customerId();
    const key = `crashed-${randomUUID()}`;
    const body = orderBody(customer);
    const staleToken = randomUUID();
    await svc.db.query(
      `INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, state, claim_token, locked_until)
       VALUES ($1, $2, $3, 'in_flight', $4, now() - interval '1 second')`,
      [customer, key, requestHash(body), staleToken],
    );
    const reply = await postOrder(body, await customerToken(customer), { 'idempotency-key': key });

    expect(reply.status).toBe(201);
    const stored = await svc.db.query(
      'SELECT state, order_id, response_body, claim_token FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2',
      [customer, key],
    );
    expect(stored.rows).toEqual([
      {
        state: 'completed',
        order_id: reply.json.orderId,
        response_body: reply.text,
        claim_token: expect.any(String),
      },
    ]);
    expect(stored.rows[0].claim_token).not.toBe(staleToken);
    expect(await countOrders(customer)).toBe(1);
  });

  it('counts replays on /metrics', async () => {
    const metrics = await (await fetch(`${svc.base}/metrics`)).text();
    expect(metrics).toMatch(/^orders_idempotent_replays_total\{service="order-service"\} [1-9]/m);
  });
});

describe('rate limit', () => {
  let limited: TestOrderService;

  beforeAll(async () => {
    limited = await startTestOrderService({ ORDERS_RATE_LIMIT: '3', ORDERS_RATE_LIMIT_WINDOW_MS: '60000' });
  });

  afterAll(async () => {
    await limited?.stop();
  });

  it('refuses a caller over the limit with 429 and Retry-After, and counts each caller apart', async () => {
    const greedy = customerId();
    const token = await customerToken(greedy);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await request(limited.base, '/api/orders', { body: orderBody(greedy), token })).status);
    }
    const refused = await request(limited.base, '/api/orders', { body: orderBody(greedy), token });
    expect(statuses).toEqual([201, 201, 201]);
    expect(refused.status).toBe(429);
    expect(refused.json.type).toBe(`${PROBLEM}rate-limited`);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    const other = customerId();
    const fine = await request(limited.base, '/api/orders', {
      body: orderBody(other),
      token: await customerToken(other),
    });
    expect(fine.status).toBe(201);
  });
});
