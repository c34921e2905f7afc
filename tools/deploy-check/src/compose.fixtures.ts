import { type ComposeFile, loadCompose, readComposeText, serviceEnvironment } from './compose';
import { deploymentPrincipals, isToolPrincipal, passwordVariable } from './kafka-access';
import { repoPath } from './paths';
import { SERVICE_CONFIGS, type ServiceConfig } from './service-configs';

/** Each service's own PostgreSQL login role, and the variable holding its password. */
export const PG_ROLES = SERVICE_CONFIGS.filter((s) => s.name !== 'query-api').map((s) => ({
  service: s.name,
  role: s.name.replaceAll('-', '_'),
  database: `${s.name.replace('-service', '')}_db`,
  variable: `${s.name.replaceAll('-', '_').toUpperCase()}_PGPASSWORD`,
}));

/** Each service's own Kafka principal (its name) and the variable holding its password. */
export const KAFKA_LOGINS = SERVICE_CONFIGS.map((s) => ({
  service: s.name,
  variable: passwordVariable(s.name),
}));
/** The operator tools' logins: optional (kafka-access creates them only when exported). */
export const KAFKA_TOOL_VARIABLES = deploymentPrincipals()
  .filter((p) => isToolPrincipal(p.name))
  .map((p) => passwordVariable(p.name));

/** What an operator exports before `docker compose up` (docs/deploy.md); test values only. */
export const OPERATOR_ENV: Record<string, string> = {
  AUTH_JWKS_PATH: '.stack/auth/jwks.json',
  POSTGRES_PASSWORD: 'compose-check-password',
  GRAFANA_ADMIN_PASSWORD: 'compose-check-grafana',
  CASSANDRA_ADMIN_PASSWORD: 'compose-check-cassandra-admin',
  QUERY_API_CASSANDRA_PASSWORD: 'compose-check-query-api-cassandra',
  ...Object.fromEntries(PG_ROLES.map((r) => [r.variable, `compose-check-${r.role}`])),
  KAFKA_ADMIN_PASSWORD: 'compose-check-kafka-admin',
  KAFKA_CONTROLLER_PASSWORD: 'compose-check-kafka-controller',
  ...Object.fromEntries(KAFKA_LOGINS.map((l) => [l.variable, `compose-check-kafka-${l.service}`])),
};

export const text = readComposeText();
export const compose: ComposeFile = loadCompose(text, OPERATOR_ENV);
export const SERVERS_ON_LOOPBACK = repoPath('infra', 'compose', 'servers-on-loopback.yml');

/**
 * What each container that is not one of the six services needs to stop cleanly, in seconds; its
 * stop_grace_period must be longer (compose's default is 10 s, then SIGKILL).
 */
export const OTHER_DRAIN_SECONDS: Record<string, number> = {
  kafka: 30, // controlled shutdown: every partition's log closed (a kill means log recovery at start)
  cassandra: 30, // the shutdown hook drains the node: memtables flushed to SSTables
  postgres: 20, // SIGINT, a fast shutdown: the final checkpoint
  redis: 2, // nothing persisted (--save "", no AOF)
  prometheus: 20, // the TSDB head and WAL closed
  grafana: 5, // its SQLite database closed
  // One-shot jobs: nothing to drain, idempotent (the next `up` runs them again).
  'kafka-init': 0,
  'kafka-access': 0,
  'cassandra-init': 0,
  'postgres-init': 0,
};

/** A service's drain: SHUTDOWN_TIMEOUT_MS as its compose environment sets it, else its schema's default. */
export function serviceDrainSeconds(s: ServiceConfig, model: ComposeFile): number {
  const env = serviceEnvironment(model.services[s.name]!);
  const parsed = s.schema.shape.SHUTDOWN_TIMEOUT_MS?.safeParse(env.SHUTDOWN_TIMEOUT_MS);
  if (!parsed?.success || typeof parsed.data !== 'number') {
    throw new Error(`${s.name}: no SHUTDOWN_TIMEOUT_MS in its config schema (the drain's deadline)`);
  }
  return parsed.data / 1000;
}

export function drainSeconds(model: ComposeFile): Record<string, number> {
  return {
    ...OTHER_DRAIN_SECONDS,
    ...Object.fromEntries(SERVICE_CONFIGS.map((s) => [s.name, serviceDrainSeconds(s, model)])),
  };
}
