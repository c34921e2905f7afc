import {
  composeArgs,
  composeEnv,
  composeFiles,
  hostPortVariable,
  parsePodmanComposeVersion,
  requiredVariables,
} from './plan';

describe('podman-compose version and files', () => {
  test('both ways podman-compose prints its version', () => {
    expect(
      parsePodmanComposeVersion("['podman', '--version', '']\npodman-composer version  1.0.3\n"),
    ).toEqual({
      major: 1,
      minor: 0,
      patch: 3,
    });
    expect(parsePodmanComposeVersion('podman-compose version 1.2.0\npodman version 5.0.0')).toEqual({
      major: 1,
      minor: 2,
      patch: 0,
    });
    expect(parsePodmanComposeVersion('podman version 4.3.1')).toBeUndefined();
  });

  test('1.0.x gets the configs-as-mounts override, 1.1 and later do not', () => {
    expect(composeFiles({ major: 1, minor: 0, patch: 3 })).toEqual([
      'docker-compose.yml',
      'infra/compose/podman-compose-1.0.yml',
    ]);
    expect(composeFiles({ major: 1, minor: 1, patch: 0 })).toEqual(['docker-compose.yml']);
    expect(composeArgs('p', ['a.yml', 'b.yml'])).toEqual(['-p', 'p', '-f', 'a.yml', '-f', 'b.yml']);
  });
});

describe('composeEnv', () => {
  // A compose file's own ${…} interpolation, so escaped here.
  const composeText = `
image: \${KAFKA_IMAGE:-apache/kafka:4.3.1}
KAFKA_ADMIN_PASSWORD: \${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}
again: \${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}
PGPASSWORD: \${ORDER_SERVICE_PGPASSWORD:?set it}
file: \${AUTH_JWKS_PATH:?set AUTH_JWKS_PATH to a JWKS file}
optional: \${DISPATCH_DLQ_KAFKA_PASSWORD:-}
`;

  test('the required variables, each once, in order; optional ones are not', () => {
    expect(requiredVariables(composeText)).toEqual([
      'KAFKA_ADMIN_PASSWORD',
      'ORDER_SERVICE_PGPASSWORD',
      'AUTH_JWKS_PATH',
    ]);
  });

  test('a fresh password per secret, the JWKS path, the images, and the six ports moved', () => {
    let n = 0;
    const env = composeEnv({
      composeText,
      portBase: 18080,
      jwksPath: '/x/jwks.json',
      serverImages: { KAFKA_IMAGE: 'localhost/dispatch/kafka:4.3.1' },
      tag: 'dev',
      password: () => `pw${++n}`,
    });
    expect(env).toEqual({
      KAFKA_ADMIN_PASSWORD: 'pw1',
      ORDER_SERVICE_PGPASSWORD: 'pw2',
      AUTH_JWKS_PATH: '/x/jwks.json',
      KAFKA_IMAGE: 'localhost/dispatch/kafka:4.3.1',
      DISPATCH_VERSION: 'dev',
      DISPATCH_PUBLISH_ADDRESS: '127.0.0.1',
      QUERY_API_HOST_PORT: '18080',
      ORDER_SERVICE_HOST_PORT: '18081',
      PAYMENT_SERVICE_HOST_PORT: '18082',
      INVENTORY_SERVICE_HOST_PORT: '18083',
      DELIVERY_SERVICE_HOST_PORT: '18084',
      WEBHOOK_SERVICE_HOST_PORT: '18085',
    });
    expect(hostPortVariable('webhook-service')).toBe('WEBHOOK_SERVICE_HOST_PORT');
  });
});
