import { readFileSync } from 'node:fs';
import { APP_SERVICES } from '../../stack/services';
import { repoPath } from './paths';
import { CONFIG_EXPORTS, configProblems, requiredEnvKeys, SERVICE_CONFIGS } from './service-configs';

test.each(APP_SERVICES)('$name: the checks use the schema its src/main.ts loads', (service) => {
  const main = readFileSync(repoPath(service.source), 'utf8');
  const loaded = /loadConfig\(\s*[^,]+,\s*([A-Za-z0-9_]+)\s*\)/.exec(main)?.[1];
  expect(loaded).toBe(CONFIG_EXPORTS[service.name]?.exportName);
});

describe('configProblems', () => {
  const order = SERVICE_CONFIGS.find((s) => s.name === 'order-service')!;

  test('names variables the service does not read, and values it would reject', () => {
    expect(
      configProblems(order.schema, {
        AUTH_JWKS_FILE: '/etc/dispatch/auth/jwks.json',
        KAFKA_BROKER: 'kafka:9092',
        KAFKA_BROKERS: 'kafka',
      }),
    ).toEqual([
      'KAFKA_BROKER: not read by the service (not in its config schema)',
      'KAFKA_BROKERS.0: expected host:port',
    ]);
  });

  test('missing token keys fail through the schema refinement; the old HS256 secret is refused', () => {
    expect(requiredEnvKeys(order.schema)).toEqual([]);
    expect(configProblems(order.schema, {}).join('\n')).toMatch(/AUTH_JWKS_URL: set exactly one/);
    expect(
      configProblems(order.schema, {
        AUTH_JWKS_FILE: '/etc/dispatch/auth/jwks.json',
        AUTH_JWT_SECRET: 'x'.repeat(40),
      }),
    ).toEqual([expect.stringMatching(/^AUTH_JWT_SECRET: HS256 shared secrets are no longer accepted/)]);
  });
});
