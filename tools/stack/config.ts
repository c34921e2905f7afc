import path from 'node:path';
import { ConfigError } from './errors';
import { stackPaths } from './paths';

/**
 * Where each server is, from the same environment variables the tests read (see
 * packages/testkit/src/stack.ts), with the local launcher's defaults. A server is "local"
 * (started and stopped by `pnpm stack`) only when its address is the local default;
 * anything else is only checked and provisioned.
 */
export interface StackConfig {
  kafka: {
    brokers: string[];
    local: boolean;
    partitions: number;
    replicationFactor: number;
    /** The generated principals' passwords (tools/stack/kafka-auth.ts). */
    secretsDir: string;
  };
  cassandra: {
    contactPoints: string[];
    localDc: string;
    local: boolean;
    keyspace: string;
    /** The generated role passwords (tools/stack/cassandra-auth.ts). */
    secretsDir: string;
  };
  postgres: {
    host: string;
    port: number;
    user: string;
    password: string;
    local: boolean;
    databases: string[];
    /** Where each service role's generated password is (tools/stack/postgres-roles.ts). */
    roleSecretsDir: string;
  };
  redis: { url: string; local: boolean };
}

export const LOCAL_KAFKA_PORT = 9092;
export const LOCAL_CASSANDRA_PORT = 9042;
export const LOCAL_PG_PORT = 5432;
export const LOCAL_REDIS_PORT = 6379;

export const SERVICE_DATABASES = ['order_db', 'inventory_db', 'payment_db', 'delivery_db', 'webhook_db'];
export const QUERY_KEYSPACE = 'delivery_query';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase());
}

export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host`, `host:port` or `[v6]:port`; a missing port means `defaultPort`. */
export function parseHostPort(address: string, defaultPort: number): HostPort {
  const trimmed = address.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  if (bracketed) {
    return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
  }
  const lastColon = trimmed.lastIndexOf(':');
  // A bare IPv6 address has several colons and no port.
  if (lastColon === -1 || trimmed.indexOf(':') !== lastColon) return { host: trimmed, port: defaultPort };
  const port = Number(trimmed.slice(lastColon + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new ConfigError(`invalid port in address "${address}"`);
  }
  return { host: trimmed.slice(0, lastColon), port };
}

function isLocalAddressList(addresses: string[], localPort: number): boolean {
  if (addresses.length !== 1) return false;
  const { host, port } = parseHostPort(addresses[0]!, localPort);
  return isLoopbackHost(host) && port === localPort;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function positiveInteger(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new ConfigError(`${name} must be a positive integer, got "${value}"`);
  return n;
}

export function loadStackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const brokers = splitList(env.KAFKA_BROKERS ?? `127.0.0.1:${LOCAL_KAFKA_PORT}`);
  if (brokers.length === 0) throw new ConfigError('KAFKA_BROKERS is empty');
  const contactPoints = splitList(env.CASSANDRA_CONTACT_POINTS ?? `127.0.0.1:${LOCAL_CASSANDRA_PORT}`);
  if (contactPoints.length === 0) throw new ConfigError('CASSANDRA_CONTACT_POINTS is empty');

  const pgHost = env.PGHOST ?? '127.0.0.1';
  const pgPort = positiveInteger('PGPORT', env.PGPORT ?? String(LOCAL_PG_PORT));
  const redisUrl = env.REDIS_URL ?? `redis://127.0.0.1:${LOCAL_REDIS_PORT}`;

  const kafkaLocal = isLocalAddressList(brokers, LOCAL_KAFKA_PORT);
  return {
    kafka: {
      brokers,
      local: kafkaLocal,
      partitions: positiveInteger('KAFKA_PARTITIONS', env.KAFKA_PARTITIONS ?? '6'),
      // One broker locally; a real cluster gets 3 unless told otherwise.
      replicationFactor: positiveInteger(
        'KAFKA_REPLICATION_FACTOR',
        env.KAFKA_REPLICATION_FACTOR ?? (kafkaLocal ? '1' : '3'),
      ),
      secretsDir: path.join(stackPaths().stackDir, 'secrets', 'kafka'),
    },
    cassandra: {
      contactPoints,
      localDc: env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
      local: isLocalAddressList(contactPoints, LOCAL_CASSANDRA_PORT),
      keyspace: QUERY_KEYSPACE,
      secretsDir: path.join(stackPaths().stackDir, 'secrets', 'cassandra'),
    },
    postgres: {
      host: pgHost,
      port: pgPort,
      user: env.PGUSER ?? 'postgres',
      password: env.PGPASSWORD ?? '',
      // A Unix-socket directory (PGHOST=/var/run/postgresql) is local too.
      local: (isLoopbackHost(pgHost) || pgHost.startsWith('/')) && pgPort === LOCAL_PG_PORT,
      databases: SERVICE_DATABASES,
      roleSecretsDir: path.join(stackPaths().stackDir, 'secrets', 'postgres'),
    },
    redis: { url: redisUrl, local: isLocalRedisUrl(redisUrl) },
  };
}

function isLocalRedisUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`REDIS_URL is not a URL: "${url}"`);
  }
  const port = parsed.port === '' ? LOCAL_REDIS_PORT : Number(parsed.port);
  return isLoopbackHost(parsed.hostname) && port === LOCAL_REDIS_PORT;
}

/** The variables test runners and services need, in the order they are printed. */
export function addressEnv(config: StackConfig): [string, string][] {
  return [
    ['KAFKA_BROKERS', config.kafka.brokers.join(',')],
    ['KAFKA_PARTITIONS', String(config.kafka.partitions)],
    ['CASSANDRA_CONTACT_POINTS', config.cassandra.contactPoints.join(',')],
    ['CASSANDRA_LOCAL_DC', config.cassandra.localDc],
    ['PGHOST', config.postgres.host],
    ['PGPORT', String(config.postgres.port)],
    ['PGUSER', config.postgres.user],
    ['REDIS_URL', config.redis.url],
  ];
}
