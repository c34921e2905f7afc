import { Registry } from 'prom-client';
import { createPaymentMetrics } from '../metrics';
import { chargeIdempotencyKey } from './gateway';
import { BREAKER_GAUGE_VALUE, ResilientGateway } from './resilient-gateway';
import { SimulatedGateway } from './simulated-gateway';

const options = {
  timeoutMs: 30,
  retries: 2,
  backoffInitialMs: 1,
  backoffMaxMs: 5,
  breakerConsecutiveFailures: 3,
  breakerHalfOpenAfterMs: 60_000,
};

function setup(opts = options) {
  const registry = new Registry();
  const metrics = createPaymentMetrics(registry);
  const simulator = new SimulatedGateway();
  return { simulator, registry, gateway: new ResilientGateway(simulator, opts, metrics) };
}

function request(orderId: string, cardToken: string) {
  return {
    idempotencyKey: chargeIdempotencyKey(orderId),
    orderId,
    amount: '5.00',
    currency: 'EUR' as const,
    cardToken,
  };
}

async function breakerGauge(registry: Registry): Promise<number | undefined> {
  const metric = await registry.getSingleMetric('payment_circuit_breaker_state')?.get();
  return metric?.values[0]?.value;
}

describe('ResilientGateway (cockatiel timeout, retry, breaker)', () => {
  it('retries a transient failure: tok_flaky is approved on the second attempt, charged once', async () => {
    const { gateway, simulator } = setup();
    await expect(gateway.charge(request('f1', 'tok_flaky'))).resolves.toMatchObject({ outcome: 'approved' });
    expect(simulator.orderStats('f1')).toMatchObject({ chargeCalls: 2, charges: 1 });
  });

  it('does not retry a decline', async () => {
    const { gateway, simulator } = setup();
    await expect(gateway.charge(request('d1', 'tok_declined'))).resolves.toEqual({
      outcome: 'declined',
      reason: 'card_declined',
    });
    expect(simulator.orderStats('d1').chargeCalls).toBe(1);
  });

  it('gives up after timeout and retries with gateway_unavailable; the breaker then opens and fails fast', async () => {
    const { gateway, simulator, registry } = setup();
    expect(await breakerGauge(registry)).toBe(BREAKER_GAUGE_VALUE.closed);

    const timedOut = await gateway.charge(request('t1', 'tok_gateway_timeout'));
    expect(timedOut).toMatchObject({
      outcome: 'unavailable',
      reason: 'gateway_unavailable',
      circuitOpen: false,
    });
    expect(simulator.orderStats('t1')).toMatchObject({ chargeCalls: 3, charges: 0 });

    // Three consecutive failed attempts opened the breaker: the next call does not reach the gateway.
    expect(await breakerGauge(registry)).toBe(BREAKER_GAUGE_VALUE.open);
    const blocked = await gateway.charge(request('v1', 'tok_visa'));
    expect(blocked).toMatchObject({
      outcome: 'unavailable',
      reason: 'gateway_unavailable',
      circuitOpen: true,
    });
    expect(simulator.orderStats('v1').chargeCalls).toBe(0);
  });

  it('goes half-open after the break and closes again on a successful trial call', async () => {
    const { gateway, registry } = setup({
      ...options,
      breakerConsecutiveFailures: 1,
      breakerHalfOpenAfterMs: 20,
    });
    await gateway.charge(request('t2', 'tok_gateway_timeout'));
    expect(await breakerGauge(registry)).toBe(BREAKER_GAUGE_VALUE.open);
    await new Promise((resolve) => setTimeout(resolve, 40)); // let the break duration pass
    await expect(gateway.charge(request('v2', 'tok_visa'))).resolves.toMatchObject({ outcome: 'approved' });
    expect(await breakerGauge(registry)).toBe(BREAKER_GAUGE_VALUE.closed);
  });
});
