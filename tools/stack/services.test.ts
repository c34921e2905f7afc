import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SERVICE_PORTS, type ServiceName, serviceUrlVariable as testkitUrlVariable } from '@dispatch/testkit';
import { loadStackConfig } from './config';
import {
  APP_SERVICES,
  findAppService,
  findServices,
  hasScript,
  instanceName,
  parseInstanceName,
  readySummary,
  serviceEnv,
  serviceUrlEnv,
  serviceUrlVariable,
} from './services';

const orderService = findAppService('order-service')!;
const queryApi = findAppService('query-api')!;

describe('APP_SERVICES', () => {
  it('lists the five services on their design ports', () => {
    expect(Object.fromEntries(APP_SERVICES.map((s) => [s.name, s.port]))).toEqual({
      'query-api': 8080,
      'order-service': 8081,
      'payment-service': 8082,
      'inventory-service': 8083,
      'delivery-service': 8084,
      'webhook-service': 8085,
    });
    expect(orderService.main).toBe('services/order-service/dist/main.js');
    expect(orderService.source).toBe('services/order-service/src/main.ts');
  });
});

describe('serviceEnv', () => {
  const base = loadStackConfig({ KAFKA_BROKERS: '127.0.0.1:9092', PGPASSWORD: 'superuser-pw' });
  const rolesDir = mkdtempSync(path.join(tmpdir(), 'service-env-'));
  const config = { ...base, postgres: { ...base.postgres, roleSecretsDir: rolesDir } };
  const secret = '/stack/auth/jwks.json';
  beforeAll(() => {
    writeFileSync(path.join(rolesDir, 'order-service.password'), 'order-role-password-0001\n');
  });
  afterAll(() => rmSync(rolesDir, { recursive: true, force: true }));

  it('gives the stack addresses, the public JWKS file, port and own database over the inherited environment', () => {
    const env = serviceEnv(orderService, config, secret, { PATH: '/bin', HOME: '/root' });
    expect(env).toMatchObject({
      PATH: '/bin',
      HOME: '/root',
      PORT: '8081',
      KAFKA_BROKERS: '127.0.0.1:9092',
      PGHOST: '127.0.0.1',
      PGPORT: '5432',
      PGUSER: 'order_service',
      PGPASSWORD: 'order-role-password-0001',
      PGDATABASE: 'order_db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      CASSANDRA_CONTACT_POINTS: '127.0.0.1:9042',
      CASSANDRA_LOCAL_DC: 'datacenter1',
      LOG_LEVEL: 'info',
      AUTH_JWKS_FILE: secret,
    });
    expect(env).not.toHaveProperty('AUTH_JWT_SECRET');
  });

  it("never hands the launcher's superuser to a service: its own role, or no PostgreSQL credentials", () => {
    const inherited = { PGUSER: 'postgres', PGPASSWORD: 'superuser-pw' };
    expect(serviceEnv(orderService, config, secret, inherited)).toMatchObject({
      PGUSER: 'order_service',
      PGPASSWORD: 'order-role-password-0001',
    });
    const queryEnv = serviceEnv(queryApi, config, secret, inherited);
    expect([queryEnv.PGUSER, queryEnv.PGPASSWORD]).toEqual([undefined, undefined]);
  });

  it('lifts the per-subject rate limits for the benchmark and the tests, unless the caller set them', () => {
    expect(serviceEnv(orderService, config, secret, {})).toMatchObject({
      RATE_LIMIT_READ: '100000',
      RATE_LIMIT_WRITE: '100000',
    });
    expect(serviceEnv(orderService, config, secret, { RATE_LIMIT_WRITE: '50' }).RATE_LIMIT_WRITE).toBe('50');
    expect(serviceEnv(queryApi, config, secret, {}).SSE_MAX_STREAMS_PER_CUSTOMER).toBe('20');
  });

  it('never passes on a database, keyspace, port or token key source the caller had set', () => {
    const inherited = {
      PGDATABASE: 'scratch',
      CASSANDRA_KEYSPACE: 'scratch',
      PORT: '3000',
      LOG_LEVEL: 'debug',
      AUTH_JWT_SECRET: 'an-old-hs256-secret-an-old-hs256-secret',
      AUTH_JWKS_URL: 'https://idp.example/jwks',
      AUTH_SIGNING_KEYS_FILE: '/somewhere/keys.json',
    };
    const env = serviceEnv(queryApi, config, secret, inherited);
    expect(env.AUTH_JWT_SECRET).toBeUndefined();
    expect(env.AUTH_JWKS_URL).toBeUndefined();
    expect(env.AUTH_SIGNING_KEYS_FILE).toBeUndefined();
    expect(env.AUTH_JWKS_FILE).toBe(secret);
    expect(env.PGDATABASE).toBeUndefined();
    expect(env.CASSANDRA_KEYSPACE).toBe('delivery_query');
    expect(env.PORT).toBe('8080');
    expect(env.LOG_LEVEL).toBe('debug');
  });

  it('uses the given port for an extra instance', () => {
    expect(serviceEnv(orderService, config, secret, {}, 8091).PORT).toBe('8091');
  });
});

