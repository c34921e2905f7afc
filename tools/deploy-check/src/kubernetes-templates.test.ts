import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KAFKA_ADMIN } from '../../stack/kafka-acls';
import { principalSecret } from './kafka-access';
import {
  CASSANDRA_ROLES_TEMPLATE,
  INFRA_TEMPLATE,
  JWKS_TEMPLATE,
  KAFKA_CONTROLLER_TEMPLATE,
  KAFKA_PRINCIPALS,
  KAFKA_TEMPLATE,
  PG_ROLES,
  PG_ROLES_TEMPLATE,
  SECRETS_TEMPLATE,
  validator,
} from './kubernetes.fixtures';
import { parseManifests } from './kustomize';
import { K8S_DIR } from './paths';

test('the Secret templates are valid Secrets without values for the secrets', () => {
  for (const file of [SECRETS_TEMPLATE, INFRA_TEMPLATE]) {
    const [secret] = parseManifests(readFileSync(path.join(K8S_DIR, file), 'utf8'));
    expect(validator.validate(secret!)).toEqual([]);
  }
  const secrets = parseManifests(readFileSync(path.join(K8S_DIR, SECRETS_TEMPLATE), 'utf8'))[0]!;
  expect(Object.values(secrets.stringData as Record<string, string>)).toEqual(['']);
});

test('the PostgreSQL roles template: one valid Secret per service with its role name and no password', () => {
  const secrets = parseManifests(readFileSync(path.join(K8S_DIR, PG_ROLES_TEMPLATE), 'utf8'));
  for (const secret of secrets) expect(validator.validate(secret)).toEqual([]);
  expect(secrets.map((s) => [s.metadata.name, s.metadata.namespace, s.stringData])).toEqual(
    PG_ROLES.map((r) => [r.secret, 'dispatch', { PGUSER: r.role, PGPASSWORD: '' }]),
  );
});

test('the Cassandra roles template: the admin and query_api logins, valid Secrets without a password', () => {
  const secrets = parseManifests(readFileSync(path.join(K8S_DIR, CASSANDRA_ROLES_TEMPLATE), 'utf8'));
  for (const secret of secrets) expect(validator.validate(secret)).toEqual([]);
  expect(secrets.map((s) => [s.metadata.name, s.metadata.namespace, s.stringData])).toEqual([
    [
      'dispatch-cassandra-admin',
      'dispatch',
      { CASSANDRA_USERNAME: 'dispatch_admin', CASSANDRA_PASSWORD: '' },
    ],
    ['query-api-cassandra', 'dispatch', { CASSANDRA_USERNAME: 'query_api', CASSANDRA_PASSWORD: '' }],
  ]);
});

test('the Kafka template: one valid Secret per principal of the catalogue and the admin, named after it, no password', () => {
  const secrets = parseManifests(readFileSync(path.join(K8S_DIR, KAFKA_TEMPLATE), 'utf8'));
  for (const secret of secrets) expect(validator.validate(secret)).toEqual([]);
  expect(secrets.map((s) => [s.metadata.name, s.metadata.namespace, s.stringData])).toEqual(
    [...KAFKA_PRINCIPALS, KAFKA_ADMIN].map((name) => [
      principalSecret(name),
      'dispatch',
      { KAFKA_SASL_USERNAME: name, KAFKA_SASL_PASSWORD: '' },
    ]),
  );
  const [controller] = parseManifests(readFileSync(path.join(K8S_DIR, KAFKA_CONTROLLER_TEMPLATE), 'utf8'));
  expect(validator.validate(controller!)).toEqual([]);
  expect([controller!.metadata.name, controller!.stringData]).toEqual([
    'dispatch-kafka-controller',
    { KAFKA_CONTROLLER_PASSWORD: '' },
  ]);
});

test('the token JWKS template is a valid ConfigMap holding an empty, public-only JWKS', () => {
  const [jwks] = parseManifests(readFileSync(path.join(K8S_DIR, JWKS_TEMPLATE), 'utf8'));
  expect(validator.validate(jwks!)).toEqual([]);
  expect(jwks).toMatchObject({
    kind: 'ConfigMap',
    metadata: { name: 'dispatch-token-jwks', namespace: 'dispatch' },
  });
  expect(JSON.parse((jwks!.data as Record<string, string>)['jwks.json']!)).toEqual({ keys: [] });
});
