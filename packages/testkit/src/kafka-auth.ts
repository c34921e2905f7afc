import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KAFKA_SASL_MECHANISMS, type KafkaConnection, type KafkaSaslMechanism } from '@dispatch/platform';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { stackDir } from './services';

/** The local stack's super-user principal (tools/stack/kafka-auth.ts creates it; tests and tools log in as it). */
export const LOCAL_KAFKA_ADMIN = 'admin';

/** Where `pnpm stack up` keeps a principal's generated password (mode 0600). */
export function localKafkaPasswordFile(principal: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stackDir(env), 'secrets', 'kafka', `${principal}.password`);
}

/**
 * How tests and tools reach Kafka: KAFKA_BROKERS, and KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD when
 * set (a cluster; both or neither), else the local stack's `principal` (default: the admin) with its
 * password from .stack/secrets/kafka/, so tests run without sourcing .stack/env. No SASL (an anonymous
 * client) when neither exists: a broker without authentication.
 */
export function stackKafka(
  env: NodeJS.ProcessEnv = process.env,
  principal = LOCAL_KAFKA_ADMIN,
): KafkaConnection {
  const brokers = (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((s) => s.trim());
  const mechanism = saslMechanism(env.KAFKA_SASL_MECHANISM);
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = env;
  if (username !== undefined || password !== undefined) {
    if (!username || !password)
      throw new Error('set both KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD, or neither');
    return { brokers, sasl: { mechanism, username, password } };
  }
  const file = localKafkaPasswordFile(principal, env);
  if (!existsSync(file)) return { brokers };
  return { brokers, sasl: { mechanism, username: principal, password: readFileSync(file, 'utf8').trim() } };
}

function saslMechanism(value: string | undefined): KafkaSaslMechanism {
  if (value === undefined) return 'scram-sha-512';
  const known = KAFKA_SASL_MECHANISMS.find((mechanism) => mechanism === value);
  if (!known)
    throw new Error(
      `KAFKA_SASL_MECHANISM must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}, not '${value}'`,
    );
  return known;
}

export interface KafkajsConnection {
  brokers: string[];
  sasl?: SASLOptions;
  ssl?: KafkaConfig['ssl'];
}

/**
 * The same connection as kafkajs options, for tests that drive kafkajs directly (admin work, raw
 * producers): `new Kafka({ ...kafkajsConnection(), clientId })`.
 */
export function kafkajsConnection(connection: KafkaConnection = stackKafka()): KafkajsConnection {
  const options: KafkajsConnection = { brokers: connection.brokers };
  if (connection.sasl) {
    const { mechanism, username, password } = connection.sasl;
    options.sasl =
      mechanism === 'plain'
        ? { mechanism, username, password }
        : mechanism === 'scram-sha-256'
          ? { mechanism, username, password }
          : { mechanism, username, password };
  }
  if (connection.tls) options.ssl = connection.tls.ca === undefined ? true : { ca: [connection.tls.ca] };
  return options;
}
