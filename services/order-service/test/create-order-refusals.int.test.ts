import { randomUUID } from 'node:crypto';
import { requestHash } from '../src/domain/idempotency';
import {
  customerId,
  customerToken,
  orderBody,
  PROBLEM,
  request,
  tableState,
  useTestOrderService,
} from './helpers';
import { refusalCases } from './refusal-cases';

const { svc, postOrder } = useTestOrderService();

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

  const cases = refusalCases({
    owner,
    valid,
    setupKey,
    inFlightKey,
    inFlightBody,
    existingOrderId: () => existingOrderId,
  });

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