describe('instance names', () => {
  it('round-trips service@port and rejects anything else', () => {
    expect(instanceName(orderService, 8091)).toBe('order-service@8091');
    expect(parseInstanceName('order-service@8091')).toEqual({ service: orderService, port: 8091 });
    expect(parseInstanceName('order-service')).toBeUndefined();
    expect(parseInstanceName('kafka@9092')).toBeUndefined();
  });
});

describe('findServices', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'stack-services-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function addPackage(name: string, withMain: boolean): void {
    mkdirSync(path.join(root, 'services', name, 'src'), { recursive: true });
    writeFileSync(path.join(root, 'services', name, 'package.json'), '{}');
    if (withMain) writeFileSync(path.join(root, 'services', name, 'src', 'main.ts'), '');
  }

  it('starts only packages with an entry point, and tells which are unfinished', () => {
    addPackage('order-service', true);
    addPackage('inventory-service', false);
    const layout = findServices(root);
    expect(layout.present.map((s) => s.name)).toEqual(['order-service']);
    expect(layout.unfinished.map((s) => s.name)).toEqual(['inventory-service']);
  });

  it('finds nothing in a checkout without services', () => {
    expect(findServices(root)).toEqual({ present: [], unfinished: [] });
  });
});

describe('hasScript', () => {
  it('reads the scripts of a package.json', () => {
    expect(hasScript('{"scripts":{"seed":"tsx src/seed.ts"}}', 'seed')).toBe(true);
    expect(hasScript('{"scripts":{"start":"tsx src/main.ts"}}', 'seed')).toBe(false);
    expect(hasScript('{}', 'seed')).toBe(false);
  });
});

describe('serviceUrlEnv and readySummary', () => {
  it('names the URL variables the testkit reads', () => {
    expect(serviceUrlEnv([orderService, queryApi])).toEqual([
      ['ORDER_SERVICE_URL', 'http://127.0.0.1:8081'],
      ['QUERY_API_URL', 'http://127.0.0.1:8080'],
    ]);
  });

  it('prints each URL with its OpenAPI and metrics endpoints, and how to get a token', () => {
    const text = readySummary([queryApi, orderService]);
    expect(text).toContain('http://127.0.0.1:8081/openapi.json');
    expect(text).toContain('http://127.0.0.1:8080/metrics');
    expect(text).toContain('./dispatch token --sub');
    expect(readySummary([])).toMatch(/No services yet/);
  });
});

describe('the testkit agrees with the launcher', () => {
  it('has the same service ports and URL variables', () => {
    expect(Object.fromEntries(APP_SERVICES.map((s) => [s.name, s.port]))).toEqual({ ...SERVICE_PORTS });
    for (const service of APP_SERVICES) {
      expect(serviceUrlVariable(service)).toBe(testkitUrlVariable(service.name as ServiceName));
    }
  });
});
