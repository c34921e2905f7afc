import { readFileSync } from 'node:fs';

/**
 * How a client reaches and logs in to the Kafka cluster. The broker refuses anonymous clients: every
 * service logs in as its own principal (SASL/SCRAM), whose ACLs allow only its own topics and group.
 * `sasl` has kafkajs' shape on purpose, so tests and tools can spread it into a kafkajs client.
 */
export interface KafkaConnection {
  /** host:port pairs, e.g. ['127.0.0.1:9092']. */
  brokers: string[];
  /** Absent: an anonymous client (only a broker without authentication accepts it). */
  sasl?: KafkaSasl;
  /** TLS to the brokers; `ca` replaces the system's trust store (a private cluster CA). */
  tls?: { ca?: string };
}

export interface KafkaSasl {
  mechanism: KafkaSaslMechanism;
  username: string;
  password: string;
}

export const KAFKA_SASL_MECHANISMS = ['scram-sha-512', 'scram-sha-256', 'plain'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** The parsed `kafkaEnv` variables (config.ts). */
export interface KafkaEnvConfig {
  KAFKA_BROKERS: string[];
  KAFKA_SASL_MECHANISM: KafkaSaslMechanism;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  KAFKA_TLS: boolean;
  KAFKA_TLS_CA_FILE?: string | undefined;
}

/**
 * The connection a parsed config describes. Reads KAFKA_TLS_CA_FILE, so a missing CA file fails the
 * start with its path instead of every later connection attempt.
 */
export function kafkaConnection(config: KafkaEnvConfig): KafkaConnection {
  const connection: KafkaConnection = { brokers: config.KAFKA_BROKERS };
  if (config.KAFKA_SASL_USERNAME !== undefined && config.KAFKA_SASL_PASSWORD !== undefined) {
    connection.sasl = {
      mechanism: config.KAFKA_SASL_MECHANISM,
      username: config.KAFKA_SASL_USERNAME,
      password: config.KAFKA_SASL_PASSWORD,
    };
  }
  if (config.KAFKA_TLS_CA_FILE !== undefined) {
    connection.tls = { ca: readFileSync(config.KAFKA_TLS_CA_FILE, 'utf8') };
  } else if (config.KAFKA_TLS) {
    connection.tls = {};
  }
  return connection;
}

/** The KAFKA_* variables that give a child process (a service, a tool) this connection. */
export function kafkaConnectionEnv(connection: KafkaConnection): Record<string, string> {
  const env: Record<string, string> = { KAFKA_BROKERS: connection.brokers.join(',') };
  if (connection.sasl) {
    env.KAFKA_SASL_MECHANISM = connection.sasl.mechanism;
    env.KAFKA_SASL_USERNAME = connection.sasl.username;
    env.KAFKA_SASL_PASSWORD = connection.sasl.password;
  }
  if (connection.tls) env.KAFKA_TLS = 'true';
  return env;
}
