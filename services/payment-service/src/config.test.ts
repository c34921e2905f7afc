import { parseConfig } from '@dispatch/platform';
import { longestGatewayCallMs, paymentConfigSchema } from './config';

const tokenKeys = { AUTH_JWKS_FILE: '/etc/dispatch/jwks.json' };

describe('payment config', () => {
  it('has the documented defaults', () => {
    const config = parseConfig('payment-service', paymentConfigSchema, tokenKeys);
    expect(config).toMatchObject({
      PORT: 8082,
      PGDATABASE: 'payment_db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      GATEWAY_TIMEOUT_MS: 2000,
      GATEWAY_RETRIES: 2,
      LOCK_TTL_MS: 15000,
      // One slot per partition, so a payment in long retries never stalls another partition.
      CONSUMER_CONCURRENCY: 6,
    });
    expect(config.LOCK_TTL_MS).toBeGreaterThan(longestGatewayCallMs(config));
  });

  it('reads CONSUMER_CONCURRENCY and bounds it', () => {
    expect(
      parseConfig('payment-service', paymentConfigSchema, { ...tokenKeys, CONSUMER_CONCURRENCY: '12' }),
    ).toMatchObject({
      CONSUMER_CONCURRENCY: 12,
    });
    expect(() =>
      parseConfig('payment-service', paymentConfigSchema, { ...tokenKeys, CONSUMER_CONCURRENCY: '0' }),
    ).toThrow(/CONSUMER_CONCURRENCY/);
  });

  it('rejects a lock TTL that a gateway call with retries could outlive', () => {
    expect(() =>
      parseConfig('payment-service', paymentConfigSchema, {
        ...tokenKeys,
        GATEWAY_TIMEOUT_MS: '1000',
        GATEWAY_RETRIES: '3',
        GATEWAY_BACKOFF_MAX_MS: '500',
        LOCK_TTL_MS: '5000', // 1000 × 4 + 500 × 3 = 5500
      }),
    ).toThrow(/LOCK_TTL_MS: must be greater than .* 5500 ms/);
  });

  it('requires a way to verify tokens and names every bad variable', () => {
    expect(() =>
      parseConfig('payment-service', paymentConfigSchema, { GATEWAY_FAILURE_RATE: '2', PORT: 'x' }),
    ).toThrow(/PORT[\s\S]*GATEWAY_FAILURE_RATE|GATEWAY_FAILURE_RATE[\s\S]*PORT/);
  });
});
