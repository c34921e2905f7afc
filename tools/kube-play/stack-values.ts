/**
 * The Secrets and ConfigMaps an operator would create for the dev overlay (docs/deploy.md, step 2),
 * made at run time from the running local stack instead: its addresses in place of the dev overlay's
 * in-cluster ones (dispatch-infra), each service's own PostgreSQL role, Kafka principal and
 * (query-api) Cassandra role with the passwords `./dispatch up` generated under .stack/secrets, and the
 * local issuer's public JWKS. Nothing here is written to the repository; the admin logins the Jobs and
 * the dev servers would use (dispatch-secrets, dispatch-kafka-admin, dispatch-cassandra-admin,
 * dispatch-kafka-controller) are not made at all: nothing played reads them.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CASSANDRA_ADMIN_ROLE, cassandraPasswordFile, cassandraRoleEnv } from '../stack/cassandra-auth';
import { addressEnv, type StackConfig } from '../stack/config';
import { KAFKA_ADMIN, KAFKA_DLQ_TOOL, KAFKA_REBUILD_TOOL } from '../stack/kafka-acls';
import { principalEnv } from '../stack/kafka-auth';
import { REPO_ROOT } from '../stack/paths';
import { postgresRoleEnv } from '../stack/postgres-roles';
import { readGeneratedPassword } from '../stack/secrets';
import { APP_SERVICES } from '../stack/services';

export class StackValuesError extends Error {}

/** The keys of dispatch-infra the dev overlay generates (kustomization.yaml's secretGenerator). */
const INFRA_KEYS = [
  'KAFKA_BROKERS',
  'PGHOST',
  'PGPORT',
  'PGUSER',
  'REDIS_URL',
  'CASSANDRA_CONTACT_POINTS',
  'CASSANDRA_LOCAL_DC',
];

export const JWKS_FILE = path.join(REPO_ROOT, '.stack', 'auth', 'jwks.json');

function defined(values: Record<string, string | undefined>, what: string): Record<string, string> {
  const missing = Object.entries(values)
    .filter(([, value]) => value === undefined || value === '')
    .map(([key]) => key);
  if (missing.length > 0) {
    throw new StackValuesError(
      `${what}: no ${missing.join(', ')} in the local stack (run ./dispatch up first)`,
    );
  }
  return values as Record<string, string>;
}

/**
 * With `jobs`, also the admin logins the Jobs use: the PostgreSQL superuser's password
 * (dispatch-secrets; the local server trusts loopback, so it may be empty), the Kafka super user, the
 * Cassandra admin role, and the tools' optional principals (their logins and ACLs are the access Job's
 * too). They go to the Jobs' Pods only: nothing else reads them.
 */
export function stackValues(
  config: StackConfig,
  opts: { jobs: boolean } = { jobs: false },
): {
  secrets: Record<string, Record<string, string>>;
  configMaps: Record<string, Record<string, string>>;
} {
  const addresses = Object.fromEntries(addressEnv(config));
  const secrets: Record<string, Record<string, string>> = {
    'dispatch-infra': defined(
      Object.fromEntries(INFRA_KEYS.map((key) => [key, addresses[key]])),
      'dispatch-infra',
    ),
  };
  for (const service of APP_SERVICES) {
    const kafka = principalEnv(config.kafka, service.name);
    secrets[`${service.name}-kafka`] = defined(
      { KAFKA_SASL_USERNAME: kafka.KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: kafka.KAFKA_SASL_PASSWORD },
      `${service.name}-kafka`,
    );
    const postgres = postgresRoleEnv(service, config.postgres);
    if (postgres.PGUSER !== undefined) {
      secrets[`${service.name}-postgres`] = defined({ ...postgres }, `${service.name}-postgres`);
    }
    const cassandra = cassandraRoleEnv(service, config.cassandra, {});
    if (cassandra.CASSANDRA_USERNAME !== undefined) {
      secrets[`${service.name}-cassandra`] = defined({ ...cassandra }, `${service.name}-cassandra`);
    }
  }
  if (opts.jobs) Object.assign(secrets, adminSecrets(config));
  if (!existsSync(JWKS_FILE)) throw new StackValuesError(`no ${JWKS_FILE} (./dispatch up creates it)`);
  return { secrets, configMaps: { 'dispatch-token-jwks': { 'jwks.json': readFileSync(JWKS_FILE, 'utf8') } } };
}

function adminSecrets(config: StackConfig): Record<string, Record<string, string>> {
  const kafka = (principal: string) => {
    const env = principalEnv(config.kafka, principal);
    return defined(
      { KAFKA_SASL_USERNAME: env.KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: env.KAFKA_SASL_PASSWORD },
      `the Kafka login of ${principal}`,
    );
  };
  return {
    'dispatch-secrets': { PGPASSWORD: config.postgres.password },
    'dispatch-kafka-admin': kafka(KAFKA_ADMIN),
    'dispatch-dlq-kafka': kafka(KAFKA_DLQ_TOOL),
    'dispatch-rebuild-kafka': kafka(KAFKA_REBUILD_TOOL),
    'dispatch-cassandra-admin': {
      CASSANDRA_USERNAME: CASSANDRA_ADMIN_ROLE,
      CASSANDRA_PASSWORD: readGeneratedPassword(cassandraPasswordFile(config.cassandra.secretsDir, 'admin')),
    },
  };
}
