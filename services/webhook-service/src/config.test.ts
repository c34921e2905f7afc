import { parseConfig } from '@dispatch/platform';
import { webhookConfigSchema } from './config';

const auth = { AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json' };

describe('webhook-service config', () => {
  it('defaults to port 8085, webhook_db, no private or http targets, 24 h of retries', () => {
    const config = parseConfig('webhook-service', webhookConfigSchema, auth);
    expect(config).toMatchObject({
      PORT: 8085,
      PGDATABASE: 'webhook_db',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: false,
      WEBHOOK_ALLOW_HTTP: false,
      WEBHOOK_RETRY_WINDOW_MS: 86_400_000,
    });
  });

  it('reads the local-development flags strictly', () => {
    const config = parseConfig('webhook-service', webhookConfigSchema, {
      ...auth,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_ALLOW_HTTP: '1',
    });
    expect(config.WEBHOOK_ALLOW_PRIVATE_TARGETS).toBe(true);
    expect(config.WEBHOOK_ALLOW_HTTP).toBe(true);
    expect(() =>
      parseConfig('webhook-service', webhookConfigSchema, { ...auth, WEBHOOK_ALLOW_HTTP: 'maybe' }),
    ).toThrow();
  });
});
