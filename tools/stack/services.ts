import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cassandraRoleEnv } from './cassandra-auth';
import { addressEnv, QUERY_KEYSPACE, type StackConfig } from './config';
import { describeError } from './errors';
import { principalEnv } from './kafka-auth';
import { postgresRoleEnv } from './postgres-roles';

/**
 * The five Dispatch services (docs/design.md §1). `pnpm stack up` starts, after the servers are
 * provisioned, every one whose package exists under services/<name> (so the stack keeps
 * working while only some are written), waits for its readiness endpoint, records it in
 * .stack/started.json, and `down` stops it before the servers.
 *
 * Each is compiled first (`tsc -b`, tools/build) and runs as `node --enable-source-maps <main>`
 * (its dist/main.js) from the repo root, on Node 24 (tools/stack/node.ts); workspace imports
 * resolve to the packages' compiled dist/ through the service's own node_modules. The pid file
 * holds the service's own pid, so SIGTERM reaches its graceful shutdown.
 */
export interface AppService {
  /** Also the name of its log (.stack/logs/<name>.log), pid file, and pnpm package @dispatch/<name>. */
  name: string;
  /** Package folder, relative to the repo root. */
  dir: string;
  /** Compiled entry point, relative to the repo root (what runs). */
  main: string;
  /** Its TypeScript source, relative to the repo root (what tells the service exists). */
  source: string;
  port: number;
  /** Answers 200 once the service can do work (docs/design.md §1: GET /health/ready). */
  readyPath: string;
  /** Extra environment on top of the stack addresses (its database or keyspace). */
  env: Record<string, string>;
}

function appService(name: string, port: number, env: Record<string, string>): AppService {
  const dir = `services/${name}`;
  return {
    name,
    dir,
    main: `${dir}/dist/main.js`,
    source: `${dir}/src/main.ts`,
    port,
    readyPath: '/health/ready',
    env,
  };
}

/** In start order; the read side first so it sees the first events as they appear. */
export const APP_SERVICES: AppService[] = [
  // The load benchmark follows every order on a stream of its customer's; with a backlog, a customer
  // of its 200 has ~10 open at once (the production default is 5 per customer).
  appService('query-api', 8080, { CASSANDRA_KEYSPACE: QUERY_KEYSPACE, SSE_MAX_STREAMS_PER_CUSTOMER: '20' }),
  appService('order-service', 8081, { PGDATABASE: 'order_db' }),
  appService('payment-service', 8082, { PGDATABASE: 'payment_db' }),
  appService('inventory-service', 8083, { PGDATABASE: 'inventory_db' }),
  // A local stack has few drivers and short test orders: a paid order waits 20 s (not the
  // production default of 2 min) for a free driver before delivery.failed NO_DRIVER_AVAILABLE.
  // The simulated fleet drives every assigned driver and completes on arrival, 120 times faster than
  // real time, so a quick-start order (2.4 km, 10 min handling) is DELIVERED about 8 s after assignment.
  appService('delivery-service', 8084, {
    PGDATABASE: 'delivery_db',
    DRIVER_WAIT_MS: '20000',
    FLEET_SIMULATION: 'on',
    FLEET_SPEED_UP: '120',
    FLEET_TICK_MS: '500',
  }),
  // Local development: receivers on this machine (loopback, plain http) are allowed; never in a cluster.
  appService('webhook-service', 8085, {
    PGDATABASE: 'webhook_db',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_ALLOW_HTTP: 'true',
  }),
];

export function findAppService(name: string): AppService | undefined {
  return APP_SERVICES.find((service) => service.name === name);
}

/** `inventory-service@8093`: an extra instance of a service on another port (tests). */
export function instanceName(service: AppService, port: number): string {
  return `${service.name}@${port}`;
}

export function parseInstanceName(name: string): { service: AppService; port: number } | undefined {
  const match = /^([a-z-]+)@(\d+)$/.exec(name);
  const service = match ? findAppService(match[1]!) : undefined;
  return service ? { service, port: Number(match![2]) } : undefined;
}

export interface ServiceLayout {
  /** Package and entry point exist: `up` starts these. */
  present: AppService[];
  /** Package exists but not its src/main.ts yet (being written). */
  unfinished: AppService[];
}

/** Which services exist in this checkout. */
export function findServices(repoRoot: string): ServiceLayout {
  const layout: ServiceLayout = { present: [], unfinished: [] };
  for (const service of APP_SERVICES) {
    if (!existsSync(path.join(repoRoot, service.dir, 'package.json'))) continue;
    if (existsSync(path.join(repoRoot, service.source))) layout.present.push(service);
    else layout.unfinished.push(service);
  }
  return layout;
}

