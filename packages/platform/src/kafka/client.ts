import { Kafka, type LogEntry, type logCreator, logLevel, type SASLOptions } from 'kafkajs';
import type { Logger } from '../logger';
import type { KafkaConnection, KafkaSasl } from './connection';

/**
 * A handle on one Kafka cluster. Deliberately opaque: the kafkajs client stays inside
 * src/kafka so the client library can be swapped without touching any service.
 */
export interface KafkaClient {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly logger: Logger;
}

export interface KafkaConfig extends KafkaConnection {
  /** Shows up in broker logs and quotas; use the service name. */
  clientId: string;
  logger: Logger;
  /** TCP connect timeout (kafkajs' 1 s default is tight on a loaded machine). Default 3 s. */
  connectionTimeoutMs?: number;
  /** Per-request timeout. Default 30 s. */
  requestTimeoutMs?: number;
  /** kafkajs retry for cluster operations (metadata, join, commit, produce). */
  retry?: { initialRetryTime?: number; maxRetryTime?: number; retries?: number };
}

/**
 * Retry defaults: about 30 s of exponential retries (200 ms doubling, capped at 10 s) before an
 * operation gives up, so a broker restart is ridden out but a dead cluster surfaces as an error.
 */
const DEFAULT_RETRY = { initialRetryTime: 200, maxRetryTime: 10_000, retries: 8 };

const kafkajsClients = new WeakMap<KafkaClient, Kafka>();

export function createKafka(config: KafkaConfig): KafkaClient {
  if (config.brokers.length === 0) throw new Error('createKafka: at least one broker is required');
  const logger = config.logger.child({ component: 'kafka' });
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ...(config.sasl ? { sasl: kafkajsSasl(config.sasl) } : {}),
    ...(config.tls ? { ssl: config.tls.ca === undefined ? true : { ca: [config.tls.ca] } } : {}),
    connectionTimeout: config.connectionTimeoutMs ?? 3_000,
    requestTimeout: config.requestTimeoutMs ?? 30_000,
    retry: { ...DEFAULT_RETRY, ...config.retry },
    logLevel: kafkajsLogLevel(logger),
    logCreator: pinoLogCreator(logger),
  });
  const client: KafkaClient = Object.freeze({
    clientId: config.clientId,
    brokers: Object.freeze([...config.brokers]),
    logger,
  });
  kafkajsClients.set(client, kafka);
  return client;
}

/** kafkajs types each mechanism separately; the switch keeps the union checked. */
function kafkajsSasl(sasl: KafkaSasl): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'plain':
      return { mechanism: 'plain', username, password };
  }
}

/** The kafkajs client behind a handle. Internal to src/kafka: not exported from the package. */
export function kafkajsOf(client: KafkaClient): Kafka {
  const kafka = kafkajsClients.get(client);
  if (!kafka) throw new Error('not a KafkaClient made by createKafka()');
  return kafka;
}

/** kafkajs only builds the entries the pino logger would keep (pino debug = 20). */
export function kafkajsLogLevel(logger: Pick<Logger, 'levelVal'>): logLevel {
  return logger.levelVal <= 20 ? logLevel.DEBUG : logLevel.WARN;
}

/**
 * kafkajs entries that are routine for us but logged at WARN/ERROR; they go to debug so operators
 * do not chase them:
 * - the idempotent-producer warning appears because we bound its retries (a publish fails within
 *   ~30 s instead of hanging forever). kafkajs rolls sequence numbers back on a failed send and the
 *   caller resends, and consumers dedupe by eventId anyway;
 * - the connection layer logs every REBALANCE_IN_PROGRESS heartbeat answer as an error, while a
 *   rebalance is normal group life (the runner logs its own warning when it re-joins).
 */
export function isRoutineKafkajsEntry(
  namespace: string,
  message: string,
  extra: Record<string, unknown>,
): boolean {
  if (message.startsWith('Limiting retries for the idempotent producer')) return true;
  return namespace === 'Connection' && extra.error === 'The group is rebalancing, so a rejoin is needed';
}

/**
 * Routes kafkajs logs into pino. kafkajs INFO is chatty (every pause/resume, every join) and goes to
 * debug; the consumer runner logs the events that matter (group joined, crash) itself.
 */
export function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _source, ...extra } = log;
      const fields = { kafkajs: { namespace, ...extra } };
      if (isRoutineKafkajsEntry(namespace, message, extra)) logger.debug(fields, message);
      else if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
      else logger.debug(fields, message);
    };
}
