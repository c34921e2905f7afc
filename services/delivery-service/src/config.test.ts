import { ConfigError, parseConfig } from '@dispatch/platform';
import { deliveryConfigSchema, SERVICE_NAME } from './config';

const jwks = '/etc/dispatch/jwks.json';

describe('delivery-service config', () => {
  it('has local defaults for everything but the token keys', () => {
    const config = parseConfig(SERVICE_NAME, deliveryConfigSchema, { AUTH_JWKS_FILE: jwks });
    expect(config).toMatchObject({
      PORT: 8084,
      PGDATABASE: 'delivery_db',
      DEPOT_LAT: 51.5074,
      DEPOT_LNG: -0.1278,
      DRIVER_SPEED_KMH: 25,
      DRIVER_WAIT_MS: 120_000,
      ETA_REFRESH_MS: 30_000,
      ETA_CHANGE_THRESHOLD_MS: 60_000,
    });
  });

  it('reads overrides from the environment', () => {
    const config = parseConfig(SERVICE_NAME, deliveryConfigSchema, {
      AUTH_JWKS_FILE: jwks,
      PGDATABASE: 'delivery_it_x',
      DRIVER_WAIT_MS: '250',
      DEPOT_LAT: '48.85',
      DEPOT_LNG: '2.35',
    });
    expect(config).toMatchObject({
      PGDATABASE: 'delivery_it_x',
      DRIVER_WAIT_MS: 250,
      DEPOT_LAT: 48.85,
      DEPOT_LNG: 2.35,
    });
  });

  it('names every bad variable, including missing token keys', () => {
    let error: unknown;
    try {
      parseConfig(SERVICE_NAME, deliveryConfigSchema, {
        DEPOT_LAT: '91',
        DRIVER_SPEED_KMH: '0',
        ASSIGN_RETRY_MS: '5',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(['ASSIGN_RETRY_MS', 'AUTH_JWKS_URL', 'DEPOT_LAT', 'DRIVER_SPEED_KMH']);
  });

  it('requires AUTH_JWKS_FILE or AUTH_JWKS_URL', () => {
    expect(() => parseConfig(SERVICE_NAME, deliveryConfigSchema, {})).toThrow(/AUTH_JWKS_URL/);
    expect(() =>
      parseConfig(SERVICE_NAME, deliveryConfigSchema, {
        AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      }),
    ).not.toThrow();
  });
});
