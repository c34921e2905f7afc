import {
  chargeIdempotencyKey,
  GatewayRejectedError,
  GatewayUnavailableError,
  refundIdempotencyKey,
} from './gateway';
import { SimulatedGateway, tokenBehaviour } from './simulated-gateway';

const never = new AbortController().signal;

function chargeRequest(orderId: string, cardToken: string) {
  return {
    idempotencyKey: chargeIdempotencyKey(orderId),
    orderId,
    amount: '10.00',
    currency: 'EUR' as const,
    cardToken,
  };
}

describe('tokenBehaviour', () => {
  it.each([
    ['tok_visa', { kind: 'approve' }],
    ['tok_visa_4242_sample', { kind: 'approve' }],
    ['tok_anything_else', { kind: 'approve' }],
    ['tok_declined', { kind: 'decline', reason: 'card_declined' }],
    ['tok_declined_2', { kind: 'decline', reason: 'card_declined' }],
    ['tok_insufficient_funds', { kind: 'decline', reason: 'insufficient_funds' }],
    ['tok_invalid', { kind: 'decline', reason: 'invalid_payment_method' }],
    ['tok_fraud', { kind: 'decline', reason: 'fraud_suspected' }],
    ['tok_gateway_timeout', { kind: 'never-answer' }],
    ['tok_flaky', { kind: 'fail-first-attempt' }],
  ])('%s → %j', (token, expected) => {
    expect(tokenBehaviour(token)).toEqual(expected);
  });

  it('matches a prefix only at a word boundary', () => {
    expect(tokenBehaviour('tok_declinedX')).toEqual({ kind: 'approve' });
  });
});

describe('SimulatedGateway', () => {
  it('approves tok_visa and returns the stored result for the same idempotency key without charging again', async () => {
    const gateway = new SimulatedGateway();
    const first = await gateway.charge(chargeRequest('o1', 'tok_visa'), never);
    const again = await gateway.charge(chargeRequest('o1', 'tok_visa'), never);
    expect(first.outcome).toBe('approved');
    expect(again).toEqual(first);
    expect(gateway.orderStats('o1')).toEqual({ chargeCalls: 2, charges: 1, refundCalls: 0, refunds: 0 });
  });

  it('shares one attempt between concurrent calls with the same key', async () => {
    const gateway = new SimulatedGateway({ latencyMs: 20 });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => gateway.charge(chargeRequest('o2', 'tok_visa'), never)),
    );
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(gateway.orderStats('o2').charges).toBe(1);
    expect(gateway.orderStats('o2').chargeCalls).toBe(10);
  });

  it('declines by token, and a decline is stored too', async () => {
    const gateway = new SimulatedGateway();
    await expect(gateway.charge(chargeRequest('o3', 'tok_insufficient_funds'), never)).resolves.toEqual({
      outcome: 'declined',
      reason: 'insufficient_funds',
    });
    expect(gateway.orderStats('o3').charges).toBe(0);
  });

  it('tok_flaky fails the first attempt for a key and approves the next', async () => {
    const gateway = new SimulatedGateway();
    await expect(gateway.charge(chargeRequest('o4', 'tok_flaky'), never)).rejects.toBeInstanceOf(
      GatewayUnavailableError,
    );
    await expect(gateway.charge(chargeRequest('o4', 'tok_flaky'), never)).resolves.toMatchObject({
      outcome: 'approved',
    });
    expect(gateway.orderStats('o4')).toMatchObject({ chargeCalls: 2, charges: 1 });
  });

  it('tok_gateway_timeout never answers and charges nothing; the caller aborts it', async () => {
    const gateway = new SimulatedGateway();
    const abort = new AbortController();
    const call = gateway.charge(chargeRequest('o5', 'tok_gateway_timeout'), abort.signal);
    abort.abort();
    await expect(call).rejects.toBeInstanceOf(GatewayUnavailableError);
    expect(gateway.orderStats('o5').charges).toBe(0);
  });

  it('fails at the configured rate before charging', async () => {
    const gateway = new SimulatedGateway({ failureRate: 0.5, random: () => 0.1 });
    await expect(gateway.charge(chargeRequest('o6', 'tok_visa'), never)).rejects.toBeInstanceOf(
      GatewayUnavailableError,
    );
    expect(gateway.orderStats('o6').charges).toBe(0);
  });

  it('refunds an approved charge once per idempotency key and rejects unknown charges', async () => {
    const gateway = new SimulatedGateway();
    const charge = await gateway.charge(chargeRequest('o7', 'tok_visa'), never);
    if (charge.outcome !== 'approved') throw new Error('expected approval');
    const refund = {
      idempotencyKey: refundIdempotencyKey('o7'),
      orderId: 'o7',
      chargeReference: charge.reference,
      amount: '10.00',
      currency: 'EUR' as const,
    };
    const first = await gateway.refund(refund, never);
    expect(await gateway.refund(refund, never)).toEqual(first);
    expect(gateway.orderStats('o7')).toMatchObject({ refundCalls: 2, refunds: 1 });
    await expect(
      gateway.refund({ ...refund, idempotencyKey: 'refund:other', chargeReference: 'nope' }, never),
    ).rejects.toBeInstanceOf(GatewayRejectedError);
  });

  it('refunds a charge it made before a restart (its memory is gone, the reference is its own)', async () => {
    const restarted = new SimulatedGateway({ latencyMs: 0 });
    const refunded = await restarted.refund(
      {
        idempotencyKey: 'refund:o8',
        orderId: 'o8',
        chargeReference: 'sim_ch_4f1c2d1e-0000-4000-8000-000000000000',
        amount: '10.00',
        currency: 'EUR' as const,
      },
      never,
    );
    expect(refunded.reference).toMatch(/^sim_re_/);
    expect(restarted.orderStats('o8')).toMatchObject({ refunds: 1 });
  });
});
