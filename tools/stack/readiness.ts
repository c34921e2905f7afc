import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CassandraCredentials, KafkaConnection } from '@dispatch/platform';
import { kafkajsConnection } from '@dispatch/testkit';
import { auth, Client as CassandraClient } from 'cassandra-driver';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { isAuthenticationFailure } from './cassandra-auth';
import type { StackConfig } from './config';
import { describeError, NotReadyError } from './errors';

/**
 * "Ready" means the server does real work, not that its port is open: Kafka takes a
 * produce/consume round trip, Cassandra answers CQL, PostgreSQL runs SELECT 1, Redis PINGs.
 * Each check makes one attempt and returns a short description; `waitUntilReady` retries.
 */
export type ReadinessCheck = () => Promise<string>;

/** Scratch topic for the Kafka round trip (one partition, one hour of retention). */
export const READINESS_TOPIC = 'stack.readiness';

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `login` is read at every attempt: the local admin's password exists only once Kafka is prepared. */
export function kafkaCheck(login: () => KafkaConnection, attemptMs = 20_000): ReadinessCheck {
  return () => withTimeout(kafkaRoundTrip(login()), attemptMs, 'Kafka round trip');
}

async function kafkaRoundTrip(connection: KafkaConnection): Promise<string> {
  const nonce = randomUUID();
  const kafka = new Kafka({
    clientId: 'dispatch-stack',
    ...kafkajsConnection(connection),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 10_000,
    // Few retries per check; waitUntilReady does the real retrying.
    retry: { retries: 1, initialRetryTime: 100 },
  });
  const admin = kafka.admin();
  // Idempotent like the services' producers, so InitProducerId is part of "ready".
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const groupId = `stack-readiness-${nonce}`;
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    if (!topics.includes(READINESS_TOPIC)) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: READINESS_TOPIC,
            numPartitions: 1,
            replicationFactor: 1,
            configEntries: [{ name: 'retention.ms', value: '3600000' }],
          },
        ],
      });
    }
    await producer.connect();
    const [sent] = await producer.send({ topic: READINESS_TOPIC, acks: -1, messages: [{ value: nonce }] });
    if (sent?.baseOffset === undefined) throw new Error('produce returned no offset');

    await consumer.connect();
    await consumer.subscribe({ topic: READINESS_TOPIC, fromBeginning: true });
    const received = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
      void consumer
        .run({
          eachMessage: async ({ message }) => {
            if (message.value?.toString() === nonce) resolve();
          },
        })
        .catch(reject);
    });
    // Start reading at our own message rather than the whole hour of earlier checks.
    consumer.seek({ topic: READINESS_TOPIC, partition: 0, offset: sent.baseOffset });
    await received;
    return `round trip on ${READINESS_TOPIC} (offset ${sent.baseOffset})`;
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Cassandra answers CQL to one of `logins()` (tried in order; a refused login tries the next):
 * with authentication, the admin role, or right after a first start the default superuser, which
 * the node creates a few seconds after it opens its port.
 */
export function cassandraCheck(
  config: StackConfig['cassandra'],
  logins: () => (CassandraCredentials | undefined)[],
  attemptMs = 15_000,
): ReadinessCheck {
  const attempt = async (credentials: CassandraCredentials | undefined) => {
    const client = new CassandraClient({
      contactPoints: config.contactPoints,
      localDataCenter: config.localDc,
      ...(credentials
        ? { authProvider: new auth.PlainTextAuthProvider(credentials.username, credentials.password) }
        : {}),
      socketOptions: { connectTimeout: 2_000, readTimeout: 10_000 },
    });
    try {
      await client.connect();
      const result = await client.execute('SELECT release_version FROM system.local');
      const as = credentials ? ` as ${credentials.username}` : '';
      return `Cassandra ${String(result.first()?.get('release_version'))} answers CQL${as}`;
    } finally {
      await client.shutdown().catch(() => undefined);
    }
  };
  return () =>
    withTimeout(
      (async () => {
        let refused: unknown;
        for (const credentials of logins()) {
          try {
            return await attempt(credentials);
          } catch (err) {
            if (!isAuthenticationFailure(err)) throw err;
            refused = err;
          }
        }
        throw refused ?? new Error('no Cassandra login to try');
      })(),
      attemptMs,
      'Cassandra query',
    );
}

export function postgresCheck(config: StackConfig['postgres'], attemptMs = 10_000): ReadinessCheck {
  return () =>
    withTimeout(
      (async () => {
        const client = new pg.Client({
          host: config.host,
          port: config.port,
          user: config.user,
          password: config.password,
          database: 'postgres',
          connectionTimeoutMillis: 2_000,
        });
        try {
          await client.connect();
          await client.query('SELECT 1');
          const version = await client.query<{ server_version: string }>('SHOW server_version');
          const autovacuum = await client.query<{ autovacuum: string }>('SHOW autovacuum');
          // The services' queue-like tables (outbox, deliveries, drivers) churn: without autovacuum
          // their dead rows pile up and every poll and lock slows down (docs/benchmarks.md).
          const warning =
            autovacuum.rows[0]?.autovacuum === 'off'
              ? ' (warning: autovacuum is off on this server; the stack slows down as dead rows pile up — turn it on, or VACUUM the service databases now and then)'
              : '';
          return `PostgreSQL ${version.rows[0]?.server_version ?? '?'} answers SELECT 1${warning}`;
        } finally {
          await client.end().catch(() => undefined);
        }
      })(),
      attemptMs,
      'PostgreSQL query',
    );
}

export function redisCheck(url: string, attemptMs = 5_000): ReadinessCheck {
  return () =>
    withTimeout(
      (async () => {
        const redis = new Redis(url, {
          lazyConnect: true,
          connectTimeout: 2_000,
          maxRetriesPerRequest: 0,
          enableOfflineQueue: false,
          retryStrategy: () => null,
        });
        // Connection errors surface through connect(); without a listener ioredis also logs them.
        redis.on('error', () => undefined);
        try {
          await redis.connect();
          const pong = await redis.ping();
          if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
          return 'Redis answers PING';
        } finally {
          redis.disconnect();
        }
      })(),
      attemptMs,
      'Redis PING',
    );
}

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked between attempts: a server that died will never become ready. */
  isAlive?: () => boolean;
  /** Text appended to the error when the server died (e.g. the end of its log). */
  diagnostics?: () => string;
}

/** Retries `check` until it succeeds; fails early if the process died. */
export async function waitUntilReady(
  name: string,
  check: ReadinessCheck,
  opts: WaitOptions,
): Promise<string> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      lastError = err;
    }
    if (opts.isAlive && !opts.isAlive()) {
      throw new NotReadyError(
        `${name} exited while starting (last check: ${describeError(lastError)})${diagnosticsText(opts)}`,
      );
    }
    if (Date.now() >= deadline) {
      throw new NotReadyError(
        `${name} not ready after ${Math.round(opts.timeoutMs / 1000)} s: ${describeError(lastError)}${diagnosticsText(opts)}`,
      );
    }
    await sleep(opts.intervalMs ?? 1_000);
  }
}

function diagnosticsText(opts: WaitOptions): string {
  return opts.diagnostics ? `\n--- end of log ---\n${opts.diagnostics()}` : '';
}