/**
 * The environment a service (or an extra instance of it) runs with: the launcher's own
 * environment (PATH, HOME, ...) with the stack addresses, LOG_LEVEL, the local issuer's public
 * JWKS (AUTH_JWKS_FILE; never a signing key), its port, its database and its own PostgreSQL role
 * (PGUSER/PGPASSWORD from postgres-roles.ts; never the launcher's superuser) laid over it. A PGDATABASE
 * or keyspace the caller happens to have set never leaks into a service that does not own it, nor
 * does a token secret or another key source.
 */
export function serviceEnv(
  service: AppService,
  config: StackConfig,
  jwksFile: string,
  inherited: NodeJS.ProcessEnv,
  port: number = service.port,
): NodeJS.ProcessEnv {
  const {
    PGDATABASE: _db,
    CASSANDRA_KEYSPACE: _ks,
    PORT: _port,
    AUTH_JWT_SECRET: _secret,
    AUTH_JWKS_URL: _url,
    AUTH_SIGNING_KEYS_FILE: _keys,
    ...rest
  } = inherited;
  return {
    ...rest,
    ...Object.fromEntries(addressEnv(config)),
    ...postgresRoleEnv(service, config.postgres),
    ...cassandraRoleEnv(service, config.cassandra, inherited),
    ...principalEnv(config.kafka, service.name),
    LOG_LEVEL: inherited.LOG_LEVEL ?? 'info',
    // Per-subject limits lifted far above the production defaults: the benchmark and the tests do all
    // their admin work (completions, read-model checks, polling) with one token.
    RATE_LIMIT_READ: inherited.RATE_LIMIT_READ ?? '100000',
    RATE_LIMIT_WRITE: inherited.RATE_LIMIT_WRITE ?? '100000',
    AUTH_JWKS_FILE: jwksFile,
    PORT: String(port),
    ...service.env,
  };
}

export function serviceUrl(service: AppService, port: number = service.port): string {
  return `http://127.0.0.1:${port}`;
}

/** `ORDER_SERVICE_URL` for order-service: the variable the testkit reads. */
export function serviceUrlVariable(service: AppService): string {
  return `${service.name.replaceAll('-', '_').toUpperCase()}_URL`;
}

export function serviceUrlEnv(services: AppService[]): [string, string][] {
  return services.map((service) => [serviceUrlVariable(service), serviceUrl(service)]);
}

/** What .stack/env and `pnpm stack env` hold: server addresses, then the URLs of the services present. */
export function stackEnvVars(config: StackConfig, paths: { repoRoot: string }): [string, string][] {
  return [...addressEnv(config), ...serviceUrlEnv(findServices(paths.repoRoot).present)];
}

/** Readiness of a service: its HTTP readiness endpoint answers 200. */
export function httpReadyCheck(service: AppService, port: number = service.port): () => Promise<string> {
  return async () => {
    const url = `${serviceUrl(service, port)}${service.readyPath}`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    } catch (err) {
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, timeout) is its cause.
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      const code = (cause as NodeJS.ErrnoException).code;
      throw new Error(`${url}: ${code === 'ECONNREFUSED' ? 'not listening' : describeError(cause)}`);
    }
    if (response.status !== 200) {
      throw new Error(`${url} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    }
    return `${url} answered 200`;
  };
}

/** True when a package.json text declares the npm script `name`. */
export function hasScript(packageJsonText: string, name: string): boolean {
  const parsed = JSON.parse(packageJsonText) as { scripts?: Record<string, unknown> };
  return typeof parsed.scripts?.[name] === 'string';
}

export function readPackageJson(repoRoot: string, service: AppService): string {
  return readFileSync(path.join(repoRoot, service.dir, 'package.json'), 'utf8');
}

/** What `up` prints once everything is ready: where each service is and how to call it. */
export function readySummary(services: AppService[]): string {
  if (services.length === 0) return 'No services yet (none under services/<name> has a src/main.ts).\n';
  const width = Math.max(...services.map((service) => service.name.length));
  const lines = ['Services:'];
  for (const service of services) {
    const base = serviceUrl(service);
    lines.push(
      `  ${service.name.padEnd(width)}  ${base}   ${base}/openapi.json   ${base}/metrics   log: pnpm stack logs ${service.name}`,
    );
  }
  const queryApi = services.some((s) => s.name === 'query-api');
  lines.push(
    '',
    'Tokens (EdDSA, signed with .stack/secrets/token-signing-keys.json; services hold only .stack/auth/jwks.json):',
    '  ./dispatch token --sub customer-1                 a customer (sub = customerId)',
    '  ./dispatch token --sub ops --role admin --ttl 8h  an admin (inventory, DLQ endpoints)',
  );
  if (queryApi) {
    lines.push(
      '  e.g. curl -H "Authorization: Bearer $(./dispatch token --sub customer-1)" http://127.0.0.1:8080/api/orders/<orderId>',
    );
  }
  return `${lines.join('\n')}\n`;
}
