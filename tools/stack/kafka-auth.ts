import { existsSync } from 'node:fs';
import path from 'node:path';
import type { KafkaConnection } from '@dispatch/platform';
import type { StackConfig } from './config';
import { KAFKA_ADMIN } from './kafka-acls';
import { ensureGeneratedPassword, readGeneratedPassword } from './secrets';
import { startedEnv } from './started-env';

/**
 * SASL on the local broker, exactly as in a cluster: clients log in with SCRAM-SHA-512 (one principal
 * per service and tool, see kafka-acls.ts), the broker itself as the admin; its controller listener
 * takes only the broker's own SASL/PLAIN login. Passwords are generated once into
 * .stack/secrets/kafka/<principal>.password (0600) and rendered into the broker's config
 * (.stack/conf/kafka/server.properties, 0600). SCRAM users live in the cluster's metadata: a fresh
 * storage gets them all when it is formatted; later additions and password changes go through
 * Kafka's own ConfigCommand as the admin. What the broker holds is remembered (as hashes) in
 * .stack/data/kafka/dispatch-scram-users.json, so `up` only calls it when something changed.
 *
 * This file: the password files and the logins the launcher and the services use; kafka-scram.ts
 * sets the broker up (its config, the SCRAM users), kafka-admin.ts syncs the ACLs.
 */

/** `secretsDir` is the stack config's `kafka.secretsDir`: .stack/secrets/kafka. */
export function kafkaPasswordFile(secretsDir: string, principal: string): string {
  return path.join(secretsDir, `${principal}.password`);
}

/** Every login's password, generated where missing. */
export function ensureKafkaPasswords(secretsDir: string, logins: readonly string[]): Map<string, string> {
  return new Map(
    logins.map((name) => [name, ensureGeneratedPassword(kafkaPasswordFile(secretsDir, name)).password]),
  );
}

/** One principal's password; says to run `up` when it is missing. */
export function readKafkaPassword(secretsDir: string, principal: string): string {
  return readGeneratedPassword(kafkaPasswordFile(secretsDir, principal));
}

/**
 * How the launcher reaches Kafka: KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD when set (an external
 * cluster), else the local admin once its password exists, else anonymously.
 */
export function launcherKafka(
  kafka: StackConfig['kafka'],
  env: NodeJS.ProcessEnv = process.env,
): KafkaConnection {
  if (env.KAFKA_SASL_USERNAME && env.KAFKA_SASL_PASSWORD) {
    return {
      brokers: kafka.brokers,
      sasl: {
        mechanism: 'scram-sha-512',
        username: env.KAFKA_SASL_USERNAME,
        password: env.KAFKA_SASL_PASSWORD,
      },
    };
  }
  const file = kafkaPasswordFile(kafka.secretsDir, KAFKA_ADMIN);
  if (!kafka.local || !existsSync(file)) return { brokers: kafka.brokers };
  return {
    brokers: kafka.brokers,
    sasl: { mechanism: 'scram-sha-512', username: KAFKA_ADMIN, password: readGeneratedPassword(file) },
  };
}

/**
 * The KAFKA_SASL_* variables a local service (or tool) runs with: its own principal. None for an
 * external Kafka: there the service's login comes from the environment (a Secret in a cluster).
 */
export function principalEnv(kafka: StackConfig['kafka'], principal: string): Record<string, string> {
  // Before the first `up` there is no password yet (up generates them before it starts a service).
  if (!kafka.local || !existsSync(kafkaPasswordFile(kafka.secretsDir, principal))) return {};
  return {
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: principal,
    KAFKA_SASL_PASSWORD: readKafkaPassword(kafka.secretsDir, principal),
  };
}

/** True when a running process logs in to Kafka with another password than its principal's file holds. */
export function hasStaleKafkaLogin(pid: number, kafka: StackConfig['kafka'], principal: string): boolean {
  if (!kafka.local) return false;
  const started = startedEnv(pid, ['KAFKA_SASL_PASSWORD']);
  if (started === undefined) return false;
  const file = kafkaPasswordFile(kafka.secretsDir, principal);
  if (!existsSync(file)) return false;
  return started.KAFKA_SASL_PASSWORD !== readGeneratedPassword(file);
}
